//! `demo --interactive`: stays online; `/to NAME text` sends, `/quit` leaves.

use gnomeqq_core::{Account, AppEvent};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::bot::{Bot, Handled};
use crate::{say, terminal};

/// Runs until `/quit`, end of input, or the owner's `exit`.
pub async fn run(
    account: &Account,
    bot: &Bot,
    events: &mut UnboundedReceiver<AppEvent>,
) -> anyhow::Result<()> {
    say("Interactive: type `/to NAME text` to send, `/quit` to leave. The bot still answers.");
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            line = lines.next_line() => {
                let Some(line) = line? else { return Ok(()) };
                let line = line.trim();
                if line == "/quit" {
                    return Ok(());
                }
                let Some(rest) = line.strip_prefix("/to ") else {
                    if !line.is_empty() {
                        say("Commands: /to NAME text, /quit");
                    }
                    continue;
                };
                let Some((name, text)) = rest.trim().split_once(' ') else {
                    say("Usage: /to NAME text");
                    continue;
                };
                match crate::demo::find_any(account, name) {
                    Ok((conversation, display)) => match account.send_text(conversation, text).await {
                        Ok(outcomes) => say(&format!("  → {display}: {outcomes:?}")),
                        Err(error) => say(&format!("Could not send: {error}")),
                    },
                    Err(error) => say(&format!("{error}")),
                }
            }
            event = events.recv() => {
                let Some(event) = event else { return Ok(()) };
                if let Some(line) = terminal::describe(&event) {
                    say(&format!("  ← {line}"));
                }
                if let AppEvent::Message(message) = &event
                    && bot.handle(message).await? == Handled::Exit
                {
                    return Ok(());
                }
            }
        }
    }
}

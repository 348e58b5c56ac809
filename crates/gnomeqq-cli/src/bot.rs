//! The bot: `#` commands from allowed people, `exit` from the owner, and (in the demo) an
//! echo of everything else.

use gnomeqq_core::commands::{CommandRunner, Decision, run};
use gnomeqq_core::{Account, AppEvent, IncomingMessage};
use smartqq_protocol::retcode::SendOutcome;
use tokio::sync::mpsc::UnboundedReceiver;

use crate::config::Config;
use crate::terminal;

/// What the bot did with a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    /// Nothing to do (not for the bot, not allowed, our own echo).
    Ignored,
    /// It answered with this text.
    Replied(String),
    /// The owner asked it to stop.
    Exit,
}

/// A bot on one account.
#[derive(Debug)]
pub struct Bot {
    account: Account,
    config: Config,
    runner: CommandRunner,
    /// The demo's bot answers every ordinary message with `Echo: TEXT`.
    echo_plain: bool,
}

/// What the demo's bot puts before an echoed message.
pub const ECHO_PREFIX: &str = "Echo: ";

impl Bot {
    /// A bot with the commands of `config`.
    pub fn new(account: Account, config: Config, echo_plain: bool) -> anyhow::Result<Self> {
        let runner = CommandRunner::new(config.commands.clone())?;
        Ok(Self {
            account,
            config,
            runner,
            echo_plain,
        })
    }

    fn is_owner(&self, message: &IncomingMessage) -> bool {
        self.config
            .bot
            .owner
            .matches(message.sender_qq, message.sender_markname.as_deref())
    }

    fn is_allowed(&self, message: &IncomingMessage) -> bool {
        self.is_owner(message)
            || self
                .config
                .bot
                .allowed
                .iter()
                .any(|p| p.matches(message.sender_qq, message.sender_markname.as_deref()))
    }

    /// Handles one message: runs a command, stops on the owner's `exit`, or ignores it.
    pub async fn handle(&self, message: &IncomingMessage) -> anyhow::Result<Handled> {
        // Our own messages come back through the poll; answering them would loop.
        if message.own {
            return Ok(Handled::Ignored);
        }
        if message.text.trim() == "exit" {
            if self.is_owner(message) {
                return Ok(Handled::Exit);
            }
            tracing::debug!("Ignored exit from someone other than the owner");
            return Ok(Handled::Ignored);
        }
        let reply = match self.runner.decide(self.is_allowed(message), &message.text) {
            Decision::Run { name, spec, args } => {
                let outcome = run(&spec, &args).await;
                tracing::debug!(command = name, "Ran a command");
                outcome.reply_text()
            }
            Decision::NotACommand if self.echo_plain => format!("{ECHO_PREFIX}{}", message.text),
            decision => {
                tracing::debug!(?decision, "Ignored a message");
                return Ok(Handled::Ignored);
            }
        };
        let outcomes = self.account.send_text(message.conversation, &reply).await?;
        if outcomes.iter().any(|o| *o != SendOutcome::Sent) {
            tracing::warn!(?outcomes, "Reply not confirmed as sent");
        }
        Ok(Handled::Replied(reply))
    }
}

/// How a bot run ended, as a process exit status.
pub async fn serve(
    bot: &Bot,
    events: &mut UnboundedReceiver<AppEvent>,
    quiet: bool,
) -> anyhow::Result<u8> {
    while let Some(event) = events.recv().await {
        // A kick or a lost session is reported once, on stderr, below.
        let ends = matches!(
            event,
            AppEvent::Kicked { .. } | AppEvent::SessionLost { .. }
        );
        if !quiet && let Some(art) = terminal::login_qr(&event) {
            crate::say(&art);
        }
        if !quiet
            && !ends
            && let Some(line) = terminal::describe(&event)
        {
            crate::say(&line);
        }
        match event {
            AppEvent::Message(message) => match bot.handle(&message).await {
                Ok(Handled::Exit) => {
                    crate::say("The owner said exit: logging out");
                    return Ok(0);
                }
                Ok(Handled::Replied(reply)) if !quiet => {
                    crate::say(&format!("  → {}", reply.replace('\n', "⏎ ")));
                }
                Ok(_) => {}
                Err(error) => tracing::error!("Could not answer a message: {error:#}"),
            },
            AppEvent::Kicked { reason } => {
                eprintln!("Kicked off by the server: {reason}");
                return Ok(2);
            }
            AppEvent::SessionLost { reason } => {
                eprintln!("Session lost: {reason}");
                return Ok(3);
            }
            AppEvent::Stopped => return Ok(0),
            _ => {}
        }
    }
    Ok(0)
}

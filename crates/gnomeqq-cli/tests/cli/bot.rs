//! `gnomeqq-cli bot`: `#` commands from allowed people, `exit` from the owner, kicks.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{Running, Sandbox, TempDir, client, eventually, is_sent};
use crate::{BOB, DEV_GROUP, LAO_ZHANG};

/// The owner is 老张 (by markname); Bob is not allowed.
const CONFIG: &str = r#"
[bot]
owner = { markname = "老张" }
allowed = []

[commands.echo]
argv = ["echo"]

[commands.slow]
argv = ["sleep", "30"]
timeout_secs = 1
"#;

/// A sandbox, and the bot on it with [`CONFIG`], once its session is live.
async fn online_bot(dir: &TempDir) -> (Sandbox, Running) {
    let sandbox = Sandbox::start(dir).await;
    let config = dir.write("bot.toml", CONFIG);
    let config = config.to_str().expect("temp paths are UTF-8");
    let bot = Running::spawn(client(dir, &sandbox, &["bot", "--config", config]));
    sandbox.wait_for_session().await;
    (sandbox, bot)
}

fn sent_to(entry: &Value, target: u64) -> bool {
    entry["target"] == target
}

#[tokio::test]
async fn bot_runs_an_owner_command_as_a_literal_argv_without_a_shell() {
    let dir = TempDir::new("bot-literal");
    let (sandbox, _bot) = online_bot(&dir).await;

    sandbox.buddy_message(LAO_ZHANG, "#echo $(id) a;b").await;

    let reply = sandbox
        .wait_for_sent("the reply to #echo", |e| sent_to(e, LAO_ZHANG))
        .await;
    assert!(
        is_sent(&reply, "send_buddy_msg2", LAO_ZHANG, "$(id) a;b"),
        "reply: {reply}"
    );
}

#[tokio::test]
async fn bot_ignores_commands_and_exit_from_people_who_are_not_allowed() {
    let dir = TempDir::new("bot-not-allowed");
    let (sandbox, mut bot) = online_bot(&dir).await;

    sandbox.buddy_message(BOB, "#echo hi").await;
    sandbox.buddy_message(BOB, "exit").await;
    sandbox.buddy_message(LAO_ZHANG, "#echo after Bob").await;
    // Messages are handled in order: once the owner's later command is answered, Bob's
    // two messages have been dealt with.
    sandbox
        .wait_for_sent("the reply to the owner's later command", |e| {
            is_sent(e, "send_buddy_msg2", LAO_ZHANG, "after Bob")
        })
        .await;

    let sent = sandbox.sent().await;
    assert!(
        !sent.iter().any(|e| sent_to(e, BOB)),
        "something was sent to Bob: {sent:?}"
    );
    assert_eq!(sent.len(), 1, "only the owner's reply: {sent:?}");
    assert!(bot.is_running(), "Bob's exit stopped the bot");
}

#[tokio::test]
async fn bot_reports_a_command_that_runs_past_its_timeout() {
    let dir = TempDir::new("bot-timeout");
    let (sandbox, _bot) = online_bot(&dir).await;

    sandbox.buddy_message(LAO_ZHANG, "#slow").await;

    let reply = eventually("the reply to #slow", Duration::from_secs(15), || async {
        sandbox
            .sent()
            .await
            .into_iter()
            .find(|e| sent_to(e, LAO_ZHANG))
    })
    .await;
    assert_eq!(reply["endpoint"], "send_buddy_msg2", "reply: {reply}");
    assert!(
        reply["text"]
            .as_str()
            .is_some_and(|t| t.contains("timed out")),
        "reply: {reply}"
    );
}

#[tokio::test]
async fn bot_answers_a_group_command_in_the_group() {
    let dir = TempDir::new("bot-group");
    let (sandbox, _bot) = online_bot(&dir).await;

    sandbox.group_message(DEV_GROUP, LAO_ZHANG, "#echo x").await;

    let reply = sandbox
        .wait_for_sent("the reply in the group", |e| e["text"] == "x")
        .await;
    assert!(
        is_sent(&reply, "send_qun_msg2", DEV_GROUP, "x"),
        "reply: {reply}"
    );
}

#[tokio::test]
async fn bot_logs_out_and_exits_successfully_when_the_owner_says_exit() {
    let dir = TempDir::new("bot-exit");
    let (sandbox, mut bot) = online_bot(&dir).await;

    sandbox.buddy_message(LAO_ZHANG, "exit").await;
    let (status, stderr) = bot.finish().await;

    assert!(
        status.success(),
        "exit status {status:?}, stderr:\n{stderr}"
    );
    assert!(
        sandbox.requests_to("/channel/logout2").await >= 1,
        "counters: {}",
        sandbox.get("counters").await
    );
}

#[tokio::test]
async fn bot_exits_with_an_error_and_the_reason_when_kicked() {
    let dir = TempDir::new("bot-kicked");
    let (sandbox, mut bot) = online_bot(&dir).await;

    sandbox
        .post("kick", &json!({"reason": "Logged in elsewhere (test)"}))
        .await;
    let (status, stderr) = bot.finish().await;

    assert!(!status.success(), "exit status {status:?}");
    assert!(
        stderr.contains("Logged in elsewhere (test)"),
        "stderr:\n{stderr}"
    );
}

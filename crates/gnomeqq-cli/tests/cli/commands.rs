//! `send`, `listen --json` and `contacts --json` against a sandbox.

use std::time::Duration;

use serde_json::Value;

use crate::support::{Finished, Running, Sandbox, TempDir, client, is_sent, run};
use crate::{BOB, DEV_GROUP, JINGJING, LAO_ZHANG, TRIP_DISCUSSION};

/// A one-shot command logs in, does its work and logs out well within this.
const ONE_SHOT: Duration = Duration::from_secs(30);

async fn send(dir: &TempDir, sandbox: &Sandbox, args: &[&str], stdin: Option<&str>) -> Finished {
    let mut full = vec!["send"];
    full.extend_from_slice(args);
    run(client(dir, sandbox, &full), stdin, ONE_SHOT).await
}

fn assert_success(finished: &Finished) {
    assert!(
        finished.status.success(),
        "exit status {:?}\nstdout:\n{}\nstderr:\n{}",
        finished.status,
        finished.stdout,
        finished.stderr
    );
}

#[tokio::test]
async fn send_buddy_finds_a_friend_by_markname() {
    let dir = TempDir::new("send-buddy");
    let sandbox = Sandbox::start(&dir).await;

    let finished = send(&dir, &sandbox, &["buddy", "老张", "line one"], None).await;

    assert_success(&finished);
    let sent = sandbox.sent().await;
    assert_eq!(sent.len(), 1, "sent: {sent:?}");
    assert!(
        is_sent(&sent[0], "send_buddy_msg2", LAO_ZHANG, "line one"),
        "sent: {sent:?}"
    );
}

#[tokio::test]
async fn send_group_takes_stdin_without_its_final_newline_but_keeps_inner_ones() {
    let dir = TempDir::new("send-group");
    let sandbox = Sandbox::start(&dir).await;

    let finished = send(&dir, &sandbox, &["group", "GnomeQQ 开发组"], Some("a\nb\n")).await;

    assert_success(&finished);
    let sent = sandbox.sent().await;
    assert_eq!(sent.len(), 1, "sent: {sent:?}");
    assert!(
        is_sent(&sent[0], "send_qun_msg2", DEV_GROUP, "a\nb"),
        "sent: {sent:?}"
    );
}

#[tokio::test]
async fn send_discuss_delivers_quotes_and_backslashes_byte_exact() {
    let dir = TempDir::new("send-discuss");
    let sandbox = Sandbox::start(&dir).await;
    let text = r#"He said "hi"\ ok"#;

    let finished = send(
        &dir,
        &sandbox,
        &["discuss", "Weekend trip 周末出游", text],
        None,
    )
    .await;

    assert_success(&finished);
    let sent = sandbox.sent().await;
    assert_eq!(sent.len(), 1, "sent: {sent:?}");
    assert!(
        is_sent(&sent[0], "send_discu_msg2", TRIP_DISCUSSION, text),
        "sent: {sent:?}"
    );
}

#[tokio::test]
async fn send_sess_reaches_a_stranger_by_group_card() {
    let dir = TempDir::new("send-sess");
    let sandbox = Sandbox::start(&dir).await;

    let finished = send(&dir, &sandbox, &["sess", "静静", "hi"], None).await;

    assert_success(&finished);
    let sent = sandbox.sent().await;
    assert_eq!(sent.len(), 1, "sent: {sent:?}");
    assert!(
        is_sent(&sent[0], "send_sess_msg2", JINGJING, "hi"),
        "sent: {sent:?}"
    );
}

#[tokio::test]
async fn send_to_an_unknown_friend_fails_with_a_message_and_sends_nothing() {
    let dir = TempDir::new("send-unknown");
    let sandbox = Sandbox::start(&dir).await;

    let finished = send(&dir, &sandbox, &["buddy", "nobody", "x"], None).await;

    assert!(
        !finished.status.success(),
        "exit status {:?}",
        finished.status
    );
    assert!(
        finished.stderr.contains("nobody"),
        "stderr does not name the target:\n{}",
        finished.stderr
    );
    let sent = sandbox.sent().await;
    assert!(sent.is_empty(), "sent: {sent:?}");
}

#[tokio::test]
async fn listen_json_prints_a_friend_message_as_a_json_line() {
    let dir = TempDir::new("listen-json");
    let sandbox = Sandbox::start(&dir).await;
    let mut listener = Running::spawn(client(&dir, &sandbox, &["listen", "--json"]));
    sandbox.wait_for_session().await;
    let text = "测试🙂 \"q\"";

    sandbox.buddy_message(BOB, text).await;

    let line = listener
        .line_where("a friend message as JSON", |line| {
            serde_json::from_str::<Value>(line).is_ok_and(|v| v["kind"] == "friend")
        })
        .await;
    listener.child.kill().await.expect("kill the listener");
    let message: Value = serde_json::from_str(&line).expect("the line is JSON");
    assert_eq!(message["from"]["name"], "Bob", "line: {line}");
    assert_eq!(message["text"], text, "line: {line}");
}

#[tokio::test]
async fn listen_json_prints_only_json_lines_on_stdout() {
    let dir = TempDir::new("listen-json-only");
    let sandbox = Sandbox::start(&dir).await;
    let mut listener = Running::spawn(client(&dir, &sandbox, &["listen", "--json"]));
    sandbox.wait_for_session().await;

    sandbox.buddy_message(BOB, "hello").await;

    let lines = listener
        .lines_until("a friend message as JSON", |line| {
            serde_json::from_str::<Value>(line).is_ok_and(|v| v["kind"] == "friend")
        })
        .await;
    listener.child.kill().await.expect("kill the listener");
    let not_json: Vec<&String> = lines
        .iter()
        .filter(|line| serde_json::from_str::<Value>(line).is_err())
        .collect();
    assert!(
        not_json.is_empty(),
        "lines that are not JSON: {not_json:#?}"
    );
}

/// `contacts --json`'s document: stdout from its first line that opens a JSON object.
fn contacts_document(stdout: &str) -> Value {
    let start = stdout
        .find("\n{\n")
        .map(|i| i + 1)
        .or_else(|| stdout.starts_with("{\n").then_some(0))
        .unwrap_or_else(|| panic!("no JSON object in stdout:\n{stdout}"));
    serde_json::from_str(&stdout[start..]).expect("the rest of stdout is one JSON document")
}

#[tokio::test]
async fn contacts_json_lists_the_worlds_friends_groups_and_discussions() {
    let dir = TempDir::new("contacts-json");
    let sandbox = Sandbox::start(&dir).await;

    let finished = run(
        client(&dir, &sandbox, &["contacts", "--json"]),
        None,
        ONE_SHOT,
    )
    .await;

    assert_success(&finished);
    let contacts = contacts_document(&finished.stdout);
    let friends = contacts["friends"].as_array().expect("friends");
    assert_eq!(friends.len(), 6, "friends: {friends:?}");
    assert_eq!(
        friends.iter().filter(|f| f["markname"] == "老张").count(),
        1,
        "friends: {friends:?}"
    );
    let groups = contacts["groups"].as_array().expect("groups");
    assert_eq!(groups.len(), 2, "groups: {groups:?}");
    assert!(
        groups.iter().any(|g| g["members"]
            .as_array()
            .is_some_and(|m| m.iter().any(|m| m["card"] == "Eve (ops)"))),
        "groups: {groups:?}"
    );
    let discussions = contacts["discussions"].as_array().expect("discussions");
    assert_eq!(discussions.len(), 1, "discussions: {discussions:?}");
}

#[tokio::test]
async fn contacts_json_prints_nothing_but_the_json_document_on_stdout() {
    let dir = TempDir::new("contacts-json-only");
    let sandbox = Sandbox::start(&dir).await;

    let finished = run(
        client(&dir, &sandbox, &["contacts", "--json"]),
        None,
        ONE_SHOT,
    )
    .await;

    assert_success(&finished);
    let parsed = serde_json::from_str::<Value>(&finished.stdout);
    assert!(
        parsed.is_ok(),
        "stdout is not one JSON document ({:?}):\n{}",
        parsed.err(),
        finished.stdout
    );
}

#[tokio::test]
async fn password_login_reads_the_password_from_the_environment_and_saves_the_session() {
    let dir = TempDir::new("password-login");
    let sandbox = Sandbox::start_with(&dir, &["--profile", "legacy2015"]).await;

    let wrong = client(
        &dir,
        &sandbox,
        &[
            "--era",
            "legacy2015",
            "login",
            "--password-for",
            "2400000001",
        ],
    )
    .env("GNOMEQQ_PASSWORD", "not it")
    .output()
    .await
    .unwrap();
    let right = client(
        &dir,
        &sandbox,
        &[
            "--era",
            "legacy2015",
            "login",
            "--password-for",
            "2400000001",
        ],
    )
    .env("GNOMEQQ_PASSWORD", "sandbox-password")
    .output()
    .await
    .unwrap();
    let contacts = client(
        &dir,
        &sandbox,
        &["--era", "legacy2015", "contacts", "--json"],
    )
    .output()
    .await
    .unwrap();

    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("wrong QQ number or password"),
        "{}",
        String::from_utf8_lossy(&wrong.stderr)
    );
    assert!(
        right.status.success(),
        "{}",
        String::from_utf8_lossy(&right.stderr)
    );
    assert!(contacts.status.success());
    assert_eq!(
        sandbox.requests_to("/ptqrshow").await,
        0,
        "no QR code at any point"
    );
    let saved = std::fs::read_dir(dir.data_dir().join("sessions"))
        .unwrap()
        .count();
    assert_eq!(saved, 1);
}

#[tokio::test]
async fn sends_from_separate_processes_keep_the_pacing() {
    let dir = TempDir::new("send-pacing");
    let sandbox = Sandbox::start(&dir).await;
    // The first send logs in and saves the session; the timed ones resume it.
    assert_success(&send(&dir, &sandbox, &["buddy", "老张", "zero"], None).await);
    let started = std::time::Instant::now();

    for text in ["one", "two", "three"] {
        assert_success(&send(&dir, &sandbox, &["buddy", "老张", text], None).await);
    }

    // Four sends, 1 s apart by default: the last three cannot finish in under 3 s, although
    // each process starts with no memory of the others.
    assert!(
        started.elapsed() >= Duration::from_millis(2_900),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sandbox.sent().await.len(), 4);
}

/// Issue #4's test of a session that heals itself: `listen` rides out an expiry, a ptwebqq
/// rotation, a duplicate delivery and changes of the idle answer without a new scan,
/// printing each message once.
#[tokio::test]
async fn listen_survives_expiry_rotation_and_idle_modes_without_a_rescan() {
    let dir = TempDir::new("listen-heals");
    let sandbox = Sandbox::start(&dir).await;
    sandbox
        .post("knobs", &serde_json::json!({"poll_hold": 0.5}))
        .await;
    let mut listener = Running::spawn(client(&dir, &sandbox, &["listen", "--json"]));
    sandbox.wait_for_session().await;
    let is_message = |text: &'static str| {
        move |line: &str| serde_json::from_str::<Value>(line).is_ok_and(|v| v["text"] == text)
    };
    let mut printed = Vec::new();

    sandbox.buddy_message(BOB, "before").await;
    printed.extend(listener.lines_until("before", is_message("before")).await);
    sandbox.post("session/expire", &serde_json::json!({})).await;
    sandbox.buddy_message(BOB, "after the expiry").await;
    printed.extend(
        listener
            .lines_until("after the expiry", is_message("after the expiry"))
            .await,
    );
    sandbox.post("ptwebqq/rotate", &serde_json::json!({})).await;
    sandbox.buddy_message(BOB, "after the rotation").await;
    printed.extend(
        listener
            .lines_until("after the rotation", is_message("after the rotation"))
            .await,
    );
    sandbox
        .post("knobs", &serde_json::json!({"duplicate_delivery": true}))
        .await;
    sandbox.buddy_message(BOB, "twice on the wire").await;
    printed.extend(
        listener
            .lines_until("twice", is_message("twice on the wire"))
            .await,
    );
    sandbox
        .post("knobs", &serde_json::json!({"duplicate_delivery": false}))
        .await;
    for mode in ["http504", "102", "ok_error", "0", "100012"] {
        sandbox
            .post("knobs", &serde_json::json!({"poll_idle_mode": mode}))
            .await;
        // Let the client meet this idle answer at least twice before the next message.
        let polls = sandbox.requests_to("/channel/poll2").await;
        tokio::time::timeout(Duration::from_secs(30), async {
            while sandbox.requests_to("/channel/poll2").await < polls + 2 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .unwrap_or_else(|_| panic!("the client stopped polling under idle mode {mode}"));
        sandbox.buddy_message(BOB, "idle mode changed").await;
        printed.extend(
            listener
                .lines_until(mode, is_message("idle mode changed"))
                .await,
        );
    }
    sandbox.buddy_message(BOB, "last").await;
    printed.extend(listener.lines_until("last", is_message("last")).await);
    listener.child.kill().await.expect("kill the listener");

    let texts: Vec<String> = printed
        .iter()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|v| v["kind"] == "friend")
        .map(|v| v["text"].as_str().unwrap_or_default().to_owned())
        .collect();
    let mut expected = vec![
        "before",
        "after the expiry",
        "after the rotation",
        "twice on the wire",
    ];
    expected.extend(["idle mode changed"; 5]);
    expected.push("last");
    assert_eq!(texts, expected, "each message once, in order");
    assert_eq!(
        sandbox.requests_to("/ptqrshow").await,
        1,
        "no second QR code"
    );
    assert!(
        sandbox.requests_to("/pt4_auth").await >= 1,
        "the expiry was healed by single sign-on"
    );
}

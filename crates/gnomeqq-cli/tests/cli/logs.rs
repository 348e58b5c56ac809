//! What `gnomeqq-cli` writes to its log (stderr) even at `RUST_LOG=trace`: no message
//! text, no session tokens. The tokens' values are unknown to the test, so it looks for
//! their shapes: ptwebqq 64 hex digits, vfwebqq 80, psessionid `8368046764001d…`, skey
//! `@` and nine letters or digits.

use crate::LAO_ZHANG;
use crate::support::{Running, Sandbox, TempDir, client};

/// The message the test's friend writes.
const SECRET_TEXT: &str = "机密消息 secret-7Qx";

/// Runs `listen` with `RUST_LOG=trace` while one message arrives, stops it with SIGINT
/// and returns everything it logged.
async fn trace_log_of_a_listen_session(label: &str) -> String {
    let dir = TempDir::new(label);
    let sandbox = Sandbox::start(&dir).await;
    let mut command = client(&dir, &sandbox, &["listen"]);
    command.env("RUST_LOG", "trace");
    let mut listener = Running::spawn(command);
    sandbox.wait_for_session().await;
    sandbox.buddy_message(LAO_ZHANG, SECRET_TEXT).await;
    listener
        .line_where("the message", |line| line.contains(SECRET_TEXT))
        .await;
    listener.interrupt();
    let (_status, stderr) = listener.finish().await;
    stderr
}

/// The first line of `text` with a run of at least `min` ASCII hex digits.
fn line_with_hex_run(text: &str, min: usize) -> Option<&str> {
    text.lines().find(|line| {
        let mut current = 0;
        line.chars().any(|c| {
            current = if c.is_ascii_hexdigit() {
                current + 1
            } else {
                0
            };
            current >= min
        })
    })
}

/// The first line of `text` with an `@` followed by at least nine ASCII letters or
/// digits (an skey).
fn line_with_skey(text: &str) -> Option<&str> {
    text.lines().find(|line| {
        line.match_indices('@').any(|(at, _)| {
            line[at + 1..]
                .bytes()
                .take_while(u8::is_ascii_alphanumeric)
                .count()
                >= 9
        })
    })
}

#[tokio::test]
async fn trace_logs_show_neither_the_message_text_nor_a_psessionid_or_vfwebqq() {
    let stderr = trace_log_of_a_listen_session("logs-text").await;

    assert!(!stderr.trim().is_empty(), "nothing was logged");
    assert_eq!(
        stderr.lines().find(|line| line.contains(SECRET_TEXT)),
        None,
        "the message text is in the log"
    );
    assert_eq!(
        stderr.lines().find(|line| line.contains("8368046764001d")),
        None,
        "a psessionid is in the log"
    );
    assert_eq!(
        line_with_hex_run(&stderr, 80),
        None,
        "an 80-hex run (a vfwebqq) is in the log"
    );
}

#[tokio::test]
async fn trace_logs_show_neither_a_ptwebqq_nor_an_skey() {
    let stderr = trace_log_of_a_listen_session("logs-tokens").await;

    assert!(!stderr.trim().is_empty(), "nothing was logged");
    assert_eq!(
        line_with_hex_run(&stderr, 64),
        None,
        "a 64-hex run (a ptwebqq) is in the log"
    );
    assert_eq!(
        line_with_skey(&stderr),
        None,
        "an skey-like value is in the log"
    );
}

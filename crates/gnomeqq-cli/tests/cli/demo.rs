//! `gnomeqq-cli demo`: the whole flow on its embedded sandbox.

use std::time::Duration;

use crate::support::{TempDir, gnomeqq, run};

#[tokio::test]
async fn demo_succeeds_with_every_reply_byte_exact_and_logs_out() {
    let dir = TempDir::new("demo");
    let mut command = gnomeqq(&dir);
    command.arg("demo");

    let finished = run(command, None, Duration::from_secs(60)).await;

    assert!(
        finished.status.success(),
        "demo failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        finished.status,
        finished.stdout,
        finished.stderr
    );
    assert!(
        finished
            .stdout
            .contains("All 5 replies arrived byte-exact."),
        "stdout:\n{}",
        finished.stdout
    );
    assert!(
        finished.stdout.contains("Logged out"),
        "stdout:\n{}",
        finished.stdout
    );
}

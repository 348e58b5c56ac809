//! Shared pieces of the end-to-end tests: a private temp directory, a sandbox started
//! through `gnomeqq-cli sandbox`, client commands pointed at it, and bounded waits.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How long any single wait may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(30);

/// Pause between two looks at the control API while waiting for something to happen.
const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// A unique directory under the system temp dir, removed on drop. `HOME`, the XDG
/// directories and `--data-dir` of every process a test starts live in it.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// A fresh, empty directory whose name contains `label`.
    pub fn new(label: &str) -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let path = std::env::temp_dir().join(format!(
            "gnomeqq-cli-e2e-{label}-{}-{}-{nanos}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(path.join("home")).expect("create the temp home");
        std::fs::create_dir_all(path.join("config")).expect("create the temp config dir");
        std::fs::create_dir_all(path.join("share")).expect("create the temp data dir");
        Self { path }
    }

    /// The directory itself.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory given as `--data-dir`.
    pub fn data_dir(&self) -> PathBuf {
        self.path.join("data")
    }

    /// Writes `text` to `name` inside the directory and returns the path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.path.join(name);
        std::fs::write(&path, text).expect("write a file into the temp dir");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A `gnomeqq-cli` command whose home and XDG directories point into `dir`; no stdin,
/// killed when dropped.
pub fn gnomeqq(dir: &TempDir) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_gnomeqq-cli"));
    command
        .env("HOME", dir.path().join("home"))
        .env("XDG_CONFIG_HOME", dir.path().join("config"))
        .env("XDG_DATA_HOME", dir.path().join("share"))
        .env("XDG_CACHE_HOME", dir.path().join("cache"))
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    command
}

/// A `gnomeqq-cli` client command talking to `sandbox`: `--server URL --data-dir D ARGS`.
pub fn client(dir: &TempDir, sandbox: &Sandbox, args: &[&str]) -> Command {
    let mut command = gnomeqq(dir);
    command
        .arg("--server")
        .arg(&sandbox.url)
        .arg("--data-dir")
        .arg(dir.data_dir())
        .args(args);
    command
}

/// A `gnomeqq-cli` command that needs no server (`history`, `search`, `export`):
/// `--data-dir D ARGS`, without `--server`.
pub fn offline(dir: &TempDir, args: &[&str]) -> Command {
    let mut command = gnomeqq(dir);
    command.arg("--data-dir").arg(dir.data_dir()).args(args);
    command
}

/// What a finished command left behind.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `command` to its end (at most `limit`), feeding it `stdin` when given.
pub async fn run(mut command: Command, stdin: Option<&str>, limit: Duration) -> Finished {
    if stdin.is_some() {
        command.stdin(Stdio::piped());
    }
    let mut child = command.spawn().expect("start gnomeqq-cli");
    if let Some(text) = stdin {
        use tokio::io::AsyncWriteExt;
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(text.as_bytes()).await.expect("write stdin");
        drop(pipe);
    }
    let output = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("gnomeqq-cli did not finish within {limit:?}"))
        .expect("wait for gnomeqq-cli");
    Finished {
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// A long-running `gnomeqq-cli` process: its stdout arrives line by line, its stderr is
/// collected until it closes. Killed when dropped.
#[derive(Debug)]
pub struct Running {
    pub child: Child,
    lines: mpsc::UnboundedReceiver<String>,
    stderr: Option<JoinHandle<String>>,
}

impl Running {
    /// Starts `command` (stdout and stderr piped).
    pub fn spawn(mut command: Command) -> Self {
        let mut child = command.spawn().expect("start gnomeqq-cli");
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        Self {
            child,
            lines: forward_lines(stdout),
            stderr: Some(collect(stderr)),
        }
    }

    /// Reads stdout lines until one satisfies `wanted` and returns it; fails after
    /// [`WAIT`] or when stdout ends first.
    pub async fn line_where(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> String {
        let mut lines = self.lines_until(what, wanted).await;
        lines.pop().expect("the matching line is last")
    }

    /// Reads stdout lines until one satisfies `wanted`; returns them all, that one last.
    /// Fails after [`WAIT`] or when stdout ends first.
    pub async fn lines_until(&mut self, what: &str, wanted: impl Fn(&str) -> bool) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => {
                    let done = wanted(&line);
                    seen.push(line);
                    if done {
                        return seen;
                    }
                }
                Ok(None) => panic!("stdout ended before {what}; it printed {seen:#?}"),
                Err(_) => panic!("no stdout line with {what} within {WAIT:?}; got {seen:#?}"),
            }
        }
    }

    /// The next stdout line, if one comes within `limit`: [`NextLine::Quiet`] when none
    /// does, [`NextLine::Ended`] when stdout closed.
    pub async fn next_line_within(&mut self, limit: Duration) -> NextLine {
        match tokio::time::timeout(limit, self.lines.recv()).await {
            Ok(Some(line)) => NextLine::Line(line),
            Ok(None) => NextLine::Ended,
            Err(_) => NextLine::Quiet,
        }
    }

    /// Every stdout line not read yet, up to the end of stdout (the process exited or
    /// closed it); fails when stdout stays open longer than [`WAIT`].
    pub async fn rest_of_stdout(&mut self) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        let mut seen = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(line)) => seen.push(line),
                Ok(None) => return seen,
                Err(_) => panic!("stdout did not close within {WAIT:?}; got {seen:#?}"),
            }
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child
            .try_wait()
            .expect("ask for the exit status")
            .is_none()
    }

    /// Waits (at most [`WAIT`]) for the process to end; returns the status and stderr.
    pub async fn finish(&mut self) -> (ExitStatus, String) {
        let status = tokio::time::timeout(WAIT, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("gnomeqq-cli did not exit within {WAIT:?}"))
            .expect("wait for gnomeqq-cli");
        let stderr = self.stderr.take().expect("stderr is collected once");
        let stderr = tokio::time::timeout(WAIT, stderr)
            .await
            .expect("stderr closes after the exit")
            .expect("the stderr task does not panic");
        (status, stderr)
    }

    /// Ends the process with SIGKILL and waits (at most [`WAIT`]) for it; returns its
    /// stderr. For tests that only need the process gone, not a clean exit.
    pub async fn kill(&mut self) -> String {
        self.child.start_kill().expect("send SIGKILL");
        let (status, stderr) = self.finish().await;
        assert!(
            status.success() || status.code().is_none(),
            "the process failed before the SIGKILL ({status:?}):\n{stderr}"
        );
        stderr
    }

    /// Asks the process to stop as Ctrl-C would (SIGINT, by its id).
    pub fn interrupt(&self) {
        let pid = self.child.id().expect("the process is still running");
        let status = std::process::Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -INT {pid} failed");
    }
}

/// What [`Running::next_line_within`] saw.
#[derive(Debug, PartialEq, Eq)]
pub enum NextLine {
    /// A line of stdout.
    Line(String),
    /// No line within the limit; stdout is still open.
    Quiet,
    /// Stdout closed.
    Ended,
}

fn forward_lines(stdout: ChildStdout) -> mpsc::UnboundedReceiver<String> {
    let (sender, receiver) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut lines = BufReader::new(stdout).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    receiver
}

fn collect(stderr: ChildStderr) -> JoinHandle<String> {
    tokio::spawn(async move {
        let mut bytes = Vec::new();
        let _ = BufReader::new(stderr).read_to_end(&mut bytes).await;
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Polls `probe` every few milliseconds until it gives a value; fails after `limit`.
pub async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {limit:?} waiting for {what}"
        );
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}

/// A sandbox started as `gnomeqq-cli sandbox --listen 127.0.0.1:0 --auto-confirm 0`
/// (every QR code is confirmed at once); killed when dropped.
#[derive(Debug)]
pub struct Sandbox {
    pub url: String,
    http: reqwest::Client,
    _process: Child,
}

impl Sandbox {
    /// Starts a sandbox and waits for its `Sandbox listening on URL` line.
    pub async fn start(dir: &TempDir) -> Self {
        Self::start_with(dir, &[]).await
    }

    /// [`Sandbox::start`] with more `sandbox` options (`--profile legacy2015`).
    pub async fn start_with(dir: &TempDir, options: &[&str]) -> Self {
        let mut command = gnomeqq(dir);
        command
            .args(["sandbox", "--listen", "127.0.0.1:0", "--auto-confirm", "0"])
            .args(options)
            .stderr(Stdio::null());
        let mut process = command.spawn().expect("start the sandbox");
        let stdout = process.stdout.take().expect("stdout is piped");
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("the sandbox announces its address in time")
            .expect("read the sandbox's stdout")
            .expect("the sandbox printed a line");
        let url = first
            .strip_prefix("Sandbox listening on ")
            .unwrap_or_else(|| panic!("unexpected first line from the sandbox: {first:?}"))
            .trim()
            .to_owned();
        assert!(url.starts_with("http://127.0.0.1:"), "sandbox URL {url}");
        // The sandbox prints nothing more; keep its stdout open so it never sees a broken pipe.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        let http = reqwest::Client::builder()
            .timeout(WAIT)
            .build()
            .expect("build an HTTP client");
        Self {
            url,
            http,
            _process: process,
        }
    }

    /// `GET /sandbox/PATH` as JSON.
    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(format!("{}/sandbox/{path}", self.url))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET /sandbox/{path}: {e}"));
        let status = response.status();
        let body: Value = response.json().await.expect("control API answers JSON");
        assert!(status.is_success(), "GET /sandbox/{path}: {status} {body}");
        body
    }

    /// `POST /sandbox/PATH` with a JSON body; the answer must be a success.
    pub async fn post(&self, path: &str, body: &Value) -> Value {
        let response = self
            .http
            .post(format!("{}/sandbox/{path}", self.url))
            .json(body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST /sandbox/{path}: {e}"));
        let status = response.status();
        let answer: Value = response.json().await.expect("control API answers JSON");
        assert!(
            status.is_success(),
            "POST /sandbox/{path} {body}: {status} {answer}"
        );
        answer
    }

    /// A friend writes to the account.
    pub async fn buddy_message(&self, from: u64, text: &str) {
        self.post(
            "messages",
            &json!({"kind": "buddy", "from": from, "text": text}),
        )
        .await;
    }

    /// A member writes in a group (by public number).
    pub async fn group_message(&self, group: u64, from: u64, text: &str) {
        self.post(
            "messages",
            &json!({"kind": "group", "from": from, "group": group, "text": text}),
        )
        .await;
    }

    /// A member writes in a discussion (by did).
    pub async fn discussion_message(&self, discussion: u64, from: u64, text: &str) {
        self.post(
            "messages",
            &json!({"kind": "discu", "from": from, "discussion": discussion, "text": text}),
        )
        .await;
    }

    /// A friend writes `texts` one after the other, each as soon as the control API took
    /// the one before, in a task of its own. The counter tells how many were taken so far;
    /// the task ends after the last.
    pub fn buddy_stream(
        &self,
        from: u64,
        texts: Vec<String>,
    ) -> (JoinHandle<()>, Arc<AtomicUsize>) {
        let http = self.http.clone();
        let url = format!("{}/sandbox/messages", self.url);
        let taken = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&taken);
        let task = tokio::spawn(async move {
            for text in texts {
                let body = json!({"kind": "buddy", "from": from, "text": text});
                let response = http
                    .post(&url)
                    .json(&body)
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("POST /sandbox/messages {body}: {e}"));
                let status = response.status();
                assert!(
                    status.is_success(),
                    "POST /sandbox/messages {body}: {status}"
                );
                counter.fetch_add(1, Ordering::SeqCst);
            }
        });
        (task, taken)
    }

    /// Everything clients sent so far (`GET /sandbox/sent`).
    pub async fn sent(&self) -> Vec<Value> {
        match self.get("sent").await {
            Value::Array(sent) => sent,
            other => panic!("/sandbox/sent is not a list: {other}"),
        }
    }

    /// Waits until `/sandbox/sent` holds an entry matching `wanted` and returns it.
    pub async fn wait_for_sent(&self, what: &str, wanted: impl Fn(&Value) -> bool) -> Value {
        eventually(what, WAIT, || async {
            self.sent().await.into_iter().find(|entry| wanted(entry))
        })
        .await
    }

    /// Waits until a client holds a live session: the world then shows the friends' uins.
    pub async fn wait_for_session(&self) {
        eventually("a live client session", WAIT, || async {
            let world = self.get("world").await;
            let friends = world["friends"].as_array()?;
            friends.iter().any(|f| !f["uin"].is_null()).then_some(())
        })
        .await;
    }

    /// How many requests the client made to a protocol path.
    pub async fn requests_to(&self, path: &str) -> u64 {
        self.get("counters").await["requests"][path]
            .as_u64()
            .unwrap_or(0)
    }
}

/// Whether a `/sandbox/sent` entry went through `endpoint` to `target` with exactly `text`.
pub fn is_sent(entry: &Value, endpoint: &str, target: u64, text: &str) -> bool {
    entry["endpoint"] == endpoint && entry["target"] == target && entry["text"] == text
}

//! The bot's `#` command runner: `#NAME ARGS` from an allowed sender runs a
//! configured program as an argv (never through a shell), with a timeout, a
//! cleared environment and an output cap, and its output becomes the reply.
//!
//! The flow is [`CommandRunner::decide`] on an incoming message, then [`run`]
//! on a [`Decision::Run`], then [`CommandOutcome::reply_text`] for the reply.
//!
//! Arguments are split on whitespace and passed on as they are: no quoting, no
//! globbing, no `$(…)`. They can still look like options (`#grep --help`),
//! so configure `append_args = false`, or end the argv with `"--"` for
//! programs that support it, when that matters.

use std::collections::BTreeMap;
use std::fmt;
use std::process::Stdio;
use std::time::Duration;

use serde::Deserialize;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;
use tracing::debug;

/// Environment variables a command inherits; everything else is cleared,
/// because a bot's environment may hold secrets.
const PASSED_ENV: [&str; 3] = ["PATH", "HOME", "LANG"];

/// Longest command name accepted after the `#`.
const MAX_NAME_LEN: usize = 32;

/// A configuration value that cannot describe a runnable command.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum CommandConfigError {
    /// `argv` is empty or its first element (the program) is empty.
    #[error("argv names no program")]
    MissingProgram,
    /// The timeout is not a number of seconds in `(0, 600]`.
    #[error("timeout of {0} s is outside (0, 600] seconds")]
    InvalidTimeout(f64),
    /// The output cap is not in `1..=65536` bytes.
    #[error("output cap of {0} bytes is outside 1..=65536")]
    InvalidOutputCap(usize),
    /// A configured command name is not 1 to 32 of `[A-Za-z0-9_-]`.
    #[error("command name {0:?} is not 1 to 32 of [A-Za-z0-9_-]")]
    InvalidName(String),
}

/// How to run one configured command: `[commands.NAME]` in the config.
///
/// Deserializes from `argv` (required), `timeout_secs` (seconds as a number,
/// default 10), `max_output_bytes` (default 2000) and `append_args` (default
/// true); unknown keys are rejected so a typo does not silently fall back to
/// a default. Every constructor validates, so a value always describes a
/// runnable command.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(try_from = "RawCommandSpec")]
pub struct CommandSpec {
    argv: Vec<String>,
    timeout: Duration,
    max_output_bytes: usize,
    append_args: bool,
}

impl CommandSpec {
    /// Timeout used when the config gives none.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
    /// Longest timeout a command may be given.
    pub const MAX_TIMEOUT: Duration = Duration::from_secs(600);
    /// Output cap used when the config gives none.
    pub const DEFAULT_MAX_OUTPUT_BYTES: usize = 2000;
    /// Largest output cap a command may be given.
    pub const MAX_OUTPUT_BYTES_LIMIT: usize = 65536;

    /// A command running `argv` with the default timeout, cap and
    /// `append_args = true`.
    pub fn new(argv: Vec<String>) -> Result<Self, CommandConfigError> {
        if argv.first().is_none_or(String::is_empty) {
            return Err(CommandConfigError::MissingProgram);
        }

        Ok(Self {
            argv,
            timeout: Self::DEFAULT_TIMEOUT,
            max_output_bytes: Self::DEFAULT_MAX_OUTPUT_BYTES,
            append_args: true,
        })
    }

    /// Sets the timeout, which must be above zero and at most 600 s.
    pub fn with_timeout(mut self, timeout: Duration) -> Result<Self, CommandConfigError> {
        if timeout.is_zero() || timeout > Self::MAX_TIMEOUT {
            return Err(CommandConfigError::InvalidTimeout(timeout.as_secs_f64()));
        }

        self.timeout = timeout;
        Ok(self)
    }

    /// Sets the output cap, which must be in `1..=65536` bytes.
    pub fn with_max_output_bytes(mut self, cap: usize) -> Result<Self, CommandConfigError> {
        if !(1..=Self::MAX_OUTPUT_BYTES_LIMIT).contains(&cap) {
            return Err(CommandConfigError::InvalidOutputCap(cap));
        }

        self.max_output_bytes = cap;
        Ok(self)
    }

    /// Sets whether the words after `#NAME` are appended to the argv.
    #[must_use]
    pub fn with_append_args(mut self, append_args: bool) -> Self {
        self.append_args = append_args;
        self
    }

    /// The program (first element) and its fixed arguments.
    pub fn argv(&self) -> &[String] {
        &self.argv
    }

    /// How long the command may run before it is killed.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How many bytes of output are kept for the reply.
    pub fn max_output_bytes(&self) -> usize {
        self.max_output_bytes
    }

    /// Whether the words after `#NAME` are appended to the argv.
    pub fn append_args(&self) -> bool {
        self.append_args
    }
}

/// The config shape of [`CommandSpec`], validated by `TryFrom`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommandSpec {
    argv: Vec<String>,
    #[serde(default = "default_timeout_secs")]
    timeout_secs: f64,
    #[serde(default = "default_max_output_bytes")]
    max_output_bytes: usize,
    #[serde(default = "default_append_args")]
    append_args: bool,
}

fn default_timeout_secs() -> f64 {
    CommandSpec::DEFAULT_TIMEOUT.as_secs_f64()
}

fn default_max_output_bytes() -> usize {
    CommandSpec::DEFAULT_MAX_OUTPUT_BYTES
}

fn default_append_args() -> bool {
    true
}

impl TryFrom<RawCommandSpec> for CommandSpec {
    type Error = CommandConfigError;

    fn try_from(raw: RawCommandSpec) -> Result<Self, Self::Error> {
        let max_secs = Self::MAX_TIMEOUT.as_secs_f64();
        // Checked before the conversion: `Duration::from_secs_f64` panics on
        // negative, infinite and NaN values.
        if !(raw.timeout_secs > 0.0 && raw.timeout_secs <= max_secs) {
            return Err(CommandConfigError::InvalidTimeout(raw.timeout_secs));
        }
        let timeout = Duration::from_secs_f64(raw.timeout_secs);

        Self::new(raw.argv)?
            .with_timeout(timeout)?
            .with_max_output_bytes(raw.max_output_bytes)
            .map(|spec| spec.with_append_args(raw.append_args))
    }
}

/// A parsed `#NAME ARGS` message.
///
/// Its `Debug` omits the arguments: they are message text.
#[derive(Clone, PartialEq, Eq)]
pub struct Invocation {
    /// The command name, 1 to 32 of `[A-Za-z0-9_-]`.
    pub name: String,
    /// The words after the name, split on Unicode whitespace, uninterpreted.
    pub args: Vec<String>,
}

impl fmt::Debug for Invocation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Invocation")
            .field("name", &self.name)
            .field("arg_count", &self.args.len())
            .finish_non_exhaustive()
    }
}

/// Parses `#NAME ARGS`, or returns `None` if `text` is not a command.
///
/// `text` must start with `#` directly followed by a name of 1 to 32
/// `[A-Za-z0-9_-]`, then whitespace or the end. The rest is split on Unicode
/// whitespace; quotes, `$`, `;`, `*` and the like mean nothing, so
/// `#echo $(id)` gives the single argument `$(id)`.
pub fn parse_invocation(text: &str) -> Option<Invocation> {
    let rest = text.strip_prefix('#')?;
    let name_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let (name, args) = rest.split_at(name_end);
    if !is_valid_name(name) {
        return None;
    }

    Some(Invocation {
        name: name.to_owned(),
        args: args.split_whitespace().map(str::to_owned).collect(),
    })
}

fn is_valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// What to do with an incoming message.
///
/// Its `Debug` omits the arguments: they are message text.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Decision {
    /// Run `spec` with `args` (pass both to [`run`]) and reply with the result.
    Run {
        /// The command name the sender used.
        name: String,
        /// The configured command.
        spec: CommandSpec,
        /// The words after the name, uninterpreted.
        args: Vec<String>,
    },
    /// A command from a sender who is not allowed, or whose number is
    /// unknown; ignore it.
    NotAllowed,
    /// An allowed sender used a name with no configured command; ignore it.
    UnknownCommand(String),
    /// The message is not of the form `#NAME ARGS`.
    NotACommand,
}

impl fmt::Debug for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Run { name, spec, args } => f
                .debug_struct("Run")
                .field("name", name)
                .field("spec", spec)
                .field("arg_count", &args.len())
                .finish_non_exhaustive(),
            Self::NotAllowed => f.write_str("NotAllowed"),
            Self::UnknownCommand(name) => f.debug_tuple("UnknownCommand").field(name).finish(),
            Self::NotACommand => f.write_str("NotACommand"),
        }
    }
}

/// The configured commands. Who may run them is the caller's to decide (the CLI matches
/// QQ numbers and marknames); [`CommandRunner::decide`] takes the verdict.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommandRunner {
    commands: BTreeMap<String, CommandSpec>,
}

impl CommandRunner {
    /// A runner for `commands`, keyed by name.
    ///
    /// Fails if a name could never be typed as `#NAME`.
    pub fn new(commands: BTreeMap<String, CommandSpec>) -> Result<Self, CommandConfigError> {
        if let Some(name) = commands.keys().find(|name| !is_valid_name(name)) {
            return Err(CommandConfigError::InvalidName(name.clone()));
        }

        Ok(Self { commands })
    }

    /// The configured commands, by name.
    pub fn commands(&self) -> &BTreeMap<String, CommandSpec> {
        &self.commands
    }

    /// Decides what to do with `text` from a sender the caller has judged
    /// `sender_allowed` (an unknown sender must be judged not allowed).
    ///
    /// The sender is checked before the name, so a sender who is not allowed
    /// learns nothing about which commands exist.
    pub fn decide(&self, sender_allowed: bool, text: &str) -> Decision {
        let Some(Invocation { name, args }) = parse_invocation(text) else {
            return Decision::NotACommand;
        };
        if !sender_allowed {
            return Decision::NotAllowed;
        }
        let Some(spec) = self.commands.get(&name) else {
            return Decision::UnknownCommand(name);
        };

        Decision::Run {
            name,
            spec: spec.clone(),
            args,
        }
    }
}

/// How a command run ended.
///
/// Its `Debug` gives the output's length, not its text.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CommandOutcome {
    /// The command exited and closed its output before the timeout.
    Finished {
        /// The exit code, or `None` if a signal ended the process.
        exit_code: Option<i32>,
        /// Stdout and stderr as they arrived, capped, decoded lossily.
        output: String,
        /// Whether output past the cap was dropped.
        truncated: bool,
    },
    /// The timeout passed; the command was killed and reaped.
    TimedOut {
        /// The timeout that passed.
        timeout: Duration,
        /// The output that arrived before the timeout, capped.
        output: String,
        /// Whether output past the cap was dropped.
        truncated: bool,
    },
    /// The program could not be started (missing, not executable, …), or,
    /// very rarely, could not be waited for.
    FailedToStart {
        /// The configured program, `argv[0]`.
        program: String,
        /// Why it could not start.
        reason: String,
    },
}

impl CommandOutcome {
    /// The chat reply: the output with trailing whitespace trimmed (or
    /// `(no output)`), then a line for truncation, a non-zero exit status, a
    /// signal or the timeout; or `[could not start PROGRAM: reason]`.
    pub fn reply_text(&self) -> String {
        let (output, truncated, status) = match self {
            Self::FailedToStart { program, reason } => {
                return format!("[could not start {program}: {reason}]");
            }
            Self::Finished {
                exit_code,
                output,
                truncated,
            } => {
                let status = match exit_code {
                    Some(0) => None,
                    Some(code) => Some(format!("[exit status {code}]")),
                    None => Some("[terminated by a signal]".to_owned()),
                };
                (output, *truncated, status)
            }
            Self::TimedOut {
                timeout,
                output,
                truncated,
            } => {
                let status = format!("[timed out after {} s]", timeout.as_secs_f64());
                (output, *truncated, Some(status))
            }
        };

        let output = output.trim_end();
        let mut reply = if output.is_empty() {
            "(no output)".to_owned()
        } else {
            output.to_owned()
        };
        if truncated {
            reply.push_str("\n[output truncated]");
        }
        if let Some(status) = status {
            reply.push('\n');
            reply.push_str(&status);
        }

        reply
    }

    /// A short name of the variant, for logs.
    fn kind(&self) -> &'static str {
        match self {
            Self::Finished { .. } => "finished",
            Self::TimedOut { .. } => "timed out",
            Self::FailedToStart { .. } => "failed to start",
        }
    }
}

impl fmt::Debug for CommandOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Finished {
                exit_code,
                output,
                truncated,
            } => f
                .debug_struct("Finished")
                .field("exit_code", exit_code)
                .field("output_len", &output.len())
                .field("truncated", truncated)
                .finish(),
            Self::TimedOut {
                timeout,
                output,
                truncated,
            } => f
                .debug_struct("TimedOut")
                .field("timeout", timeout)
                .field("output_len", &output.len())
                .field("truncated", truncated)
                .finish(),
            Self::FailedToStart { program, reason } => f
                .debug_struct("FailedToStart")
                .field("program", program)
                .field("reason", reason)
                .finish(),
        }
    }
}

/// Runs `spec` with `args` appended (if `spec.append_args()`) and collects
/// its output.
///
/// The program is `argv[0]`, looked up on the passed `PATH`; no shell is
/// involved. Stdin is null; the environment holds only `PATH`, `HOME` and
/// `LANG` from ours. Stdout and stderr are read concurrently into one buffer,
/// chunk by chunk in the order the chunks arrive (so writes made close
/// together on the two streams may interleave either way). The buffer stops
/// growing at the cap, but reading goes on, so a chatty command never blocks
/// on a full pipe. At the timeout, the command is killed and reaped.
///
/// Only the direct child is killed: a process it started that keeps our
/// pipes open makes the run end at the timeout, and is left running.
pub async fn run(spec: &CommandSpec, args: &[String]) -> CommandOutcome {
    run_reporting_pid(spec, args).await.0
}

/// [`run`], also returning the child's process id when it started, so tests
/// can check that a killed child is gone.
async fn run_reporting_pid(spec: &CommandSpec, args: &[String]) -> (CommandOutcome, Option<u32>) {
    let Some((program, fixed_args)) = spec.argv.split_first() else {
        // `CommandSpec` constructors reject an empty argv; answer anyway.
        let outcome = CommandOutcome::FailedToStart {
            program: String::new(),
            reason: "no program configured".to_owned(),
        };
        return (outcome, None);
    };

    let appended: &[String] = if spec.append_args { args } else { &[] };
    let mut command = Command::new(program);
    command
        .args(fixed_args)
        .args(appended)
        .env_clear()
        .envs(
            PASSED_ENV
                .into_iter()
                .filter_map(|key| Some((key, std::env::var_os(key)?))),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);

    let (outcome, pid) = match command.spawn() {
        Ok(child) => {
            let pid = child.id();
            (collect(child, spec).await, pid)
        }
        Err(error) => {
            let outcome = CommandOutcome::FailedToStart {
                program: program.clone(),
                reason: error.to_string(),
            };
            (outcome, None)
        }
    };
    debug!(program = %program, outcome = outcome.kind(), "Ran bot command");

    (outcome, pid)
}

/// Waits for `child` to exit and close its output, killing it at the timeout.
async fn collect(mut child: tokio::process::Child, spec: &CommandSpec) -> CommandOutcome {
    let mut capture = Capture::new(spec.max_output_bytes);
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();

    let finished = tokio::time::timeout(spec.timeout, async {
        let (status, ()) = tokio::join!(child.wait(), read_merged(stdout, stderr, &mut capture));
        status
    })
    .await;

    match finished {
        Ok(Ok(status)) => {
            let (output, truncated) = capture.finish();
            CommandOutcome::Finished {
                exit_code: status.code(),
                output,
                truncated,
            }
        }
        Ok(Err(error)) => {
            // Waiting failed, so the child may still run; `kill_on_drop`
            // stops it when `child` drops at the end of this function.
            debug!("Could not wait for bot command: {error}");
            CommandOutcome::FailedToStart {
                program: spec.argv.first().cloned().unwrap_or_default(),
                reason: format!("could not wait for it: {error}"),
            }
        }
        Err(_elapsed) => {
            // `kill` also reaps. It fails only if the child had already
            // exited and been reaped, while a process it started held the
            // pipes open; there is nothing left to kill then.
            // TODO: kill the child's whole process group; no issue: that
            // needs `killpg`, which this crate's dependencies do not offer
            // without `unsafe`.
            if let Err(error) = child.kill().await {
                debug!("Could not kill timed-out bot command: {error}");
            }
            let (output, truncated) = capture.finish();
            CommandOutcome::TimedOut {
                timeout: spec.timeout,
                output,
                truncated,
            }
        }
    }
}

/// Reads both streams to their end into `capture`, in arrival order.
async fn read_merged(
    mut stdout: Option<impl AsyncRead + Unpin>,
    mut stderr: Option<impl AsyncRead + Unpin>,
    capture: &mut Capture,
) {
    let mut stdout_buf = [0_u8; 4096];
    let mut stderr_buf = [0_u8; 4096];

    // `read` is cancel-safe: when the other branch wins, no data was lost.
    loop {
        tokio::select! {
            read = read_some(&mut stdout, &mut stdout_buf), if stdout.is_some() => {
                capture.push_or_close(read, &stdout_buf, &mut stdout);
            }
            read = read_some(&mut stderr, &mut stderr_buf), if stderr.is_some() => {
                capture.push_or_close(read, &stderr_buf, &mut stderr);
            }
            else => break,
        }
    }
}

/// Reads one chunk from `stream`; a closed stream reads as end of file.
async fn read_some(
    stream: &mut Option<impl AsyncRead + Unpin>,
    buf: &mut [u8],
) -> std::io::Result<usize> {
    match stream {
        Some(stream) => stream.read(buf).await,
        None => Ok(0),
    }
}

/// Output kept up to a byte cap; later bytes are counted as dropped.
#[derive(Debug)]
struct Capture {
    bytes: Vec<u8>,
    cap: usize,
    truncated: bool,
}

impl Capture {
    fn new(cap: usize) -> Self {
        Self {
            bytes: Vec::new(),
            cap,
            truncated: false,
        }
    }

    /// Keeps what fits under the cap of `chunk`.
    fn push(&mut self, chunk: &[u8]) {
        let room = self.cap.saturating_sub(self.bytes.len());
        let kept = chunk.len().min(room);
        self.bytes.extend_from_slice(&chunk[..kept]);
        self.truncated |= kept < chunk.len();
    }

    /// Keeps the chunk that `read` filled in `buf`, or closes `stream` at its
    /// end or on a read error.
    fn push_or_close<S>(
        &mut self,
        read: std::io::Result<usize>,
        buf: &[u8],
        stream: &mut Option<S>,
    ) {
        match read {
            Ok(0) => *stream = None,
            Ok(len) => self.push(&buf[..len]),
            Err(error) => {
                debug!("Could not read bot command output: {error}");
                *stream = None;
            }
        }
    }

    /// The kept output as text of at most `cap` bytes, and whether anything
    /// was dropped.
    fn finish(self) -> (String, bool) {
        decode_capped(&self.bytes, self.cap, self.truncated)
    }
}

/// Decodes `bytes` lossily into at most `cap` bytes of text, cut on a char
/// boundary; returns the text and whether anything was dropped.
fn decode_capped(bytes: &[u8], cap: usize, truncated: bool) -> (String, bool) {
    // A multi-byte character split by the cap would decode as U+FFFD; drop
    // its first bytes instead.
    let bytes = if truncated {
        &bytes[..complete_prefix_len(bytes)]
    } else {
        bytes
    };
    let mut text = String::from_utf8_lossy(bytes).into_owned();
    let mut truncated = truncated;

    // Invalid bytes decode to U+FFFD, three bytes each, so the text can
    // outgrow the cap.
    if text.len() > cap {
        let mut end = cap;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        text.truncate(end);
        truncated = true;
    }

    (text, truncated)
}

/// The length of `bytes` without a UTF-8 sequence cut short at its end.
fn complete_prefix_len(bytes: &[u8]) -> usize {
    let is_continuation = |b: u8| b & 0b1100_0000 == 0b1000_0000;
    let tail_start = bytes.len().saturating_sub(3);
    let Some(lead) = (tail_start..bytes.len())
        .rev()
        .find(|&i| !is_continuation(bytes[i]))
    else {
        return bytes.len();
    };

    let needed = match bytes[lead] {
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF7 => 4,
        _ => 1,
    };
    if lead + needed > bytes.len() {
        lead
    } else {
        bytes.len()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    fn command(argv: &[&str]) -> CommandSpec {
        CommandSpec::new(argv.iter().map(|arg| (*arg).to_owned()).collect())
            .expect("test argv names a program")
    }

    fn runner() -> CommandRunner {
        let commands = BTreeMap::from([("echo".to_owned(), command(&["echo"]))]);
        CommandRunner::new(commands).expect("test names are valid")
    }

    async fn decide_and_run(text: &str) -> String {
        let Decision::Run { spec, args, .. } = runner().decide(true, text) else {
            panic!("expected Decision::Run");
        };
        run(&spec, &args).await.reply_text()
    }

    fn args(words: &[&str]) -> Vec<String> {
        words.iter().map(|word| (*word).to_owned()).collect()
    }

    #[tokio::test]
    async fn allowed_sender_runs_echo_and_gets_its_output() {
        let reply = decide_and_run("#echo hello world").await;

        assert_eq!(reply, "hello world");
    }

    #[tokio::test]
    async fn command_substitution_reaches_the_program_literally() {
        let reply = decide_and_run("#echo $(id)").await;

        assert_eq!(reply, "$(id)");
    }

    #[tokio::test]
    async fn semicolon_does_not_chain_a_second_command() {
        let reply = decide_and_run("#echo a;id").await;

        assert_eq!(reply, "a;id");
    }

    #[test]
    fn sender_not_on_the_list_is_not_allowed() {
        let runner = runner();

        let decision = runner.decide(false, "#echo hi");

        assert_eq!(decision, Decision::NotAllowed);
    }

    #[test]
    fn unknown_sender_is_not_allowed() {
        let runner = runner();

        let decision = runner.decide(false, "#echo hi");

        assert_eq!(decision, Decision::NotAllowed);
    }

    #[test]
    fn unconfigured_name_is_an_unknown_command() {
        let runner = runner();

        let decision = runner.decide(true, "#reboot now");

        assert_eq!(decision, Decision::UnknownCommand("reboot".to_owned()));
    }

    #[test]
    fn unknown_name_from_a_stranger_is_not_allowed() {
        let runner = runner();

        let decision = runner.decide(false, "#reboot");

        assert_eq!(decision, Decision::NotAllowed);
    }

    #[test]
    fn plain_text_is_not_a_command() {
        let runner = runner();

        let decision = runner.decide(true, "hello #echo");

        assert_eq!(decision, Decision::NotACommand);
    }

    #[test]
    fn runner_rejects_a_name_that_cannot_be_typed() {
        let commands = BTreeMap::from([("a.b".to_owned(), command(&["echo"]))]);

        let error = CommandRunner::new(commands).unwrap_err();

        assert_eq!(error, CommandConfigError::InvalidName("a.b".to_owned()));
    }

    #[tokio::test]
    async fn slow_command_times_out_and_is_reaped() {
        let spec = command(&["sleep", "30"])
            .with_timeout(Duration::from_millis(500))
            .unwrap();
        let started = Instant::now();

        let (outcome, pid) = run_reporting_pid(&spec, &[]).await;

        assert!(started.elapsed() < Duration::from_secs(10));
        assert!(
            matches!(outcome, CommandOutcome::TimedOut { .. }),
            "{outcome:?}"
        );
        let pid = pid.expect("sleep started");
        assert!(!std::path::Path::new(&format!("/proc/{pid}")).exists());
        assert_eq!(outcome.reply_text(), "(no output)\n[timed out after 0.5 s]");
    }

    #[tokio::test]
    async fn flood_is_capped_and_killed_at_the_timeout() {
        let spec = command(&["yes"])
            .with_timeout(Duration::from_millis(500))
            .unwrap()
            .with_max_output_bytes(100)
            .unwrap();
        let started = Instant::now();

        let outcome = run(&spec, &[]).await;

        assert!(started.elapsed() < Duration::from_secs(10));
        let CommandOutcome::TimedOut {
            output, truncated, ..
        } = &outcome
        else {
            panic!("expected TimedOut, got {outcome:?}");
        };
        assert!(output.len() <= 100);
        assert!(output.starts_with("y\ny\n"));
        assert!(truncated);
        assert!(
            outcome
                .reply_text()
                .contains("\n[output truncated]\n[timed out after")
        );
    }

    #[tokio::test]
    async fn missing_program_fails_to_start() {
        let spec = command(&["gnomeqq-test-no-such-program"]);

        let outcome = run(&spec, &[]).await;

        assert!(
            matches!(outcome, CommandOutcome::FailedToStart { .. }),
            "{outcome:?}"
        );
        assert!(
            outcome
                .reply_text()
                .starts_with("[could not start gnomeqq-test-no-such-program: ")
        );
    }

    #[tokio::test]
    async fn non_zero_exit_shows_the_status() {
        let spec = command(&["false"]);

        let outcome = run(&spec, &[]).await;

        assert_eq!(outcome.reply_text(), "(no output)\n[exit status 1]");
    }

    #[tokio::test]
    async fn environment_holds_only_path_home_and_lang() {
        let spec = command(&["env"]).with_append_args(false);

        let outcome = run(&spec, &args(&["ignored"])).await;

        let CommandOutcome::Finished {
            exit_code: Some(0),
            output,
            ..
        } = &outcome
        else {
            panic!("expected env to succeed, got {outcome:?}");
        };
        for line in output.lines() {
            assert!(
                ["PATH=", "HOME=", "LANG="]
                    .iter()
                    .any(|key| line.starts_with(key)),
                "unexpected variable {:?}",
                line.split('=').next()
            );
        }
        assert!(std::env::var_os("PATH").is_none() || output.contains("PATH="));
    }

    #[tokio::test]
    async fn stderr_is_captured_too() {
        let spec = command(&["sleep", "gnomeqq-not-a-number"]);

        let outcome = run(&spec, &[]).await;

        let CommandOutcome::Finished {
            exit_code, output, ..
        } = &outcome
        else {
            panic!("expected Finished, got {outcome:?}");
        };
        assert_ne!(*exit_code, Some(0));
        assert!(output.contains("gnomeqq-not-a-number"), "{output}");
    }

    #[test]
    fn parse_splits_name_and_args() {
        let text = "#echo hello  world";

        let invocation = parse_invocation(text).unwrap();

        assert_eq!(invocation.name, "echo");
        assert_eq!(invocation.args, args(&["hello", "world"]));
    }

    #[test]
    fn parse_keeps_shell_syntax_as_plain_words() {
        let cases = [
            ("#echo $(id)", args(&["$(id)"])),
            ("#echo a;rm -rf /", args(&["a;rm", "-rf", "/"])),
            ("#echo 'a b' \"c\"", args(&["'a", "b'", "\"c\""])),
            ("#echo *", args(&["*"])),
        ];

        for (text, expected) in cases {
            let invocation = parse_invocation(text).unwrap();

            assert_eq!(invocation.args, expected, "{text}");
        }
    }

    #[test]
    fn parse_splits_on_unicode_whitespace() {
        let text = "#echo\u{3000}a\tb\nc";

        let invocation = parse_invocation(text).unwrap();

        assert_eq!(invocation.name, "echo");
        assert_eq!(invocation.args, args(&["a", "b", "c"]));
    }

    #[test]
    fn parse_accepts_bare_name_of_up_to_32_chars() {
        let name = "a".repeat(32);

        let invocation = parse_invocation(&format!("#{name}")).unwrap();

        assert_eq!(invocation.name, name);
        assert!(invocation.args.is_empty());
    }

    #[test]
    fn parse_rejects_what_is_not_a_command() {
        let long_name = format!("#{}", "a".repeat(33));
        let cases = [
            "echo hi",
            " #echo hi",
            "# echo",
            "#",
            "",
            "##echo",
            "#bin/echo",
            "#../echo",
            "#echo.sh",
            "#é",
            long_name.as_str(),
        ];

        for text in cases {
            let invocation = parse_invocation(text);

            assert_eq!(invocation, None, "{text:?}");
        }
    }

    #[test]
    fn spec_deserializes_with_defaults() {
        let json = r#"{"argv": ["echo"]}"#;

        let spec: CommandSpec = serde_json::from_str(json).unwrap();

        assert_eq!(spec.argv(), ["echo"]);
        assert_eq!(spec.timeout(), Duration::from_secs(10));
        assert_eq!(spec.max_output_bytes(), 2000);
        assert!(spec.append_args());
    }

    #[test]
    fn spec_deserializes_fractional_timeout() {
        let json = r#"{"argv": ["date"], "timeout_secs": 2.5, "max_output_bytes": 10,
            "append_args": false}"#;

        let spec: CommandSpec = serde_json::from_str(json).unwrap();

        assert_eq!(spec.timeout(), Duration::from_millis(2500));
        assert_eq!(spec.max_output_bytes(), 10);
        assert!(!spec.append_args());
    }

    #[test]
    fn spec_rejects_invalid_values() {
        let cases = [
            r#"{"argv": []}"#,
            r#"{"argv": [""]}"#,
            r#"{"argv": ["echo"], "timeout_secs": 0}"#,
            r#"{"argv": ["echo"], "timeout_secs": -1}"#,
            r#"{"argv": ["echo"], "timeout_secs": 600.5}"#,
            r#"{"argv": ["echo"], "max_output_bytes": 0}"#,
            r#"{"argv": ["echo"], "max_output_bytes": 65537}"#,
            r#"{"argv": ["echo"], "timeout": 5}"#,
        ];

        for json in cases {
            let result = serde_json::from_str::<CommandSpec>(json);

            assert!(result.is_err(), "{json}");
        }
    }

    #[test]
    fn reply_text_trims_and_marks_truncation() {
        let outcome = CommandOutcome::Finished {
            exit_code: Some(0),
            output: "abc \n\n".to_owned(),
            truncated: true,
        };

        let reply = outcome.reply_text();

        assert_eq!(reply, "abc\n[output truncated]");
    }

    #[test]
    fn reply_text_reports_a_signal() {
        let outcome = CommandOutcome::Finished {
            exit_code: None,
            output: " \n".to_owned(),
            truncated: false,
        };

        let reply = outcome.reply_text();

        assert_eq!(reply, "(no output)\n[terminated by a signal]");
    }

    #[test]
    fn capped_output_is_cut_on_a_char_boundary() {
        let mut capture = Capture::new(4);

        capture.push("aé€".as_bytes());

        assert_eq!(capture.finish(), ("aé".to_owned(), true));
    }

    #[test]
    fn invalid_bytes_expanding_past_the_cap_are_cut() {
        let bytes = [b'a', 0xFF, 0xFF];

        let (text, truncated) = decode_capped(&bytes, 3, false);

        assert_eq!(text, "a");
        assert!(truncated);
    }

    #[test]
    fn debug_output_omits_arguments() {
        let decision = runner().decide(true, "#echo secret-word");

        let debug = format!("{decision:?}");

        assert!(!debug.contains("secret-word"), "{debug}");
    }
}

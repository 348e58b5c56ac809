//! How fast the app starts with a saved session, and how much memory it holds with a long
//! history open. Needs a display: `bench/gui.sh` runs it under Xvfb.
//!
//! The bench logs in once on a sandbox it starts on loopback (saving the session), then
//! starts the app as a child process several times in two scenarios:
//! - **baseline**: the saved session and an empty history;
//! - **loaded**: the same with 50 conversations of 1,000 messages each in the history.
//!
//! Each child resumes the saved session (no scan), reports its first frame of the main
//! window, opens every conversation (loading each one's history into its model), waits
//! for them all to be drawn and reports its resident memory. The parent times from spawn
//! to the first-frame report, and prints medians and the loaded/baseline ratios.

#![allow(
    clippy::print_stdout,
    reason = "the bench reports its figures, and the child its marks, on stdout"
)]

#[path = "../tests/support/waits.rs"]
mod waits;

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gnomeqq_core::{Account, places};
use gnomeqq_history::{ConversationKey, ConversationKind, Direction, NewMessage};
use gtk::glib;
use gtk::prelude::*;
use smartqq_client::{Client, ClientOptions};
use waits::Waits;

const CONVERSATIONS: usize = 50;
const MESSAGES_PER_CONVERSATION: usize = 1_000;
const RUNS: usize = 5;
/// The longest a child may take for anything.
const CHILD_BOUND: Duration = Duration::from_secs(120);
/// Checked often: the first frame is timed from the child's report of it.
const WAITS: Waits = Waits {
    bound: CHILD_BOUND,
    poll: Duration::from_millis(5),
};

fn main() {
    if let Ok(expected) = std::env::var("GNOMEQQ_BENCH_CHILD") {
        child(expected.parse().unwrap_or(0));
        return;
    }
    if std::env::var_os("DISPLAY").is_none() && std::env::var_os("WAYLAND_DISPLAY").is_none() {
        println!("startup: skipped, no display (run bench/gui.sh)");
        return;
    }
    parent();
}

/// A run's figures.
struct Run {
    first_frame: Duration,
    rss_kib: u64,
    /// Resident anonymous memory: what the process itself allocated, without the shared
    /// libraries (Mesa's software GL maps LLVM, tens of MiB, even for the cairo renderer).
    anon_kib: u64,
}

/// How the children draw: GTK's default (GL, Mesa's llvmpipe under Xvfb), the cairo
/// renderer, and cairo with GL switched off entirely (no Mesa mapped).
const RENDERERS: [(&str, &[(&str, &str)]); 3] = [
    ("default (GL)", &[]),
    ("cairo", &[("GSK_RENDERER", "cairo")]),
    (
        "cairo, GL off",
        &[("GSK_RENDERER", "cairo"), ("GDK_DEBUG", "gl-disable")],
    ),
];

fn parent() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let work = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("bench-startup-{}", std::process::id()));
    let data_dir = work.join("data");
    std::fs::create_dir_all(&data_dir).expect("the bench's data directory");

    let config = smartqq_emulator::Config {
        era: smartqq_protocol::api::Era::Smartqq2018,
        world: smartqq_emulator::World::builtin(),
        auto_confirm: Some(Duration::from_millis(100)),
    };
    let sandbox = runtime
        .block_on(smartqq_emulator::SandboxServer::spawn(
            config,
            "127.0.0.1:0".parse().expect("loopback"),
        ))
        .expect("the sandbox starts");
    let url = sandbox.url();
    let qq = runtime.block_on(log_in_once(&url, &data_dir));

    let mut report = Vec::new();
    for (renderer, environment) in RENDERERS {
        // The baseline: an empty history (the first child creates the file).
        remove_history(&data_dir, qq);
        let baseline: Vec<Run> = (0..RUNS)
            .map(|_| spawn_child(&url, &data_dir, 0, environment))
            .collect();
        seed_history(&data_dir, qq);
        let loaded: Vec<Run> = (0..RUNS)
            .map(|_| spawn_child(&url, &data_dir, MESSAGES_PER_CONVERSATION, environment))
            .collect();
        report.push((renderer, baseline, loaded));
    }
    drop(sandbox);
    let _ = std::fs::remove_dir_all(&work);

    println!(
        "startup: {RUNS} runs per figure, medians; loaded = {CONVERSATIONS} conversations × {MESSAGES_PER_CONVERSATION} messages in the history, each opened and drawn in turn"
    );
    for (renderer, baseline, loaded) in report {
        let frame = |runs: &[Run]| {
            median(
                runs.iter()
                    .map(|r| r.first_frame.as_secs_f64() * 1000.0)
                    .collect(),
            )
        };
        let rss = |runs: &[Run]| median(runs.iter().map(|r| r.rss_kib as f64 / 1024.0).collect());
        let anon = |runs: &[Run]| median(runs.iter().map(|r| r.anon_kib as f64 / 1024.0).collect());
        println!(
            "renderer {renderer}: first frame {:.0} ms baseline, {:.0} ms loaded (×{:.2}); resident memory {:.1} MiB baseline, {:.1} MiB loaded (×{:.2}); of it anonymous {:.1} MiB baseline, {:.1} MiB loaded",
            frame(&baseline),
            frame(&loaded),
            frame(&loaded) / frame(&baseline),
            rss(&baseline),
            rss(&loaded),
            rss(&loaded) / rss(&baseline),
            anon(&baseline),
            anon(&loaded),
        );
    }
}

fn remove_history(data_dir: &Path, qq: u64) {
    let path = places::history_path(data_dir, qq);
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.clone().into_os_string();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// Logs in with a QR code the sandbox confirms, saving the session where the app finds it.
async fn log_in_once(url: &str, data_dir: &Path) -> u64 {
    let options = ClientOptions {
        qr_check_interval: Duration::from_millis(100),
        ..ClientOptions::for_server(url)
    };
    let server_key = options.endpoints.d_web2.clone();
    let (mut account, _events) = Account::new(Client::new(options).expect("a client"));
    let store = places::session_store(Some(data_dir), &server_key)
        .await
        .expect("a session store in the data directory");
    account = account.with_session_store(store);
    account.connect().await.expect("the sandbox login");
    let qq = account.client().session().expect("a session").qq.get();
    account.stop();
    qq
}

/// 50 conversations of 1,000 messages, written as the poll loop writes them (batches of 20).
fn seed_history(data_dir: &Path, qq: u64) {
    let mut history = places::open_history(data_dir, qq).expect("the history opens");
    let account = qq.to_string();
    for conversation in 0..CONVERSATIONS {
        let kind = if conversation % 5 == 0 {
            ConversationKind::Group
        } else {
            ConversationKind::Friend
        };
        let key = ConversationKey::new(
            kind,
            format!("qq:{}", 3_500_000_000u64 + conversation as u64),
        );
        let rows: Vec<NewMessage> = (0..MESSAGES_PER_CONVERSATION)
            .map(|index| {
                let text = format!("第{index}条消息 in conversation {conversation}: 今天的会议改到下午三点, see you there");
                NewMessage {
                    account: account.clone(),
                    conversation: key.clone(),
                    conversation_name: format!("会话 {conversation}"),
                    direction: if index % 3 == 0 { Direction::Out } else { Direction::In },
                    sender_id: format!("qq:{}", 3_600_000_000u64 + (index % 4) as u64),
                    sender_name: format!("成员{}", index % 4),
                    server_time: 1_764_000_000 + (conversation * MESSAGES_PER_CONVERSATION + index) as i64,
                    server_msg_id: Some((conversation * MESSAGES_PER_CONVERSATION + index) as i64),
                    segments_json: serde_json::json!([{"type": "text", "data": text}]).to_string(),
                    text,
                    outbox_state: None,
                }
            })
            .collect();
        for batch in rows.chunks(20) {
            history
                .insert_inbound_batch(batch)
                .expect("the seed batch is stored");
        }
    }
}

fn spawn_child(url: &str, data_dir: &Path, expected: usize, environment: &[(&str, &str)]) -> Run {
    let mut command = Command::new(std::env::current_exe().expect("the bench's own path"));
    command
        .env("GNOMEQQ_BENCH_CHILD", expected.to_string())
        .env("GNOMEQQ_BENCH_SERVER", url)
        .env("GNOMEQQ_BENCH_DATA", data_dir)
        .env("GTK_A11Y", "none")
        .stdout(Stdio::piped());
    command.env_remove("GSK_RENDERER").env_remove("GDK_DEBUG");
    command.envs(environment.iter().copied());
    let started = Instant::now();
    let mut child = command.spawn().expect("the app starts");
    let stdout = child.stdout.take().expect("the child's stdout");
    let mut first_frame = None;
    let mut rss_kib = None;
    let mut anon_kib = None;
    for line in BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        if line == "first-frame" {
            first_frame = Some(started.elapsed());
        } else if let Some(value) = line.strip_prefix("rss-kib ") {
            rss_kib = value.trim().parse().ok();
        } else if let Some(value) = line.strip_prefix("anon-kib ") {
            anon_kib = value.trim().parse().ok();
        }
    }
    let status = child.wait().expect("the app ends");
    assert!(status.success(), "the app failed: {status}");
    Run {
        first_frame: first_frame.expect("the app reported its first frame"),
        rss_kib: rss_kib.expect("the app reported its memory"),
        anon_kib: anon_kib.expect("the app reported its anonymous memory"),
    }
}

fn child(expected_messages: usize) {
    let url = std::env::var("GNOMEQQ_BENCH_SERVER").unwrap_or_default();
    let data_dir = PathBuf::from(std::env::var_os("GNOMEQQ_BENCH_DATA").unwrap_or_default());
    gnomeqq::i18n::init();
    let app = gnomeqq::Application::new();
    glib::spawn_future_local(glib::clone!(
        #[strong]
        app,
        async move {
            if let Err(error) = measure(&app, expected_messages).await {
                eprintln!("bench child: {error}");
                std::process::exit(1);
            }
            app.quit();
        }
    ));
    let data_dir = data_dir.to_string_lossy().into_owned();
    let status = app.run_with_args(&["gnomeqq", "--server", &url, "--data-dir", &data_dir]);
    if status != glib::ExitCode::SUCCESS {
        std::process::exit(1);
    }
}

async fn measure(app: &gnomeqq::Application, expected_messages: usize) -> Result<(), String> {
    let window = WAITS.until("the window", || app.main_window()).await?;
    WAITS
        .until("the resumed session", || window.is_online().then_some(()))
        .await?;
    WAITS.frames_drawn(&window, 1).await?;
    println!("first-frame");

    let store = window.conversations().store();
    let conversations: Vec<gnomeqq::model::Conversation> = (0..store.n_items())
        .filter_map(|i| store.item(i).and_downcast())
        .collect();
    if expected_messages > 0 && conversations.len() != CONVERSATIONS {
        return Err(format!(
            "expected {CONVERSATIONS} conversations, saw {}",
            conversations.len()
        ));
    }
    // Opened one after another, each drawn with its history (the app keeps the last few
    // in memory and lets the others go).
    for conversation in &conversations {
        window.open_conversation(conversation);
        WAITS
            .until("a conversation's history", || {
                (conversation.loaded()
                    && conversation.messages().n_items() as usize >= expected_messages)
                    .then_some(())
            })
            .await?;
        WAITS.frames_drawn(&window, 1).await?;
    }
    WAITS.frames_drawn(&window, 3).await?;
    let status = std::fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|value| {
                value
                    .trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .ok_or(format!("no {name} in /proc/self/status"))
    };
    println!("rss-kib {}", field("VmRSS:")?);
    println!("anon-kib {}", field("RssAnon:")?);
    Ok(())
}

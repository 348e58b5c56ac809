//! The app end to end, under a display (`.ci/run` runs it in `xvfb-run` with
//! `GNOMEQQ_GUI_TESTS=1`): `gnomeqq --sandbox` logs in on its embedded sandbox, a friend
//! writes through `POST /sandbox/messages`, the reply is typed into the composer and sent
//! through the UI's `conversation.send` action, and `GET /sandbox/sent` must show it
//! arrived; then the sandbox kicks the session, the notice offers a new login, and the
//! window gets back online. A second run in the 2015 era logs in with the password form.
//! Screenshots (login page, conversation, kick notice, online after the password login)
//! are saved to the folder printed at the end (`GNOMEQQ_SCREENSHOT_DIR`, else
//! `target/tmp/gui-screenshots`).
//!
//! Every wait is on an event with a generous bound, never a fixed sleep.

#![allow(clippy::print_stdout, reason = "a harness-less test reports on stdout")]

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

#[path = "support/waits.rs"]
mod waits;

use gnomeqq::model::Conversation;
use gnomeqq::runtime::spawn_tokio;
use gnomeqq::{Application, Window};
use gtk::prelude::*;
use gtk::{gdk, glib, gsk};
use serde_json::{Value, json};
use waits::Waits;

/// The longest any one step may take (a cold CI machine under Xvfb is slow).
const STEP_BOUND: Duration = Duration::from_secs(90);
const WAITS: Waits = Waits {
    bound: STEP_BOUND,
    poll: Duration::from_millis(50),
};
/// 张伟, a friend in the sandbox's built-in world.
const FRIEND_QQ: u64 = 3_100_000_001;
const GREETING: &str = "你好！Are you on GnomeQQ now? 🙂";
const REPLY: &str = "收到 — replying from the GTK app 👍\nsecond line";
/// Refused by the server the first time (the account "frozen"), sent on Retry.
const RETRIED: &str = "第一次被拒绝 — refused once, then sent on Retry";
/// The sandbox's own account and its password (sandbox only).
const SANDBOX_QQ: &str = "2400000001";
const SANDBOX_PASSWORD: &str = "sandbox-password";

fn main() {
    if std::env::var_os("GNOMEQQ_GUI_TESTS").is_none() {
        println!("gui: skipped (set GNOMEQQ_GUI_TESTS=1 and run under a display, as .ci/run does)");
        return;
    }
    let screenshots = std::env::var_os("GNOMEQQ_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("gui-screenshots"));
    let data_dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("gui-data-{}", std::process::id()));
    std::fs::create_dir_all(&screenshots).expect("the screenshot folder can be created");

    run_scenario(
        &["--sandbox", "--data-dir", &data_dir.to_string_lossy()],
        |app| {
            let (app, screenshots) = (app.clone(), screenshots.clone());
            let data_dir = data_dir.clone();
            async move { drive(&app, &screenshots, &data_dir).await }
        },
    );
    run_scenario(&["--sandbox", "--era", "legacy2015"], |app| {
        let (app, screenshots) = (app.clone(), screenshots.clone());
        async move { drive_password_login(&app, &screenshots).await }
    });
    let _ = std::fs::remove_dir_all(&data_dir);
    println!("gui: passed; screenshots in {}", screenshots.display());
}

/// Runs the app with `args` while `scenario` plays the person; panics when it fails.
fn run_scenario<F, Fut>(args: &[&str], scenario: F)
where
    F: FnOnce(&Application) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>> + 'static,
{
    let app = Application::new();
    let outcome: Rc<RefCell<Option<Result<(), String>>>> = Rc::default();
    let playing = scenario(&app);
    glib::spawn_future_local(glib::clone!(
        #[strong]
        app,
        #[strong]
        outcome,
        async move {
            let result = playing.await;
            outcome.replace(Some(result));
            app.quit();
        }
    ));
    let mut argv = vec!["gnomeqq"];
    argv.extend_from_slice(args);
    let status = app.run_with_args(&argv);
    match outcome.take() {
        Some(Ok(())) if status == glib::ExitCode::SUCCESS => {}
        Some(Ok(())) => panic!("the app ({args:?}) exited with {status:?}"),
        Some(Err(error)) => panic!("gui ({args:?}): {error}"),
        None => panic!("the app ({args:?}) quit before the test finished"),
    }
}

/// The 2015 era: the password form is offered beside the QR code, and logs in.
async fn drive_password_login(app: &Application, screenshots: &Path) -> Result<(), String> {
    let window = WAITS.until("the main window", || app.main_window()).await?;
    let login_page = window.login_page();
    WAITS
        .until("the password form of the 2015 era", || {
            (login_page.offers_password_login() && window.shows_qr_code()).then_some(())
        })
        .await?;
    login_page.set_password_form(SANDBOX_QQ, SANDBOX_PASSWORD);
    // At once: the sandbox's phone confirms the QR code on screen after 3 s.
    gtk::prelude::WidgetExt::activate_action(&window, "win.password-login", None)
        .map_err(|error| format!("the password action is missing: {error}"))?;
    WAITS
        .until("online through the password", || {
            (window.is_online() && !window.is_changing_page()).then_some(())
        })
        .await?;
    WAITS.frames_drawn(&window, 3).await?;
    screenshot(&window, &screenshots.join("online-legacy.png"))?;
    let sandbox = window
        .sandbox_url()
        .ok_or("no sandbox URL in --sandbox mode")?;
    let counters = control(
        reqwest::Method::GET,
        format!("{sandbox}/sandbox/counters"),
        None,
    )
    .await?;
    if counters["requests"]["/login"].as_u64().unwrap_or(0) == 0 {
        return Err(format!("the sandbox saw no password login: {counters}"));
    }
    Ok(())
}

/// Renders the window into a PNG, as the screen shows it.
fn screenshot(window: &Window, path: &Path) -> Result<(), String> {
    let paintable = gtk::WidgetPaintable::new(Some(window));
    // The paintable's own size: drawing it into the allocation (a few pixels smaller than
    // the window's surface) would resample the whole picture and soften the QR code.
    let (width, height) = (paintable.intrinsic_width(), paintable.intrinsic_height());
    let snapshot = gtk::Snapshot::new();
    paintable.snapshot(&snapshot, f64::from(width), f64::from(height));
    let node = snapshot.to_node().ok_or("the window drew nothing")?;
    let renderer: gsk::Renderer = window
        .native()
        .ok_or("no native surface")?
        .renderer()
        .ok_or("no renderer")?;
    let bounds = gtk::graphene::Rect::new(0.0, 0.0, width as f32, height as f32);
    let texture: gdk::Texture = renderer.render_texture(&node, Some(&bounds));
    texture
        .save_to_png(path)
        .map_err(|error| format!("could not save {}: {error}", path.display()))
}

async fn control(
    method: reqwest::Method,
    url: String,
    body: Option<Value>,
) -> Result<Value, String> {
    let call = spawn_tokio(async move {
        // Loopback only: the sandbox this app started.
        let http = reqwest::Client::builder().no_proxy().build()?;
        let mut request = http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        request
            .send()
            .await?
            .error_for_status()?
            .json::<Value>()
            .await
    });
    call.await
        .map_err(|error| error.to_string())?
        .map_err(|error| error.to_string())
}

async fn drive(app: &Application, screenshots: &Path, data_dir: &Path) -> Result<(), String> {
    let window = WAITS.until("the main window", || app.main_window()).await?;
    WAITS
        .until("the QR code on the login page", || {
            window.shows_qr_code().then_some(())
        })
        .await?;
    WAITS.frames_drawn(&window, 3).await?;
    screenshot(&window, &screenshots.join("login.png"))?;

    WAITS
        .until("the sandbox's phone to confirm the login", || {
            (window.is_online() && !window.is_changing_page()).then_some(())
        })
        .await?;
    let sandbox = window
        .sandbox_url()
        .ok_or("no sandbox URL in --sandbox mode")?;
    control(
        reqwest::Method::POST,
        format!("{sandbox}/sandbox/messages"),
        Some(json!({"kind": "buddy", "from": FRIEND_QQ, "text": GREETING})),
    )
    .await?;
    let conversations = window.conversations();
    let conversation: Conversation = WAITS
        .until("the friend's message in the sidebar", || {
            let store = conversations.store();
            (0..store.n_items())
                .filter_map(|i| store.item(i).and_downcast::<Conversation>())
                .find(|c| {
                    c.kind() == "friend"
                        && c.preview() == GREETING.split_whitespace().collect::<Vec<_>>().join(" ")
                })
        })
        .await?;
    if conversation.unread() != 1 {
        return Err(format!(
            "expected 1 unread message, saw {}",
            conversation.unread()
        ));
    }

    window.open_conversation(&conversation);
    WAITS
        .until("the history to load", || {
            conversation.loaded().then_some(())
        })
        .await?;
    let view = window.conversation_view();
    view.set_composer_text(REPLY);
    view.activate_action("conversation.send", None)
        .map_err(|error| format!("the send action is missing: {error}"))?;
    if !view.composer_text().is_empty() {
        return Err("the composer was not emptied by sending".into());
    }

    let sent = until_sent(&sandbox).await?;
    if sent["endpoint"] != "send_buddy_msg2" || sent["target"] != FRIEND_QQ {
        return Err(format!("the reply went to the wrong place: {sent}"));
    }
    let messages = conversation.messages();
    WAITS
        .until("our message to be marked sent", || {
            let last = messages.item(messages.n_items().checked_sub(1)?)?;
            let last = last.downcast::<gnomeqq::model::Message>().ok()?;
            matches!(last.outbox_state().as_str(), "sent" | "confirmed").then_some(())
        })
        .await?;
    if conversation.unread() != 0 {
        return Err("opening the conversation did not mark it read".into());
    }
    WAITS.frames_drawn(&window, 3).await?;
    screenshot(&window, &screenshots.join("conversation.png"))?;
    retry_a_refused_send(&window, &conversation, &sandbox, data_dir, screenshots).await?;

    // Logged in elsewhere: a persistent notice with the way back, and no more sending.
    control(
        reqwest::Method::POST,
        format!("{sandbox}/sandbox/kick"),
        Some(json!({})),
    )
    .await?;
    WAITS
        .until("the notice of the kick", || {
            window.notice().filter(|(_, offers_login)| *offers_login)
        })
        .await?;
    WAITS.frames_drawn(&window, 3).await?;
    screenshot(&window, &screenshots.join("kicked.png"))?;
    gtk::prelude::WidgetExt::activate_action(&window, "win.log-in-again", None)
        .map_err(|error| format!("the log-in-again action is missing: {error}"))?;
    WAITS
        .until("a new login after the kick", || {
            (window.is_online() && window.notice().is_none()).then_some(())
        })
        .await?;
    Ok(())
}

/// The server refuses a message; it shows as failed, and Retry sends the same message
/// again: the sandbox sees two attempts, the message turns sent, and the history holds
/// it once.
async fn retry_a_refused_send(
    window: &Window,
    conversation: &Conversation,
    sandbox: &str,
    data_dir: &Path,
    screenshots: &Path,
) -> Result<(), String> {
    let knobs = format!("{sandbox}/sandbox/knobs");
    control(
        reqwest::Method::POST,
        knobs.clone(),
        Some(json!({"send_result": "102"})),
    )
    .await?;
    let view = window.conversation_view();
    view.set_composer_text(RETRIED);
    view.activate_action("conversation.send", None)
        .map_err(|error| format!("the send action is missing: {error}"))?;
    let messages = conversation.messages();
    let message = WAITS
        .until("the refused message to show as failed", || {
            (0..messages.n_items())
                .filter_map(|i| messages.item(i).and_downcast::<gnomeqq::model::Message>())
                .find(|m| m.text() == RETRIED && m.outbox_state() == "failed")
        })
        .await?;
    WAITS.frames_drawn(window, 3).await?;
    screenshot(window, &screenshots.join("failed.png"))?;

    control(
        reqwest::Method::POST,
        knobs,
        Some(json!({"send_result": "0"})),
    )
    .await?;
    view.activate_action("conversation.retry", Some(&message.local_id().to_variant()))
        .map_err(|error| format!("the retry action is missing: {error}"))?;
    WAITS
        .until("the retried message to be sent", || {
            matches!(message.outbox_state().as_str(), "sent" | "confirmed").then_some(())
        })
        .await?;

    let sent = control(
        reqwest::Method::GET,
        format!("{sandbox}/sandbox/sent"),
        None,
    )
    .await?;
    let attempts: Vec<&Value> = sent
        .as_array()
        .map(|all| all.iter().filter(|m| m["text"] == RETRIED).collect())
        .unwrap_or_default();
    let delivered: Vec<&Value> = attempts.iter().map(|m| &m["delivered"]).collect();
    if delivered != [&json!(false), &json!(true)] {
        return Err(format!(
            "expected a dropped and a delivered attempt, saw {attempts:?}"
        ));
    }
    let key = conversation
        .conversation_key()
        .ok_or("the conversation has no key")?;
    let qq: u64 = SANDBOX_QQ.parse().map_err(|_| "bad sandbox number")?;
    let history = gnomeqq_history::History::open(gnomeqq_core::places::history_path(data_dir, qq))
        .map_err(|error| format!("the history does not open: {error}"))?;
    let rows = history
        .messages(Some(&key), None, 100)
        .map_err(|error| format!("the history does not list: {error}"))?;
    let stored = rows.iter().filter(|row| row.text == RETRIED).count();
    if stored != 1 {
        return Err(format!(
            "the history holds the retried message {stored} times"
        ));
    }
    Ok(())
}

/// Polls `GET /sandbox/sent` until our reply is there, byte for byte.
async fn until_sent(sandbox: &str) -> Result<Value, String> {
    let started = Instant::now();
    loop {
        let sent = control(
            reqwest::Method::GET,
            format!("{sandbox}/sandbox/sent"),
            None,
        )
        .await?;
        if let Some(found) = sent
            .as_array()
            .and_then(|all| all.iter().find(|m| m["text"] == REPLY))
        {
            return Ok(found.clone());
        }
        if started.elapsed() > STEP_BOUND {
            return Err(format!(
                "the reply never reached the sandbox; it holds {sent}"
            ));
        }
        glib::timeout_future(Duration::from_millis(100)).await;
    }
}

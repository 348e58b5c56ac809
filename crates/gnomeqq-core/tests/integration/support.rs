//! The harness: a sandbox on 127.0.0.1:0, an account pointed at it, the control API, and
//! bounded waits for the account's events.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use gnomeqq_core::{Account, AppEvent, IncomingMessage, PollEnd};
use serde_json::Value;
use smartqq_client::{Client, ClientOptions};
use smartqq_emulator::{Config, SandboxServer, World};
use smartqq_protocol::api::Era;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinHandle;

/// The bound on every wait.
pub const WAIT: Duration = Duration::from_secs(10);

/// The account of the built-in world.
pub const OWN_QQ: u64 = 2_400_000_001;
/// Its nickname.
pub const OWN_NICK: &str = "小明 Ming";
/// Friend 张伟, markname 老张, card 老张 in group 600001.
pub const ZHANG: u64 = 3_100_000_001;
/// Friend Bob, no markname; member of group 600002 and of the discussion.
pub const BOB: u64 = 3_100_000_002;
/// Friend 李娜, in category 1 (同学 Classmates).
pub const LI_NA: u64 = 3_100_000_003;
/// 陈静: no friend; card 静静 in group 600001, no card in group 600002.
pub const CHEN_JING: u64 = 3_300_000_001;
/// Eve: no friend; card `Eve (ops)` in group 600001; member of the discussion.
pub const EVE: u64 = 3_300_000_002;
/// Group "GnomeQQ 开发组".
pub const GROUP: u64 = 600_001;
/// Its name.
pub const GROUP_NAME: &str = "GnomeQQ 开发组";
/// Discussion "Weekend trip 周末出游".
pub const DISCUSSION: u64 = 3_600_000_004;
/// Its name.
pub const DISCUSSION_NAME: &str = "Weekend trip 周末出游";

/// Text that has broken clients: quotes, a backslash, LF, a lone CR (it arrives as LF), a
/// TAB, an astral emoji, CJK, and HTML with an entity that must stay literal.
pub const HOSTILE: &str = "say \"hi\" \\ back\nline two\rline three\tcol 🙂 中文 <b>&amp;</b>";

/// [`HOSTILE`] as it arrives: the lone CR becomes LF.
pub fn hostile_received() -> String {
    HOSTILE.replace('\r', "\n")
}

/// Awaits `future`, failing the test when it takes longer than [`WAIT`].
pub async fn bounded<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {WAIT:?}"))
}

/// A 2018 sandbox with `world`, whose phone confirms every QR code at once, on a free
/// loopback port.
pub async fn sandbox_with(world: World) -> SandboxServer {
    let config = Config {
        era: Era::Smartqq2018,
        world,
        auto_confirm: Some(Duration::ZERO),
    };
    let address: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
    SandboxServer::spawn(config, address)
        .await
        .expect("sandbox starts on 127.0.0.1")
}

/// [`sandbox_with`] the built-in world.
pub async fn sandbox() -> SandboxServer {
    sandbox_with(World::builtin()).await
}

/// An account on a client of `server`: QR codes checked every 20 ms, every request and
/// every poll bounded by [`WAIT`].
pub fn account(server: &SandboxServer) -> (Account, UnboundedReceiver<AppEvent>) {
    let options = ClientOptions {
        qr_check_interval: Duration::from_millis(20),
        request_timeout: WAIT,
        poll_timeout: WAIT,
        ..ClientOptions::for_server(&server.url())
    };
    Account::new(Client::new(options).expect("client builds"))
}

/// A logged-in account, with its contacts loaded.
pub struct Online {
    /// The sandbox; stops when dropped.
    pub server: SandboxServer,
    /// The account.
    pub account: Account,
    /// Its events, after `Online`.
    pub events: UnboundedReceiver<AppEvent>,
    /// The world in this session's ids.
    pub world: WorldView,
}

/// Logs an account in to a fresh sandbox with `world` and drains the events up to
/// `Online`.
pub async fn online_with(world: World) -> Online {
    let server = sandbox_with(world).await;
    let (account, mut events) = account(&server);
    bounded("login", account.login())
        .await
        .expect("login succeeds");
    loop {
        match next_event(&mut events).await {
            AppEvent::Online { .. } => break,
            AppEvent::Login(_) => {}
            other => panic!("unexpected event during login: {other:?}"),
        }
    }
    let world = world_view(&server).await;
    Online {
        server,
        account,
        events,
        world,
    }
}

/// [`online_with`] the built-in world.
pub async fn online() -> Online {
    online_with(World::builtin()).await
}

/// The next event, waiting at most [`WAIT`].
pub async fn next_event(events: &mut UnboundedReceiver<AppEvent>) -> AppEvent {
    bounded("the next event", events.recv())
        .await
        .expect("the event stream is open")
}

/// The next message, skipping status changes.
pub async fn next_message(events: &mut UnboundedReceiver<AppEvent>) -> IncomingMessage {
    loop {
        match next_event(events).await {
            AppEvent::Message(message) => return message,
            AppEvent::StatusChanged { .. } => {}
            other => panic!("expected a message, got {other:?}"),
        }
    }
}

/// The poll loop of an account, running on its own task.
pub fn start_poll_loop(account: &Account) -> JoinHandle<PollEnd> {
    let account = account.clone();
    tokio::spawn(async move { account.run_poll_loop().await })
}

/// `POST`s `body` to a control path (`/sandbox/…`) and returns the JSON answer; a refusal
/// fails the test.
pub async fn control(server: &SandboxServer, path: &str, body: Value) -> Value {
    let request = control_http()
        .post(format!("{}{path}", server.url()))
        .json(&body);
    answer(path, request).await
}

/// `GET`s a control path and returns its JSON.
pub async fn inspect(server: &SandboxServer, path: &str) -> Value {
    let request = control_http().get(format!("{}{path}", server.url()));
    answer(path, request).await
}

fn control_http() -> reqwest::Client {
    // One per call: a pooled connection must not outlive the test's runtime.
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("control client builds")
}

async fn answer(path: &str, request: reqwest::RequestBuilder) -> Value {
    let response = bounded(path, request.send())
        .await
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let status = response.status();
    let body: Value = bounded(path, response.json())
        .await
        .unwrap_or_else(|e| panic!("{path}: reply is not JSON: {e}"));
    assert!(status.is_success(), "{path} answered {status}: {body}");
    body
}

/// Changes knobs (a partial update).
pub async fn set_knobs(server: &SandboxServer, knobs: Value) {
    control(server, "/sandbox/knobs", knobs).await;
}

/// A person of the world sends a message (`/sandbox/messages`) while we are online.
pub async fn inject(server: &SandboxServer, message: Value) {
    let answer = control(server, "/sandbox/messages", message).await;
    assert_eq!(
        answer["client_online"], true,
        "injected while nobody was online"
    );
}

/// What clients sent, oldest first.
pub async fn sent(server: &SandboxServer) -> Vec<Value> {
    match inspect(server, "/sandbox/sent").await {
        Value::Array(sent) => sent,
        other => panic!("/sandbox/sent is not a list: {other}"),
    }
}

/// `/sandbox/counters`.
pub async fn counters(server: &SandboxServer) -> Value {
    inspect(server, "/sandbox/counters").await
}

/// How many protocol requests reached `path`.
pub async fn request_count(server: &SandboxServer, path: &str) -> u64 {
    counters(server).await["requests"][path]
        .as_u64()
        .unwrap_or(0)
}

/// Waits (at most [`WAIT`]) until the sandbox holds a poll.
pub async fn until_a_poll_is_held(server: &SandboxServer) {
    bounded("a held poll", async {
        while counters(server).await["polls_in_flight"].as_u64() != Some(1) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}

/// The world with this session's uins and gids (`/sandbox/world`).
pub async fn world_view(server: &SandboxServer) -> WorldView {
    WorldView(inspect(server, "/sandbox/world").await)
}

/// `/sandbox/world` with lookups by stable number.
#[derive(Debug)]
pub struct WorldView(pub Value);

impl WorldView {
    /// The uin of a friend or room member in the live session.
    pub fn uin(&self, qq: u64) -> u64 {
        let rooms = ["groups", "discussions"].into_iter().flat_map(|kind| {
            self.0[kind]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|room| room["members"].as_array().into_iter().flatten())
        });
        self.0["friends"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(rooms)
            .find(|person| person["qq"].as_u64() == Some(qq))
            .and_then(|person| person["uin"].as_u64())
            .unwrap_or_else(|| panic!("no uin for {qq} in {}", self.0))
    }

    /// The gid of a group, by its public number.
    pub fn gid(&self, number: u64) -> u64 {
        self.0["groups"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|group| group["number"].as_u64() == Some(number))
            .and_then(|group| group["gid"].as_u64())
            .unwrap_or_else(|| panic!("no gid for group {number} in {}", self.0))
    }
}

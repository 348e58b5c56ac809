//! The harness: a sandbox on 127.0.0.1:0, clients pointed at it, the control API, and a
//! recording proxy for the tests that must see the client's raw requests.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use smartqq_client::{Client, ClientOptions};
use smartqq_emulator::{Config, SandboxServer, World};
use smartqq_protocol::api::Era;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

/// The bound on every wait.
pub const WAIT: Duration = Duration::from_secs(10);

/// The account of the built-in world.
pub const OWN_QQ: u64 = 2_400_000_001;
/// Friend 张伟, member of group 600001.
pub const FRIEND: u64 = 3_100_000_001;
/// Friend 李娜: member of group 600002 only.
pub const FRIEND_OUTSIDE_GROUP_600001: u64 = 3_100_000_003;
/// Friend Dave, member of the discussion.
pub const FRIEND_IN_DISCUSSION: u64 = 3_100_000_006;
/// Eve: no friend; member of group 600001 and of the discussion.
pub const STRANGER: u64 = 3_300_000_002;
/// Group "GnomeQQ 开发组".
pub const GROUP: u64 = 600_001;
/// Discussion "Weekend trip 周末出游".
pub const DISCUSSION: u64 = 3_600_000_004;

/// Awaits `future`, failing the test when it takes longer than [`WAIT`].
pub async fn bounded<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {WAIT:?}"))
}

/// A sandbox speaking `era`, with the built-in world, on a free loopback port.
pub async fn sandbox(era: Era, auto_confirm: Option<Duration>) -> SandboxServer {
    let config = Config {
        era,
        world: World::builtin(),
        auto_confirm,
    };
    let address: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
    SandboxServer::spawn(config, address)
        .await
        .expect("sandbox starts on 127.0.0.1")
}

/// Options for a client of the server at `base`: QR codes checked every 20 ms, every
/// request bounded by [`WAIT`].
pub fn options(base: &str, era: Era) -> ClientOptions {
    ClientOptions {
        era,
        qr_check_interval: Duration::from_millis(20),
        request_timeout: WAIT,
        poll_timeout: WAIT,
        ..ClientOptions::for_server(base)
    }
}

/// A client with [`options`].
pub fn client(base: &str, era: Era) -> Client {
    Client::new(options(base, era)).expect("client builds")
}

/// A sandbox whose phone confirms every QR code at once, and a client logged in to it.
pub async fn logged_in(era: Era) -> (SandboxServer, Client) {
    let server = sandbox(era, Some(Duration::ZERO)).await;
    let client = client(&server.url(), era);
    bounded("login", client.login_with_qr(|_| {}))
        .await
        .expect("login succeeds");
    (server, client)
}

/// Like [`logged_in`], with every request of the client going through a [`RecordingProxy`].
pub async fn logged_in_through_proxy(era: Era) -> (SandboxServer, RecordingProxy, Client) {
    let server = sandbox(era, Some(Duration::ZERO)).await;
    let proxy = RecordingProxy::spawn(server.address()).await;
    let client = client(&proxy.url(), era);
    bounded("login", client.login_with_qr(|_| {}))
        .await
        .expect("login succeeds through the proxy");
    (server, proxy, client)
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

/// A person of the world sends a message (`/sandbox/messages`).
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

/// How many protocol requests reached `path`.
pub async fn request_count(server: &SandboxServer, path: &str) -> u64 {
    let counters = inspect(server, "/sandbox/counters").await;
    counters["requests"][path].as_u64().unwrap_or(0)
}

/// The world with this session's uins and gids (`/sandbox/world`).
pub async fn world(server: &SandboxServer) -> WorldView {
    WorldView(inspect(server, "/sandbox/world").await)
}

/// `/sandbox/world` with lookups by stable number.
#[derive(Debug)]
pub struct WorldView(pub Value);

impl WorldView {
    /// The account's own QQ number.
    pub fn own_qq(&self) -> u64 {
        self.0["self"]["qq"].as_u64().expect("self.qq")
    }

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

/// One request as the client put it on the wire.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// `GET`, `POST`.
    pub method: String,
    /// Path and query, as in the request line.
    pub target: String,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl RecordedRequest {
    /// The path without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or_default()
    }

    /// The query parameters, decoded.
    pub fn query(&self) -> Vec<(String, String)> {
        pairs(self.target.split_once('?').map_or("", |(_, query)| query))
    }

    /// The form fields of the body, decoded.
    pub fn form(&self) -> Vec<(String, String)> {
        pairs(&String::from_utf8_lossy(&self.body))
    }

    /// One query parameter.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query()
            .into_iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
    }

    /// The values of every `Cookie` header, cookie by cookie.
    pub fn cookie_values(&self) -> Vec<String> {
        self.headers
            .iter()
            .filter(|(name, _)| name == "cookie")
            .flat_map(|(_, value)| value.split(';'))
            .filter_map(|pair| {
                pair.trim()
                    .split_once('=')
                    .map(|(_, value)| value.to_owned())
            })
            .collect()
    }
}

fn pairs(encoded: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://recorded.invalid/?{encoded}"))
        .map(|url| {
            url.query_pairs()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect()
        })
        .unwrap_or_default()
}

/// A forwarding HTTP/1.1 proxy on 127.0.0.1:0 that records each request and passes it on
/// to one upstream address, one request per connection (`Connection: close` both ways).
/// Stops when dropped.
#[derive(Debug)]
pub struct RecordingProxy {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<RecordedRequest>>>,
    task: JoinHandle<()>,
}

impl RecordingProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn spawn(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("proxy binds 127.0.0.1");
        let address = listener.local_addr().expect("proxy address");
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        let task = tokio::spawn(async move {
            while let Ok((downstream, _)) = listener.accept().await {
                tokio::spawn(forward(downstream, upstream, log.clone()));
            }
        });
        Self {
            address,
            requests,
            task,
        }
    }

    /// `http://ADDRESS`, for the client's base URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every request seen so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.lock().expect("proxy log").clone()
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Relays one request and its response; a broken connection just ends the relay (the
/// client then reports a transport error, which fails the test that caused it).
async fn forward(
    mut downstream: TcpStream,
    upstream: SocketAddr,
    log: Arc<Mutex<Vec<RecordedRequest>>>,
) {
    let Some((head, body)) = read_message(&mut downstream).await else {
        return;
    };
    let Some(request) = parse_request(&head, body) else {
        return;
    };
    let outgoing = encode_request(&request);
    log.lock().expect("proxy log").push(request);

    let Ok(mut upstream) = TcpStream::connect(upstream).await else {
        return;
    };
    if upstream.write_all(&outgoing).await.is_err() {
        return;
    }
    let mut response = Vec::new();
    if upstream.read_to_end(&mut response).await.is_err() {
        return;
    }
    let response = with_connection_close(&response);
    let _ = downstream.write_all(&response).await;
    let _ = downstream.shutdown().await;
}

/// Reads a request head and its `Content-Length` body.
async fn read_message(stream: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(end) = find(&buffer, b"\r\n\r\n") {
            break end;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buffer[..head_end].to_vec()).ok()?;
    let length = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.trim().parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = buffer[head_end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    body.truncate(length);
    Some((head, body))
}

fn parse_request(head: &str, body: Vec<u8>) -> Option<RecordedRequest> {
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Some(RecordedRequest {
        method,
        target,
        headers,
        body,
    })
}

fn encode_request(request: &RecordedRequest) -> Vec<u8> {
    let mut out = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
    for (name, value) in &request.headers {
        if name != "connection" {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    out.push_str("connection: close\r\n\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(&request.body);
    out
}

/// The response with its `Connection` header replaced by `close`, so that the client does
/// not try to reuse a connection the proxy is about to shut.
fn with_connection_close(response: &[u8]) -> Vec<u8> {
    let Some(head_end) = find(response, b"\r\n\r\n") else {
        return response.to_vec();
    };
    let head = String::from_utf8_lossy(&response[..head_end]);
    let mut out = String::new();
    for line in head.split("\r\n") {
        let is_connection = line
            .split_once(':')
            .is_some_and(|(name, _)| name.trim().eq_ignore_ascii_case("connection"));
        if !is_connection {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("connection: close\r\n\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(&response[head_end + 4..]);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

//! End-to-end checks of the sandbox over real HTTP on 127.0.0.1, against the protocol
//! specification (`/work/shared/protocol/SMARTQQ.md`), not against the sandbox's own code.
//!
//! Request bodies are written with `serde_json::json!` and the hashes are computed by the
//! small functions below (checked against the spec's §11 vectors), so a serde mistake shared
//! by the protocol crate and the sandbox cannot hide. The one type taken from
//! `smartqq_protocol` is `Era`, which `Config` needs to start the sandbox.

use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::header::{CONTENT_TYPE, LOCATION, ORIGIN, REFERER};
use reqwest::{Client, RequestBuilder, StatusCode, Url};
use serde_json::{Value, json};
use smartqq_emulator::{Config, SandboxServer, World};
use smartqq_protocol::api::Era;

// ---------------------------------------------------------------------------------------
// Constants from the spec (§2.2, §3).

const BROWSER_UA: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.77 Safari/537.36";
const R_S: &str = "https://s.web2.qq.com/proxy.html?v=20130916001&callback=1&id=1";
const R_D1: &str = "https://d1.web2.qq.com/proxy.html?v=20151105001&callback=1&id=2";
const R_CF: &str = "https://d1.web2.qq.com/cfproxy.html?v=20151105001&callback=1";
const R_PT: &str = "https://ui.ptlogin2.qq.com/cgi-bin/login?daid=164&target=self&style=16&mibao_css=m_webqq&appid=501004106&enable_qlogin=0&no_verifyimg=1&s_url=http%3A%2F%2Fw.qq.com%2Fproxy.html&f_url=loginerroralert&strong_login=1&login_state=10&t=20131024001";
const R_LEGACY_S: &str = "http://s.web2.qq.com/proxy.html?v=20110412001&callback=1&id=3";
const ORIGIN_D1: &str = "https://d1.web2.qq.com";
const ORIGIN_S: &str = "https://s.web2.qq.com";
const CLIENT_ID: u64 = 53_999_199;
const LEGACY_CLIENT_ID: &str = "8534174";

/// The bound on every wait.
const WAIT: Duration = Duration::from_secs(10);

/// Text that breaks naive string-formatted `r` bodies (§6.1): quotes, backslashes that look
/// like escapes, LF, TAB, CR, U+2028, an astral emoji and CJK.
const HOSTILE: &str = "He said \"hi\"\\ C:\\new\\table\nline two\ttabbed\rcr\u{2028}ls 😀 中文消息";

// ---------------------------------------------------------------------------------------
// Hashes written from the spec (§8.1, §8.5).

/// `hash33` (§8.5): ×33 plus each UTF-16 code unit, mod 2^32, then the low 31 bits.
fn hash33(text: &str) -> u32 {
    text.encode_utf16().fold(0u32, |sum, unit| {
        sum.wrapping_mul(33).wrapping_add(u32::from(unit))
    }) & 0x7FFF_FFFF
}

/// The ECOK friend/group-list hash (§8.1).
fn ecok_hash(uin: u64, ptwebqq: &str) -> String {
    let mut n = [0u16; 4];
    for (i, unit) in ptwebqq.encode_utf16().enumerate() {
        n[i % 4] ^= unit;
    }
    let uin = (uin % (1u64 << 32)) as u32;
    let ecok = *b"ECOK";
    let mut out = String::with_capacity(16);
    for j in 0..4 {
        let v = uin.to_be_bytes()[j] ^ ecok[j];
        out.push_str(&format!("{:02X}{v:02X}", n[j] & 0xFF));
    }
    out
}

// ---------------------------------------------------------------------------------------
// Small helpers.

async fn bounded<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(WAIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what} took longer than {WAIT:?}"))
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis()
}

fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(BROWSER_UA)
        .build()
        .expect("client builds")
}

/// One answer, read whole.
#[derive(Debug)]
struct Reply {
    status: StatusCode,
    content_type: String,
    location: Option<String>,
    cookies: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn text(&self) -> String {
        String::from_utf8(self.body.clone()).expect("body is UTF-8")
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("body is not JSON ({e}): {:?}", self.text()))
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }
}

async fn fetch(what: &str, request: RequestBuilder) -> Reply {
    bounded(what, async {
        let response = request.send().await.expect("request is answered");
        let status = response.status();
        let header = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let content_type = header(CONTENT_TYPE).unwrap_or_default();
        let location = header(LOCATION);
        let cookies = response
            .cookies()
            .map(|c| (c.name().to_owned(), c.value().to_owned()))
            .collect();
        let body = response.bytes().await.expect("body is read").to_vec();
        Reply {
            status,
            content_type,
            location,
            cookies,
            body,
        }
    })
    .await
}

/// `r=⟨json⟩` form-encoded as §2.2 says.
fn form_r(r: &Value) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("r", &r.to_string())
        .finish()
}

const FORM_TYPE: &str = "application/x-www-form-urlencoded; charset=UTF-8";

fn is_lower_hex(text: &str, len: usize) -> bool {
    text.len() == len
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The six quoted arguments of `ptuiCB('a','b','c','d','e', 'f');`, checking the exact
/// punctuation of §2.3 (one space before the sixth argument, optional CRLF).
fn ptui_args(body: &str) -> Vec<String> {
    let trimmed = body.strip_suffix("\r\n").unwrap_or(body);
    let inner = trimmed
        .strip_prefix("ptuiCB('")
        .and_then(|t| t.strip_suffix("');"))
        .unwrap_or_else(|| panic!("not a ptuiCB call: {body:?}"));
    let (first_five, sixth) = inner
        .rsplit_once("', '")
        .unwrap_or_else(|| panic!("no \"', '\" before the sixth argument: {body:?}"));
    let mut args: Vec<String> = first_five.split("','").map(str::to_owned).collect();
    args.push(sixth.to_owned());
    assert_eq!(args.len(), 6, "six arguments in {body:?}");
    args
}

/// The fifth argument is `expected`, optionally followed by a numeric trace id in
/// parentheses (§3.3).
fn is_human_text(actual: &str, expected: &str) -> bool {
    actual == expected
        || actual
            .strip_prefix(expected)
            .and_then(|rest| rest.strip_prefix('('))
            .and_then(|rest| rest.strip_suffix(')'))
            .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

fn assert_ptui_state(reply: &Reply, code: &str, text: &str) {
    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    let body = reply.text();
    let args = ptui_args(&body);
    assert_eq!(
        [&args[0], &args[1], &args[2], &args[3], &args[5]],
        [code, "0", "", "0", ""],
        "{body:?}"
    );
    assert!(is_human_text(&args[4], text), "{body:?}");
}

// ---------------------------------------------------------------------------------------
// The sandbox and its control API.

struct Sandbox {
    server: SandboxServer,
    control: Client,
}

impl Sandbox {
    async fn start(era: Era) -> Self {
        let config = Config {
            era,
            world: World::builtin(),
            auto_confirm: None,
        };
        let server = SandboxServer::spawn(config, "127.0.0.1:0".parse().expect("address"))
            .await
            .expect("sandbox starts");
        Self {
            server,
            control: Client::new(),
        }
    }

    fn url(&self) -> String {
        self.server.url()
    }

    async fn get(&self, path: &str) -> Value {
        let reply = fetch(path, self.control.get(format!("{}{path}", self.url()))).await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.text());
        reply.json()
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let reply = fetch(
            path,
            self.control
                .post(format!("{}{path}", self.url()))
                .json(&body),
        )
        .await;
        assert_eq!(reply.status, StatusCode::OK, "{path}: {:?}", reply.text());
        reply.json()
    }

    async fn knobs(&self, knobs: Value) {
        self.post("/sandbox/knobs", knobs).await;
    }

    async fn world(&self) -> Value {
        self.get("/sandbox/world").await
    }

    async fn polls_in_flight(&self) -> u64 {
        self.get("/sandbox/counters").await["polls_in_flight"]
            .as_u64()
            .expect("polls_in_flight is a number")
    }

    /// Waits (bounded) until the counter reads `wanted`.
    async fn await_polls_in_flight(&self, wanted: u64) {
        bounded("polls_in_flight to settle", async {
            while self.polls_in_flight().await != wanted {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
    }
}

/// The pieces of the builtin world a test talks to, from `/sandbox/world`.
#[derive(Debug, Clone)]
struct Cast {
    own_qq: u64,
    own_nick: String,
    friend_qq: u64,
    group_number: u64,
    group_code: u64,
    group_sender_qq: u64,
    did: u64,
    discu_sender_qq: u64,
    /// A member of the group who is not a friend: the sess partner.
    stranger_qq: u64,
}

fn cast(world: &Value) -> Cast {
    let own_qq = world["self"]["qq"].as_u64().expect("self.qq");
    let friends: Vec<u64> = world["friends"]
        .as_array()
        .expect("friends")
        .iter()
        .map(|f| f["qq"].as_u64().expect("friend qq"))
        .collect();
    let group = &world["groups"][0];
    let members: Vec<u64> = group["members"]
        .as_array()
        .expect("members")
        .iter()
        .map(|m| m["qq"].as_u64().expect("member qq"))
        .filter(|qq| *qq != own_qq)
        .collect();
    let discussion = &world["discussions"][0];
    Cast {
        own_qq,
        own_nick: world["self"]["nick"].as_str().expect("nick").to_owned(),
        friend_qq: friends[0],
        group_number: group["number"].as_u64().expect("number"),
        group_code: group["code"].as_u64().expect("code"),
        group_sender_qq: members[0],
        did: discussion["did"].as_u64().expect("did"),
        discu_sender_qq: discussion["members"]
            .as_array()
            .expect("members")
            .iter()
            .map(|m| m["qq"].as_u64().expect("qq"))
            .find(|qq| *qq != own_qq)
            .expect("a discussion member besides the user"),
        stranger_qq: *members
            .iter()
            .find(|qq| !friends.contains(qq))
            .expect("a group member who is not a friend"),
    }
}

/// The session aliases the world reports while a client is logged in.
#[derive(Debug, Clone)]
struct Aliases {
    friend_uin: u64,
    group_gid: u64,
    group_sender_uin: u64,
    discu_sender_uin: u64,
    stranger_uin: u64,
}

fn aliases(world: &Value, cast: &Cast) -> Aliases {
    let uin_of = |qq: u64| -> u64 {
        let people = world["friends"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(
                world["groups"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|g| g["members"].as_array().into_iter().flatten()),
            )
            .chain(
                world["discussions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|d| d["members"].as_array().into_iter().flatten()),
            );
        people
            .filter(|p| p["qq"].as_u64() == Some(qq))
            .find_map(|p| p["uin"].as_u64())
            .unwrap_or_else(|| panic!("world reports no uin for {qq}"))
    };
    let gid = world["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .find(|g| g["number"].as_u64() == Some(cast.group_number))
        .and_then(|g| g["gid"].as_u64())
        .expect("world reports the gid");
    Aliases {
        friend_uin: uin_of(cast.friend_qq),
        group_gid: gid,
        group_sender_uin: uin_of(cast.group_sender_qq),
        discu_sender_uin: uin_of(cast.discu_sender_qq),
        stranger_uin: uin_of(cast.stranger_qq),
    }
}

// ---------------------------------------------------------------------------------------
// The client side, step by step (§3, §5, §6, §7).

struct Browser {
    client: Client,
    base: String,
    /// Every secret the server handed out, by name.
    tokens: Vec<(String, String)>,
    ptwebqq: String,
    vfwebqq: String,
    psessionid: String,
    msg_id: u64,
}

impl Browser {
    fn new(base: String) -> Self {
        let s = (now_ms() / 1000) as u64;
        Self {
            client: browser(),
            base,
            tokens: Vec::new(),
            ptwebqq: String::new(),
            vfwebqq: String::new(),
            psessionid: String::new(),
            msg_id: (s % 10_000) * 10_000,
        }
    }

    /// Keeps the secret cookies (§1, §2.5) for the log hygiene check.
    fn keep_cookies(&mut self, reply: &Reply) {
        const SECRET: [&str; 8] = [
            "qrsig",
            "ptwebqq",
            "skey",
            "p_skey",
            "superkey",
            "supertoken",
            "pt4_token",
            "pt_guid_sig",
        ];
        for (name, value) in &reply.cookies {
            if SECRET.contains(&name.as_str()) && !value.is_empty() {
                self.tokens.push((name.clone(), value.clone()));
            }
        }
    }

    async fn qr_show(&mut self) -> Reply {
        let url = format!(
            "{}/ptqrshow?appid=501004106&e=0&l=M&s=5&d=72&v=4&t=0.{}",
            self.base,
            now_ms() % 1_000_000_007
        );
        let reply = fetch("ptqrshow", self.client.get(url)).await;
        self.keep_cookies(&reply);
        reply
    }

    async fn qr_login(&mut self, ptqrtoken: Option<u32>) -> Reply {
        if let Some(t) = ptqrtoken {
            self.tokens.push(("ptqrtoken".to_owned(), t.to_string()));
        }
        let token = ptqrtoken.map_or(String::new(), |t| format!("ptqrtoken={t}&"));
        let url = format!(
            "{}/ptqrlogin?{token}webqq_type=10&remember_uin=1&login2qq=1&aid=501004106&u1=http%3A%2F%2Fw.qq.com%2Fproxy.html%3Flogin2qq%3D1%26webqq_type%3D10&ptredirect=0&ptlang=2052&daid=164&from_ui=1&pttype=1&dumy=&fp=loginerroralert&action=0-0-{}&mibao_css=m_webqq&t=undefined&g=1&js_type=0&js_ver=10203&login_sig=&pt_randsalt=0",
            self.base,
            now_ms() % 100_000
        );
        let reply = fetch("ptqrlogin", self.client.get(url).header(REFERER, R_PT)).await;
        self.keep_cookies(&reply);
        if let Some(ptwebqq) = reply.cookie("ptwebqq") {
            self.ptwebqq = ptwebqq;
        }
        reply
    }

    async fn check_sig(&mut self, url: &str) -> Reply {
        if let Some((_, ptsigx)) = Url::parse(url)
            .expect("check_sig URL parses")
            .query_pairs()
            .find(|(name, _)| name == "ptsigx")
        {
            self.tokens.push(("ptsigx".to_owned(), ptsigx.into_owned()));
        }
        let reply = fetch("check_sig", self.client.get(url)).await;
        self.keep_cookies(&reply);
        if let Some(ptwebqq) = reply.cookie("ptwebqq") {
            self.ptwebqq = ptwebqq;
        }
        reply
    }

    async fn get_vfwebqq(&mut self) -> Reply {
        let url = format!(
            "{}/api/getvfwebqq?ptwebqq={}&clientid={CLIENT_ID}&psessionid=&t={}",
            self.base,
            self.ptwebqq,
            now_ms()
        );
        let reply = fetch(
            "getvfwebqq",
            self.client
                .get(url)
                .header(REFERER, R_S)
                .header(ORIGIN, ORIGIN_S),
        )
        .await;
        if reply.status == StatusCode::OK
            && let Some(vf) = reply.json()["result"]["vfwebqq"].as_str()
        {
            self.vfwebqq = vf.to_owned();
            self.tokens.push(("vfwebqq".to_owned(), vf.to_owned()));
        }
        reply
    }

    /// A form POST with the proper Referer and Origin.
    async fn post_r(&self, path: &str, referer: &str, origin: &str, r: &Value) -> Reply {
        fetch(
            path,
            self.client
                .post(format!("{}{path}", self.base))
                .header(REFERER, referer)
                .header(ORIGIN, origin)
                .header(CONTENT_TYPE, FORM_TYPE)
                .body(form_r(r)),
        )
        .await
    }

    async fn get_with(&self, path_and_query: &str, referer: &str) -> Reply {
        fetch(
            path_and_query,
            self.client
                .get(format!("{}{path_and_query}", self.base))
                .header(REFERER, referer),
        )
        .await
    }

    async fn login2(&mut self) -> Reply {
        let r = json!({"ptwebqq": self.ptwebqq, "clientid": CLIENT_ID, "psessionid": "", "status": "online"});
        let reply = self.post_r("/channel/login2", R_D1, ORIGIN_D1, &r).await;
        if reply.status == StatusCode::OK {
            let body = reply.json();
            if let Some(ps) = body["result"]["psessionid"].as_str() {
                self.psessionid = ps.to_owned();
                self.tokens.push(("psessionid".to_owned(), ps.to_owned()));
            }
            if let Some(vf) = body["result"]["vfwebqq"].as_str() {
                self.tokens
                    .push(("login2 vfwebqq".to_owned(), vf.to_owned()));
            }
        }
        reply
    }

    fn poll_r(&self) -> Value {
        json!({"ptwebqq": "", "clientid": CLIENT_ID, "psessionid": self.psessionid, "key": ""})
    }

    /// One `poll2` (2018 body, §5.1); the caller bounds the wait.
    fn poll(&self) -> impl Future<Output = Reply> + 'static {
        let request = self
            .client
            .post(format!("{}/channel/poll2", self.base))
            .header(REFERER, R_D1)
            .header(ORIGIN, ORIGIN_D1)
            .header(CONTENT_TYPE, FORM_TYPE)
            .body(form_r(&self.poll_r()));
        async move {
            let response = request.send().await.expect("poll is answered");
            let status = response.status();
            let content_type = response
                .headers()
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let body = response.bytes().await.expect("poll body").to_vec();
            Reply {
                status,
                content_type,
                location: None,
                cookies: Vec::new(),
                body,
            }
        }
    }

    /// Polls until `done` holds for the events gathered so far; bounded.
    async fn poll_until(&self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        bounded("poll2 to deliver", async {
            let mut events = Vec::new();
            loop {
                let reply = self.poll().await;
                assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
                let body = reply.json();
                if body["retcode"] == 0
                    && let Some(result) = body["result"].as_array()
                {
                    events.extend(result.iter().cloned());
                }
                if done(&events) {
                    return events;
                }
            }
        })
        .await
    }

    async fn online_buddies(&self) -> Reply {
        self.get_with(
            &format!(
                "/channel/get_online_buddies2?vfwebqq={}&clientid={CLIENT_ID}&psessionid={}&t={}",
                self.vfwebqq,
                self.psessionid,
                now_ms()
            ),
            R_D1,
        )
        .await
    }

    fn next_msg_id(&mut self) -> u64 {
        self.msg_id += 1;
        self.msg_id
    }

    /// `content` as §6.1: the inner array encoded first, then placed in the outer object.
    fn content(text: &str) -> String {
        json!([text, ["font", {"name": "宋体", "size": 10, "style": [0, 0, 0], "color": "000000"}]])
            .to_string()
    }

    async fn send(&mut self, endpoint: &str, target: Value) -> Reply {
        let mut r = target;
        let object = r.as_object_mut().expect("target is an object");
        object.insert("content".to_owned(), json!(Self::content(HOSTILE)));
        object.insert("face".to_owned(), json!(522));
        object.insert("clientid".to_owned(), json!(CLIENT_ID));
        object.insert("msg_id".to_owned(), json!(self.next_msg_id()));
        object.insert("psessionid".to_owned(), json!(self.psessionid));
        self.post_r(&format!("/channel/{endpoint}"), R_CF, ORIGIN_D1, &r)
            .await
    }

    /// Legacy WebQQ `login2` (§3.6): string `clientid`, `psessionid` null, and both repeated
    /// as form fields.
    async fn legacy_login2(&mut self) -> Reply {
        let r = json!({"status": "online", "ptwebqq": self.ptwebqq, "passwd_sig": "", "clientid": LEGACY_CLIENT_ID, "psessionid": null});
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("r", &r.to_string())
            .append_pair("clientid", LEGACY_CLIENT_ID)
            .append_pair("psessionid", "null")
            .finish();
        let reply = fetch(
            "legacy login2",
            self.client
                .post(format!("{}/channel/login2", self.base))
                .header(REFERER, R_LEGACY_S)
                .header(CONTENT_TYPE, FORM_TYPE)
                .body(body),
        )
        .await;
        if reply.status == StatusCode::OK
            && let Some(ps) = reply.json()["result"]["psessionid"].as_str()
        {
            self.psessionid = ps.to_owned();
        }
        reply
    }

    /// Legacy WebQQ `poll2` (§5.1).
    async fn legacy_poll(&self) -> Reply {
        let r = json!({"clientid": LEGACY_CLIENT_ID, "psessionid": self.psessionid, "key": 0, "ids": []});
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("r", &r.to_string())
            .append_pair("clientid", LEGACY_CLIENT_ID)
            .append_pair("psessionid", &self.psessionid)
            .finish();
        fetch(
            "legacy poll2",
            self.client
                .post(format!("{}/channel/poll2", self.base))
                .header(REFERER, R_D1)
                .header(CONTENT_TYPE, FORM_TYPE)
                .body(body),
        )
        .await
    }
}

/// Takes a client through the 2018 QR login up to a warmed-up session (no assertions
/// beyond what the next step needs).
async fn logged_in(sandbox: &Sandbox) -> Browser {
    let mut browser = Browser::new(sandbox.url());
    let shown = browser.qr_show().await;
    let qrsig = shown.cookie("qrsig").expect("qrsig cookie");
    sandbox.post("/sandbox/qr/confirm", json!({})).await;
    let confirmed = browser.qr_login(Some(hash33(&qrsig))).await;
    let args = ptui_args(&confirmed.text());
    assert_eq!(args[0], "0", "{args:?}");
    let sig = browser.check_sig(&args[2]).await;
    assert_eq!(sig.status, StatusCode::FOUND, "{sig:?}");
    assert_eq!(browser.get_vfwebqq().await.json()["retcode"], 0);
    assert_eq!(browser.login2().await.json()["retcode"], 0);
    assert_eq!(browser.online_buddies().await.json()["retcode"], 0);
    browser
}

fn find_event<'a>(
    events: &'a [Value],
    poll_type: &str,
    pred: impl Fn(&Value) -> bool,
) -> Option<&'a Value> {
    events
        .iter()
        .find(|e| e["poll_type"] == poll_type && pred(&e["value"]))
        .map(|e| &e["value"])
}

fn keys(value: &Value) -> Vec<String> {
    let mut keys: Vec<String> = value
        .as_object()
        .expect("an object")
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

fn sorted(names: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    names.sort();
    names
}

/// Received `content` (§5.4): a font element first, then the text.
fn assert_received_content(content: &Value, text: &str) {
    let items = content.as_array().expect("content is an array");
    assert_eq!(items[0][0], "font", "{content}");
    let font = &items[0][1];
    assert!(font["name"].is_string(), "{content}");
    assert!(font["size"].is_i64(), "{content}");
    assert_eq!(font["style"].as_array().map(Vec::len), Some(3), "{content}");
    assert!(font["color"].is_string(), "{content}");
    let joined: String = items[1..].iter().filter_map(Value::as_str).collect();
    assert_eq!(joined, text, "{content}");
}

// ---------------------------------------------------------------------------------------
// Tests.

#[test]
fn local_hashes_match_the_spec_vectors() {
    let p1 = "0c5dd117f6266037d17ec710e65fb51dc5c35e2b16a958f41d3c6795ccbd9258";
    let p2 = "37c19aaf10afbf525116c2a2da7f542be3292dca25cb052ede0b165da630d0a5";

    let hash33s = [
        hash33(""),
        hash33("abc"),
        hash33("qrsig-example"),
        hash33("@Zx9Yw8Vu7"),
        hash33("Xk3pQ9-Zr7vT*eW1sLm4Hn8bC2dF6gJ0aYtUoIiRrEeWwQqPpLlKkJjHhGgFf5_"),
    ];
    let ecoks = [
        ecok_hash(123_456_789, p1),
        ecok_hash(2_000_000_001, p2),
        ecok_hash(4_123_456_789, p1),
        ecok_hash(2_400_000_001, ""),
        ecok_hash(752_584_911, "123456789"),
    ];

    assert_eq!(
        hash33s,
        [0, 108_966, 1_236_244_831, 823_920_981, 263_355_049]
    );
    assert_eq!(
        ecoks,
        [
            "0B420D180C82535E",
            "5B32547654DB5F4A",
            "0BB00D850CBA535E",
            "00CA004E0057004A",
            "3D69049804C70C84"
        ]
    );
}

#[tokio::test]
async fn smartqq2018_qr_login_contacts_messages_sends_and_logout_follow_the_spec() {
    let sandbox = Sandbox::start(Era::Smartqq2018).await;
    sandbox.knobs(json!({"poll_hold": 1.0})).await;
    let cast = cast(&sandbox.world().await);
    let mut browser = Browser::new(sandbox.url());

    // --- ptqrshow (§3.2)
    let shown = browser.qr_show().await;

    assert_eq!(shown.status, StatusCode::OK);
    assert!(shown.content_type.starts_with("image/png"), "{shown:?}");
    assert!(shown.body.starts_with(b"\x89PNG\r\n\x1a\n"));
    let qrsig = shown.cookie("qrsig").expect("ptqrshow sets qrsig");
    assert!(!qrsig.is_empty());
    let image = image::load_from_memory(&shown.body)
        .expect("PNG decodes")
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grids = prepared.detect_grids();
    assert!(!grids.is_empty(), "no QR code found in the PNG");
    let (_, qr_text) = grids[0].decode().expect("QR decodes");
    assert!(!qr_text.is_empty());

    // --- ptqrlogin (§3.3): without ptqrtoken → 403; then 66, 67, 0.
    let no_token = browser.qr_login(None).await;
    let waiting = browser.qr_login(Some(hash33(&qrsig))).await;
    sandbox.post("/sandbox/qr/scan", json!({})).await;
    let scanned = browser.qr_login(Some(hash33(&qrsig))).await;
    sandbox.post("/sandbox/qr/confirm", json!({})).await;
    let confirmed = browser.qr_login(Some(hash33(&qrsig))).await;

    assert_eq!(no_token.status, StatusCode::FORBIDDEN);
    assert_ptui_state(&waiting, "66", "二维码未失效。");
    assert_ptui_state(&scanned, "67", "二维码认证中。");
    assert_eq!(confirmed.status, StatusCode::OK);
    let args = ptui_args(&confirmed.text());
    assert_eq!([&args[0], &args[1], &args[3]], ["0", "0", "0"], "{args:?}");
    assert!(is_human_text(&args[4], "登录成功！"), "{args:?}");
    assert_eq!(args[5], cast.own_nick);
    let check_sig_url = Url::parse(&args[2]).expect("check_sig URL parses");
    let sandbox_address = sandbox.server.address();
    assert_eq!(check_sig_url.scheme(), "http");
    assert_eq!(check_sig_url.host_str(), Some("127.0.0.1"));
    assert_eq!(check_sig_url.port(), Some(sandbox_address.port()));
    assert_eq!(check_sig_url.path(), "/check_sig");
    let ptwebqq = confirmed.cookie("ptwebqq").expect("code 0 sets ptwebqq");
    assert!(is_lower_hex(&ptwebqq, 64), "{ptwebqq:?}");
    let ptnick = format!("ptnick_{}", cast.own_qq);
    for name in [
        "uin",
        "skey",
        "pt2gguin",
        "ptisp",
        "RK",
        "superuin",
        "superkey",
        "supertoken",
        "pt_recent_uins",
        "pt_guid_sig",
        ptnick.as_str(),
    ] {
        assert!(
            confirmed.cookie(name).is_some(),
            "code 0 sets {name}: {confirmed:?}"
        );
    }
    assert_eq!(
        confirmed.cookie("superuin"),
        Some(format!("o{}", cast.own_qq))
    );

    // --- check_sig (§3.4), no Referer.
    let sig = browser.check_sig(&args[2]).await;

    assert_eq!(sig.status, StatusCode::FOUND, "{sig:?}");
    let location = sig.location.clone().expect("302 has a Location");
    assert!(
        location.ends_with("/proxy.html?login2qq=1&webqq_type=10"),
        "{location}"
    );
    for name in ["uin", "skey", "pt2gguin", "p_skey", "p_uin", "pt4_token"] {
        assert!(sig.cookie(name).is_some(), "check_sig sets {name}: {sig:?}");
    }
    assert_eq!(sig.cookie("uin"), Some(format!("o{}", cast.own_qq)));
    let skey = sig.cookie("skey").expect("skey");
    assert!(
        skey.starts_with('@') && skey.chars().count() == 10,
        "{skey:?}"
    );

    // --- getvfwebqq (§3.5) and login2 (§3.6).
    let vf = browser.get_vfwebqq().await;
    let login = browser.login2().await;

    assert_eq!(vf.json()["retcode"], 0, "{vf:?}");
    assert!(is_lower_hex(&browser.vfwebqq, 80), "{:?}", browser.vfwebqq);
    let login = login.json();
    assert_eq!(login["retcode"], 0, "{login}");
    assert_eq!(login["result"]["uin"], cast.own_qq);
    assert_eq!(login["result"]["status"], "online");
    assert!(
        !browser.psessionid.is_empty() && browser.psessionid.bytes().all(|b| b.is_ascii_hexdigit()),
        "{login}"
    );

    // --- warm-up quirk (§3.7): poll before get_online_buddies2 → 103.
    let cold = bounded("cold poll", browser.poll()).await;
    let buddies = browser.online_buddies().await;

    assert_eq!(cold.json()["retcode"], 103, "{:?}", cold.text());
    assert_eq!(cold.json()["errmsg"], "error", "{:?}", cold.text());
    let buddies = buddies.json();
    assert_eq!(buddies["retcode"], 0, "{buddies}");
    for buddy in buddies["result"].as_array().expect("online list") {
        assert!(
            buddy["uin"].is_u64() && buddy["status"].is_string() && buddy["client_type"].is_i64(),
            "{buddy}"
        );
    }

    // --- contact lists (§7).
    let world = sandbox.world().await;
    let alias = aliases(&world, &cast);
    let list_r =
        json!({"vfwebqq": browser.vfwebqq, "hash": ecok_hash(cast.own_qq, &browser.ptwebqq)});
    let friends = browser
        .post_r("/api/get_user_friends2", R_S, ORIGIN_S, &list_r)
        .await
        .json();
    let groups = browser
        .post_r("/api/get_group_name_list_mask2", R_S, ORIGIN_S, &list_r)
        .await
        .json();
    let discussions = browser
        .get_with(
            &format!(
                "/api/get_discus_list?clientid={CLIENT_ID}&psessionid={}&vfwebqq={}&t={}",
                browser.psessionid,
                browser.vfwebqq,
                now_ms()
            ),
            R_S,
        )
        .await
        .json();
    let group_info = browser
        .get_with(
            &format!(
                "/api/get_group_info_ext2?gcode={}&vfwebqq={}&t={}",
                cast.group_code,
                browser.vfwebqq,
                now_ms()
            ),
            R_S,
        )
        .await
        .json();
    let group_info_by_gid = browser
        .get_with(
            &format!(
                "/api/get_group_info_ext2?gcode={}&vfwebqq={}&t={}",
                alias.group_gid,
                browser.vfwebqq,
                now_ms()
            ),
            R_S,
        )
        .await
        .json();
    let discu_info = browser
        .get_with(
            &format!(
                "/channel/get_discu_info?did={}&vfwebqq={}&clientid={CLIENT_ID}&psessionid={}&t={}",
                cast.did,
                browser.vfwebqq,
                browser.psessionid,
                now_ms()
            ),
            R_D1,
        )
        .await
        .json();
    let self_info = browser
        .get_with(&format!("/api/get_self_info2?t={}", now_ms()), R_S)
        .await
        .json();
    let recent = browser
        .post_r(
            "/channel/get_recent_list2",
            R_D1,
            ORIGIN_D1,
            &json!({"vfwebqq": browser.vfwebqq, "clientid": CLIENT_ID, "psessionid": browser.psessionid}),
        )
        .await
        .json();

    assert_eq!(friends["retcode"], 0, "{friends}");
    let friend_uins: Vec<u64> = friends["result"]["friends"]
        .as_array()
        .expect("friends")
        .iter()
        .map(|f| f["uin"].as_u64().expect("uin"))
        .collect();
    assert_eq!(
        friend_uins.len(),
        world["friends"].as_array().map_or(0, Vec::len)
    );
    assert!(friend_uins.contains(&alias.friend_uin), "{friends}");
    assert!(friends["result"]["info"].is_array(), "{friends}");
    assert!(friends["result"]["categories"].is_array(), "{friends}");
    assert_eq!(groups["retcode"], 0, "{groups}");
    let listed = groups["result"]["gnamelist"]
        .as_array()
        .expect("gnamelist")
        .iter()
        .find(|g| g["code"] == cast.group_code)
        .expect("the group is listed");
    assert_eq!(listed["gid"], alias.group_gid);
    assert!(listed["name"].is_string());
    assert_eq!(discussions["retcode"], 0, "{discussions}");
    assert!(
        discussions["result"]["dnamelist"]
            .as_array()
            .expect("dnamelist")
            .iter()
            .any(|d| d["did"] == cast.did),
        "{discussions}"
    );
    assert_eq!(group_info["retcode"], 0, "{group_info}");
    assert_eq!(group_info["result"]["ginfo"]["code"], cast.group_code);
    assert_eq!(group_info["result"]["ginfo"]["gid"], alias.group_gid);
    let ginfo_members = group_info["result"]["ginfo"]["members"]
        .as_array()
        .expect("ginfo.members");
    assert!(
        ginfo_members
            .iter()
            .any(|m| m["muin"] == alias.group_sender_uin)
    );
    assert_eq!(
        group_info["result"]["minfo"].as_array().map(Vec::len),
        Some(ginfo_members.len()),
        "minfo parallels ginfo.members"
    );
    assert_eq!(group_info_by_gid["retcode"], 6, "{group_info_by_gid}");
    assert_eq!(discu_info["retcode"], 0, "{discu_info}");
    assert_eq!(discu_info["result"]["info"]["did"], cast.did);
    let mem_list = discu_info["result"]["info"]["mem_list"]
        .as_array()
        .expect("mem_list");
    assert!(
        mem_list
            .iter()
            .any(|m| m["mem_uin"] == alias.discu_sender_uin && m["ruin"] == cast.discu_sender_qq)
    );
    assert!(
        mem_list
            .iter()
            .any(|m| m["mem_uin"] == cast.own_qq && m["ruin"] == cast.own_qq)
    );
    assert_eq!(self_info["retcode"], 0, "{self_info}");
    assert_eq!(self_info["result"]["uin"], cast.own_qq);
    assert_eq!(self_info["result"]["account"], cast.own_qq);
    assert_eq!(self_info["result"]["nick"], cast.own_nick);
    assert_eq!(recent["retcode"], 0, "{recent}");
    for entry in recent["result"].as_array().expect("recent list") {
        assert!(
            matches!(entry["type"].as_u64(), Some(0..=2)) && entry["uin"].is_u64(),
            "{entry}"
        );
    }

    // --- receiving one of each chat kind (§5.3).
    for message in [
        json!({"kind": "buddy", "from": cast.friend_qq, "text": "buddy says hi"}),
        json!({"kind": "group", "from": cast.group_sender_qq, "group": cast.group_number, "text": "group says hi"}),
        json!({"kind": "discu", "from": cast.discu_sender_qq, "discussion": cast.did, "text": "discussion says hi"}),
        json!({"kind": "sess", "from": cast.stranger_qq, "group": cast.group_number, "text": "stranger says hi"}),
    ] {
        sandbox.post("/sandbox/messages", message).await;
    }
    let events = browser
        .poll_until(|events| {
            ["message", "group_message", "discu_message", "sess_message"]
                .iter()
                .all(|t| events.iter().any(|e| e["poll_type"] == *t))
        })
        .await;

    let buddy = find_event(&events, "message", |_| true).expect("message");
    assert_eq!(
        keys(buddy),
        sorted(&[
            "from_uin", "to_uin", "msg_id", "msg_type", "time", "content"
        ])
    );
    assert_eq!(buddy["from_uin"], alias.friend_uin);
    assert_eq!(buddy["to_uin"], cast.own_qq);
    assert_eq!(buddy["msg_type"], 0);
    assert!(
        buddy["msg_id"].is_u64() && buddy["time"].is_u64(),
        "{buddy}"
    );
    assert_received_content(&buddy["content"], "buddy says hi");
    let group = find_event(&events, "group_message", |_| true).expect("group_message");
    assert_eq!(
        keys(group),
        sorted(&[
            "from_uin",
            "group_code",
            "send_uin",
            "to_uin",
            "msg_id",
            "msg_type",
            "time",
            "content"
        ])
    );
    assert_eq!(group["from_uin"], alias.group_gid);
    assert_eq!(
        group["group_code"], alias.group_gid,
        "2018: group_code is the gid"
    );
    assert_eq!(group["send_uin"], alias.group_sender_uin);
    assert_eq!(group["to_uin"], cast.own_qq);
    assert_received_content(&group["content"], "group says hi");
    let discu = find_event(&events, "discu_message", |_| true).expect("discu_message");
    assert_eq!(
        keys(discu),
        sorted(&[
            "from_uin", "did", "send_uin", "to_uin", "msg_id", "msg_type", "time", "content"
        ])
    );
    assert_eq!(discu["from_uin"], cast.did);
    assert_eq!(discu["did"], cast.did);
    assert_eq!(discu["send_uin"], alias.discu_sender_uin);
    assert_received_content(&discu["content"], "discussion says hi");
    let sess = find_event(&events, "sess_message", |_| true).expect("sess_message");
    assert_eq!(
        keys(sess),
        sorted(&[
            "from_uin",
            "to_uin",
            "msg_id",
            "msg_type",
            "time",
            "id",
            "ruin",
            "service_type",
            "flags",
            "content"
        ])
    );
    assert_eq!(sess["from_uin"], alias.stranger_uin);
    assert_eq!(sess["id"], alias.group_gid);
    assert_eq!(sess["ruin"], cast.stranger_qq);
    assert_eq!(sess["service_type"], 0);
    assert_eq!(sess["msg_type"], 140);
    assert_received_content(&sess["content"], "stranger says hi");

    // --- replying through the four send endpoints (§6).
    let to_friend = buddy["from_uin"].as_u64().expect("from_uin");
    let to_group = group["from_uin"].as_u64().expect("gid");
    let to_discu = discu["did"].as_u64().expect("did");
    let to_stranger = sess["from_uin"].as_u64().expect("uin");
    let t = now_ms().to_string();
    assert_eq!(t.len(), 13);
    let c2c = browser
        .get_with(
            &format!(
                "/channel/get_c2cmsg_sig2?id={to_group}&to_uin={to_stranger}&clientid={CLIENT_ID}&psessionid={}&service_type=0&t={t}",
                browser.psessionid
            ),
            R_D1,
        )
        .await
        .json();
    assert_eq!(c2c["retcode"], 0, "{c2c}");
    let group_sig = c2c["result"]["value"].as_str().expect("sig").to_owned();
    assert!(!group_sig.is_empty(), "{c2c}");
    browser
        .tokens
        .push(("group_sig".to_owned(), group_sig.clone()));
    let sends = [
        browser
            .send("send_buddy_msg2", json!({"to": to_friend}))
            .await,
        browser
            .send("send_qun_msg2", json!({"group_uin": to_group}))
            .await,
        browser
            .send("send_discu_msg2", json!({"did": to_discu}))
            .await,
        browser
            .send(
                "send_sess_msg2",
                json!({"to": to_stranger, "group_sig": group_sig, "service_type": 0}),
            )
            .await,
    ];
    let sent = sandbox.get("/sandbox/sent").await;
    let echoes = browser
        .poll_until(|events| {
            find_event(events, "group_message", |v| v["send_uin"] == cast.own_qq).is_some()
        })
        .await;

    for reply in &sends {
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        let body = reply.json();
        assert_eq!(body["retcode"], 0, "{body}");
    }
    let sent = sent.as_array().expect("sent is a list");
    let expected = [
        ("send_buddy_msg2", cast.friend_qq),
        ("send_qun_msg2", cast.group_number),
        ("send_discu_msg2", cast.did),
        ("send_sess_msg2", cast.stranger_qq),
    ];
    assert_eq!(sent.len(), expected.len(), "{sent:?}");
    for (record, (endpoint, target)) in sent.iter().zip(expected) {
        assert_eq!(record["endpoint"], endpoint, "{record}");
        assert_eq!(record["target"], target, "{record}");
        assert_eq!(record["text"].as_str(), Some(HOSTILE), "{record}");
    }
    let echo = find_event(&echoes, "group_message", |v| v["send_uin"] == cast.own_qq)
        .expect("own group message echoed");
    assert_eq!(echo["from_uin"], alias.group_gid);
    assert_received_content(&echo["content"], HOSTILE);

    // --- logout2 (§7.12): afterwards polls deliver nothing.
    let logout = browser
        .get_with(
            &format!(
                "/channel/logout2?ids=&clientid={CLIENT_ID}&psessionid={}&t={}",
                browser.psessionid,
                now_ms()
            ),
            R_D1,
        )
        .await
        .json();
    sandbox
        .post(
            "/sandbox/messages",
            json!({"kind": "buddy", "from": cast.friend_qq, "text": "after logout"}),
        )
        .await;
    let after = bounded("poll after logout", browser.poll()).await;

    assert_eq!(logout, json!({"retcode": 0, "result": "ok"}));
    let delivered = after.status == StatusCode::OK
        && after.json()["result"]
            .as_array()
            .is_some_and(|r| !r.is_empty());
    assert!(
        !delivered,
        "a poll after logout delivered: {:?}",
        after.text()
    );
}

#[tokio::test]
async fn expired_qr_answers_65_and_a_fresh_qr_logs_in() {
    let sandbox = Sandbox::start(Era::Smartqq2018).await;
    let mut browser = Browser::new(sandbox.url());
    let old_qrsig = browser.qr_show().await.cookie("qrsig").expect("qrsig");

    sandbox.post("/sandbox/qr/expire", json!({})).await;
    let expired = browser.qr_login(Some(hash33(&old_qrsig))).await;
    let new_qrsig = browser.qr_show().await.cookie("qrsig").expect("qrsig");
    let waiting = browser.qr_login(Some(hash33(&new_qrsig))).await;
    sandbox.post("/sandbox/qr/confirm", json!({})).await;
    let confirmed = browser.qr_login(Some(hash33(&new_qrsig))).await;

    assert_ptui_state(&expired, "65", "二维码已失效。");
    assert_ne!(new_qrsig, old_qrsig);
    assert_ptui_state(&waiting, "66", "二维码未失效。");
    let args = ptui_args(&confirmed.text());
    assert_eq!(args[0], "0", "{args:?}");
    let sig = browser.check_sig(&args[2]).await;
    assert_eq!(sig.status, StatusCode::FOUND, "{sig:?}");
    assert_eq!(browser.get_vfwebqq().await.json()["retcode"], 0);
    assert_eq!(browser.login2().await.json()["retcode"], 0);
}

#[tokio::test]
async fn idle_poll_in_smartqq2018_answers_the_100012_recv_timeout_body() {
    let sandbox = Sandbox::start(Era::Smartqq2018).await;
    sandbox.knobs(json!({"poll_hold": 1.0})).await;
    let browser = logged_in(&sandbox).await;

    let started = Instant::now();
    let idle = bounded("idle poll", browser.poll()).await;
    let held = started.elapsed();

    assert_eq!(idle.status, StatusCode::OK, "{idle:?}");
    let body = idle.json();
    assert_eq!(
        keys(&body),
        sorted(&["errmsg", "retcode", "retmsg"]),
        "{body}"
    );
    assert_eq!(body["retcode"], 100_012);
    assert_eq!(body["errmsg"], "error");
    let retmsg = body["retmsg"].as_str().expect("retmsg");
    assert!(
        retmsg.starts_with("cmd[qconnect.0], errmsg[RecvTimeout], cost[") && retmsg.ends_with("s]"),
        "{retmsg:?}"
    );
    assert!(held >= Duration::from_millis(900), "held only {held:?}");
}

#[tokio::test]
async fn idle_poll_in_http504_mode_answers_gateway_timeout() {
    let sandbox = Sandbox::start(Era::Smartqq2018).await;
    sandbox
        .knobs(json!({"poll_hold": 1.0, "poll_idle_mode": "http504"}))
        .await;
    let browser = logged_in(&sandbox).await;

    let idle = bounded("idle poll", browser.poll()).await;

    assert_eq!(idle.status, StatusCode::GATEWAY_TIMEOUT, "{idle:?}");
}

#[tokio::test]
async fn idle_poll_in_legacy2015_answers_retcode_102() {
    let sandbox = Sandbox::start(Era::Legacy2015).await;
    sandbox.knobs(json!({"poll_hold": 1.0})).await;
    let mut browser = Browser::new(sandbox.url());
    browser.qr_show().await;
    sandbox.post("/sandbox/qr/confirm", json!({})).await;
    let confirmed = browser.qr_login(None).await;
    let args = ptui_args(&confirmed.text());
    assert_eq!(args[0], "0", "legacy needs no ptqrtoken: {args:?}");
    let sig = browser.check_sig(&args[2]).await;
    assert_eq!(sig.status, StatusCode::FOUND, "{sig:?}");
    let login = browser.legacy_login2().await;
    assert_eq!(login.json()["retcode"], 0, "{:?}", login.text());

    let idle = browser.legacy_poll().await;

    assert_eq!(idle.status, StatusCode::OK, "{idle:?}");
    assert_eq!(idle.json(), json!({"retcode": 102, "errmsg": ""}));
}

#[tokio::test]
async fn injected_message_wakes_a_held_poll_at_once() {
    let sandbox = Sandbox::start(Era::Smartqq2018).await;
    sandbox.knobs(json!({"poll_hold": 30.0})).await;
    let browser = logged_in(&sandbox).await;
    let cast = cast(&sandbox.world().await);
    let held = tokio::spawn(browser.poll());
    sandbox.await_polls_in_flight(1).await;

    let injected_at = Instant::now();
    sandbox
        .post(
            "/sandbox/messages",
            json!({"kind": "buddy", "from": cast.friend_qq, "text": "wake up"}),
        )
        .await;
    let woken = bounded("the held poll", held).await.expect("poll task");
    let latency = injected_at.elapsed();

    assert!(
        latency < Duration::from_secs(5),
        "answered after {latency:?}"
    );
    let body = woken.json();
    assert_eq!(body["retcode"], 0, "{body}");
    let event = find_event(
        body["result"].as_array().expect("result"),
        "message",
        |_| true,
    )
    .expect("the message");
    assert_received_content(&event["content"], "wake up");
    sandbox.await_polls_in_flight(0).await;
}

const EVIL_REFERER: &str = "https://evil.example.com/proxy.html?v=20151105001&callback=1&id=2";

#[tokio::test]
async fn referer_from_a_foreign_host_is_refused_with_100001() {
    let sandbox = Sandbox::start(Era::Smartqq2018).await;
    sandbox.knobs(json!({"poll_hold": 1.0})).await;
    let browser = logged_in(&sandbox).await;
    let recent_r = json!({"vfwebqq": browser.vfwebqq, "clientid": CLIENT_ID, "psessionid": browser.psessionid});

    let recent = browser
        .post_r(
            "/channel/get_recent_list2",
            EVIL_REFERER,
            ORIGIN_D1,
            &recent_r,
        )
        .await;
    let self_info = browser
        .get_with(&format!("/api/get_self_info2?t={}", now_ms()), EVIL_REFERER)
        .await;

    for reply in [recent, self_info] {
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert_eq!(
            reply.json(),
            json!({"errmsg": "error", "retcode": 100_001}),
            "{:?}",
            reply.text()
        );
    }
}

#[tokio::test]
async fn r_that_is_not_json_is_refused_with_100001() {
    let sandbox = Sandbox::start(Era::Smartqq2018).await;
    sandbox.knobs(json!({"poll_hold": 1.0})).await;
    let browser = logged_in(&sandbox).await;
    let not_json = form_urlencoded::Serializer::new(String::new())
        .append_pair("r", "{\"clientid\":53999199,\"psessionid\":")
        .finish();
    let post = |path: &str| {
        browser
            .client
            .post(format!("{}{path}", browser.base))
            .header(REFERER, R_D1)
            .header(ORIGIN, ORIGIN_D1)
            .header(CONTENT_TYPE, FORM_TYPE)
            .body(not_json.clone())
    };

    let poll = fetch("poll2", post("/channel/poll2")).await;
    let recent = fetch("get_recent_list2", post("/channel/get_recent_list2")).await;

    for reply in [poll, recent] {
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert_eq!(
            reply.json(),
            json!({"errmsg": "error", "retcode": 100_001}),
            "{:?}",
            reply.text()
        );
    }
}

#[tokio::test]
async fn wrong_psessionid_is_refused_with_100001() {
    let sandbox = Sandbox::start(Era::Smartqq2018).await;
    sandbox.knobs(json!({"poll_hold": 1.0})).await;
    let browser = logged_in(&sandbox).await;
    let forged = "8368046764001d636f6e6e7365727665725f77656271714031302e302e302e31".to_owned();
    assert_ne!(forged, browser.psessionid);

    let poll = browser
        .post_r(
            "/channel/poll2",
            R_D1,
            ORIGIN_D1,
            &json!({"ptwebqq": "", "clientid": CLIENT_ID, "psessionid": forged, "key": ""}),
        )
        .await;
    let recent = browser
        .post_r(
            "/channel/get_recent_list2",
            R_D1,
            ORIGIN_D1,
            &json!({"vfwebqq": browser.vfwebqq, "clientid": CLIENT_ID, "psessionid": forged}),
        )
        .await;

    for reply in [poll, recent] {
        assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
        assert_eq!(
            reply.json(),
            json!({"errmsg": "error", "retcode": 100_001}),
            "{:?}",
            reply.text()
        );
    }
}

#[tokio::test]
async fn getvfwebqq_without_cookies_answers_100000() {
    let sandbox = Sandbox::start(Era::Smartqq2018).await;
    let browser = logged_in(&sandbox).await;
    let mut cookieless = Browser::new(sandbox.url());
    cookieless.ptwebqq = browser.ptwebqq.clone();

    let reply = cookieless.get_vfwebqq().await;

    assert_eq!(reply.status, StatusCode::OK, "{reply:?}");
    assert_eq!(reply.json()["retcode"], 100_000, "{:?}", reply.text());
}

/// A `tracing` writer into a shared buffer.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_of_a_whole_session_carry_no_issued_token() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let sandbox = Sandbox::start(Era::Smartqq2018).await;
    sandbox.knobs(json!({"poll_hold": 1.0})).await;
    let cast = cast(&sandbox.world().await);

    let mut browser = logged_in(&sandbox).await;
    let world = sandbox.world().await;
    let alias = aliases(&world, &cast);
    let list_r =
        json!({"vfwebqq": browser.vfwebqq, "hash": ecok_hash(cast.own_qq, &browser.ptwebqq)});
    browser
        .post_r("/api/get_user_friends2", R_S, ORIGIN_S, &list_r)
        .await;
    browser
        .post_r("/api/get_group_name_list_mask2", R_S, ORIGIN_S, &list_r)
        .await;
    sandbox
        .post(
            "/sandbox/messages",
            json!({"kind": "buddy", "from": cast.friend_qq, "text": "hi"}),
        )
        .await;
    browser
        .poll_until(|events| events.iter().any(|e| e["poll_type"] == "message"))
        .await;
    let c2c = browser
        .get_with(
            &format!(
                "/channel/get_c2cmsg_sig2?id={}&to_uin={}&clientid={CLIENT_ID}&psessionid={}&service_type=0&t={}",
                alias.group_gid,
                alias.stranger_uin,
                browser.psessionid,
                now_ms()
            ),
            R_D1,
        )
        .await
        .json();
    if let Some(sig) = c2c["result"]["value"].as_str() {
        browser
            .tokens
            .push(("group_sig".to_owned(), sig.to_owned()));
    }
    browser
        .send("send_buddy_msg2", json!({"to": alias.friend_uin}))
        .await;
    bounded("idle poll", browser.poll()).await;
    browser
        .get_with(
            &format!(
                "/channel/logout2?ids=&clientid={CLIENT_ID}&psessionid={}&t={}",
                browser.psessionid,
                now_ms()
            ),
            R_D1,
        )
        .await;
    drop(sandbox);
    let logs =
        String::from_utf8(captured.0.lock().expect("log buffer").clone()).expect("logs are UTF-8");

    assert!(
        !logs.is_empty(),
        "nothing was logged, so the check cannot fail"
    );
    let names: Vec<&str> = browser.tokens.iter().map(|(n, _)| n.as_str()).collect();
    for required in [
        "qrsig",
        "ptwebqq",
        "skey",
        "p_skey",
        "vfwebqq",
        "psessionid",
        "ptqrtoken",
    ] {
        assert!(
            names.contains(&required),
            "{required} was never issued: {names:?}"
        );
    }
    let leaked: Vec<&str> = browser
        .tokens
        .iter()
        .filter(|(_, value)| logs.contains(value.as_str()))
        .map(|(name, _)| name.as_str())
        .collect();
    assert!(leaked.is_empty(), "tokens in the logs: {leaked:?}");
}

#[tokio::test]
async fn json_endpoints_answer_text_plain_utf8() {
    let sandbox = Sandbox::start(Era::Smartqq2018).await;
    sandbox.knobs(json!({"poll_hold": 1.0})).await;
    let mut browser = logged_in(&sandbox).await;

    let vf = browser.get_vfwebqq().await;
    let self_info = browser
        .get_with(&format!("/api/get_self_info2?t={}", now_ms()), R_S)
        .await;
    let idle = bounded("idle poll", browser.poll()).await;

    for reply in [vf, self_info, idle] {
        assert_eq!(
            reply.content_type.to_ascii_lowercase().replace(' ', ""),
            "text/plain;charset=utf-8",
            "{reply:?}"
        );
    }
}

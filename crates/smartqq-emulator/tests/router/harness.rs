//! A cookie-keeping client that drives the router in process, and a logged-in session.

use std::collections::HashMap;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use smartqq_emulator::{Config, Sandbox, World, router};
use smartqq_protocol::api::Era;
use smartqq_protocol::hash::{FriendHashVariant, friend_list_hash, hash33};
use tower::ServiceExt;

pub const R_S: &str = "https://s.web2.qq.com/proxy.html?v=20130916001&callback=1&id=1";
pub const R_D1: &str = "https://d1.web2.qq.com/proxy.html?v=20151105001&callback=1&id=2";
pub const CLIENTID: u64 = 53_999_199;

/// One reply: status, headers and body text.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    pub fn retcode(&self) -> i64 {
        self.json()["retcode"]
            .as_i64()
            .unwrap_or_else(|| panic!("no retcode: {}", self.text()))
    }
}

/// A browser-like client of the in-process router.
pub struct Browser {
    pub app: Router,
    pub sandbox: Sandbox,
    pub cookies: HashMap<String, String>,
    pub referer: Option<&'static str>,
}

impl Browser {
    pub fn new(era: Era) -> Self {
        Self::with_config(Config {
            era,
            world: World::builtin(),
            auto_confirm: None,
        })
    }

    pub fn with_config(config: Config) -> Self {
        let sandbox = Sandbox::new(config);
        Self {
            app: router(sandbox.clone()),
            sandbox,
            cookies: HashMap::new(),
            referer: None,
        }
    }

    /// A second browser on the same sandbox, with an empty cookie jar.
    pub fn another(&self) -> Self {
        Self {
            app: self.app.clone(),
            sandbox: self.sandbox.clone(),
            cookies: HashMap::new(),
            referer: None,
        }
    }

    pub async fn send(&mut self, request: Request<Body>) -> Reply {
        let response = self
            .app
            .clone()
            .oneshot(request)
            .await
            .expect("router is infallible");
        let status = response.status();
        let headers = response.headers().clone();
        for cookie in headers.get_all(header::SET_COOKIE) {
            let text = cookie.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            self.cookies.insert(name.to_owned(), value.to_owned());
        }
        let body = response
            .into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec();
        Reply {
            status,
            headers,
            body,
        }
    }

    fn request(
        &self,
        method: &str,
        uri: &str,
        referer: Option<&str>,
    ) -> axum::http::request::Builder {
        let cookie: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(header::HOST, "127.0.0.1:8650")
            .header(
                header::USER_AGENT,
                "Mozilla/5.0 (X11; Linux x86_64) GnomeQQ-test",
            );
        if !cookie.is_empty() {
            builder = builder.header(header::COOKIE, cookie.join("; "));
        }
        if let Some(referer) = referer.or(self.referer) {
            builder = builder.header(header::REFERER, referer);
        }
        builder
    }

    pub async fn get(&mut self, uri: &str, referer: Option<&str>) -> Reply {
        let request = self
            .request("GET", uri, referer)
            .body(Body::empty())
            .unwrap();
        self.send(request).await
    }

    /// POSTs `r` as the form field, the way every SmartQQ client did.
    pub async fn post_r(&mut self, uri: &str, referer: &str, r: &Value) -> Reply {
        let body: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("r", &r.to_string())
            .finish();
        self.post_form(uri, referer, body).await
    }

    pub async fn post_form(&mut self, uri: &str, referer: &str, body: String) -> Reply {
        let request = self
            .request("POST", uri, Some(referer))
            .header(
                header::CONTENT_TYPE,
                "application/x-www-form-urlencoded; charset=UTF-8",
            )
            .body(Body::from(body))
            .unwrap();
        self.send(request).await
    }

    /// POSTs JSON to the control API.
    pub async fn control(&mut self, path: &str, body: Value) -> Reply {
        let request = Request::builder()
            .method("POST")
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        self.send(request).await
    }

    pub async fn control_get(&mut self, path: &str) -> Value {
        self.get(path, None).await.json()
    }

    pub async fn knobs(&mut self, knobs: Value) {
        let reply = self.control("/sandbox/knobs", knobs).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    }

    /// QR login up to and including `check_sig` (cookies in the jar), returns the ptwebqq.
    pub async fn qr_login(&mut self) -> String {
        self.get("/ptqrshow?appid=501004106&e=0&l=M&s=5&d=72&v=4&t=0.1", None)
            .await;
        self.control("/sandbox/qr/confirm", json!({})).await;
        let token = hash33(&self.cookies["qrsig"]);
        let reply = self
            .get(&format!("/ptqrlogin?ptqrtoken={token}&webqq_type=10"), None)
            .await;
        let state = smartqq_protocol::ptui::QrLoginState::parse(&reply.text()).unwrap();
        let smartqq_protocol::ptui::QrLoginState::Confirmed { check_sig_url, .. } = state else {
            panic!("not confirmed: {}", reply.text())
        };
        let path = check_sig_url.split_once("8650").unwrap().1.to_owned();
        let reply = self.get(&path, None).await;
        assert_eq!(reply.status, StatusCode::FOUND);
        self.cookies["ptwebqq"].clone()
    }
}

/// A client past `login2` and the warm-up.
pub struct Session {
    pub browser: Browser,
    pub ptwebqq: String,
    pub vfwebqq: String,
    pub psessionid: String,
    pub own_qq: u64,
}

impl Session {
    pub async fn start(era: Era) -> Self {
        Self::start_in(Browser::new(era)).await
    }

    pub async fn start_in(mut browser: Browser) -> Self {
        browser.qr_login().await;
        Self::start_after_check_sig(browser).await
    }

    /// `getvfwebqq`, `login2` and the warm-up, for a browser past `check_sig`.
    pub async fn start_after_check_sig(mut browser: Browser) -> Self {
        let ptwebqq = browser.cookies["ptwebqq"].clone();
        let reply = browser
            .get(
                &format!("/api/getvfwebqq?ptwebqq={ptwebqq}&clientid={CLIENTID}&psessionid=&t=1"),
                Some(R_S),
            )
            .await;
        let vfwebqq = reply.json()["result"]["vfwebqq"]
            .as_str()
            .unwrap()
            .to_owned();
        let r =
            json!({"ptwebqq": ptwebqq, "clientid": CLIENTID, "psessionid": "", "status": "online"});
        let reply = browser.post_r("/channel/login2", R_D1, &r).await;
        let result = &reply.json()["result"];
        let psessionid = result["psessionid"].as_str().unwrap().to_owned();
        let own_qq = result["uin"].as_u64().unwrap();
        let mut session = Self {
            browser,
            ptwebqq,
            vfwebqq,
            psessionid,
            own_qq,
        };
        let reply = session.channel_get("get_online_buddies2", "").await;
        assert_eq!(reply.retcode(), 0);
        session
    }

    pub async fn channel_get(&mut self, endpoint: &str, extra: &str) -> Reply {
        let uri = format!(
            "/channel/{endpoint}?vfwebqq={}&clientid={CLIENTID}&psessionid={}&t=1500000123456{extra}",
            self.vfwebqq, self.psessionid
        );
        self.browser.get(&uri, Some(R_D1)).await
    }

    pub async fn api_get(&mut self, endpoint: &str, extra: &str) -> Reply {
        let uri = format!("/api/{endpoint}?vfwebqq={}&t=1{extra}", self.vfwebqq);
        self.browser.get(&uri, Some(R_S)).await
    }

    pub fn hash(&self) -> String {
        friend_list_hash(FriendHashVariant::Ecok, self.own_qq, &self.ptwebqq)
    }

    pub async fn poll(&mut self) -> Reply {
        let r =
            json!({"ptwebqq": "", "clientid": CLIENTID, "psessionid": self.psessionid, "key": ""});
        self.browser.post_r("/channel/poll2", R_D1, &r).await
    }

    /// Polls until one reply carries events; bounded.
    pub async fn poll_events(&mut self) -> Vec<Value> {
        for _ in 0..10 {
            let reply = tokio::time::timeout(Duration::from_secs(10), self.poll())
                .await
                .expect("poll answers");
            let body = reply.json();
            if let Some(result) = body["result"].as_array() {
                return result.clone();
            }
        }
        panic!("no events after 10 polls")
    }

    pub async fn send(&mut self, endpoint: &str, mut r: Value, text: &str, msg_id: u64) -> Reply {
        let content = json!([text, ["font", {"name": "宋体", "size": 10, "style": [0, 0, 0], "color": "000000"}]]);
        r["content"] = Value::String(content.to_string());
        r["face"] = json!(522);
        r["clientid"] = json!(CLIENTID);
        r["msg_id"] = json!(msg_id);
        r["psessionid"] = json!(self.psessionid);
        self.browser
            .post_r(&format!("/channel/{endpoint}"), R_D1, &r)
            .await
    }

    /// The world as the control API shows it (with this session's uins).
    pub async fn world(&mut self) -> Value {
        self.browser.control_get("/sandbox/world").await
    }
}

//! Async SmartQQ client over reqwest: QR login, the `poll2` stream, the four sends, contact
//! lists and logout.
//!
//! [`Client`] is cheap to clone and shares one HTTP client and cookie jar. After a login it
//! holds the [`Session`]; the poll loop and the sends use it concurrently. Nothing it logs
//! contains a cookie, a token, a query string or message text: requests are logged by path,
//! and every `reqwest::Error` passes through `without_url()`.
#![warn(missing_docs, missing_debug_implementations)]

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, HeaderValue, ORIGIN, REFERER};
use serde::de::DeserializeOwned;
use smartqq_protocol::api::Era;
use smartqq_protocol::hash::FriendHashVariant;
use smartqq_protocol::ids::{ClientId, QqNumber, Secret, Uin};
use smartqq_protocol::poll::SessVia;

mod contacts;
mod endpoints;
mod error;
mod login;
mod msg_id;
mod password;
mod poll;
mod resume;
mod send;

pub use endpoints::Endpoints;
pub use error::{Error, Result};
pub use login::{LoginProgress, QrCode};
pub use msg_id::MsgIds;
pub use password::PasswordCheck;
pub use resume::SavedSession;
pub use send::SendTarget;

use endpoints::referer;

/// A browser User-Agent: requests without one were refused (spec §2.2).
pub const BROWSER_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0 Safari/537.36";

/// How a [`Client`] behaves.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// Where the hosts are.
    pub endpoints: Endpoints,
    /// Which era's conventions to follow (Referers, empty ptwebqq in polls).
    pub era: Era,
    /// Read timeout of `poll2`; longer than any server hold (spec §5.1: ≥ 70 s).
    pub poll_timeout: Duration,
    /// Timeout of every other request.
    pub request_timeout: Duration,
    /// How often `ptqrlogin` is asked while a QR code waits.
    pub qr_check_interval: Duration,
    /// How many expired QR codes are replaced before the login gives up.
    pub max_qr_codes: u32,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            endpoints: Endpoints::real(),
            era: Era::Smartqq2018,
            poll_timeout: Duration::from_secs(120),
            request_timeout: Duration::from_secs(30),
            qr_check_interval: Duration::from_secs(1),
            max_qr_codes: 5,
        }
    }
}

impl ClientOptions {
    /// Options for a sandbox (or any server) at one base URL.
    pub fn for_server(base: &str) -> Self {
        Self {
            endpoints: Endpoints::single(base),
            ..Self::default()
        }
    }
}

/// What a login leaves behind: the tokens every later call needs.
pub struct Session {
    /// The account's QQ number (also its uin).
    pub qq: QqNumber,
    ptwebqq: RwLock<Secret>,
    vfwebqq: Secret,
    psessionid: Secret,
    clientid: ClientId,
    /// Which login this is: a relink renews the psessionid but keeps it (and the uins).
    login: u64,
}

impl Session {
    /// A number for a new login, never given to another one in this process.
    fn new_login() -> u64 {
        static LOGINS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        LOGINS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether `other` belongs to the same login, renewed by relinks: the uins and gids
    /// one names are the other's.
    pub fn same_login(&self, other: &Session) -> bool {
        self.login == other.login
    }

    /// The current ptwebqq (rotated by poll retcode 116).
    fn ptwebqq(&self) -> Secret {
        self.ptwebqq.read().map(|p| p.clone()).unwrap_or_default()
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("qq", &self.qq)
            .finish_non_exhaustive()
    }
}

/// A SmartQQ client; clones share everything.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    jar: Arc<Jar>,
    options: ClientOptions,
    session: RwLock<Option<Arc<Session>>>,
    msg_ids: MsgIds,
    sess_sigs: Mutex<HashMap<SessKey, (Secret, Instant)>>,
    /// The friend-list hash the server accepted last (ECOK until a 50 says otherwise).
    hash_variant: Mutex<FriendHashVariant>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoints", &self.inner.options.endpoints)
            .finish_non_exhaustive()
    }
}

/// A temporary session's room id, peer and `service_type`.
type SessKey = (u64, Uin, u8);

/// How long a temporary-session signature is reused (Mojo cached it 300 s).
const SESS_SIG_LIFETIME: Duration = Duration::from_secs(300);

impl Client {
    /// A client with its own cookie jar.
    pub fn new(options: ClientOptions) -> Result<Self> {
        let jar = Arc::new(Jar::default());
        let http = reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .user_agent(BROWSER_USER_AGENT)
            .connect_timeout(Duration::from_secs(10))
            .tcp_nodelay(true)
            .tcp_keepalive(Duration::from_secs(30))
            // check_sig answers 302 to proxy.html; we read its cookies and stop there.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .build()
            .map_err(|e| Error::transport("client setup", e))?;
        let start_ms = unix_millis();
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                jar,
                options,
                session: RwLock::new(None),
                msg_ids: MsgIds::for_new_client(start_ms),
                sess_sigs: Mutex::new(HashMap::new()),
                hash_variant: Mutex::new(FriendHashVariant::Ecok),
            }),
        })
    }

    fn hash_variant(&self) -> FriendHashVariant {
        self.inner
            .hash_variant
            .lock()
            .map_or(FriendHashVariant::Ecok, |v| *v)
    }

    fn set_hash_variant(&self, variant: FriendHashVariant) {
        if let Ok(mut current) = self.inner.hash_variant.lock() {
            *current = variant;
        }
    }

    /// The options it was made with.
    pub fn options(&self) -> &ClientOptions {
        &self.inner.options
    }

    /// The session, when logged in.
    pub fn session(&self) -> Option<Arc<Session>> {
        self.inner.session.read().ok().and_then(|s| s.clone())
    }

    fn require_session(&self) -> Result<Arc<Session>> {
        self.session().ok_or(Error::NotLoggedIn)
    }

    fn set_session(&self, session: Option<Session>) {
        if let Ok(mut slot) = self.inner.session.write() {
            *slot = session.map(Arc::new);
        }
        if let Ok(mut sigs) = self.inner.sess_sigs.lock() {
            sigs.clear();
        }
    }

    /// A cookie from the jar, as the given base URL would receive it.
    fn cookie(&self, base: &str, name: &str) -> Option<String> {
        let url = reqwest::Url::parse(base).ok()?;
        let header = self.inner.jar.cookies(&url)?;
        header.to_str().ok()?.split(';').find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then(|| value.to_owned())
        })
    }

    /// Sets a cookie for the web2 hosts, as clients did after a 116 (spec §5.2).
    fn set_web_cookie(&self, name: &str, value: &str) {
        let endpoints = &self.inner.options.endpoints;
        for base in [&endpoints.s_web2, &endpoints.d_web2, &endpoints.ptlogin] {
            let Ok(url) = reqwest::Url::parse(base) else {
                continue;
            };
            let cookie = if endpoints.uses_real_hosts() {
                format!("{name}={value}; Domain=qq.com; Path=/")
            } else {
                format!("{name}={value}; Path=/")
            };
            self.inner.jar.add_cookie_str(&cookie, &url);
        }
    }

    /// GET with the headers of one endpoint; returns status and body.
    async fn get(
        &self,
        endpoint: &'static str,
        url: &str,
        referer: Option<&'static str>,
        timeout: Duration,
    ) -> Result<(u16, Vec<u8>)> {
        let mut headers = HeaderMap::new();
        if let Some(referer) = referer {
            headers.insert(REFERER, HeaderValue::from_static(referer));
        }
        self.execute(
            endpoint,
            self.inner.http.get(url).headers(headers).timeout(timeout),
        )
        .await
    }

    /// GET that must answer 200; returns the body.
    async fn get_ok(
        &self,
        endpoint: &'static str,
        url: &str,
        referer: Option<&'static str>,
    ) -> Result<Vec<u8>> {
        match self
            .get(endpoint, url, referer, self.options().request_timeout)
            .await?
        {
            (200, body) => Ok(body),
            (status, _) => Err(Error::Status { endpoint, status }),
        }
    }

    /// POSTs `r` as a form field with Referer and Origin.
    async fn post_r(
        &self,
        endpoint: &'static str,
        url: &str,
        (referer, origin): (&'static str, &'static str),
        r: &impl serde::Serialize,
        timeout: Duration,
    ) -> Result<(u16, Vec<u8>)> {
        // The JSON inside `r` comes from the serializer, never from string formatting.
        let r = serde_json::to_string(r).map_err(|_| Error::Decode { endpoint })?;
        let request = self
            .inner
            .http
            .post(url)
            .header(REFERER, referer)
            .header(ORIGIN, origin)
            .form(&[("r", r.as_str())])
            .timeout(timeout);
        self.execute(endpoint, request).await
    }

    async fn execute(
        &self,
        endpoint: &'static str,
        request: reqwest::RequestBuilder,
    ) -> Result<(u16, Vec<u8>)> {
        let started = Instant::now();
        let response = request
            .send()
            .await
            .map_err(|e| Error::transport(endpoint, e))?;
        let status = response.status().as_u16();
        let body = response
            .bytes()
            .await
            .map_err(|e| Error::transport(endpoint, e))?;
        tracing::debug!(
            endpoint,
            status,
            bytes = body.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "Request done"
        );
        Ok((status, body.to_vec()))
    }

    /// Decodes a `{"retcode":0,"result":…}` reply of a successful HTTP exchange.
    fn result<T: DeserializeOwned>(
        endpoint: &'static str,
        (status, body): (u16, Vec<u8>),
    ) -> Result<T> {
        if status != 200 {
            return Err(Error::Status { endpoint, status });
        }
        smartqq_protocol::api::parse_result(&body).map_err(|error| match error.retcode() {
            Some(retcode) => Error::Retcode { endpoint, retcode },
            None => {
                tracing::trace!(
                    endpoint,
                    bytes = body.len(),
                    "Reply had an unexpected shape"
                );
                Error::Decode { endpoint }
            }
        })
    }

    /// The Referer of send endpoints for the era (spec §12, contradiction 4).
    fn send_referer(&self) -> &'static str {
        match self.inner.options.era {
            Era::Smartqq2018 => referer::CF,
            Era::Legacy2015 => referer::D1,
        }
    }

    fn sess_sig_cached(&self, key: SessKey) -> Option<Secret> {
        let sigs = self.inner.sess_sigs.lock().ok()?;
        sigs.get(&key)
            .filter(|(_, at)| at.elapsed() < SESS_SIG_LIFETIME)
            .map(|(sig, _)| sig.clone())
    }

    fn remember_sess_sig(&self, key: SessKey, sig: Secret) {
        if let Ok(mut sigs) = self.inner.sess_sigs.lock() {
            sigs.insert(key, (sig, Instant::now()));
        }
    }
}

/// A `t` cache buster in milliseconds (13 digits).
pub(crate) fn unix_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Percent-encodes a query value.
pub(crate) fn enc(value: &str) -> String {
    reqwest::Url::parse_with_params("http://x/", &[("v", value)])
        .ok()
        .and_then(|url| url.query().map(|q| q.trim_start_matches("v=").to_owned()))
        .unwrap_or_default()
}

/// `service_type` of a sess room.
pub(crate) fn via_code(via: SessVia) -> u8 {
    u8::from(via)
}

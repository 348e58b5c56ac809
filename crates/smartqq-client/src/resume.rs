//! Keeping a login across processes and getting it back: the saved session, single
//! sign-on through `pt4_auth` (spec §3.8), and the relink of §3.6.

use std::fmt;

use serde::{Deserialize, Serialize};
use smartqq_protocol::api::Login2Result;
use smartqq_protocol::hash::time33;
use smartqq_protocol::ids::{ClientId, QqNumber, Secret};
use smartqq_protocol::ptui::parse_auth_cb;

use crate::endpoints::referer;
use crate::{Client, Error, Result, Session, unix_millis};

/// The format written by this version; older or newer files are refused, never guessed at.
const FORMAT: u32 = 1;

/// A login as it can be stored: tokens and the cookie jar. `Debug` shows only the account
/// and the server.
#[derive(Clone, Serialize, Deserialize)]
pub struct SavedSession {
    format: u32,
    /// The server the session belongs to (the channel host's base URL).
    pub server: String,
    /// The account.
    pub qq: QqNumber,
    ptwebqq: Secret,
    vfwebqq: Secret,
    psessionid: Secret,
    clientid: ClientId,
    cookies: Vec<SavedCookie>,
}

/// One cookie: the base URL it was sent to, and `name=value`.
#[derive(Clone, Serialize, Deserialize)]
struct SavedCookie {
    base: String,
    pair: Secret,
}

impl fmt::Debug for SavedSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SavedSession")
            .field("server", &self.server)
            .field("qq", &self.qq)
            .finish_non_exhaustive()
    }
}

impl SavedSession {
    /// Reads a saved session; a file of another format or shape is an error, not a guess.
    pub fn from_json(text: &str) -> Result<Self> {
        let saved: Self = serde_json::from_str(text).map_err(|_| Error::BadSavedSession)?;
        if saved.format != FORMAT {
            return Err(Error::BadSavedSession);
        }
        Ok(saved)
    }

    /// The session as JSON, for a store.
    pub fn to_json(&self) -> String {
        // Only strings and numbers: serialising cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

impl Client {
    fn cookie_bases(&self) -> Vec<String> {
        let endpoints = &self.options().endpoints;
        let mut bases = vec![
            endpoints.ptlogin.clone(),
            endpoints.s_web2.clone(),
            endpoints.d_web2.clone(),
        ];
        bases.dedup();
        bases
    }

    /// The current login, to store; `None` when not logged in.
    pub fn saved_session(&self) -> Option<SavedSession> {
        let session = self.session()?;
        let mut cookies = Vec::new();
        for base in self.cookie_bases() {
            let Ok(url) = reqwest::Url::parse(&base) else {
                continue;
            };
            let Some(header) = reqwest::cookie::CookieStore::cookies(&*self.inner.jar, &url) else {
                continue;
            };
            let Ok(header) = header.to_str() else {
                continue;
            };
            for pair in header.split(';').map(str::trim).filter(|p| p.contains('=')) {
                cookies.push(SavedCookie {
                    base: base.clone(),
                    pair: Secret::new(pair),
                });
            }
        }
        Some(SavedSession {
            format: FORMAT,
            server: self.options().endpoints.d_web2.clone(),
            qq: session.qq,
            ptwebqq: session.ptwebqq(),
            vfwebqq: session.vfwebqq.clone(),
            psessionid: session.psessionid.clone(),
            clientid: session.clientid,
            cookies,
        })
    }

    /// Puts a saved login back: cookies into the jar, tokens into the session. It is not
    /// checked with the server here; call [`Client::check_session`] next.
    pub fn restore_session(&self, saved: &SavedSession) -> Result<()> {
        if saved.server != self.options().endpoints.d_web2 {
            return Err(Error::ForeignSession);
        }
        for cookie in &saved.cookies {
            let Ok(url) = reqwest::Url::parse(&cookie.base) else {
                continue;
            };
            let attributes = if self.options().endpoints.uses_real_hosts() {
                "; Domain=qq.com; Path=/"
            } else {
                "; Path=/"
            };
            self.inner
                .jar
                .add_cookie_str(&format!("{}{attributes}", cookie.pair.expose()), &url);
        }
        self.set_session(Some(Session {
            qq: saved.qq,
            ptwebqq: std::sync::RwLock::new(saved.ptwebqq.clone()),
            vfwebqq: saved.vfwebqq.clone(),
            psessionid: saved.psessionid.clone(),
            clientid: saved.clientid,
            login: Session::new_login(),
        }));
        Ok(())
    }

    /// One cheap call that needs a live session: `get_online_buddies2`, which also
    /// registers the session for polling again (spec §3.7).
    pub async fn check_session(&self) -> Result<()> {
        self.online_buddies().await.map(|_| ())
    }

    /// Single sign-on (spec §3.8): trades the `supertoken` cookie for a fresh `check_sig`
    /// URL and completes the login without a scan. `Ok(false)` when the server wants a
    /// new QR login.
    pub async fn resume_with_sso(&self) -> Result<bool> {
        let base = self.options().endpoints.ptlogin.clone();
        let (Some(supertoken), Some(_superuin)) = (
            self.cookie(&base, "supertoken"),
            self.cookie(&base, "superuin"),
        ) else {
            return Ok(false);
        };
        let url = format!(
            "{base}/pt4_auth?daid=164&appid=501004106&auth_token={}&t={}",
            time33(&supertoken),
            unix_millis()
        );
        let body = self.get_ok("pt4_auth", &url, Some(referer::PT)).await?;
        let text = String::from_utf8_lossy(&body);
        let Ok(Some(check_sig_url)) = parse_auth_cb(&text) else {
            return Ok(false);
        };
        let check_sig_url = format!(
            "{check_sig_url}&regmaster=&aid=501004106&s_url=http%3A%2F%2Fw.qq.com%2Fproxy.html"
        );
        self.complete_login(&check_sig_url).await?;
        Ok(true)
    }

    /// Relink after poll retcode 120/121 (spec §3.6): `login2` again with the current
    /// psessionid; a fresh psessionid in the answer replaces the old one.
    pub async fn relink(&self) -> Result<()> {
        let session = self.require_session()?;
        let request = serde_json::json!({
            "status": "online",
            "key": "",
            "ptwebqq": session.ptwebqq().expose(),
            "clientid": session.clientid,
            "psessionid": session.psessionid.expose(),
        });
        let url = format!("{}/channel/login2", self.options().endpoints.d_web2);
        let reply = self
            .post_r(
                "login2",
                &url,
                (referer::D1, referer::ORIGIN_D1),
                &request,
                self.options().request_timeout,
            )
            .await?;
        let login: Login2Result = Self::result("login2", reply)?;
        self.set_session(Some(Session {
            qq: session.qq,
            ptwebqq: std::sync::RwLock::new(session.ptwebqq()),
            vfwebqq: session.vfwebqq.clone(),
            psessionid: login.psessionid,
            clientid: session.clientid,
            login: session.login,
        }));
        self.check_session().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_sessions_of_another_format_or_shape_are_refused() {
        assert!(matches!(
            SavedSession::from_json("{"),
            Err(Error::BadSavedSession)
        ));
        assert!(matches!(
            SavedSession::from_json("{}"),
            Err(Error::BadSavedSession)
        ));
        let future = r#"{"format":2,"server":"x","qq":1,"ptwebqq":"","vfwebqq":"","psessionid":"","clientid":1,"cookies":[]}"#;
        assert!(matches!(
            SavedSession::from_json(future),
            Err(Error::BadSavedSession)
        ));
    }
}

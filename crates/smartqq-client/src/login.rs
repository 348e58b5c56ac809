//! QR login (spec §3): the code, its scan state, `check_sig`, `getvfwebqq`, `login2` and
//! the post-login warm-up.

use std::fmt;

use smartqq_protocol::api::{Login2Request, Login2Result, VfwebqqResult};
use smartqq_protocol::hash::hash33;
use smartqq_protocol::ids::{ClientId, Secret};
use smartqq_protocol::ptui::QrLoginState;

use crate::endpoints::referer;
use crate::{Client, Error, Result, Session, enc, unix_millis};

/// A QR code to show the user.
#[derive(Clone)]
pub struct QrCode {
    /// The PNG as served.
    pub png: Vec<u8>,
    /// The text it encodes, decoded from the PNG, so a terminal can draw it again;
    /// `None` when the image could not be decoded.
    pub text: Option<String>,
}

impl fmt::Debug for QrCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QrCode")
            .field("png_bytes", &self.png.len())
            .finish_non_exhaustive()
    }
}

impl QrCode {
    fn from_png(png: Vec<u8>) -> Self {
        let text = decode_qr(&png);
        Self { png, text }
    }
}

fn decode_qr(png: &[u8]) -> Option<String> {
    let image = image::load_from_memory(png).ok()?.to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(image);
    let grid = prepared.detect_grids().into_iter().next()?;
    grid.decode().ok().map(|(_, text)| text)
}

/// Each step of a QR login, as it happens.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum LoginProgress {
    /// A (new) code to show.
    QrReady(QrCode),
    /// The code waits to be scanned.
    Waiting,
    /// Scanned; waiting for confirmation on the phone.
    Scanned,
    /// The code expired; a new one follows.
    Expired,
    /// Confirmed; the web session is being set up.
    Connecting,
    /// Logged in.
    Online,
}

impl Client {
    /// Fetches a new QR code (spec §3.2); the server sets its `qrsig` cookie.
    pub async fn fetch_qr(&self) -> Result<QrCode> {
        let url = format!(
            "{}/ptqrshow?appid=501004106&e=0&l=M&s=5&d=72&v=4&t=0.{}",
            self.options().endpoints.ptlogin,
            unix_millis() % 1_000_000_007
        );
        let body = self.get_ok("ptqrshow", &url, None).await?;
        Ok(QrCode::from_png(body))
    }

    /// Asks `ptqrlogin` for the state of the current code (spec §3.3).
    pub async fn check_qr(&self) -> Result<QrLoginState> {
        let endpoints = &self.options().endpoints;
        let qrsig = self
            .cookie(&endpoints.ptlogin, "qrsig")
            .ok_or(Error::MissingCookie("qrsig"))?;
        let url = format!(
            "{}/ptqrlogin?ptqrtoken={}&webqq_type=10&remember_uin=1&login2qq=1&aid=501004106&u1=http%3A%2F%2Fw.qq.com%2Fproxy.html%3Flogin2qq%3D1%26webqq_type%3D10&ptredirect=0&ptlang=2052&daid=164&from_ui=1&pttype=1&dumy=&fp=loginerroralert&action=0-0-{}&mibao_css=m_webqq&t=undefined&g=1&js_type=0&js_ver=10203&login_sig=&pt_randsalt=0",
            endpoints.ptlogin,
            hash33(&qrsig),
            unix_millis() % 100_000
        );
        let body = self.get_ok("ptqrlogin", &url, Some(referer::PT)).await?;
        let text = String::from_utf8_lossy(&body);
        QrLoginState::parse(&text).map_err(|_| Error::Decode {
            endpoint: "ptqrlogin",
        })
    }

    /// The whole QR login: shows codes through `progress`, waits for the phone, replaces
    /// expired codes up to [`crate::ClientOptions::max_qr_codes`] times, then sets up the web
    /// session.
    pub async fn login_with_qr(&self, mut progress: impl FnMut(LoginProgress)) -> Result<()> {
        let options = self.options().clone();
        let mut codes = 0;
        let mut last = None;
        loop {
            if last.is_none() {
                if codes >= options.max_qr_codes {
                    return Err(Error::QrExpired(codes));
                }
                codes += 1;
                progress(LoginProgress::QrReady(self.fetch_qr().await?));
            }
            let state = self.check_qr().await?;
            let changed = last.as_ref() != Some(&state);
            match &state {
                QrLoginState::Confirmed { check_sig_url, .. } => {
                    progress(LoginProgress::Connecting);
                    self.complete_login(check_sig_url).await?;
                    progress(LoginProgress::Online);
                    return Ok(());
                }
                QrLoginState::Expired => {
                    progress(LoginProgress::Expired);
                    last = None;
                    continue;
                }
                QrLoginState::Waiting if changed => progress(LoginProgress::Waiting),
                QrLoginState::Scanned if changed => progress(LoginProgress::Scanned),
                QrLoginState::Other { code, message } => {
                    return Err(Error::QrRefused {
                        code: code.clone(),
                        message: message.clone(),
                    });
                }
                _ => {}
            }
            last = Some(state);
            tokio::time::sleep(options.qr_check_interval).await;
        }
    }

    /// Follows a `check_sig` URL and sets up the web session: `getvfwebqq`, `login2`, and
    /// the calls the web client made right after (spec §3.4-§3.7).
    pub async fn complete_login(&self, check_sig_url: &str) -> Result<()> {
        let options = self.options().clone();
        // The URL is used verbatim and without a Referer (an empty one got HTTP 403).
        let (status, _) = self
            .get("check_sig", check_sig_url, None, options.request_timeout)
            .await?;
        if !(200..400).contains(&status) {
            return Err(Error::Status {
                endpoint: "check_sig",
                status,
            });
        }
        let endpoints = &options.endpoints;
        let ptwebqq = self
            .cookie(&endpoints.s_web2, "ptwebqq")
            .unwrap_or_default();
        let qq = self
            .cookie(&endpoints.s_web2, "uin")
            .and_then(|uin| uin.trim_start_matches('o').parse::<u64>().ok())
            .ok_or(Error::MissingCookie("uin"))?;

        let url = format!(
            "{}/api/getvfwebqq?ptwebqq={}&clientid={}&psessionid=&t={}",
            endpoints.s_web2,
            enc(&ptwebqq),
            ClientId::SMARTQQ,
            unix_millis()
        );
        let vfwebqq: VfwebqqResult = Self::result(
            "getvfwebqq",
            self.get(
                "getvfwebqq",
                &url,
                Some(referer::S),
                options.request_timeout,
            )
            .await?,
        )?;

        let request = Login2Request {
            ptwebqq: Secret::new(ptwebqq.clone()),
            clientid: ClientId::SMARTQQ,
            psessionid: Secret::default(),
            status: "online".to_owned(),
            key: None,
        };
        let url = format!("{}/channel/login2", endpoints.d_web2);
        let reply = self
            .post_r(
                "login2",
                &url,
                (referer::D1, referer::ORIGIN_D1),
                &request,
                options.request_timeout,
            )
            .await?;
        let login: Login2Result = Self::result("login2", reply)?;
        if login.uin.get() != qq {
            tracing::warn!("login2 named another account than the cookies; using login2's");
        }

        self.set_session(Some(Session {
            qq: login.uin,
            ptwebqq: std::sync::RwLock::new(Secret::new(ptwebqq)),
            vfwebqq: vfwebqq.vfwebqq,
            psessionid: login.psessionid,
            clientid: ClientId::SMARTQQ,
            login: Session::new_login(),
        }));
        self.warm_up().await
    }

    /// The calls the web client made after `login2`, in its order: without
    /// `get_online_buddies2` polls answer 103 (spec §3.7, FAULTS BR-07).
    async fn warm_up(&self) -> Result<()> {
        self.self_info().await?;
        self.online_buddies().await?;
        self.recent_list().await?;
        tracing::info!("Logged in");
        Ok(())
    }

    /// Ends the web session (`logout2`) and forgets it. Errors are returned but the local
    /// session is gone either way.
    pub async fn logout(&self) -> Result<()> {
        let session = self.require_session()?;
        self.set_session(None);
        let url = format!(
            "{}/channel/logout2?ids=&clientid={}&psessionid={}&t={}",
            self.options().endpoints.d_web2,
            session.clientid,
            enc(session.psessionid.expose()),
            unix_millis()
        );
        let body = self.get_ok("logout2", &url, Some(referer::D1)).await?;
        let value: serde_json::Value =
            serde_json::from_slice(&body).map_err(|_| Error::Decode {
                endpoint: "logout2",
            })?;
        match value.get("retcode").and_then(serde_json::Value::as_i64) {
            Some(0) => Ok(()),
            Some(code) => Err(Error::Retcode {
                endpoint: "logout2",
                retcode: smartqq_protocol::retcode::Retcode(code),
            }),
            None => Err(Error::Decode {
                endpoint: "logout2",
            }),
        }
    }

    /// Changes the online status (`change_status2`).
    pub async fn change_status(&self, status: &str) -> Result<()> {
        let session = self.require_session()?;
        let url = format!(
            "{}/channel/change_status2?newstatus={}&clientid={}&psessionid={}&t={}",
            self.options().endpoints.d_web2,
            enc(status),
            session.clientid,
            enc(session.psessionid.expose()),
            unix_millis()
        );
        let reply = self
            .get(
                "change_status2",
                &url,
                Some(referer::D1),
                self.options().request_timeout,
            )
            .await?;
        Self::result::<serde_json::Value>("change_status2", reply).map(|_| ())
    }
}

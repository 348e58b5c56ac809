//! The legacy password login (spec §4): `check` for the salt and whether a captcha is
//! needed, the captcha image, the password field, `login`, then `check_sig` as for QR.
//!
//! The password is only ever an argument: it is hashed into the password field here and
//! never stored, logged or kept in the client.

use smartqq_protocol::password::{self, CheckAnswer, PasswordGeneration};
use smartqq_protocol::ptui::PasswordLoginResult;

use crate::endpoints::referer;
use crate::{Client, Error, Result, enc, unix_millis};

/// What `check` said about an account.
#[derive(Clone)]
pub struct PasswordCheck {
    qq: u64,
    answer: CheckAnswer,
    /// The captcha image to show, when the server wants one answered.
    pub captcha: Option<Vec<u8>>,
}

impl std::fmt::Debug for PasswordCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PasswordCheck")
            .field("qq", &self.qq)
            .field("captcha", &self.captcha.as_ref().map(Vec::len))
            .finish_non_exhaustive()
    }
}

/// The `s_url` every ptlogin call names (the web client's proxy page).
const S_URL: &str = "http%3A%2F%2Fw.qq.com%2Fproxy.html%3Flogin2qq%3D1%26webqq_type%3D10";

impl Client {
    /// Step one: asks `check` for the account's salt and whether a captcha is needed, and
    /// fetches the captcha image when it is (spec §4.2, §4.3).
    pub async fn password_check(&self, qq: u64) -> Result<PasswordCheck> {
        let base = &self.options().endpoints.ptlogin;
        let url = format!(
            "{base}/check?pt_tea=1&uin={qq}&appid=501004106&js_ver=10203&js_type=0&login_sig=&u1={S_URL}&r=0.{}",
            unix_millis() % 1_000_000_007
        );
        let body = self.get_ok("check", &url, Some(referer::PT)).await?;
        let answer = CheckAnswer::parse(&String::from_utf8_lossy(&body))
            .map_err(|_| Error::Decode { endpoint: "check" })?;
        let captcha = if answer.captcha_required {
            let url = format!(
                "{}/getimage?aid=501004106&r=0.{}&uin={qq}&cap_cd={}",
                self.options().endpoints.captcha,
                unix_millis() % 1_000_000_007,
                enc(&answer.code)
            );
            let image = self.get_ok("getimage", &url, Some(referer::PT)).await?;
            Some(image)
        } else {
            None
        };
        Ok(PasswordCheck {
            qq,
            answer,
            captcha,
        })
    }

    /// Step two: the password field of `generation` (§4.4), `login` (§4.5), and on success
    /// the web session as after a QR login. `captcha_answer` is what the image showed, when
    /// [`PasswordCheck::captcha`] was set.
    pub async fn password_login(
        &self,
        check: &PasswordCheck,
        password: &str,
        captcha_answer: Option<&str>,
        generation: PasswordGeneration,
    ) -> Result<()> {
        let verify_code = if check.answer.captcha_required {
            captcha_answer
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .ok_or(Error::CaptchaNeeded)?
                .to_owned()
        } else {
            check.answer.code.clone()
        };
        let p = match generation {
            PasswordGeneration::Md5 => {
                password::md5_era(password, &check.answer.salt, &verify_code)
            }
            PasswordGeneration::GenA => {
                password::gen_a(password, &check.answer.salt, &verify_code, rand::random)
            }
        };
        let verify_session = match self.cookie(&self.options().endpoints.captcha, "verifysession") {
            Some(session) if check.answer.captcha_required => session,
            _ => check.answer.verify_session.clone(),
        };
        let url = format!(
            "{}/login?u={}&p={}&verifycode={}&webqq_type=10&remember_uin=1&login2qq=1&aid=501004106&u1={S_URL}&h=1&ptredirect=0&ptlang=2052&daid=164&from_ui=1&pttype=1&dumy=&fp=loginerroralert&action=0-0-{}&mibao_css=m_webqq&t=1&g=1&js_type=0&js_ver=10203&login_sig=&pt_uistyle=5&pt_randsalt={}&pt_vcode_v1=0&pt_verifysession_v1={}",
            self.options().endpoints.ptlogin,
            check.qq,
            enc(&p),
            enc(&verify_code),
            unix_millis() % 100_000,
            enc(&check.answer.rand_salt),
            enc(&verify_session),
        );
        let body = self.get_ok("login", &url, Some(referer::PT)).await?;
        let text = String::from_utf8_lossy(&body);
        match PasswordLoginResult::parse(&text).map_err(|_| Error::Decode { endpoint: "login" })? {
            PasswordLoginResult::Success { check_sig_url, .. } => {
                self.complete_login(&check_sig_url).await
            }
            PasswordLoginResult::WrongPassword { message } => Err(Error::WrongPassword(message)),
            PasswordLoginResult::WrongCaptcha { message } => Err(Error::WrongCaptcha(message)),
            PasswordLoginResult::ParameterError { message } => Err(Error::PasswordRefused {
                code: "7".to_owned(),
                message,
            }),
            PasswordLoginResult::AccountProblem { code, message } => {
                Err(Error::PasswordRefused { code, message })
            }
        }
    }
}

//! ptlogin: the QR code, its scan state, `check_sig`, and the legacy password login
//! (spec §3.1-§3.4, §4).

use std::io::Cursor;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, LOCATION, SERVER};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use smartqq_protocol::QqNumber;
use smartqq_protocol::api::Era;
use smartqq_protocol::hash::{hash33, time33};
use smartqq_protocol::password::{self, CheckAnswer, PasswordFieldError};
use smartqq_protocol::ptui::{QrLoginState, format_ptui_cb};

use crate::call::{Call, js_reply, set_cookies};
use crate::state::{ALNUM, HEX, Login, QrTicket, SIG, Sandbox, State as SandboxState, token};

/// `GET /ptqrshow`: a new QR code as PNG and its `qrsig` cookie.
pub(crate) async fn ptqrshow(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let qrsig = token(SIG, 64);
    let number = {
        let mut state = sandbox.lock();
        let number = state.next_qr_number;
        state.next_qr_number += 1;
        // Only the newest code is meaningful (spec §3.2); older ones stay to answer 65.
        state.qr.push(QrTicket {
            number,
            qrsig: qrsig.clone(),
            created: std::time::Instant::now(),
            scanned: false,
            confirmed: false,
            expired: false,
            used: false,
        });
        let keep_from = state.qr.len().saturating_sub(16);
        state.qr.drain(..keep_from);
        number
    };
    let module_size = call
        .query("s")
        .and_then(|s| s.parse().ok())
        .filter(|s| (1..=20).contains(s));

    let Some(png) = qr_png(&qr_text(number), module_size.unwrap_or(5)) else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not render the QR code",
        )
            .into_response();
    };
    let mut response = png.into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("image/png"));
    set_cookies(
        &mut response,
        &call,
        &[("qrsig", &qrsig, "ptlogin2.qq.com")],
    );
    response
}

/// What the sandbox's QR codes say: a phone-app URL in spirit, pointing nowhere real.
pub fn qr_text(number: u64) -> String {
    format!("https://sandbox.gnomeqq.invalid/qr/{number}")
}

fn qr_png(text: &str, module_size: u32) -> Option<Vec<u8>> {
    let code = qrcode::QrCode::with_error_correction_level(text, qrcode::EcLevel::M).ok()?;
    let image = code
        .render::<image::Luma<u8>>()
        .module_dimensions(module_size, module_size)
        .build();
    let mut png = Cursor::new(Vec::new());
    image.write_to(&mut png, image::ImageFormat::Png).ok()?;
    Some(png.into_inner())
}

/// `GET /ptqrlogin`: the scan state as `ptuiCB(…)` (spec §3.3).
pub(crate) async fn ptqrlogin(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let mut state = sandbox.lock();
    let Some(qrsig) = call.cookie("qrsig").map(str::to_owned) else {
        return js_reply(QrLoginState::Expired.to_ptui_cb());
    };
    // Since 2017-02-09 the token must be hash33(qrsig); without it, HTTP 403.
    let token_ok = call.query("ptqrtoken") == Some(hash33(&qrsig).to_string().as_str());
    if state.era() != Era::Legacy2015 && !token_ok {
        return (StatusCode::FORBIDDEN, "403 Forbidden").into_response();
    }

    let qr_ttl = Duration::from_secs_f64(state.knobs.qr_ttl);
    let auto_confirm = state.config.auto_confirm;
    let scripted = if state.knobs.qr_script.is_empty() {
        None
    } else {
        Some(state.knobs.qr_script.remove(0))
    };
    let Some(ticket) = state.qr.iter_mut().find(|t| t.qrsig == qrsig) else {
        return js_reply(QrLoginState::Expired.to_ptui_cb());
    };

    let code = scripted.unwrap_or_else(|| {
        let age = ticket.created.elapsed();
        if let Some(delay) = auto_confirm {
            ticket.scanned |= age >= delay / 2;
            ticket.confirmed |= age >= delay;
        }
        if ticket.used || ticket.expired || age >= qr_ttl {
            "65".to_owned()
        } else if ticket.confirmed {
            "0".to_owned()
        } else if ticket.scanned {
            "67".to_owned()
        } else {
            "66".to_owned()
        }
    });
    match code.as_str() {
        "0" => {
            ticket.used = true;
            drop(state);
            login_success(&sandbox, &call, "ptqrlogin", 3)
        }
        "65" => {
            ticket.expired = true;
            js_reply(QrLoginState::Expired.to_ptui_cb())
        }
        "66" => js_reply(QrLoginState::Waiting.to_ptui_cb()),
        "67" => js_reply(QrLoginState::Scanned.to_ptui_cb()),
        other => js_reply(format_ptui_cb(&[
            other,
            "0",
            "",
            "0",
            "登录失败，请稍后再试。",
            "",
        ])),
    }
}

/// A new ptlogin for the account: its tokens, and the one-shot `check_sig` URL (pointing
/// back at this sandbox) that trades them for the web2 cookies.
struct IssuedLogin {
    qq: QqNumber,
    nick: String,
    skey: String,
    ptwebqq: String,
    check_sig_url: String,
}

fn issue_login(sandbox: &Sandbox, call: &Call, service: &str, login_type: u8) -> IssuedLogin {
    let mut state = sandbox.lock();
    let qq = state.world().account.qq;
    let nick = state.world().account.nick.clone();
    let skey = format!("@{}", token(ALNUM, 9));
    let ptwebqq = token(HEX, 64);
    let ptsigx = token(HEX, 128);
    state.ptsig.insert(ptsigx.clone(), qq);
    state.logins.insert(
        skey.clone(),
        Login {
            qq,
            skey: skey.clone(),
            p_skey: None,
            ptwebqq: ptwebqq.clone(),
            previous_ptwebqq: None,
            vfwebqq: None,
            expired: false,
        },
    );
    state.counters.logins += 1;
    drop(state);

    let check_sig_host = if call.addresses_real_host() {
        "ptlogin4.web2.qq.com".to_owned()
    } else {
        call.authority()
    };
    let check_sig_url = format!(
        "http://{check_sig_host}/check_sig?pttype=1&uin={qq}&service={service}&nodirect=0&ptsigx={ptsigx}&s_url=http%3A%2F%2Fw.qq.com%2Fproxy.html%3Flogin2qq%3D1%26webqq_type%3D10&f_url=&ptlang=2052&ptredirect=100&aid=501004106&daid=164&j_later=0&low_login_hour=0&regmaster=0&pt_login_type={login_type}&pt_aid=0&pt_aaid=16&pt_light=0&pt_3rd_aid=0"
    );
    IssuedLogin {
        qq,
        nick,
        skey,
        ptwebqq,
        check_sig_url,
    }
}

/// Ends a ptlogin with success: the cookies of spec §2.5 and a `check_sig` URL that
/// points back at this sandbox.
fn login_success(sandbox: &Sandbox, call: &Call, service: &str, login_type: u8) -> Response {
    let issued = issue_login(sandbox, call, service, login_type);
    let qq = issued.qq;
    let uin_cookie = format!("o{qq}");
    let nick_cookie = format!("ptnick_{qq}");
    let nick_hex = hex::encode(issued.nick.as_bytes());
    let (superkey, supertoken, guid) = (token(SIG, 40), token(ALNUM, 10), token(HEX, 16));
    sandbox.lock().super_tokens.insert(supertoken.clone(), qq);
    let rk = token(SIG, 10);
    let mut response = js_reply(format_ptui_cb(&[
        "0",
        "0",
        &issued.check_sig_url,
        "0",
        "登录成功！",
        &issued.nick,
    ]));
    set_cookies(
        &mut response,
        call,
        &[
            ("pt2gguin", &uin_cookie, "qq.com"),
            ("uin", &uin_cookie, "qq.com"),
            ("skey", &issued.skey, "qq.com"),
            ("superuin", &uin_cookie, "ptlogin2.qq.com"),
            ("superkey", &superkey, "ptlogin2.qq.com"),
            ("supertoken", &supertoken, "ptlogin2.qq.com"),
            ("pt_recent_uins", &guid, "ptlogin2.qq.com"),
            ("pt_guid_sig", &guid, "ptlogin2.qq.com"),
            (&nick_cookie, &nick_hex, "ptlogin2.qq.com"),
            ("ptisp", "ctc", "qq.com"),
            ("RK", &rk, "qq.com"),
            ("ptwebqq", &issued.ptwebqq, "qq.com"),
        ],
    );
    response
}

/// `GET /pt4_auth`: single sign-on (spec §3.8). With a known `supertoken` cookie and
/// `auth_token = time33(supertoken)`, answers a fresh `check_sig` URL, so a client whose
/// web session expired logs in again without a scan. The new login's ptwebqq cookie is
/// set here, as the QR path sets it at `ptqrlogin`.
pub(crate) async fn pt4_auth(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let refused = || js_reply("ptui_auth_CB('1','');".to_owned());
    let supertoken = call.cookie("supertoken").unwrap_or_default().to_owned();
    let token_ok = call.query("auth_token") == Some(time33(&supertoken).to_string().as_str());
    let (known, sso_on) = {
        let state = sandbox.lock();
        let owner = state.super_tokens.get(&supertoken).copied();
        let superuin_ok =
            owner.is_some_and(|qq| call.cookie("superuin") == Some(format!("o{qq}").as_str()));
        (superuin_ok, state.knobs.sso_resume)
    };
    if !(token_ok && known && sso_on) {
        return refused();
    }
    let issued = issue_login(&sandbox, &call, "pt4_auth", 3);
    let mut response = js_reply(format!("ptui_auth_CB('0','{}');", issued.check_sig_url));
    set_cookies(
        &mut response,
        &call,
        &[("ptwebqq", &issued.ptwebqq, "qq.com")],
    );
    response
}

/// `GET /check_sig`: trades the one-shot `ptsigx` for the web2 cookies, then redirects to
/// `proxy.html` on this same server (spec §3.4).
pub(crate) async fn check_sig(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let mut state = sandbox.lock();
    let Some(qq) = call.query("ptsigx").and_then(|sig| state.ptsig.remove(sig)) else {
        return (StatusCode::FORBIDDEN, "invalid or used ptsigx").into_response();
    };
    // The ptsigx belongs to the newest login of this account.
    let p_skey = token(SIG, 44);
    let Some(login) = state
        .logins
        .values_mut()
        .filter(|l| l.qq == qq && l.p_skey.is_none())
        .last()
    else {
        return (StatusCode::FORBIDDEN, "login vanished").into_response();
    };
    login.p_skey = Some(p_skey.clone());
    let skey = login.skey.clone();
    drop(state);

    let uin_cookie = format!("o{qq}");
    let pt4_token = token(SIG, 40);
    let proxy = if call.addresses_real_host() {
        "http://w.qq.com/proxy.html?login2qq=1&webqq_type=10".to_owned()
    } else {
        format!(
            "http://{}/proxy.html?login2qq=1&webqq_type=10",
            call.authority()
        )
    };
    let mut response = StatusCode::FOUND.into_response();
    let headers = response.headers_mut();
    headers.insert(
        SERVER,
        HeaderValue::from_static("Tencent Login Server/2.0.0"),
    );
    if let Ok(location) = HeaderValue::from_str(&proxy) {
        headers.insert(LOCATION, location);
    }
    set_cookies(
        &mut response,
        &call,
        &[
            ("uin", &uin_cookie, "qq.com"),
            ("skey", &skey, "qq.com"),
            ("pt2gguin", &uin_cookie, "qq.com"),
            ("p_skey", &p_skey, "web2.qq.com"),
            ("p_uin", &uin_cookie, "web2.qq.com"),
            ("pt4_token", &pt4_token, "web2.qq.com"),
        ],
    );
    response
}

/// `GET /proxy.html` (and `cfproxy.html`): the cross-domain helper page; content unused.
pub(crate) async fn proxy_page() -> Html<&'static str> {
    Html(
        "<!DOCTYPE html><html><head><script>document.domain='qq.com';</script></head><body></body></html>",
    )
}

/// `GET /cgi-bin/login`: the login page, which only sets cookies (spec §3.1).
pub(crate) async fn login_page(headers: HeaderMap, uri: Uri) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let login_sig = token(SIG, 64);
    let mut response =
        Html("<!DOCTYPE html><html><body>GnomeQQ sandbox login page</body></html>").into_response();
    set_cookies(
        &mut response,
        &call,
        &[
            ("pt_login_sig", &login_sig, "ptlogin2.qq.com"),
            ("pt_clientip", "7f000001", "ptlogin2.qq.com"),
            ("pt_serverip", "7f000001", "ptlogin2.qq.com"),
        ],
    );
    response
}

/// `GET /check`: salt and captcha need for a password login (spec §4.2).
pub(crate) async fn check(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let Some(qq) = call.query("uin").and_then(|u| u.trim().parse::<u64>().ok()) else {
        return js_reply(format_ptui_cb(&[
            "7",
            "0",
            "",
            "0",
            "提交参数错误，请检查。",
            "",
        ]));
    };
    let mut state = sandbox.lock();
    let captcha_required = state.knobs.captcha_required;
    let code = if captcha_required {
        token(b"ABCDEFGHJKLMNPQRSTUVWXYZ", 4)
    } else {
        format!("!{}", token(b"ABCDEFGHJKLMNPQRSTUVWXYZ", 3))
    };
    let verify_session = token(SIG, 48);
    state
        .check_codes
        .insert(QqNumber(qq), (code.clone(), verify_session.clone()));
    let answer = CheckAnswer {
        captcha_required,
        // With a captcha the code is the captcha id; the answer is what the image shows.
        code: if captcha_required {
            format!("cap-{}", token(HEX, 12))
        } else {
            code
        },
        salt: password::salt_for_qq(qq),
        verify_session,
        rand_salt: "0".to_owned(),
    };
    js_reply(answer.to_js())
}

/// `GET /getimage`: the captcha image (spec §4.3), a PNG showing the code.
pub(crate) async fn captcha_image(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let qq = call
        .query("uin")
        .and_then(|u| u.trim().parse::<u64>().ok())
        .map(QqNumber);
    let state = sandbox.lock();
    let Some((code, verify_session)) = qq.and_then(|qq| state.check_codes.get(&qq)).cloned() else {
        return (StatusCode::NOT_FOUND, "no captcha for this account").into_response();
    };
    drop(state);
    let Some(png) = crate::captcha::render_png(&code) else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "could not render the captcha",
        )
            .into_response();
    };
    let mut response = png.into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("image/png"));
    set_cookies(
        &mut response,
        &call,
        &[("verifysession", &verify_session, "qq.com")],
    );
    response
}

/// `GET /login`: the password login (spec §4.5). Only the legacy era offers it.
pub(crate) async fn password_login(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let reply = |code: &str, text: &str| js_reply(format_ptui_cb(&[code, "0", "", "0", text, ""]));
    let state = sandbox.lock();
    if state.era() != Era::Legacy2015 {
        // SmartQQ removed password login on its page around 2015-10 (spec §4.1).
        return reply("10005", "当前登录方式已停用，请使用二维码登录。");
    }
    let account = state.world().account.clone();
    let qq = call.query("u").and_then(|u| u.trim().parse::<u64>().ok());
    let (Some(qq), Some(p)) = (qq, call.query("p")) else {
        return reply("7", "提交参数错误，请检查。");
    };
    let Some((code, _)) = state.check_codes.get(&QqNumber(qq)).cloned() else {
        return reply("4", "页面过期，请刷新后再试。");
    };
    let mode = state.knobs.password_mode;
    drop(state);

    if qq != account.qq.get() {
        return reply("3", "您输入的帐号或密码不正确，请重新输入。");
    }
    let verify_code = call.query("verifycode").unwrap_or("");
    if !verify_code.eq_ignore_ascii_case(&code) {
        return reply("4", "您输入的验证码不正确，请重新输入。");
    }
    match password::verify(
        mode,
        &account.password,
        &password::salt_for_qq(qq),
        &code,
        p,
    ) {
        Ok(()) if account.locked => {
            reply("19", "您的帐号暂时无法登录，请到 aq.qq.com 恢复正常使用。")
        }
        Ok(()) => {
            sandbox.lock().check_codes.remove(&QqNumber(qq));
            login_success(&sandbox, &call, "login", 1)
        }
        Err(PasswordFieldError::WrongVerifyCode) => {
            reply("4", "您输入的验证码不正确，请重新输入。")
        }
        Err(_) => reply("3", "您输入的帐号或密码不正确，请重新输入。"),
    }
}

/// Test helpers shared by the control API.
impl SandboxState {
    /// The newest QR ticket that can still be acted on.
    pub(crate) fn newest_qr(&mut self) -> Option<&mut QrTicket> {
        self.qr.iter_mut().rev().find(|t| !t.used && !t.expired)
    }
}

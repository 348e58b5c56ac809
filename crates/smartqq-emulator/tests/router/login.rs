//! ptlogin: QR states, check_sig, the password login.

use axum::http::StatusCode;
use serde_json::json;
use smartqq_emulator::{Config, World};
use smartqq_protocol::api::Era;
use smartqq_protocol::hash::hash33;
use smartqq_protocol::password::{self, CheckAnswer};
use smartqq_protocol::ptui::{PasswordLoginResult, QrLoginState, parse_js_call};

use crate::harness::Browser;

async fn qr_state(browser: &mut Browser) -> QrLoginState {
    let token = hash33(&browser.cookies["qrsig"]);
    let reply = browser
        .get(&format!("/ptqrlogin?ptqrtoken={token}&webqq_type=10"), None)
        .await;
    QrLoginState::parse(&reply.text()).unwrap()
}

#[tokio::test]
async fn qr_code_is_a_png_with_a_qrsig_cookie() {
    let mut browser = Browser::new(Era::Smartqq2018);

    let reply = browser.get("/ptqrshow?appid=501004106&s=5", None).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.headers["content-type"], "image/png");
    assert!(reply.body.starts_with(b"\x89PNG"));
    assert_eq!(browser.cookies["qrsig"].len(), 64);
}

#[tokio::test]
async fn qr_states_follow_the_phone() {
    let mut browser = Browser::new(Era::Smartqq2018);
    browser.get("/ptqrshow", None).await;

    let waiting = qr_state(&mut browser).await;
    browser.control("/sandbox/qr/scan", json!({})).await;
    let scanned = qr_state(&mut browser).await;
    browser.control("/sandbox/qr/confirm", json!({})).await;
    let confirmed = qr_state(&mut browser).await;
    let afterwards = qr_state(&mut browser).await;

    assert_eq!(waiting, QrLoginState::Waiting);
    assert_eq!(scanned, QrLoginState::Scanned);
    let QrLoginState::Confirmed {
        check_sig_url,
        nickname,
    } = confirmed
    else {
        panic!("not confirmed")
    };
    assert!(
        check_sig_url.starts_with("http://127.0.0.1:8650/check_sig?"),
        "{check_sig_url}"
    );
    assert_eq!(nickname, World::builtin().account.nick);
    assert!(browser.cookies.contains_key("ptwebqq") && browser.cookies.contains_key("skey"));
    assert_eq!(
        afterwards,
        QrLoginState::Expired,
        "a used code cannot log in twice"
    );
}

#[tokio::test]
async fn ptqrlogin_answers_the_exact_ptuicb_text() {
    let mut browser = Browser::new(Era::Smartqq2018);
    browser.get("/ptqrshow", None).await;
    let token = hash33(&browser.cookies["qrsig"]);

    let reply = browser
        .get(&format!("/ptqrlogin?ptqrtoken={token}"), None)
        .await;

    assert_eq!(
        reply.text(),
        "ptuiCB('66','0','','0','二维码未失效。', '');"
    );
}

#[tokio::test]
async fn ptqrtoken_is_required_from_2017_but_not_in_the_legacy_era() {
    let mut modern = Browser::new(Era::Smartqq2018);
    let mut legacy = Browser::new(Era::Legacy2015);
    modern.get("/ptqrshow", None).await;
    legacy.get("/ptqrshow", None).await;

    let missing = modern.get("/ptqrlogin?webqq_type=10", None).await;
    let wrong = modern.get("/ptqrlogin?ptqrtoken=12345", None).await;
    let legacy_reply = legacy.get("/ptqrlogin?webqq_type=10", None).await;

    assert_eq!(missing.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    assert_eq!(
        QrLoginState::parse(&legacy_reply.text()).unwrap(),
        QrLoginState::Waiting
    );
}

#[tokio::test]
async fn expired_and_scripted_codes() {
    let mut browser = Browser::new(Era::Smartqq2018);
    browser.get("/ptqrshow", None).await;
    browser.control("/sandbox/qr/expire", json!({})).await;

    let expired = qr_state(&mut browser).await;
    browser.get("/ptqrshow", None).await;
    browser.knobs(json!({"qr_script": "67,10006"})).await;
    let scripted = qr_state(&mut browser).await;
    let fatal = qr_state(&mut browser).await;
    let back_to_normal = qr_state(&mut browser).await;

    assert_eq!(expired, QrLoginState::Expired);
    assert_eq!(scripted, QrLoginState::Scanned);
    assert!(matches!(fatal, QrLoginState::Other { code, .. } if code == "10006"));
    assert_eq!(back_to_normal, QrLoginState::Waiting);
}

#[tokio::test]
async fn auto_confirm_acts_as_the_phone() {
    let config = Config {
        era: Era::Smartqq2018,
        world: World::builtin(),
        auto_confirm: Some(std::time::Duration::ZERO),
    };
    let mut browser = Browser::with_config(config);
    browser.get("/ptqrshow", None).await;

    let state = qr_state(&mut browser).await;

    assert!(matches!(state, QrLoginState::Confirmed { .. }));
}

#[tokio::test]
async fn check_sig_is_one_shot_and_redirects_back_here() {
    let mut browser = Browser::new(Era::Smartqq2018);
    browser.get("/ptqrshow", None).await;
    browser.control("/sandbox/qr/confirm", json!({})).await;
    let QrLoginState::Confirmed { check_sig_url, .. } = qr_state(&mut browser).await else {
        panic!("not confirmed")
    };
    let path = check_sig_url.split_once("8650").unwrap().1.to_owned();

    let first = browser.get(&path, None).await;
    let second = browser.get(&path, None).await;

    assert_eq!(first.status, StatusCode::FOUND);
    assert_eq!(
        first.headers["location"],
        "http://127.0.0.1:8650/proxy.html?login2qq=1&webqq_type=10"
    );
    for cookie in ["p_skey", "p_uin", "pt4_token", "uin", "skey"] {
        assert!(browser.cookies.contains_key(cookie), "{cookie} not set");
    }
    assert_eq!(second.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn real_host_names_get_real_cookie_domains_and_urls() {
    let mut browser = Browser::new(Era::Smartqq2018);
    let request = axum::http::Request::builder()
        .uri("/ptqrshow")
        .header("host", "ssl.ptlogin2.qq.com")
        .body(axum::body::Body::empty())
        .unwrap();

    let reply = browser.send(request).await;
    let wrong_host = axum::http::Request::builder()
        .uri("/channel/poll2")
        .header("host", "ssl.ptlogin2.qq.com")
        .body(axum::body::Body::empty())
        .unwrap();
    let not_found = browser.send(wrong_host).await;

    let cookie = reply.headers["set-cookie"].to_str().unwrap();
    assert!(cookie.ends_with("Domain=ptlogin2.qq.com"), "{cookie}");
    assert_eq!(not_found.status, StatusCode::NOT_FOUND);
}

async fn password_attempt(
    browser: &mut Browser,
    password: &str,
    code_override: Option<&str>,
) -> PasswordLoginResult {
    let qq = World::builtin().account.qq.get();
    let check = browser
        .get(&format!("/check?pt_tea=1&uin={qq}&appid=501004106"), None)
        .await;
    let answer = CheckAnswer::parse(&check.text()).unwrap();
    let code = code_override.unwrap_or(&answer.code);
    let p = password::gen_a(password, &answer.salt, code, || 0x5a);
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("u", &qq.to_string())
        .append_pair("p", &p)
        .append_pair("verifycode", code)
        .append_pair("aid", "501004106")
        .finish();
    let reply = browser.get(&format!("/login?{query}"), None).await;
    PasswordLoginResult::parse(&reply.text()).unwrap()
}

#[tokio::test]
async fn legacy_password_login_accepts_the_right_password_only() {
    let mut browser = Browser::new(Era::Legacy2015);
    let password = World::builtin().account.password;

    let wrong = password_attempt(&mut browser, "not it", None).await;
    let wrong_code = password_attempt(&mut browser, &password, Some("!ZZZ")).await;
    let right = password_attempt(&mut browser, &password, None).await;

    assert!(
        matches!(wrong, PasswordLoginResult::WrongPassword { .. }),
        "{wrong:?}"
    );
    assert!(
        matches!(wrong_code, PasswordLoginResult::WrongCaptcha { .. }),
        "{wrong_code:?}"
    );
    assert!(
        matches!(right, PasswordLoginResult::Success { .. }),
        "{right:?}"
    );
    assert!(browser.cookies.contains_key("ptwebqq"));
}

#[tokio::test]
async fn password_login_md5_mode_and_the_2018_refusal() {
    let mut legacy = Browser::new(Era::Legacy2015);
    let mut modern = Browser::new(Era::Smartqq2018);
    legacy.knobs(json!({"password_mode": "md5"})).await;
    let qq = World::builtin().account.qq.get();
    let check = legacy.get(&format!("/check?uin={qq}"), None).await;
    let answer = CheckAnswer::parse(&check.text()).unwrap();
    let p = password::md5_era(
        &World::builtin().account.password,
        &answer.salt,
        &answer.code,
    );

    let md5 = legacy
        .get(
            &format!(
                "/login?u={qq}&p={p}&verifycode={}",
                answer.code.replace('!', "%21")
            ),
            None,
        )
        .await;
    let refused = modern
        .get(&format!("/login?u={qq}&p={p}&verifycode=x"), None)
        .await;

    assert!(matches!(
        PasswordLoginResult::parse(&md5.text()).unwrap(),
        PasswordLoginResult::Success { .. }
    ));
    assert!(matches!(
        PasswordLoginResult::parse(&refused.text()).unwrap(),
        PasswordLoginResult::AccountProblem { code, .. } if code == "10005"
    ));
}

#[tokio::test]
async fn captcha_is_served_as_an_image_and_checked() {
    let mut browser = Browser::new(Era::Legacy2015);
    browser.knobs(json!({"captcha_required": true})).await;
    let qq = World::builtin().account.qq.get();

    let check = browser.get(&format!("/check?uin={qq}"), None).await;
    let image = browser
        .get(&format!("/getimage?aid=501004106&uin={qq}&cap_cd=x"), None)
        .await;

    let call = parse_js_call(&check.text()).unwrap();
    assert_eq!(call.arg(0), "1");
    assert_eq!(image.headers["content-type"], "image/png");
    assert!(image.body.starts_with(b"\x89PNG"));
    assert!(browser.cookies.contains_key("verifysession"));
}

#[tokio::test]
async fn locked_account_is_refused_with_its_own_code() {
    let mut world = World::builtin();
    world.account.locked = true;
    let password = world.account.password.clone();
    let mut browser = Browser::with_config(Config {
        era: Era::Legacy2015,
        world,
        auto_confirm: None,
    });

    let result = password_attempt(&mut browser, &password, None).await;

    assert!(
        matches!(&result, PasswordLoginResult::AccountProblem { code, .. } if code == "19"),
        "{result:?}"
    );
}

//! The legacy password login against the sandbox's `legacy2015` profile: both password
//! generations, the captcha, and each refusal as its own error.

use serde_json::json;
use smartqq_client::Error;
use smartqq_emulator::World;
use smartqq_protocol::api::Era;
use smartqq_protocol::password::PasswordGeneration;

use crate::support::{OWN_QQ, bounded, client, inspect, sandbox, set_knobs};

fn password() -> String {
    World::builtin().account.password
}

#[tokio::test]
async fn the_right_password_logs_in_with_either_generation() {
    for generation in [PasswordGeneration::GenA, PasswordGeneration::Md5] {
        let server = sandbox(Era::Legacy2015, None).await;
        set_knobs(&server, json!({"password_mode": generation.to_string()})).await;
        let client = client(&server.url(), Era::Legacy2015);

        let check = bounded("check", client.password_check(OWN_QQ))
            .await
            .unwrap();
        bounded(
            "login",
            client.password_login(&check, &password(), None, generation),
        )
        .await
        .unwrap();

        assert!(check.captcha.is_none());
        assert_eq!(client.session().unwrap().qq.get(), OWN_QQ, "{generation}");
        bounded("a contact call", client.friends()).await.unwrap();
    }
}

#[tokio::test]
async fn a_wrong_password_is_its_own_error() {
    let server = sandbox(Era::Legacy2015, None).await;
    let client = client(&server.url(), Era::Legacy2015);

    let check = bounded("check", client.password_check(OWN_QQ))
        .await
        .unwrap();
    let error = bounded(
        "login",
        client.password_login(&check, "not it", None, PasswordGeneration::GenA),
    )
    .await
    .unwrap_err();

    assert!(matches!(error, Error::WrongPassword(_)), "{error:?}");
    assert!(client.session().is_none());
}

#[tokio::test]
async fn a_captcha_is_shown_and_its_answer_checked() {
    let server = sandbox(Era::Legacy2015, None).await;
    set_knobs(&server, json!({"captcha_required": true})).await;
    let client = client(&server.url(), Era::Legacy2015);

    let check = bounded("check", client.password_check(OWN_QQ))
        .await
        .unwrap();
    let unanswered = bounded(
        "login",
        client.password_login(&check, &password(), None, PasswordGeneration::GenA),
    )
    .await
    .unwrap_err();
    let wrong = bounded(
        "login",
        client.password_login(&check, &password(), Some("ZZZZ"), PasswordGeneration::GenA),
    )
    .await
    .unwrap_err();

    let shown = inspect(&server, "/sandbox/captcha").await["code"]
        .as_str()
        .unwrap()
        .to_owned();
    bounded(
        "login",
        client.password_login(
            &check,
            &password(),
            Some(&shown.to_lowercase()),
            PasswordGeneration::GenA,
        ),
    )
    .await
    .expect("the answer the image shows logs in (in any case)");
    let image = check.captcha.as_ref().expect("a captcha image");
    assert!(image.starts_with(b"\x89PNG"));
    assert_eq!(client.session().unwrap().qq.get(), OWN_QQ);
    assert!(matches!(unanswered, Error::CaptchaNeeded), "{unanswered:?}");
    assert!(matches!(wrong, Error::WrongCaptcha(_)), "{wrong:?}");
}

#[tokio::test]
async fn a_locked_account_and_the_2018_server_refuse_with_their_codes() {
    let mut world = World::builtin();
    world.account.locked = true;
    let config = smartqq_emulator::Config {
        era: Era::Legacy2015,
        world,
        auto_confirm: None,
    };
    let locked = smartqq_emulator::SandboxServer::spawn(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let modern = sandbox(Era::Smartqq2018, None).await;

    let mut codes = Vec::new();
    for (server, era) in [(&locked, Era::Legacy2015), (&modern, Era::Smartqq2018)] {
        let client = client(&server.url(), era);
        let check = bounded("check", client.password_check(OWN_QQ))
            .await
            .unwrap();
        let error = bounded(
            "login",
            client.password_login(&check, &password(), None, PasswordGeneration::GenA),
        )
        .await
        .unwrap_err();
        let Error::PasswordRefused { code, .. } = error else {
            panic!("{error:?}")
        };
        codes.push(code);
    }

    assert_eq!(codes, ["19", "10005"]);
}

//! QR login: the states reported through `LoginProgress`, expiry and refresh, giving up,
//! the decoded QR text, and the session left behind.

use serde_json::json;
use smartqq_client::{Client, ClientOptions, Error, LoginProgress};
use smartqq_emulator::SandboxServer;
use smartqq_protocol::api::Era;
use tokio::sync::mpsc;

use crate::support::{OWN_QQ, bounded, control, logged_in, options, request_count, sandbox, world};

const QR_PREFIX: &str = "https://sandbox.gnomeqq.invalid/qr/";

/// Logs in while a phone reacts to each reported step: `phone(step, codes_shown_so_far)`
/// names the control path to call (`/sandbox/qr/…`), if any. Returns the login's result and
/// every step in order.
async fn login_with_phone(
    server: &SandboxServer,
    client: &Client,
    mut phone: impl FnMut(&LoginProgress, usize) -> Option<&'static str>,
) -> (Result<(), Error>, Vec<LoginProgress>) {
    let (steps, mut reported) = mpsc::unbounded_channel();
    let login = client.login_with_qr(move |step| {
        // The receiver below lives until the login has finished.
        let _ = steps.send(step);
    });
    let phone = async {
        let mut seen = Vec::new();
        let mut codes = 0;
        // Ends when the login finishes and drops its progress callback.
        while let Some(step) = reported.recv().await {
            if matches!(step, LoginProgress::QrReady(_)) {
                codes += 1;
            }
            if let Some(path) = phone(&step, codes) {
                control(server, path, json!({})).await;
            }
            seen.push(step);
        }
        seen
    };
    bounded("login", async { tokio::join!(login, phone) }).await
}

fn name(step: &LoginProgress) -> &'static str {
    match step {
        LoginProgress::QrReady(_) => "QrReady",
        LoginProgress::Waiting => "Waiting",
        LoginProgress::Scanned => "Scanned",
        LoginProgress::Expired => "Expired",
        LoginProgress::Connecting => "Connecting",
        LoginProgress::Online => "Online",
        _ => "unknown",
    }
}

fn png_of(step: &LoginProgress) -> Option<Vec<u8>> {
    match step {
        LoginProgress::QrReady(code) => Some(code.png.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn each_qr_state_is_reported_in_order_until_online() {
    let server = sandbox(Era::Smartqq2018, None).await;
    let client = Client::new(options(&server.url(), Era::Smartqq2018)).unwrap();

    let (result, steps) = login_with_phone(&server, &client, |step, _| match step {
        LoginProgress::Waiting => Some("/sandbox/qr/scan"),
        LoginProgress::Scanned => Some("/sandbox/qr/confirm"),
        _ => None,
    })
    .await;

    result.expect("login succeeds");
    let names: Vec<&str> = steps.iter().map(name).collect();
    assert_eq!(
        names,
        ["QrReady", "Waiting", "Scanned", "Connecting", "Online"]
    );
    assert_eq!(request_count(&server, "/ptqrshow").await, 1);
    assert!(client.session().is_some());
}

#[tokio::test]
async fn an_expired_qr_code_is_replaced_by_a_new_one_and_the_login_completes() {
    let server = sandbox(Era::Smartqq2018, None).await;
    let client = Client::new(options(&server.url(), Era::Smartqq2018)).unwrap();

    let (result, steps) = login_with_phone(&server, &client, |step, codes| match (step, codes) {
        (LoginProgress::QrReady(_), 1) => Some("/sandbox/qr/expire"),
        (LoginProgress::QrReady(_), 2) => Some("/sandbox/qr/confirm"),
        _ => None,
    })
    .await;

    result.expect("login with the second code succeeds");
    // Whether a check answered "waiting" before the phone acted is a matter of timing.
    let names: Vec<&str> = steps.iter().map(name).filter(|n| *n != "Waiting").collect();
    assert_eq!(
        names,
        ["QrReady", "Expired", "QrReady", "Connecting", "Online"]
    );
    let pngs: Vec<Vec<u8>> = steps.iter().filter_map(png_of).collect();
    assert_eq!(pngs.len(), 2);
    assert_ne!(pngs[0], pngs[1], "the second QR code is a new picture");
    assert!(client.session().is_some());
}

#[tokio::test]
async fn login_gives_up_with_qr_expired_once_max_qr_codes_have_expired() {
    let server = sandbox(Era::Smartqq2018, None).await;
    control(&server, "/sandbox/knobs", json!({"qr_ttl": 0})).await;
    let client = Client::new(ClientOptions {
        max_qr_codes: 2,
        ..options(&server.url(), Era::Smartqq2018)
    })
    .unwrap();

    let (result, steps) = login_with_phone(&server, &client, |_, _| None).await;

    assert!(matches!(result, Err(Error::QrExpired(2))), "got {result:?}");
    let names: Vec<&str> = steps.iter().map(name).collect();
    assert_eq!(names, ["QrReady", "Expired", "QrReady", "Expired"]);
    assert_eq!(request_count(&server, "/ptqrshow").await, 2);
    assert!(client.session().is_none());
}

#[tokio::test]
async fn qr_code_text_is_decoded_from_the_png() {
    let server = sandbox(Era::Smartqq2018, None).await;
    let client = Client::new(options(&server.url(), Era::Smartqq2018)).unwrap();

    let code = bounded("ptqrshow", client.fetch_qr())
        .await
        .expect("QR code");

    assert!(code.png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let text = code.text.expect("the PNG decodes");
    assert!(text.starts_with(QR_PREFIX), "{text}");
    assert_eq!(text, smartqq_emulator::qr_text(1));
}

#[tokio::test]
async fn session_after_login_holds_the_own_qq_number() {
    let (server, client) = logged_in(Era::Smartqq2018).await;

    let world = world(&server).await;

    let session = client.session().expect("a session after login");
    assert_eq!(session.qq.get(), world.own_qq());
    assert_eq!(session.qq.get(), OWN_QQ);
}

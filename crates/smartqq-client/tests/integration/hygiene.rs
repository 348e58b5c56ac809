//! Nothing secret reaches the logs: a full login, a poll and a send with a TRACE subscriber,
//! checked against every token, cookie and parameter value the client put on the wire.

use std::io;
use std::sync::{Arc, Mutex, OnceLock};

use serde_json::{Value, json};
use smartqq_client::SendTarget;
use smartqq_protocol::api::Era;
use smartqq_protocol::content::Segment;
use smartqq_protocol::ids::Uin;
use smartqq_protocol::poll::PollReply;
use smartqq_protocol::retcode::SendOutcome;

use crate::support::{
    FRIEND, OWN_QQ, RecordedRequest, bounded, inject, logged_in_through_proxy, set_knobs, world,
};

/// Values shorter than this are too common to mean anything when found in a log.
const MIN_SECRET_LEN: usize = 8;

/// Fixed words of the protocol's URLs (spec §3.3, §3.4): public, and fine in a log.
const PROTOCOL_WORDS: [&str; 4] = [
    "ptqrlogin",
    "loginerroralert",
    "undefined",
    "http://w.qq.com/proxy.html?login2qq=1&webqq_type=10",
];

/// Whether a value from the wire is worth looking for: long enough, not a fixed word, and
/// not a plain number (clientid, appid, `t`, `msg_id`, uins: identifiers, not credentials).
fn worth_looking_for(value: &str) -> bool {
    value.len() >= MIN_SECRET_LEN
        && value.chars().any(|c| c.is_alphabetic())
        && !PROTOCOL_WORDS.contains(&value)
}

const RECEIVED_TEXT: &str = "incoming words that must stay out of the log";
const SENT_TEXT: &str = "outgoing words that must stay out of the log";

/// A log sink shared with the test.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl io::Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

/// tracing-core caches each callsite's interest for the whole process. While a single
/// dispatcher exists it asks only the current thread's default, so a callsite first reached
/// on another test's thread (which has no subscriber) is cached as "never", and this test's
/// scoped subscriber would silently miss it. A second, inert dispatcher kept alive for the
/// whole run makes every callsite "sometimes": each event then asks its own thread.
fn keep_an_inert_dispatcher_registered() {
    static INERT: OnceLock<tracing::Dispatch> = OnceLock::new();
    INERT.get_or_init(|| tracing::Dispatch::new(tracing::subscriber::NoSubscriber::default()));
}

/// Every string leaf of a JSON value.
fn strings(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(s) => out.push(s.clone()),
        Value::Array(items) => items.iter().for_each(|item| strings(item, out)),
        Value::Object(members) => members.values().for_each(|member| strings(member, out)),
        _ => {}
    }
}

/// The values a request carried: cookies, query parameters, form fields and the string
/// members of the `r` JSON.
fn carried_values(request: &RecordedRequest) -> Vec<String> {
    let mut values = request.cookie_values();
    values.extend(request.query().into_iter().map(|(_, value)| value));
    for (name, value) in request.form() {
        if name == "r" {
            let r: Value = serde_json::from_str(&value).expect("r is JSON");
            strings(&r, &mut values);
        }
        values.push(value);
    }
    values
}

#[tokio::test(flavor = "current_thread")]
async fn logs_carry_no_token_cookie_parameter_or_message_text() {
    keep_an_inert_dispatcher_registered();
    let log = Buffer::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let (server, proxy, client) = logged_in_through_proxy(Era::Smartqq2018).await;
    set_knobs(&server, json!({"poll_hold": 1.0})).await;
    inject(
        &server,
        json!({"kind": "buddy", "from": FRIEND, "text": RECEIVED_TEXT}),
    )
    .await;
    let received = bounded("poll2", client.poll())
        .await
        .expect("poll succeeds");
    let idle = bounded("poll2", client.poll())
        .await
        .expect("idle poll succeeds");
    let target = SendTarget::Buddy(Uin(world(&server).await.uin(FRIEND)));
    let (outcome, _) = bounded("send", client.send(target, &[Segment::text(SENT_TEXT)]))
        .await
        .expect("send succeeds");
    let session_debug = format!("{:?} {client:?}", client.session().expect("session"));

    assert!(matches!(received, PollReply::Events(ref events) if events.len() == 1));
    assert_eq!(idle, PollReply::Idle);
    assert_eq!(outcome, SendOutcome::Sent);
    let logged = log.text();
    assert!(
        logged.contains("Request done"),
        "the client logged its requests:\n{logged}"
    );
    let mut secrets: Vec<String> = proxy.requests().iter().flat_map(carried_values).collect();
    secrets.retain(|value| worth_looking_for(value));
    secrets.sort();
    secrets.dedup();
    assert!(
        secrets.iter().any(|s| s.len() >= 64),
        "the recorded traffic holds the session tokens: {} values",
        secrets.len()
    );
    for secret in &secrets {
        assert!(
            !logged.contains(secret.as_str()),
            "the log contains {secret:?}:\n{logged}"
        );
        // `Session.qq` is public and shown on purpose; only the tokens must stay hidden.
        let own_qq = secret.trim_start_matches('o') == OWN_QQ.to_string();
        assert!(
            own_qq || !session_debug.contains(secret.as_str()),
            "Debug shows {secret:?}: {session_debug}"
        );
    }
    assert!(
        !logged.contains(RECEIVED_TEXT),
        "received text logged:\n{logged}"
    );
    assert!(!logged.contains(SENT_TEXT), "sent text logged:\n{logged}");
}

//! The four sends: hostile text arrives byte for byte at the right target, the sess
//! signature is fetched once and with the right parameters, and send answers are classified.

use serde_json::{Value, json};
use smartqq_client::{Client, Error, SendTarget};
use smartqq_emulator::SandboxServer;
use smartqq_protocol::api::Era;
use smartqq_protocol::content::Segment;
use smartqq_protocol::ids::{DiscussionId, Gid, Uin};
use smartqq_protocol::poll::SessVia;
use smartqq_protocol::retcode::SendOutcome;

use crate::support::{
    DISCUSSION, FRIEND, FRIEND_OUTSIDE_GROUP_600001, GROUP, STRANGER, WorldView, bounded,
    logged_in, logged_in_through_proxy, request_count, sent, set_knobs, world,
};

/// Text that breaks string-formatted `r` bodies (spec §6.1): quotes, backslashes that look
/// like escapes, LF, TAB, CR, U+2028, astral emoji (one with a skin-tone modifier), CJK,
/// and HTML-looking text that must not be escaped on the way out.
const HOSTILE: &str = "He said \"hi\"\\ C:\\new\\table\nline two\ttabbed\rcr\u{2028}ls \
                       🙂😀🎉👍🏽 中文消息 <b>&amp;</b>";

fn hostile_message() -> Vec<Segment> {
    vec![
        Segment::text(HOSTILE),
        Segment::Face(14),
        Segment::text(" 完"),
    ]
}

/// How `/sandbox/sent` renders [`hostile_message`].
fn hostile_rendered() -> String {
    format!("{HOSTILE}[face:14] 完")
}

async fn send(client: &Client, target: SendTarget, segments: &[Segment]) -> (SendOutcome, u64) {
    bounded("send", client.send(target, segments))
        .await
        .expect("the send request completes")
}

fn sess_via_group(world: &WorldView, to: u64) -> SendTarget {
    SendTarget::Sess {
        to: Uin(world.uin(to)),
        via: SessVia::Group,
        room: world.gid(GROUP),
    }
}

/// Sends the hostile message to `target` and returns the one entry of `/sandbox/sent`,
/// checking the outcome and the msg_id on the way.
async fn send_hostile(
    server: &SandboxServer,
    client: &Client,
    target: impl FnOnce(&WorldView) -> SendTarget,
) -> Value {
    let target = target(&world(server).await);

    let (outcome, msg_id) = send(client, target, &hostile_message()).await;

    assert_eq!(outcome, SendOutcome::Sent);
    let mut sent = sent(server).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let entry = sent.remove(0);
    assert_eq!(entry["msg_id"], msg_id);
    assert_eq!(entry["delivered"], true);
    entry
}

#[tokio::test]
async fn buddy_send_arrives_byte_exact_at_the_friend() {
    let (server, client) = logged_in(Era::Smartqq2018).await;

    let entry = send_hostile(&server, &client, |w| SendTarget::Buddy(Uin(w.uin(FRIEND)))).await;

    assert_eq!(entry["endpoint"], "send_buddy_msg2");
    assert_eq!(entry["target"], FRIEND);
    assert_eq!(entry["text"], hostile_rendered());
}

#[tokio::test]
async fn group_send_arrives_byte_exact_in_the_group() {
    let (server, client) = logged_in(Era::Smartqq2018).await;

    let entry = send_hostile(&server, &client, |w| SendTarget::Group(Gid(w.gid(GROUP)))).await;

    assert_eq!(entry["endpoint"], "send_qun_msg2");
    assert_eq!(entry["target"], GROUP);
    assert_eq!(entry["text"], hostile_rendered());
}

#[tokio::test]
async fn discussion_send_arrives_byte_exact_in_the_discussion() {
    let (server, client) = logged_in(Era::Smartqq2018).await;

    let entry = send_hostile(&server, &client, |_| {
        SendTarget::Discussion(DiscussionId(DISCUSSION))
    })
    .await;

    assert_eq!(entry["endpoint"], "send_discu_msg2");
    assert_eq!(entry["target"], DISCUSSION);
    assert_eq!(entry["text"], hostile_rendered());
}

#[tokio::test]
async fn sess_send_arrives_byte_exact_at_the_stranger() {
    let (server, client) = logged_in(Era::Smartqq2018).await;

    let entry = send_hostile(&server, &client, |w| sess_via_group(w, STRANGER)).await;

    assert_eq!(entry["endpoint"], "send_sess_msg2");
    assert_eq!(entry["target"], STRANGER);
    assert_eq!(entry["text"], hostile_rendered());
}

#[tokio::test]
async fn sess_signature_is_fetched_once_for_two_sends_to_the_same_person() {
    let (server, client) = logged_in(Era::Smartqq2018).await;
    let target = sess_via_group(&world(&server).await, STRANGER);

    let first = send(&client, target, &[Segment::text("one")]).await;
    let second = send(&client, target, &[Segment::text("two")]).await;

    assert_eq!((first.0, second.0), (SendOutcome::Sent, SendOutcome::Sent));
    assert_eq!(request_count(&server, "/channel/get_c2cmsg_sig2").await, 1);
    let texts: Vec<Value> = sent(&server)
        .await
        .into_iter()
        .map(|e| e["text"].clone())
        .collect();
    assert_eq!(texts, ["one", "two"]);
}

#[tokio::test]
async fn sess_signature_request_names_the_room_kind_and_a_millisecond_timestamp() {
    let (server, proxy, client) = logged_in_through_proxy(Era::Smartqq2018).await;
    let world = world(&server).await;
    let via_group = sess_via_group(&world, STRANGER);
    let via_discussion = SendTarget::Sess {
        to: Uin(world.uin(STRANGER)),
        via: SessVia::Discussion,
        room: DISCUSSION,
    };

    let group = send(&client, via_group, &[Segment::text("via the group")]).await;
    let discussion = send(
        &client,
        via_discussion,
        &[Segment::text("via the discussion")],
    )
    .await;

    assert_eq!(
        (group.0, discussion.0),
        (SendOutcome::Sent, SendOutcome::Sent)
    );
    let sig_requests: Vec<_> = proxy
        .requests()
        .into_iter()
        .filter(|r| r.path() == "/channel/get_c2cmsg_sig2")
        .collect();
    assert_eq!(sig_requests.len(), 2, "{sig_requests:?}");
    let expected = [("0", world.gid(GROUP)), ("1", DISCUSSION)];
    for (request, (service_type, room)) in sig_requests.iter().zip(expected) {
        assert_eq!(request.method, "GET");
        assert_eq!(
            request.query_value("service_type").as_deref(),
            Some(service_type)
        );
        assert_eq!(request.query_value("id"), Some(room.to_string()));
        assert_eq!(
            request.query_value("to_uin"),
            Some(world.uin(STRANGER).to_string())
        );
        let t = request.query_value("t").unwrap_or_default();
        assert!(
            t.len() == 13 && t.bytes().all(|b| b.is_ascii_digit()),
            "t={t:?}"
        );
    }
    let targets: Vec<Value> = sent(&server)
        .await
        .into_iter()
        .map(|e| e["target"].clone())
        .collect();
    assert_eq!(targets, [STRANGER, STRANGER]);
}

#[tokio::test]
async fn sess_send_to_a_friend_outside_the_room_is_refused() {
    let (server, client) = logged_in(Era::Smartqq2018).await;
    let target = sess_via_group(&world(&server).await, FRIEND_OUTSIDE_GROUP_600001);

    let result = bounded("send", client.send(target, &[Segment::text("hello?")])).await;

    assert!(matches!(result, Err(Error::SessRefused)), "got {result:?}");
    assert!(sent(&server).await.is_empty());
}

#[tokio::test]
async fn send_answered_1202_and_dropped_is_unconfirmed() {
    let (server, client) = logged_in(Era::Smartqq2018).await;
    set_knobs(&server, json!({"send_result": "1202+drop"})).await;
    let target = SendTarget::Buddy(Uin(world(&server).await.uin(FRIEND)));

    let (outcome, _) = send(&client, target, &[Segment::text("maybe")]).await;

    assert_eq!(outcome, SendOutcome::Unconfirmed);
    let sent = sent(&server).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["delivered"], false);
}

#[tokio::test]
async fn send_answered_100100_is_sent() {
    let (server, client) = logged_in(Era::Smartqq2018).await;
    set_knobs(&server, json!({"send_result": "100100"})).await;
    let target = SendTarget::Discussion(DiscussionId(DISCUSSION));

    let (outcome, _) = send(&client, target, &[Segment::text("delivered anyway")]).await;

    assert_eq!(outcome, SendOutcome::Sent);
    let sent = sent(&server).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["delivered"], true);
}

#[tokio::test]
async fn msg_ids_strictly_increase_across_sends() {
    let (server, client) = logged_in(Era::Smartqq2018).await;
    let world = world(&server).await;
    let targets = [
        SendTarget::Buddy(Uin(world.uin(FRIEND))),
        SendTarget::Group(Gid(world.gid(GROUP))),
        SendTarget::Discussion(DiscussionId(DISCUSSION)),
        sess_via_group(&world, STRANGER),
        SendTarget::Buddy(Uin(world.uin(FRIEND))),
    ];

    let mut ids = Vec::new();
    for target in targets {
        ids.push(send(&client, target, &[Segment::text("n")]).await.1);
    }

    assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "{ids:?}");
    let on_server: Vec<u64> = sent(&server)
        .await
        .iter()
        .map(|e| e["msg_id"].as_u64().unwrap())
        .collect();
    assert_eq!(on_server, ids);
}

//! `poll2`: each kind of message, the idle answers of every era, kicks, and ptwebqq rotation.

use serde_json::json;
use smartqq_client::Client;
use smartqq_protocol::QqNumber;
use smartqq_protocol::api::Era;
use smartqq_protocol::poll::{PollEvent, PollReply, SessVia};

use crate::support::{
    DISCUSSION, FRIEND, FRIEND_IN_DISCUSSION, GROUP, STRANGER, bounded, control, inject, logged_in,
    set_knobs, world,
};

/// What people send: HTML-looking text (escaped by the server), quotes, a line break and
/// an astral emoji.
const TEXT: &str = "你好 Ming! <b>bold?</b> & \"quotes\" &amp; \nsecond line 🙂";

async fn poll(client: &Client) -> PollReply {
    bounded("poll2", client.poll())
        .await
        .expect("poll succeeds")
}

/// One poll that must bring exactly one event.
async fn poll_one_event(client: &Client) -> PollEvent {
    match poll(client).await {
        PollReply::Events(mut events) if events.len() == 1 => events.remove(0),
        other => panic!("expected one event, got {other:?}"),
    }
}

fn text_of(event: &PollEvent) -> String {
    event.content().expect("a chat event").plain_text()
}

#[tokio::test]
async fn buddy_message_arrives_as_message_event_with_decoded_text() {
    let (server, client) = logged_in(Era::Smartqq2018).await;
    let world = world(&server).await;
    inject(
        &server,
        json!({"kind": "buddy", "from": FRIEND, "text": TEXT}),
    )
    .await;

    let event = poll_one_event(&client).await;

    let PollEvent::Message(message) = &event else {
        panic!("expected a buddy message, got {event:?}");
    };
    assert_eq!(message.from_uin.get(), world.uin(FRIEND));
    assert_eq!(text_of(&event), TEXT);
}

#[tokio::test]
async fn group_message_arrives_as_group_message_event_with_decoded_text() {
    let (server, client) = logged_in(Era::Smartqq2018).await;
    let world = world(&server).await;
    inject(
        &server,
        json!({"kind": "group", "from": FRIEND, "group": GROUP, "text": TEXT}),
    )
    .await;

    let event = poll_one_event(&client).await;

    let PollEvent::GroupMessage(message) = &event else {
        panic!("expected a group message, got {event:?}");
    };
    assert_eq!(message.gid().get(), world.gid(GROUP));
    assert_eq!(message.send_uin.get(), world.uin(FRIEND));
    assert_eq!(text_of(&event), TEXT);
}

#[tokio::test]
async fn discussion_message_arrives_as_discu_message_event_with_decoded_text() {
    let (server, client) = logged_in(Era::Smartqq2018).await;
    let world = world(&server).await;
    let message = json!({
        "kind": "discu", "from": FRIEND_IN_DISCUSSION, "discussion": DISCUSSION, "text": TEXT,
    });
    inject(&server, message).await;

    let event = poll_one_event(&client).await;

    let PollEvent::DiscuMessage(message) = &event else {
        panic!("expected a discussion message, got {event:?}");
    };
    assert_eq!(message.did.get(), DISCUSSION);
    assert_eq!(message.send_uin.get(), world.uin(FRIEND_IN_DISCUSSION));
    assert_eq!(text_of(&event), TEXT);
}

#[tokio::test]
async fn sess_message_arrives_as_sess_message_event_with_decoded_text() {
    let (server, client) = logged_in(Era::Smartqq2018).await;
    let world = world(&server).await;
    inject(
        &server,
        json!({"kind": "sess", "from": STRANGER, "group": GROUP, "text": TEXT}),
    )
    .await;

    let event = poll_one_event(&client).await;

    let PollEvent::SessMessage(message) = &event else {
        panic!("expected a sess message, got {event:?}");
    };
    assert_eq!(message.from_uin.get(), world.uin(STRANGER));
    assert_eq!(message.service_type, SessVia::Group);
    assert_eq!(message.id, world.gid(GROUP));
    assert_eq!(message.ruin, Some(QqNumber(STRANGER)));
    assert_eq!(text_of(&event), TEXT);
}

/// A poll that finds nothing within a 1 s hold, answered in `mode`.
async fn idle_poll_answered_as(mode: &str) -> PollReply {
    let (server, client) = logged_in(Era::Smartqq2018).await;
    set_knobs(&server, json!({"poll_idle_mode": mode, "poll_hold": 1.0})).await;

    poll(&client).await
}

#[tokio::test]
async fn idle_poll_answered_with_retcode_100012_is_idle() {
    let reply = idle_poll_answered_as("100012").await;

    assert_eq!(reply, PollReply::Idle);
}

#[tokio::test]
async fn idle_poll_answered_with_http_504_is_idle() {
    let reply = idle_poll_answered_as("http504").await;

    assert_eq!(reply, PollReply::Idle);
}

#[tokio::test]
async fn idle_poll_answered_with_retcode_102_is_idle() {
    let reply = idle_poll_answered_as("102").await;

    assert_eq!(reply, PollReply::Idle);
}

#[tokio::test]
async fn idle_poll_answered_with_the_bogus_ok_error_is_idle() {
    let reply = idle_poll_answered_as("ok_error").await;

    assert_eq!(reply, PollReply::Idle);
}

#[tokio::test]
async fn kick_is_delivered_with_the_reason_given() {
    let (server, client) = logged_in(Era::Smartqq2018).await;
    let reason = "您的帐号在另一地点登录 (sandbox test)";
    control(&server, "/sandbox/kick", json!({"reason": reason})).await;

    let event = poll_one_event(&client).await;

    let PollEvent::Kick(kick) = &event else {
        panic!("expected a kick, got {event:?}");
    };
    assert_eq!(kick.reason, reason);
}

#[tokio::test]
async fn rotated_ptwebqq_is_taken_for_the_next_poll_and_the_list_hash() {
    let (server, client) = logged_in(Era::Legacy2015).await;
    set_knobs(&server, json!({"poll_hold": 1.0})).await;

    // Two rotations: afterwards neither the first ptwebqq (in a poll) nor its hash (in a
    // list call) is accepted by the sandbox any more.
    let mut rotated = Vec::new();
    for _ in 0..2 {
        control(&server, "/sandbox/ptwebqq/rotate", json!({})).await;
        let reply = poll(&client).await;
        let next = poll(&client).await;
        rotated.push((reply, next));
    }
    let friends = bounded("get_user_friends2", client.friends()).await;

    for (reply, next) in &rotated {
        assert!(
            matches!(reply, PollReply::NewPtwebqq(p) if !p.is_empty()),
            "got {reply:?}"
        );
        assert_eq!(*next, PollReply::Idle, "the poll after a 116 is accepted");
    }
    assert_ne!(
        rotated[0].0, rotated[1].0,
        "each rotation brings a new value"
    );
    let friends = friends.expect("the list hash uses the current ptwebqq");
    assert_eq!(friends.friends.len(), 6);
}

#[tokio::test]
async fn a_changed_list_hash_is_found_and_kept() {
    let (server, client) = crate::support::logged_in(Era::Smartqq2018).await;
    crate::support::set_knobs(&server, serde_json::json!({"hash_variant": "quicksort"})).await;
    let before = crate::support::request_count(&server, "/api/get_user_friends2").await;

    let friends = crate::support::bounded("friends", client.friends())
        .await
        .unwrap();
    let after_first = crate::support::request_count(&server, "/api/get_user_friends2").await;
    let groups = crate::support::bounded("groups", client.groups())
        .await
        .unwrap();

    assert_eq!(friends.friends.len(), 6);
    assert_eq!(
        after_first - before,
        3,
        "ECOK, then password-error, then quicksort"
    );
    assert_eq!(groups.gnamelist.len(), 2);
    assert_eq!(
        crate::support::request_count(&server, "/api/get_group_name_list_mask2").await,
        1,
        "the winner was remembered"
    );
}

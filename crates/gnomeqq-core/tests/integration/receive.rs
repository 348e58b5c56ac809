//! Receiving: each kind of message as an `AppEvent::Message` with names resolved, batches,
//! echoes of our own sends, and senders the directory does not know.

use gnomeqq_core::Conversation;
use gnomeqq_history::{ConversationKey, ConversationKind};
use serde_json::json;
use smartqq_protocol::content::Segment;

use crate::support::{
    CHEN_JING, DISCUSSION, DISCUSSION_NAME, EVE, GROUP, GROUP_NAME, HOSTILE, LI_NA, OWN_NICK,
    OWN_QQ, ZHANG, account, bounded, hostile_received, inject, next_message, online, sandbox,
    start_poll_loop,
};

/// A smile, after the hostile text in every injected chat message below.
fn smile() -> serde_json::Value {
    json!([{"type": "face", "data": 14}])
}

fn expected_segments() -> Vec<Segment> {
    vec![Segment::Text(hostile_received()), Segment::Face(14)]
}

fn expected_text() -> String {
    format!("{}[face:14]", hostile_received())
}

#[tokio::test]
async fn buddy_message_arrives_from_the_friend_under_the_markname() {
    let mut session = online().await;
    let _poll = start_poll_loop(&session.account);

    inject(
        &session.server,
        json!({"kind": "buddy", "from": ZHANG, "text": HOSTILE, "segments": smile()}),
    )
    .await;
    let message = next_message(&mut session.events).await;

    let zhang = session.world.uin(ZHANG);
    assert_eq!(message.conversation, Conversation::Friend { uin: zhang });
    assert_eq!(message.conversation_name, "老张");
    assert_eq!(message.sender_uin, zhang);
    assert_eq!(message.sender_name, "老张");
    assert_eq!(message.sender_markname.as_deref(), Some("老张"));
    assert_eq!(message.sender_qq, None);
    assert!(!message.own);
    assert_eq!(message.text, expected_text());
    assert_eq!(message.segments, expected_segments());
}

#[tokio::test]
async fn group_message_arrives_in_the_group_under_the_senders_card() {
    let mut session = online().await;
    let _poll = start_poll_loop(&session.account);

    inject(
        &session.server,
        json!({"kind": "group", "from": EVE, "group": GROUP, "text": HOSTILE,
               "segments": smile()}),
    )
    .await;
    let message = next_message(&mut session.events).await;

    assert_eq!(
        message.conversation,
        Conversation::Group {
            gid: session.world.gid(GROUP)
        }
    );
    assert_eq!(message.conversation_name, GROUP_NAME);
    assert_eq!(message.sender_uin, session.world.uin(EVE));
    assert_eq!(message.sender_name, "Eve (ops)");
    assert_eq!(message.sender_markname, None);
    assert!(!message.own);
    assert_eq!(message.text, expected_text());
    assert_eq!(message.segments, expected_segments());
}

#[tokio::test]
async fn discussion_message_arrives_in_the_discussion_with_the_senders_qq_number() {
    let mut session = online().await;
    let _poll = start_poll_loop(&session.account);

    inject(
        &session.server,
        json!({"kind": "discu", "from": EVE, "discussion": DISCUSSION, "text": HOSTILE,
               "segments": smile()}),
    )
    .await;
    let message = next_message(&mut session.events).await;

    assert_eq!(
        message.conversation,
        Conversation::Discussion { did: DISCUSSION }
    );
    assert_eq!(message.conversation_name, DISCUSSION_NAME);
    assert_eq!(
        message.history_key,
        ConversationKey::new(
            ConversationKind::Discussion,
            format!("discussion:{DISCUSSION}")
        )
    );
    assert_eq!(message.sender_uin, session.world.uin(EVE));
    assert_eq!(message.sender_name, "Eve");
    assert_eq!(message.sender_qq, Some(EVE));
    assert!(!message.own);
    assert_eq!(message.text, expected_text());
    assert_eq!(message.segments, expected_segments());
}

#[tokio::test]
async fn temporary_message_via_a_group_arrives_under_the_card_of_that_group() {
    let mut session = online().await;
    let _poll = start_poll_loop(&session.account);

    inject(
        &session.server,
        json!({"kind": "sess", "from": CHEN_JING, "group": GROUP, "text": HOSTILE,
               "segments": smile()}),
    )
    .await;
    let message = next_message(&mut session.events).await;

    let chen_jing = session.world.uin(CHEN_JING);
    assert_eq!(
        message.conversation,
        Conversation::Temporary {
            uin: chen_jing,
            via_group: true,
            room: session.world.gid(GROUP),
        }
    );
    assert_eq!(message.conversation_name, "静静");
    // Keyed by the person, so the same chat is found again through another group.
    assert_eq!(
        message.history_key,
        ConversationKey::new(ConversationKind::Temporary, format!("qq:{CHEN_JING}"))
    );
    assert_eq!(message.sender_uin, chen_jing);
    assert_eq!(message.sender_name, "静静");
    assert_eq!(message.sender_qq, Some(CHEN_JING));
    assert!(!message.own);
    assert_eq!(message.text, expected_text());
    assert_eq!(message.segments, expected_segments());
}

#[tokio::test]
async fn messages_queued_before_one_poll_all_arrive_in_order() {
    let mut session = online().await;
    crate::support::set_knobs(&session.server, json!({"batch_results": 3})).await;
    inject(
        &session.server,
        json!({"kind": "buddy", "from": ZHANG, "text": "first"}),
    )
    .await;
    inject(
        &session.server,
        json!({"kind": "group", "from": EVE, "group": GROUP, "text": "second"}),
    )
    .await;
    inject(
        &session.server,
        json!({"kind": "buddy", "from": LI_NA, "text": "third"}),
    )
    .await;

    let _poll = start_poll_loop(&session.account);
    let mut messages = Vec::new();
    for _ in 0..3 {
        messages.push(next_message(&mut session.events).await);
    }

    let texts: Vec<&str> = messages.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["first", "second", "third"]);
    let kinds: Vec<&str> = messages.iter().map(|m| m.conversation.kind()).collect();
    assert_eq!(kinds, ["friend", "group", "friend"]);
    assert!(
        messages.windows(2).all(|w| w[0].msg_id < w[1].msg_id),
        "server counters rise: {messages:?}"
    );
    let polls = crate::support::request_count(&session.server, "/channel/poll2").await;
    // The poll that brought all three, and perhaps the next one, held now.
    assert!(polls <= 2, "{polls} polls for one batch");
}

#[tokio::test]
async fn own_group_message_comes_back_marked_as_own() {
    let mut session = online().await;
    let _poll = start_poll_loop(&session.account);
    let group = Conversation::Group {
        gid: session.world.gid(GROUP),
    };

    let outcomes = bounded("send", session.account.send_text(group, HOSTILE))
        .await
        .expect("send succeeds");
    let message = next_message(&mut session.events).await;

    assert_eq!(outcomes.len(), 1);
    assert_eq!(message.conversation, group);
    assert_eq!(message.conversation_name, GROUP_NAME);
    assert!(message.own);
    assert_eq!(message.sender_uin, OWN_QQ);
    assert_eq!(message.sender_name, OWN_NICK);
    assert_eq!(message.text, hostile_received());
}

/// Simulated by logging in without loading the contact lists (as when a message arrives
/// before they are loaded, or their load failed): the directory then knows neither the
/// group nor its members. The sandbox cannot add a member to a group after the lists were
/// loaded, so this is the nearest it comes.
#[tokio::test]
async fn group_message_from_someone_outside_the_directory_arrives_under_placeholders() {
    let server = sandbox().await;
    let (account, mut events) = account(&server);
    bounded("login", account.client().login_with_qr(|_| {}))
        .await
        .expect("client login succeeds");
    let world = crate::support::world_view(&server).await;
    let _poll = start_poll_loop(&account);

    inject(
        &server,
        json!({"kind": "group", "from": EVE, "group": GROUP, "text": "who am I?"}),
    )
    .await;
    let message = next_message(&mut events).await;

    let (gid, eve) = (world.gid(GROUP), world.uin(EVE));
    assert!(account.directory().groups.is_empty());
    assert_eq!(message.conversation, Conversation::Group { gid });
    assert_eq!(message.conversation_name, format!("group {gid}"));
    assert_eq!(message.sender_uin, eve);
    assert_eq!(message.sender_name, format!("uin {eve}"));
    assert!(!message.own);
    assert_eq!(message.text, "who am I?");
}

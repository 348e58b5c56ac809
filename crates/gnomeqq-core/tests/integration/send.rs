//! Sending: every conversation kind, long texts in parts, and a send the server may have
//! dropped.

use gnomeqq_core::Conversation;
use gnomeqq_core::account::MAX_PART_BYTES;
use serde_json::json;
use smartqq_protocol::retcode::SendOutcome;

use crate::support::{DISCUSSION, EVE, GROUP, HOSTILE, ZHANG, bounded, online, sent, set_knobs};

/// 1,500 bytes of words, CJK and emoji, with a marker per word to see the order.
fn long_text() -> String {
    let text: String = (0..100).map(|i| format!("w{i:02}-中文🙂 ")).collect();
    assert_eq!(text.len(), 1_500);
    text
}

#[tokio::test]
async fn text_sent_to_every_conversation_kind_reaches_the_server_byte_for_byte() {
    let session = online().await;
    let world = &session.world;
    let targets = [
        (
            Conversation::Friend {
                uin: world.uin(ZHANG),
            },
            "send_buddy_msg2",
            ZHANG,
        ),
        (
            Conversation::Group {
                gid: world.gid(GROUP),
            },
            "send_qun_msg2",
            GROUP,
        ),
        (
            Conversation::Discussion { did: DISCUSSION },
            "send_discu_msg2",
            DISCUSSION,
        ),
        (
            Conversation::Temporary {
                uin: world.uin(EVE),
                via_group: true,
                room: world.gid(GROUP),
            },
            "send_sess_msg2",
            EVE,
        ),
    ];

    let mut outcomes = Vec::new();
    for (conversation, _, _) in targets {
        let outcome = bounded("send", session.account.send_text(conversation, HOSTILE)).await;
        outcomes.push(outcome.expect("send succeeds"));
    }
    let sent = sent(&session.server).await;

    assert!(
        outcomes.iter().all(|o| o == &[SendOutcome::Sent]),
        "{outcomes:?}"
    );
    let seen: Vec<(&str, u64, &str, bool)> = sent
        .iter()
        .map(|s| {
            (
                s["endpoint"].as_str().unwrap_or_default(),
                s["target"].as_u64().unwrap_or_default(),
                s["text"].as_str().unwrap_or_default(),
                s["delivered"].as_bool().unwrap_or_default(),
            )
        })
        .collect();
    let expected: Vec<(&str, u64, &str, bool)> = targets
        .iter()
        .map(|&(_, endpoint, target)| (endpoint, target, HOSTILE, true))
        .collect();
    assert_eq!(seen, expected);
}

#[tokio::test]
async fn long_text_goes_out_in_parts_that_arrive_in_order_and_rebuild_it() {
    let session = online().await;
    let friend = Conversation::Friend {
        uin: session.world.uin(ZHANG),
    };
    let text = long_text();

    let outcomes = bounded("send", session.account.send_text(friend, &text))
        .await
        .expect("send succeeds");
    let sent = sent(&session.server).await;

    let parts: Vec<&str> = sent
        .iter()
        .map(|s| s["text"].as_str().unwrap_or_default())
        .collect();
    assert!(parts.len() >= 3, "1,500 bytes need three parts: {parts:?}");
    assert_eq!(outcomes, vec![SendOutcome::Sent; parts.len()]);
    assert!(parts.iter().all(|p| p.len() <= MAX_PART_BYTES), "{parts:?}");
    assert_eq!(parts.concat(), text);
    assert!(
        sent.iter()
            .all(|s| s["target"] == ZHANG && s["delivered"] == true)
    );
}

#[tokio::test]
async fn unconfirmed_part_stops_the_rest_of_a_long_text() {
    let session = online().await;
    set_knobs(&session.server, json!({"send_result": "1202+drop"})).await;
    let friend = Conversation::Friend {
        uin: session.world.uin(ZHANG),
    };

    let outcomes = bounded("send", session.account.send_text(friend, &long_text()))
        .await
        .expect("the send itself completes");
    let sent = sent(&session.server).await;

    assert_eq!(outcomes, [SendOutcome::Unconfirmed]);
    assert_eq!(sent.len(), 1, "only the first part went out: {sent:?}");
    assert_eq!(sent[0]["delivered"], false);
}

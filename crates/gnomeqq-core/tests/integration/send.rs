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

/// The outbound rows of a history file, read through a handle of the test's own.
fn outbound_rows(path: &std::path::Path) -> Vec<gnomeqq_history::StoredMessage> {
    gnomeqq_history::History::open(path)
        .unwrap()
        .messages(None, None, 100)
        .unwrap()
        .into_iter()
        .filter(|message| message.direction == gnomeqq_history::Direction::Out)
        .collect()
}

#[tokio::test]
async fn a_failed_message_is_sent_again_in_its_own_row_and_confirmed_by_its_echo() {
    use gnomeqq_history::OutboxState;

    let dir = std::env::temp_dir().join(format!("gnomeqq-core-resend-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("history.sqlite3");
    let session = online().await;
    assert!(
        session
            .account
            .attach_history(gnomeqq_history::History::open(&path).unwrap())
    );
    let _poll = crate::support::start_poll_loop(&session.account);
    let group = Conversation::Group {
        gid: session.world.gid(GROUP),
    };
    set_knobs(&session.server, json!({"send_result": "102"})).await;
    let refused = bounded("send", session.account.send_text(group, "再试一次 again"))
        .await
        .expect("the send itself completes");
    assert_eq!(refused, [SendOutcome::Frozen]);
    let rows = outbound_rows(&path);
    assert_eq!(rows.len(), 1);
    assert!(matches!(rows[0].outbox_state, Some(OutboxState::Failed(_))));
    let id = rows[0].id;

    set_knobs(&session.server, json!({"send_result": "0"})).await;
    let outcome = bounded("resend", session.account.resend(id))
        .await
        .expect("the resend completes");

    assert_eq!(outcome, SendOutcome::Sent);
    let sent = sent(&session.server).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(
        sent[0]["delivered"], false,
        "the frozen account's send was dropped"
    );
    assert_eq!(sent[1]["delivered"], true);
    assert_eq!(sent[1]["text"], "再试一次 again");
    // The sandbox echoes our group message through the poll; it confirms the same row.
    let deadline = std::time::Instant::now() + crate::support::WAIT;
    let rows = loop {
        let rows = outbound_rows(&path);
        let confirmed =
            rows.first().and_then(|row| row.outbox_state.clone()) == Some(OutboxState::Confirmed);
        if confirmed || std::time::Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(rows.len(), 1, "one row, confirmed, and no copy: {rows:?}");
    assert_eq!(rows[0].id, id);
    assert_eq!(rows[0].outbox_state, Some(OutboxState::Confirmed));

    // A confirmed message is not sent again.
    let again = bounded("resend", session.account.resend(id)).await;
    assert!(
        matches!(again, Err(gnomeqq_core::account::Error::History(_))),
        "{again:?}"
    );
    assert_eq!(crate::support::sent(&session.server).await.len(), 2);
    drop(session);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A temporary-session message from 陈静 through the group. She is no friend; the
/// group's member list does not show her QQ number, her message does.
async fn message_from_chen_jing(
    session: &mut crate::support::Online,
) -> gnomeqq_core::IncomingMessage {
    crate::support::inject(
        &session.server,
        json!({"kind": "sess", "from": crate::support::CHEN_JING, "group": GROUP,
               "text": "在吗"}),
    )
    .await;
    crate::support::next_message(&mut session.events).await
}

#[tokio::test]
async fn a_reply_in_a_temporary_session_is_filed_with_the_peers_messages() {
    let dir = std::env::temp_dir().join(format!("gnomeqq-core-sess-key-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("history.sqlite3");
    let mut session = online().await;
    assert!(
        session
            .account
            .attach_history(gnomeqq_history::History::open(&path).unwrap())
    );
    let _poll = crate::support::start_poll_loop(&session.account);
    let message = message_from_chen_jing(&mut session).await;
    assert_eq!(
        message.history_key.stable_id,
        format!("qq:{}", crate::support::CHEN_JING)
    );

    let outcomes = bounded(
        "send",
        session.account.send_text(message.conversation, "在的"),
    )
    .await
    .expect("the reply completes");
    let found = session.account.find_stable(
        gnomeqq_core::TargetKind::Temporary,
        &message.history_key.stable_id,
    );

    assert_eq!(outcomes, [SendOutcome::Sent]);
    let conversation = gnomeqq_history::History::open(&path)
        .unwrap()
        .messages(Some(&message.history_key), None, 10)
        .unwrap();
    let texts: Vec<&str> = conversation.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(texts, ["在吗", "在的"], "one conversation in the history");
    assert_eq!(
        found.expect("the session is found again by its stable id"),
        message.conversation
    );
    drop(session);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_temporary_session_is_still_found_by_its_peers_key_after_a_relink() {
    let mut session = online().await;
    let poll = crate::support::start_poll_loop(&session.account);
    let message = message_from_chen_jing(&mut session).await;
    session.account.stop();
    bounded("stop", poll).await.unwrap();

    // A relink (poll 121) renews the psessionid; the uins, and so the session, stay.
    bounded("relink", session.account.client().relink())
        .await
        .expect("the relink succeeds");
    let found = session.account.find_stable(
        gnomeqq_core::TargetKind::Temporary,
        &message.history_key.stable_id,
    );

    assert_eq!(
        found.expect("the session is found by its stable id after the relink"),
        message.conversation
    );
}

#[tokio::test]
async fn a_temporary_session_learned_before_a_new_login_is_not_reached_by_its_old_uin() {
    let mut session = online().await;
    set_knobs(
        &session.server,
        json!({"poll_hold": 1, "reassign_uins_on_login": true}),
    )
    .await;
    let supervisor = tokio::spawn({
        let account = session.account.clone();
        async move { account.run_supervised(false).await }
    });
    let message = message_from_chen_jing(&mut session).await;

    // The session expires; single sign-on logs in again, with new uins.
    crate::support::control(&session.server, "/sandbox/session/expire", json!({})).await;
    loop {
        if let gnomeqq_core::AppEvent::Reconnected { .. } =
            crate::support::next_event(&mut session.events).await
        {
            break;
        }
    }
    let found = session.account.find_stable(
        gnomeqq_core::TargetKind::Temporary,
        &message.history_key.stable_id,
    );

    assert!(
        matches!(found, Err(gnomeqq_core::account::Error::NoMatch { .. })),
        "the session's old uin may name someone else now: {found:?}"
    );
    session.account.stop();
    bounded("stop", supervisor).await.unwrap();
}

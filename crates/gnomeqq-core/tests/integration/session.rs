//! Saved sessions and the supervisor: resume without a scan, single sign-on after an
//! expiry, relink after 121, unusable saved sessions, and the limits on recovery.

use std::sync::Arc;

use gnomeqq_core::{AppEvent, Connected, FileSessionStore, PollEnd};
use serde_json::json;

use crate::support::{
    BOB, WAIT, account, bounded, control, inject, inspect, next_event, sandbox, set_knobs,
};

fn temporary_store(name: &str) -> (std::path::PathBuf, Arc<FileSessionStore>) {
    let dir = std::env::temp_dir().join(format!(
        "gnomeqq-core-session-{name}-{}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let store = Arc::new(FileSessionStore::new(dir.join("session.json")));
    (dir, store)
}

/// The next message, skipping the login and connection events before it.
async fn message_after(
    events: &mut tokio::sync::mpsc::UnboundedReceiver<AppEvent>,
) -> gnomeqq_core::IncomingMessage {
    loop {
        if let AppEvent::Message(message) = next_event(events).await {
            return message;
        }
    }
}

async fn qr_codes_shown(server: &smartqq_emulator::SandboxServer) -> u64 {
    inspect(server, "/sandbox/counters").await["requests"]["/ptqrshow"]
        .as_u64()
        .unwrap_or(0)
}

#[tokio::test]
async fn a_saved_session_is_resumed_by_a_new_client_without_a_scan() {
    let server = sandbox().await;
    let (dir, store) = temporary_store("resume");
    let (first, _first_events) = account(&server);
    let first = first.with_session_store(store.clone());
    bounded("first login", first.connect())
        .await
        .expect("first login");

    let (second, mut events) = account(&server);
    let second = second.with_session_store(store);
    let connected = bounded("resume", second.connect()).await.expect("resume");
    let poll = tokio::spawn({
        let second = second.clone();
        async move { second.run_supervised(false).await }
    });
    inject(
        &server,
        json!({"kind": "buddy", "from": BOB, "text": "still there?"}),
    )
    .await;
    let message = message_after(&mut events).await;

    assert_eq!(connected, Connected::Resumed);
    assert_eq!(
        qr_codes_shown(&server).await,
        1,
        "the second client needed no QR code"
    );
    assert_eq!(message.text, "still there?");
    second.stop();
    assert_eq!(bounded("stop", poll).await.unwrap(), PollEnd::Stopped);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn an_expired_saved_session_signs_on_again_without_a_scan() {
    let server = sandbox().await;
    let (dir, store) = temporary_store("sso");
    let (first, _) = account(&server);
    bounded(
        "first login",
        first.with_session_store(store.clone()).connect(),
    )
    .await
    .unwrap();
    control(&server, "/sandbox/session/expire", json!({})).await;

    let (second, _) = account(&server);
    let connected = bounded("sign-on", second.with_session_store(store).connect())
        .await
        .unwrap();

    assert_eq!(connected, Connected::SignedOn);
    assert_eq!(qr_codes_shown(&server).await, 1);
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_corrupt_saved_session_gives_a_notice_and_a_new_login() {
    let server = sandbox().await;
    let (dir, store) = temporary_store("corrupt");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("session.json"), "{\"format\":1,\"server\":").unwrap();
    let (account, mut events) = account(&server);

    let connected = bounded("login", account.with_session_store(store.clone()).connect())
        .await
        .unwrap();
    let first_event = next_event(&mut events).await;

    assert_eq!(connected, Connected::Scanned);
    assert!(
        matches!(first_event, AppEvent::Notice { ref text, kind: gnomeqq_core::NoticeKind::SavedSessionUnusable } if text.contains("unusable")),
        "{first_event:?}"
    );
    let saved = std::fs::read_to_string(dir.join("session.json")).unwrap();
    assert!(
        saved.starts_with("{\"format\":1"),
        "a fresh session replaced the corrupt one"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn the_supervisor_renews_an_expired_session_and_delivers_what_follows() {
    let server = sandbox().await;
    set_knobs(&server, json!({"poll_hold": 1})).await;
    let (account, mut events) = account(&server);
    bounded("login", account.connect()).await.unwrap();
    let poll = tokio::spawn({
        let account = account.clone();
        async move { account.run_supervised(false).await }
    });

    control(&server, "/sandbox/session/expire", json!({})).await;
    let mut reconnected = None;
    while reconnected.is_none() {
        match next_event(&mut events).await {
            AppEvent::Reconnected { how } => reconnected = Some(how),
            // A recovered session is never reported lost or stopped.
            event @ (AppEvent::SessionLost { .. } | AppEvent::Stopped) => panic!("{event:?}"),
            _ => {}
        }
    }
    inject(
        &server,
        json!({"kind": "buddy", "from": BOB, "text": "after the expiry"}),
    )
    .await;
    let message = message_after(&mut events).await;

    assert_eq!(reconnected.as_deref(), Some("single sign-on"));
    assert_eq!(message.text, "after the expiry");
    assert_eq!(
        message.sender_name, "Bob",
        "contacts were reloaded with the new uins"
    );
    assert_eq!(qr_codes_shown(&server).await, 1);
    account.stop();
    assert_eq!(bounded("stop", poll).await.unwrap(), PollEnd::Stopped);
}

#[tokio::test]
async fn without_single_sign_on_and_scanning_the_supervisor_gives_up() {
    let server = sandbox().await;
    set_knobs(&server, json!({"poll_hold": 1, "sso_resume": false})).await;
    let (account, _events) = account(&server);
    bounded("login", account.connect()).await.unwrap();

    control(&server, "/sandbox/session/expire", json!({})).await;
    let end = tokio::time::timeout(WAIT, account.run_supervised(false))
        .await
        .expect("the supervisor ends");

    assert!(matches!(end, PollEnd::SessionLost(_)), "{end:?}");
}

#[tokio::test]
async fn instant_idle_answers_do_not_make_the_loop_spin() {
    let server = sandbox().await;
    set_knobs(
        &server,
        json!({"poll_hold": 0, "poll_idle_mode": "ok_error"}),
    )
    .await;
    let (account, _events) = account(&server);
    bounded("login", account.connect()).await.unwrap();
    let polls_before = inspect(&server, "/sandbox/counters").await["requests"]["/channel/poll2"]
        .as_u64()
        .unwrap_or(0);

    let poll = tokio::spawn({
        let account = account.clone();
        async move { account.run_supervised(false).await }
    });
    // Sampling over a fixed window is the point here: how many polls does 3 s cost?
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let polls = inspect(&server, "/sandbox/counters").await["requests"]["/channel/poll2"]
        .as_u64()
        .unwrap_or(0)
        - polls_before;
    account.stop();

    assert!(polls <= 8, "{polls} polls in 3 s");
    assert_eq!(bounded("stop", poll).await.unwrap(), PollEnd::Stopped);
}

#[tokio::test]
async fn a_stable_id_reaches_the_same_friend_after_uins_are_dealt_anew() {
    let server = sandbox().await;
    let (dir, store) = temporary_store("stable-id");
    let (first, _) = account(&server);
    let first = first.with_session_store(store.clone());
    bounded("first login", first.connect()).await.unwrap();
    let (bob, _) = first.find(gnomeqq_core::TargetKind::Friend, "Bob").unwrap();
    let bob_id = first.stable_id(bob);
    let gnomeqq_core::Conversation::Friend { uin: old_uin } = bob else {
        panic!("{bob:?}")
    };

    // A new login deals every uin anew: Bob's old uin now names someone else.
    control(&server, "/sandbox/session/expire", json!({})).await;
    let (second, _) = account(&server);
    let second = second
        .with_session_store(store)
        .with_send_pacing(std::time::Duration::ZERO);
    bounded("second login", second.connect()).await.unwrap();
    let now = second
        .find_stable(gnomeqq_core::TargetKind::Friend, &bob_id)
        .unwrap();
    let stale = second.find(gnomeqq_core::TargetKind::Friend, &old_uin.to_string());
    bounded("send", second.send_text(now, "still you?"))
        .await
        .unwrap();
    let sent = inspect(&server, "/sandbox/sent").await;

    assert!(bob_id.starts_with("friend:"), "{bob_id}");
    assert_ne!(now, bob, "the uin changed");
    assert_ne!(stale.map(|(c, _)| c).ok(), Some(now));
    assert_eq!(
        sent[0]["target"], BOB,
        "the message reached Bob, not the new owner of his old uin"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn sends_are_paced() {
    let server = sandbox().await;
    let (account, _) = account(&server);
    let account = account.with_send_pacing(std::time::Duration::from_millis(300));
    bounded("login", account.connect()).await.unwrap();
    let (bob, _) = account
        .find(gnomeqq_core::TargetKind::Friend, "Bob")
        .unwrap();
    let started = std::time::Instant::now();

    for text in ["one", "two", "three"] {
        bounded("send", account.send_text(bob, text)).await.unwrap();
    }

    assert!(
        started.elapsed() >= std::time::Duration::from_millis(600),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        inspect(&server, "/sandbox/sent")
            .await
            .as_array()
            .unwrap()
            .len(),
        3
    );
}

#[tokio::test]
async fn group_members_carry_their_roles() {
    let server = sandbox().await;
    let (account, _) = account(&server);
    bounded("login", account.connect()).await.unwrap();

    let directory = account.directory();
    let badminton = directory
        .groups
        .values()
        .find(|g| g.name == "周末羽毛球 Badminton")
        .unwrap();
    let developers = directory
        .groups
        .values()
        .find(|g| g.name == "GnomeQQ 开发组")
        .unwrap();
    let role_of = |room: &gnomeqq_core::directory::Room, nick: &str| {
        room.members
            .values()
            .find(|m| m.nick == nick)
            .map(|m| m.role)
    };

    use gnomeqq_core::directory::Role;
    assert_eq!(role_of(badminton, "Bob"), Some(Role::Owner));
    assert_eq!(role_of(developers, "小明 Ming"), Some(Role::Owner));
    assert_eq!(role_of(developers, "张伟"), Some(Role::Admin));
    assert_eq!(role_of(developers, "Eve"), Some(Role::Member));
    assert_eq!(role_of(badminton, "李娜"), Some(Role::Member));
}

#[tokio::test]
async fn a_sender_the_directory_does_not_know_triggers_a_refresh() {
    let server = sandbox().await;
    let (account, mut events) = account(&server);
    // Logged in, but the contact lists never loaded: everyone is a stranger.
    bounded("login", account.client().login_with_qr(|_| {}))
        .await
        .unwrap();
    let poll = tokio::spawn({
        let account = account.clone();
        async move { account.run_poll_loop().await }
    });
    let group_message = json!({"kind": "group", "from": crate::support::EVE, "group": crate::support::GROUP, "text": "who am I"});

    inject(&server, group_message.clone()).await;
    let first = message_after(&mut events).await;
    bounded("the refresh", async {
        while account.directory().groups.is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await;
    inject(&server, group_message).await;
    let second = message_after(&mut events).await;

    assert!(
        first.sender_name.starts_with("uin "),
        "{}",
        first.sender_name
    );
    assert_eq!(second.sender_name, "Eve (ops)");
    assert_eq!(second.conversation_name, crate::support::GROUP_NAME);
    account.stop();
    assert_eq!(bounded("stop", poll).await.unwrap(), PollEnd::Stopped);
}

#[tokio::test]
async fn the_recent_list_puts_the_latest_conversation_first() {
    let server = sandbox().await;
    // Written while we are offline: the server keeps them and lists the conversations.
    let earlier = json!({"kind": "buddy", "from": BOB, "text": "earlier"});
    control(&server, "/sandbox/messages", earlier).await;
    let later = json!({"kind": "discu", "from": BOB, "discussion": crate::support::DISCUSSION, "text": "later"});
    control(&server, "/sandbox/messages", later).await;
    let (account, _) = account(&server);

    bounded("login", account.connect()).await.unwrap();

    let recent = account.directory().recent;
    assert_eq!(recent.len(), 2);
    assert_eq!(
        recent[0],
        gnomeqq_core::Conversation::Discussion {
            did: crate::support::DISCUSSION
        }
    );
    assert!(matches!(
        recent[1],
        gnomeqq_core::Conversation::Friend { .. }
    ));
}

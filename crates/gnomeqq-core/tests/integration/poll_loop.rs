//! The poll loop: how it ends (kick, stop, lost session), one poll at a time, and no spin
//! when every poll is refused.

use std::time::Duration;

use gnomeqq_core::{AppEvent, PollEnd};
use serde_json::json;
use smartqq_emulator::SandboxServer;

use crate::support::{
    EVE, GROUP, bounded, control, counters, inject, next_event, next_message, online,
    request_count, set_knobs, start_poll_loop, until_a_poll_is_held,
};

const POLL2: &str = "/channel/poll2";
const ONLINE_BUDDIES: &str = "/channel/get_online_buddies2";

#[tokio::test]
async fn kick_ends_the_loop_with_the_reason_then_publishes_kicked_and_stopped() {
    let mut session = online().await;
    let poll = start_poll_loop(&session.account);
    until_a_poll_is_held(&session.server).await;

    control(
        &session.server,
        "/sandbox/kick",
        json!({"reason": "logged in elsewhere (test)"}),
    )
    .await;
    let end = bounded("the loop's end", poll).await.expect("loop task");

    assert_eq!(
        end,
        PollEnd::Kicked("logged in elsewhere (test)".to_owned())
    );
    assert_eq!(
        next_event(&mut session.events).await,
        AppEvent::Kicked {
            reason: "logged in elsewhere (test)".to_owned()
        }
    );
    assert_eq!(next_event(&mut session.events).await, AppEvent::Stopped);
}

#[tokio::test]
async fn stop_ends_a_held_poll_promptly() {
    let mut session = online().await;
    set_knobs(&session.server, json!({"poll_hold": 30})).await;
    let poll = start_poll_loop(&session.account);
    until_a_poll_is_held(&session.server).await;

    session.account.stop();
    let end = tokio::time::timeout(Duration::from_secs(5), poll)
        .await
        .expect("the loop ends within 5 s of stop()")
        .expect("loop task");

    assert_eq!(end, PollEnd::Stopped);
    assert_eq!(next_event(&mut session.events).await, AppEvent::Stopped);
}

#[tokio::test]
async fn expired_session_ends_the_loop_as_session_lost() {
    let mut session = online().await;
    set_knobs(&session.server, json!({"poll_hold": 1})).await;
    let poll = start_poll_loop(&session.account);
    until_a_poll_is_held(&session.server).await;

    control(&session.server, "/sandbox/session/expire", json!({})).await;
    let end = bounded("the loop's end", poll).await.expect("loop task");

    assert!(matches!(end, PollEnd::SessionLost(_)), "{end:?}");
    assert!(
        matches!(
            next_event(&mut session.events).await,
            AppEvent::SessionLost { .. }
        ),
        "SessionLost is published first"
    );
    assert_eq!(next_event(&mut session.events).await, AppEvent::Stopped);
}

#[tokio::test]
async fn at_most_one_poll_is_in_flight_while_the_loop_runs() {
    let mut session = online().await;
    set_knobs(&session.server, json!({"poll_hold": 0.2})).await;
    let polls_before = request_count(&session.server, POLL2).await;
    let _poll = start_poll_loop(&session.account);

    let mut samples = Vec::new();
    for round in 0..60 {
        if round % 15 == 0 {
            let message = json!({"kind": "group", "from": EVE, "group": GROUP, "text": "tick"});
            inject(&session.server, message).await;
        }
        samples.push(counters(&session.server).await["polls_in_flight"].as_i64());
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    for _ in 0..4 {
        next_message(&mut session.events).await;
    }
    session.account.stop();

    assert!(
        samples.iter().all(|s| matches!(s, Some(0 | 1))),
        "never more than one poll in flight: {samples:?}"
    );
    assert!(
        samples.contains(&Some(1)),
        "the loop was polling: {samples:?}"
    );
    let polls = request_count(&session.server, POLL2).await - polls_before;
    assert!(polls >= 4, "the loop went round: {polls} polls");
}

#[tokio::test]
async fn conflicting_session_makes_the_loop_back_off_instead_of_spinning() {
    let session = online().await;
    set_knobs(&session.server, json!({"conflict_session": true})).await;
    let before = request_count(&session.server, POLL2).await;
    let mut poll = start_poll_loop(&session.account);

    // Three seconds of wall time, or less if the loop gives up on the session first.
    let ended_by_itself = tokio::time::timeout(Duration::from_secs(3), &mut poll).await;
    let after = request_count(&session.server, POLL2).await;
    session.account.stop();
    let end = match ended_by_itself {
        Ok(end) => end,
        Err(_) => bounded("the loop's end", poll).await,
    }
    .expect("loop task");

    let polls = after - before;
    assert!(polls < 10, "{polls} polls in 3 s of 103 answers");
    assert!(
        matches!(end, PollEnd::Stopped | PollEnd::SessionLost(_)),
        "{end:?}"
    );
}

#[tokio::test]
async fn later_103_after_a_recovered_one_is_reregistered_again() {
    // A first 103 episode, cured by the re-registration: idle polls follow.
    let session = online().await;
    set_knobs(&session.server, json!({"poll_hold": 0.2})).await;
    let buddies = request_count(&session.server, ONLINE_BUDDIES).await;
    let mut poll = start_poll_loop(&session.account);
    until_a_poll_is_held(&session.server).await;
    set_knobs(&session.server, json!({"conflict_session": true})).await;
    until_count(&session.server, ONLINE_BUDDIES, buddies + 1).await;
    set_knobs(&session.server, json!({"conflict_session": false})).await;
    let polls = request_count(&session.server, POLL2).await;
    until_count(&session.server, POLL2, polls + 3).await;

    set_knobs(&session.server, json!({"conflict_session": true})).await;
    let outcome = bounded("a re-registration or the loop's end", async {
        tokio::select! {
            () = count_reaches(&session.server, ONLINE_BUDDIES, buddies + 2) => None,
            end = &mut poll => Some(end.expect("loop task")),
        }
    })
    .await;
    set_knobs(&session.server, json!({"conflict_session": false})).await;
    session.account.stop();

    assert_eq!(
        outcome, None,
        "the second 103 episode got no re-registration; the loop ended instead"
    );
    let end = bounded("the loop's end", poll).await.expect("loop task");
    assert_eq!(end, PollEnd::Stopped);
}

/// Waits until `path` has been requested at least `count` times, failing after [`WAIT`].
async fn until_count(server: &SandboxServer, path: &str, count: u64) {
    bounded(path, count_reaches(server, path, count)).await;
}

/// Returns once `path` has been requested at least `count` times; the caller bounds it.
async fn count_reaches(server: &SandboxServer, path: &str, count: u64) {
    while request_count(server, path).await < count {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

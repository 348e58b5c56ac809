//! The `/sandbox/` control API: injection, knobs, counters, and its refusals.

use axum::http::StatusCode;
use serde_json::json;
use smartqq_protocol::api::Era;

use crate::harness::{Browser, Session};

#[tokio::test]
async fn each_kind_of_message_arrives_in_the_spec_shape() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let world = session.world().await;
    let group = world["groups"][0].clone();
    let did = world["discussions"][0]["did"].clone();

    for body in [
        json!({"kind": "buddy", "from": 3_100_000_001u64, "text": "你好"}),
        json!({"kind": "group", "from": 3_300_000_002u64, "group": group["number"], "text": "hi all", "segments": [{"type": "face", "data": 14}]}),
        json!({"kind": "discu", "from": 3_100_000_002u64, "discussion": did, "text": "meeting at 3"}),
        json!({"kind": "sess", "from": 3_300_000_001u64, "group": group["number"], "text": "psst"}),
    ] {
        let reply = session.browser.control("/sandbox/messages", body).await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    }
    let events = session.poll_events().await;

    let kinds: Vec<&str> = events
        .iter()
        .map(|e| e["poll_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["message", "group_message", "discu_message", "sess_message"]
    );
    let group_message = &events[1]["value"];
    assert_eq!(
        group_message["group_code"], group["gid"],
        "SmartQQ puts the gid in group_code"
    );
    assert_eq!(group_message["content"][2], json!(["face", 14]));
    assert_eq!(events[3]["value"]["service_type"], 0);
    assert_eq!(events[3]["value"]["ruin"], 3_300_000_001u64);
    assert_eq!(events[3]["value"]["id"], group["gid"]);
}

#[tokio::test]
async fn legacy_group_messages_carry_the_real_code() {
    let mut session = Session::start(Era::Legacy2015).await;
    let group = session.world().await["groups"][0].clone();

    session.browser.control("/sandbox/messages", json!({"kind": "group", "from": 3_100_000_001u64, "group": group["number"], "text": "x"})).await;
    let events = session.poll_events().await;

    assert_eq!(events[0]["value"]["group_code"], group["code"]);
    assert_eq!(events[0]["value"]["msg_type"], 43);
}

#[tokio::test]
async fn duplicate_delivery_and_batches() {
    let mut session = Session::start(Era::Smartqq2018).await;
    session
        .browser
        .knobs(json!({"duplicate_delivery": true, "batch_results": 4, "poll_hold": 5}))
        .await;
    let message = json!({"kind": "buddy", "from": 3_100_000_001u64, "text": "twice"});

    session
        .browser
        .control("/sandbox/messages", message.clone())
        .await;
    session.browser.control("/sandbox/messages", message).await;
    let events = session.poll_events().await;
    let counters = session.browser.control_get("/sandbox/counters").await;

    assert_eq!(events.len(), 4);
    assert_eq!(events[0]["value"]["msg_id"], events[1]["value"]["msg_id"]);
    assert_eq!(counters["deliveries"], 4);
    assert!(counters["requests"]["/channel/poll2"].as_u64().unwrap() >= 1);
}

#[tokio::test]
async fn status_changes_reach_the_client() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let friend = session.world().await["friends"][1].clone();

    session
        .browser
        .control(
            "/sandbox/status",
            json!({"qq": friend["qq"], "status": "busy"}),
        )
        .await;
    let events = session.poll_events().await;

    assert_eq!(events[0]["poll_type"], "buddies_status_change");
    assert_eq!(events[0]["value"]["uin"], friend["uin"]);
    assert_eq!(events[0]["value"]["status"], "busy");
}

#[tokio::test]
async fn bad_control_requests_get_clear_errors() {
    let mut browser = Browser::new(Era::Smartqq2018);

    let unknown_knob = browser.control("/sandbox/knobs", json!({"warp": 1})).await;
    let stranger = browser
        .control(
            "/sandbox/messages",
            json!({"kind": "buddy", "from": 1, "text": "x"}),
        )
        .await;
    let not_friend = browser
        .control(
            "/sandbox/messages",
            json!({"kind": "buddy", "from": 3_300_000_001u64, "text": "x"}),
        )
        .await;
    let wrong_room = browser
        .control(
            "/sandbox/messages",
            json!({"kind": "group", "from": 3_100_000_006u64, "group": 600_001, "text": "x"}),
        )
        .await;
    let no_text = browser
        .control(
            "/sandbox/messages",
            json!({"kind": "buddy", "from": 3_100_000_001u64}),
        )
        .await;
    let no_session = browser.control("/sandbox/kick", json!({})).await;
    let no_qr = browser.control("/sandbox/qr/confirm", json!({})).await;
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/sandbox/knobs")
        .body(axum::body::Body::from("{not json"))
        .unwrap();
    let broken_json = browser.send(request).await;

    for reply in [
        &unknown_knob,
        &stranger,
        &not_friend,
        &wrong_room,
        &no_text,
        &broken_json,
    ] {
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.text());
        assert!(
            reply.json()["error"]
                .as_str()
                .is_some_and(|e| !e.is_empty())
        );
    }
    assert!(unknown_knob.text().contains("warp"));
    assert!(not_friend.text().contains("sess"));
    assert_eq!(no_session.status, StatusCode::CONFLICT);
    assert_eq!(no_qr.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn control_posts_without_a_body_are_accepted() {
    let mut browser = Browser::new(Era::Smartqq2018);
    browser.get("/ptqrshow", None).await;
    let request = axum::http::Request::builder()
        .method("POST")
        .uri("/sandbox/qr/scan")
        .body(axum::body::Body::empty())
        .unwrap();

    let reply = browser.send(request).await;

    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json()["scanned"], true);
}

#[tokio::test]
async fn made_up_paths_are_not_counted() {
    let mut browser = Browser::new(Era::Smartqq2018);

    for index in 0..20 {
        browser.get(&format!("/no/such/path/{index}"), None).await;
    }
    browser.get("/ptqrshow", None).await;
    let counters = browser.control_get("/sandbox/counters").await;

    let paths: Vec<&String> = counters["requests"].as_object().unwrap().keys().collect();
    assert_eq!(paths, ["/ptqrshow"]);
}

#[tokio::test]
async fn a_crafted_host_cannot_steer_the_urls_handed_out() {
    let mut browser = Browser::new(Era::Smartqq2018);
    let request = axum::http::Request::builder()
        .uri("/ptqrshow")
        .header("host", "127.0.0.1:1/evil?x=")
        .body(axum::body::Body::empty())
        .unwrap();
    browser.send(request).await;
    browser.control("/sandbox/qr/confirm", json!({})).await;
    let token = smartqq_protocol::hash::hash33(&browser.cookies["qrsig"]);
    let request = axum::http::Request::builder()
        .uri(format!("/ptqrlogin?ptqrtoken={token}"))
        .header("host", "127.0.0.1:1/evil?x=")
        .header("cookie", format!("qrsig={}", browser.cookies["qrsig"]))
        .body(axum::body::Body::empty())
        .unwrap();

    let reply = browser.send(request).await;

    assert!(
        reply.text().contains("'http://127.0.0.1/check_sig?"),
        "{}",
        reply.text()
    );
}

#[tokio::test]
async fn a_lookalike_domain_gets_host_only_cookies() {
    let mut browser = Browser::new(Era::Smartqq2018);
    let request = axum::http::Request::builder()
        .uri("/ptqrshow")
        .header("host", "evilqq.com")
        .body(axum::body::Body::empty())
        .unwrap();

    let reply = browser.send(request).await;

    let cookie = reply.headers["set-cookie"].to_str().unwrap();
    assert!(!cookie.contains("Domain"), "{cookie}");
}

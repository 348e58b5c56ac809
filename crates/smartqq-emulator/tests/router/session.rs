//! login2, the long poll and everything that ends or bends a session.

use std::time::{Duration, Instant};

use serde_json::json;
use smartqq_protocol::api::Era;

use crate::harness::{Browser, CLIENTID, R_D1, R_S, Session};

#[tokio::test]
async fn poll_answers_103_until_the_warm_up_call() {
    let mut browser = Browser::new(Era::Smartqq2018);
    let ptwebqq = browser.qr_login().await;
    let reply = browser
        .get(
            &format!("/api/getvfwebqq?ptwebqq={ptwebqq}&clientid={CLIENTID}&psessionid="),
            Some(R_S),
        )
        .await;
    let vfwebqq = reply.json()["result"]["vfwebqq"]
        .as_str()
        .unwrap()
        .to_owned();
    let r = json!({"ptwebqq": ptwebqq, "clientid": CLIENTID, "psessionid": "", "status": "online"});
    let psessionid =
        browser.post_r("/channel/login2", R_D1, &r).await.json()["result"]["psessionid"]
            .as_str()
            .unwrap()
            .to_owned();
    browser.knobs(json!({"poll_hold": 0})).await;
    let poll = json!({"ptwebqq": "", "clientid": CLIENTID, "psessionid": psessionid, "key": ""});

    let cold = browser.post_r("/channel/poll2", R_D1, &poll).await;
    browser
        .get(&format!("/channel/get_online_buddies2?vfwebqq={vfwebqq}&clientid={CLIENTID}&psessionid={psessionid}"), Some(R_D1))
        .await;
    let warm = browser.post_r("/channel/poll2", R_D1, &poll).await;

    assert_eq!(cold.json(), json!({"errmsg": "error", "retcode": 103}));
    assert_eq!(warm.retcode(), 100_012, "{}", warm.text());
}

#[tokio::test]
async fn login2_needs_getvfwebqq_first_in_the_smartqq_era() {
    let mut browser = Browser::new(Era::Smartqq2018);
    let ptwebqq = browser.qr_login().await;
    let r = json!({"ptwebqq": ptwebqq, "clientid": CLIENTID, "psessionid": "", "status": "online"});

    let reply = browser.post_r("/channel/login2", R_D1, &r).await;

    assert_eq!(reply.retcode(), 100_001);
}

#[tokio::test]
async fn idle_answers_follow_the_era_and_the_knob() {
    let mut modern = Session::start(Era::Smartqq2018).await;
    let mut legacy = Session::start(Era::Legacy2015).await;
    modern.browser.knobs(json!({"poll_hold": 0})).await;
    legacy.browser.knobs(json!({"poll_hold": 0})).await;

    let recv_timeout = modern.poll().await.json();
    let legacy_idle = legacy.poll().await.json();
    modern
        .browser
        .knobs(json!({"poll_idle_mode": "http504"}))
        .await;
    let gateway = modern.poll().await;
    modern
        .browser
        .knobs(json!({"poll_idle_mode": "ok_error"}))
        .await;
    let ok_error = modern.poll().await.json();

    assert_eq!(recv_timeout["retcode"], 100_012);
    assert!(
        recv_timeout["retmsg"]
            .as_str()
            .unwrap()
            .contains("RecvTimeout")
    );
    assert_eq!(legacy_idle, json!({"retcode": 102, "errmsg": ""}));
    assert_eq!(gateway.status.as_u16(), 504);
    assert!(gateway.text().contains("nginx"));
    assert_eq!(
        ok_error,
        json!({"errmsg": "error", "retcode": 0, "retmsg": "ok"})
    );
}

#[tokio::test]
async fn a_message_wakes_the_held_poll_at_once() {
    let mut session = Session::start(Era::Smartqq2018).await;
    session.browser.knobs(json!({"poll_hold": 30})).await;
    let world = session.world().await;
    let friend = world["friends"][0]["qq"].clone();
    let mut control = session.browser.another();
    let started = Instant::now();

    let poll = tokio::spawn(async move { (session.poll().await, session) });
    let mut in_flight = 0;
    for _ in 0..200 {
        in_flight = control.control_get("/sandbox/counters").await["polls_in_flight"]
            .as_i64()
            .unwrap();
        if in_flight == 1 {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    control
        .control(
            "/sandbox/messages",
            json!({"kind": "buddy", "from": friend, "text": "wake up"}),
        )
        .await;
    let (reply, _session) = tokio::time::timeout(Duration::from_secs(10), poll)
        .await
        .unwrap()
        .unwrap();

    assert_eq!(in_flight, 1);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(reply.json()["result"][0]["value"]["content"][1], "wake up");
    assert_eq!(
        control.control_get("/sandbox/counters").await["polls_in_flight"],
        0
    );
}

#[tokio::test]
async fn a_second_poll_completes_the_first_with_the_idle_answer() {
    let mut session = Session::start(Era::Smartqq2018).await;
    session.browser.knobs(json!({"poll_hold": 20})).await;
    let mut second = session.browser.another();
    second.cookies = session.browser.cookies.clone();
    let r =
        json!({"ptwebqq": "", "clientid": CLIENTID, "psessionid": session.psessionid, "key": ""});

    let first = tokio::spawn(async move { session.poll().await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let second_reply = tokio::time::timeout(
        Duration::from_secs(1),
        second.post_r("/channel/poll2", R_D1, &r),
    );
    let (first_reply, _) = tokio::join!(
        tokio::time::timeout(Duration::from_secs(10), first),
        second_reply
    );

    assert_eq!(first_reply.unwrap().unwrap().retcode(), 100_012);
}

#[tokio::test]
async fn kick_is_delivered_then_the_session_is_dead() {
    let mut session = Session::start(Era::Smartqq2018).await;
    session.browser.knobs(json!({"poll_hold": 0})).await;

    session
        .browser
        .control("/sandbox/kick", json!({"reason": "Logged in elsewhere"}))
        .await;
    let events = session.poll_events().await;
    let after = session.poll().await;

    assert_eq!(events[0]["poll_type"], "kick_message");
    assert_eq!(events[0]["value"]["reason"], "Logged in elsewhere");
    assert_eq!(after.retcode(), 103);
}

#[tokio::test]
async fn expired_session_answers_103_100000_and_100012() {
    let mut session = Session::start(Era::Smartqq2018).await;
    session.browser.knobs(json!({"poll_hold": 0})).await;

    session
        .browser
        .control("/sandbox/session/expire", json!({}))
        .await;
    let poll = session.poll().await;
    let list = session
        .browser
        .post_r(
            "/api/get_user_friends2",
            R_S,
            &json!({"vfwebqq": session.vfwebqq, "hash": session.hash()}),
        )
        .await;
    let send = session
        .send("send_buddy_msg2", json!({"to": 1}), "x", 1)
        .await;

    assert_eq!(poll.retcode(), 103);
    assert_eq!(list.retcode(), 100_000);
    assert_eq!(send.retcode(), 100_012);
}

#[tokio::test]
async fn session_ttl_expires_the_session_by_itself() {
    let mut session = Session::start(Era::Smartqq2018).await;
    session
        .browser
        .knobs(json!({"poll_hold": 0, "session_ttl": 0.001}))
        .await;

    tokio::time::sleep(Duration::from_millis(5)).await;
    let poll = session.poll().await;

    assert_eq!(poll.retcode(), 103);
}

#[tokio::test]
async fn ptwebqq_rotation_answers_116_and_retires_the_old_value() {
    let mut session = Session::start(Era::Smartqq2018).await;
    session.browser.knobs(json!({"poll_hold": 0})).await;
    session
        .browser
        .control("/sandbox/ptwebqq/rotate", json!({}))
        .await;

    let rotated = session.poll().await.json();
    let new_ptwebqq = rotated["p"].as_str().unwrap().to_owned();
    let old_poll = json!({"ptwebqq": session.ptwebqq, "clientid": CLIENTID, "psessionid": session.psessionid, "key": ""});
    let with_old = session
        .browser
        .post_r("/channel/poll2", R_D1, &old_poll)
        .await;
    let new_poll = json!({"ptwebqq": new_ptwebqq, "clientid": CLIENTID, "psessionid": session.psessionid, "key": ""});
    let with_new = session
        .browser
        .post_r("/channel/poll2", R_D1, &new_poll)
        .await;
    let old_hash = session
        .browser
        .post_r(
            "/api/get_user_friends2",
            R_S,
            &json!({"vfwebqq": session.vfwebqq, "hash": session.hash()}),
        )
        .await;

    assert_eq!(rotated["retcode"], 116);
    assert_eq!(new_ptwebqq.len(), 64);
    assert_eq!(with_old.retcode(), 100_001);
    assert_eq!(with_new.retcode(), 100_012);
    assert_eq!(
        old_hash.retcode(),
        0,
        "the previous ptwebqq stays valid for the hash"
    );
}

#[tokio::test]
async fn a_new_login_kicks_the_old_session_and_deals_new_uins() {
    let mut first = Session::start(Era::Smartqq2018).await;
    first.browser.knobs(json!({"poll_hold": 0})).await;
    let uins_before = first.world().await["friends"].clone();

    let mut second = Session::start_in(first.browser.another()).await;
    let kicked = first.poll_events().await;
    let uins_after = second.world().await["friends"].clone();

    assert_eq!(kicked[0]["poll_type"], "kick_message");
    assert_eq!(second.poll().await.retcode(), 100_012);
    for (before, after) in uins_before
        .as_array()
        .unwrap()
        .iter()
        .zip(uins_after.as_array().unwrap())
    {
        assert_eq!(before["qq"], after["qq"]);
        assert_ne!(before["uin"], after["uin"], "uin kept across logins");
    }
}

#[tokio::test]
async fn messages_sent_while_offline_arrive_at_the_next_login() {
    let mut browser = Browser::new(Era::Smartqq2018);
    let friend = browser.control_get("/sandbox/world").await["friends"][1]["qq"].clone();
    let reply = browser
        .control(
            "/sandbox/messages",
            json!({"kind": "buddy", "from": friend, "text": "while you were out"}),
        )
        .await;

    let mut session = Session::start_in(browser).await;
    let events = session.poll_events().await;

    assert_eq!(reply.json()["client_online"], false);
    assert_eq!(events[0]["value"]["content"][1], "while you were out");
}

#[tokio::test]
async fn conflict_and_strict_init_answer_103() {
    let mut session = Session::start(Era::Smartqq2018).await;
    session
        .browser
        .knobs(json!({"poll_hold": 0, "conflict_session": true}))
        .await;

    let conflict = session.poll().await;
    session
        .browser
        .knobs(json!({"conflict_session": false, "strict_init": true}))
        .await;
    let not_initialised = session.poll().await;
    session.api_get("get_self_info2", "").await;
    let r =
        json!({"vfwebqq": session.vfwebqq, "clientid": CLIENTID, "psessionid": session.psessionid});
    session
        .browser
        .post_r("/channel/get_recent_list2", R_D1, &r)
        .await;
    let initialised = session.poll().await;

    assert_eq!(conflict.retcode(), 103);
    assert_eq!(not_initialised.retcode(), 103);
    assert_eq!(initialised.retcode(), 100_012);
}

#[tokio::test]
async fn logout_ends_the_session() {
    let mut session = Session::start(Era::Smartqq2018).await;

    let logout = session.channel_get("logout2", "&ids=").await;
    let poll = session.poll().await;

    assert_eq!(logout.json(), json!({"retcode": 0, "result": "ok"}));
    assert_eq!(poll.retcode(), 103);
}

#[tokio::test]
async fn requests_from_the_wrong_place_are_refused() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let r =
        json!({"ptwebqq": "", "clientid": CLIENTID, "psessionid": session.psessionid, "key": ""});

    let wrong_referer = session
        .browser
        .post_r("/channel/poll2", "https://evil.example/proxy.html", &r)
        .await;
    let not_json = session
        .browser
        .post_form("/channel/poll2", R_D1, "r=%7Bnot-json".to_owned())
        .await;
    let wrong_session = session
        .browser
        .post_r(
            "/channel/poll2",
            R_D1,
            &json!({"clientid": CLIENTID, "psessionid": "beef", "key": ""}),
        )
        .await;
    let wrong_clientid = session
        .browser
        .post_r(
            "/channel/poll2",
            R_D1,
            &json!({"clientid": 1, "psessionid": session.psessionid, "key": ""}),
        )
        .await;
    let mut stranger = session.browser.another();
    let no_cookies = stranger
        .get(
            "/api/getvfwebqq?ptwebqq=&clientid=53999199&psessionid=",
            Some(R_S),
        )
        .await;

    assert_eq!(wrong_referer.retcode(), 100_001);
    assert_eq!(not_json.retcode(), 100_001);
    assert_eq!(wrong_session.retcode(), 100_001);
    assert_eq!(wrong_clientid.retcode(), 100_001);
    assert_eq!(no_cookies.retcode(), 100_000);
}

#[tokio::test]
async fn strict_headers_require_referer_and_user_agent() {
    let mut session = Session::start(Era::Smartqq2018).await;
    session.browser.knobs(json!({"strict_headers": true})).await;

    let without_referer = session.browser.get("/api/get_self_info2?t=1", None).await;
    let with_referer = session.api_get("get_self_info2", "").await;

    assert_eq!(without_referer.retcode(), 100_001);
    assert_eq!(with_referer.retcode(), 0);
}

#[tokio::test]
async fn pt4_auth_renews_an_expired_login_without_a_scan() {
    let mut session = Session::start(Era::Smartqq2018).await;
    session
        .browser
        .control("/sandbox/session/expire", json!({}))
        .await;
    let supertoken = session.browser.cookies["supertoken"].clone();
    let token = smartqq_protocol::hash::time33(&supertoken);

    let wrong = session
        .browser
        .get("/pt4_auth?daid=164&appid=501004106&auth_token=1", None)
        .await;
    let right = session
        .browser
        .get(
            &format!("/pt4_auth?daid=164&appid=501004106&auth_token={token}"),
            None,
        )
        .await;
    let url = smartqq_protocol::ptui::parse_auth_cb(&right.text())
        .unwrap()
        .expect("a check_sig URL");
    let path = url.split_once("8650").unwrap().1.to_owned();
    let check_sig = session.browser.get(&path, None).await;
    let renewed = Session::start_after_check_sig(session.browser).await;

    assert_eq!(wrong.text(), "ptui_auth_CB('1','');");
    assert_eq!(check_sig.status.as_u16(), 302);
    assert_eq!(renewed.own_qq, 2_400_000_001);
}

#[tokio::test]
async fn pt4_auth_is_refused_when_the_knob_is_off() {
    let mut session = Session::start(Era::Smartqq2018).await;
    session.browser.knobs(json!({"sso_resume": false})).await;
    let token = smartqq_protocol::hash::time33(&session.browser.cookies["supertoken"]);

    let reply = session
        .browser
        .get(&format!("/pt4_auth?auth_token={token}"), None)
        .await;

    assert_eq!(reply.text(), "ptui_auth_CB('1','');");
}

#[tokio::test]
async fn a_held_poll_answers_103_when_the_session_ttl_runs_out() {
    let mut session = Session::start(Era::Smartqq2018).await;
    session
        .browser
        .knobs(json!({"poll_hold": 30, "session_ttl": 1}))
        .await;
    let started = Instant::now();

    let reply = tokio::time::timeout(Duration::from_secs(10), session.poll())
        .await
        .expect("the poll answers before its hold");

    assert_eq!(reply.retcode(), 103);
    assert!(started.elapsed() < Duration::from_secs(10));
}

//! The four send endpoints, the temporary-session signature and the send knobs.

use serde_json::{Value, json};
use smartqq_protocol::api::Era;

use crate::harness::{R_D1, Session};

const HOSTILE: &str = "He said \"hi\"\\ C:\\new\\table\n\tend\r\n\u{2028} 🙂 中文 <b>&amp;</b>";

/// The uin of a friend and the gid of a group in this session, from the control API.
async fn targets(session: &mut Session) -> (Value, Value, Value, Value) {
    let world = session.world().await;
    let friend = world["friends"][0].clone();
    let group = world["groups"][0].clone();
    let discussion = world["discussions"][0].clone();
    let stranger = group["members"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["qq"].as_u64() == Some(3_300_000_001))
        .cloned()
        .unwrap();
    (friend, group, discussion, stranger)
}

async fn sent(session: &mut Session) -> Vec<Value> {
    session
        .browser
        .control_get("/sandbox/sent")
        .await
        .as_array()
        .unwrap()
        .clone()
}

#[tokio::test]
async fn every_send_kind_arrives_byte_exact() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let (friend, group, discussion, stranger) = targets(&mut session).await;
    let sig = session
        .channel_get(
            "get_c2cmsg_sig2",
            &format!(
                "&id={}&to_uin={}&service_type=0",
                group["gid"], stranger["uin"]
            ),
        )
        .await
        .json()["result"]["value"]
        .as_str()
        .unwrap()
        .to_owned();

    let buddy = session
        .send(
            "send_buddy_msg2",
            json!({"to": friend["uin"]}),
            HOSTILE,
            1_230_001,
        )
        .await;
    let qun = session
        .send(
            "send_qun_msg2",
            json!({"group_uin": group["gid"]}),
            HOSTILE,
            1_230_002,
        )
        .await;
    let discu = session
        .send(
            "send_discu_msg2",
            json!({"did": discussion["did"]}),
            HOSTILE,
            1_230_003,
        )
        .await;
    let sess = session
        .send(
            "send_sess_msg2",
            json!({"to": stranger["uin"], "group_sig": sig, "service_type": 0}),
            HOSTILE,
            1_230_004,
        )
        .await;
    let log = sent(&mut session).await;

    for reply in [&buddy, &qun, &discu, &sess] {
        assert_eq!(reply.json(), json!({"retcode": 0, "result": "ok"}));
    }
    let endpoints: Vec<&str> = log
        .iter()
        .map(|m| m["endpoint"].as_str().unwrap())
        .collect();
    assert_eq!(
        endpoints,
        [
            "send_buddy_msg2",
            "send_qun_msg2",
            "send_discu_msg2",
            "send_sess_msg2"
        ]
    );
    let targets: Vec<&Value> = log.iter().map(|m| &m["target"]).collect();
    assert_eq!(
        targets,
        [
            &friend["qq"],
            &group["number"],
            &discussion["did"],
            &stranger["qq"]
        ]
    );
    assert!(
        log.iter()
            .all(|m| m["text"] == HOSTILE && m["delivered"] == true)
    );
    assert_eq!(log[3]["msg_id"], 1_230_004);
}

#[tokio::test]
async fn own_group_messages_are_echoed_with_our_qq() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let (_, group, _, _) = targets(&mut session).await;

    session
        .send(
            "send_qun_msg2",
            json!({"group_uin": group["gid"]}),
            "<echo> & me",
            7,
        )
        .await;
    let events = session.poll_events().await;

    assert_eq!(events[0]["poll_type"], "group_message");
    assert_eq!(events[0]["value"]["send_uin"], session.own_qq);
    assert_eq!(events[0]["value"]["from_uin"], group["gid"]);
    assert_eq!(events[0]["value"]["content"][1], "&lt;echo&gt; &amp; me");
}

#[tokio::test]
async fn sess_needs_an_issued_signature() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let (friend, group, discussion, stranger) = targets(&mut session).await;

    let forged = session
        .send(
            "send_sess_msg2",
            json!({"to": stranger["uin"], "group_sig": "00", "service_type": 0}),
            "x",
            1,
        )
        .await;
    let not_a_member = session
        .channel_get(
            "get_c2cmsg_sig2",
            &format!(
                "&id={}&to_uin={}&service_type=1",
                discussion["did"], friend["uin"]
            ),
        )
        .await;
    let via_group = session
        .channel_get(
            "get_c2cmsg_sig2",
            &format!(
                "&id={}&to_uin={}&service_type=0",
                group["gid"], stranger["uin"]
            ),
        )
        .await;

    assert_eq!(forged.retcode(), 100_001);
    assert_eq!(
        not_a_member.json()["result"]["value"],
        "",
        "empty value means not allowed"
    );
    assert_eq!(
        via_group.json()["result"]["value"].as_str().unwrap().len(),
        32
    );
    assert!(sent(&mut session).await.is_empty());
}

#[tokio::test]
async fn targets_from_another_login_are_refused() {
    let mut session = Session::start(Era::Smartqq2018).await;

    let unknown_uin = session
        .send("send_buddy_msg2", json!({"to": 1}), "x", 1)
        .await;
    let unknown_gid = session
        .send("send_qun_msg2", json!({"group_uin": 1}), "x", 2)
        .await;

    assert_eq!(unknown_uin.retcode(), 100_001);
    assert_eq!(unknown_gid.retcode(), 100_001);
}

#[tokio::test]
async fn send_result_knob_stages_ambiguous_answers() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let (friend, ..) = targets(&mut session).await;
    let to = json!({"to": friend["uin"]});

    session
        .browser
        .knobs(json!({"send_result": "1202+drop"}))
        .await;
    let dropped = session.send("send_buddy_msg2", to.clone(), "a", 1).await;
    session
        .browser
        .knobs(json!({"send_result": "100100"}))
        .await;
    let delivered_anyway = session.send("send_buddy_msg2", to.clone(), "b", 2).await;
    session
        .browser
        .knobs(json!({"send_result": "0", "send_response_shape": "err_code"}))
        .await;
    let old_shape = session.send("send_buddy_msg2", to, "c", 3).await;
    let log = sent(&mut session).await;

    assert_eq!(dropped.text(), r#"{"errmsg":"error!!!","retcode":1202}"#);
    assert_eq!(delivered_anyway.retcode(), 100_100);
    assert_eq!(old_shape.json(), json!({"errCode": 0, "msg": "send ok"}));
    let delivered: Vec<bool> = log
        .iter()
        .map(|m| m["delivered"].as_bool().unwrap())
        .collect();
    assert_eq!(delivered, [false, true, true]);
}

#[tokio::test]
async fn content_that_is_not_json_is_refused_or_silently_dropped() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let (friend, ..) = targets(&mut session).await;
    let r = json!({"to": friend["uin"], "content": "[\"unterminated", "face": 522, "clientid": 53999199, "msg_id": 1, "psessionid": session.psessionid});

    let strict = session
        .browser
        .post_r("/channel/send_buddy_msg2", R_D1, &r)
        .await;
    session.browser.knobs(json!({"strict_json": false})).await;
    let lax = session
        .browser
        .post_r("/channel/send_buddy_msg2", R_D1, &r)
        .await;

    assert_eq!(strict.retcode(), 100_001);
    assert_eq!(lax.retcode(), 0);
    assert!(sent(&mut session).await.is_empty(), "nothing was delivered");
}

#[tokio::test]
async fn rate_limit_and_length_limit() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let (friend, ..) = targets(&mut session).await;
    let to = json!({"to": friend["uin"]});
    session
        .browser
        .knobs(json!({"rate_limit": 2, "max_text_bytes": 10}))
        .await;

    let first = session.send("send_buddy_msg2", to.clone(), "1", 1).await;
    let second = session.send("send_buddy_msg2", to.clone(), "2", 2).await;
    let third = session.send("send_buddy_msg2", to.clone(), "3", 3).await;
    let too_long = session.send("send_buddy_msg2", to, "中文中文", 4).await;

    assert_eq!(
        (first.retcode(), second.retcode(), third.retcode()),
        (0, 0, 1202)
    );
    assert_eq!(too_long.retcode(), 100_001);
}

#[tokio::test]
async fn sess_blocked_and_shadow_dropped_groups() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let (_, group, _, stranger) = targets(&mut session).await;
    session
        .browser
        .knobs(json!({"sess_send": "blocked", "shadow_drop_group": group["number"]}))
        .await;
    let sig = session
        .channel_get(
            "get_c2cmsg_sig2",
            &format!(
                "&id={}&to_uin={}&service_type=0",
                group["gid"], stranger["uin"]
            ),
        )
        .await
        .json()["result"]["value"]
        .clone();

    let blocked = session
        .send(
            "send_sess_msg2",
            json!({"to": stranger["uin"], "group_sig": sig, "service_type": 0}),
            "x",
            1,
        )
        .await;
    let shadow = session
        .send(
            "send_qun_msg2",
            json!({"group_uin": group["gid"]}),
            "anyone?",
            2,
        )
        .await;
    let log = sent(&mut session).await;

    assert_eq!(blocked.retcode(), 108);
    assert_eq!(shadow.retcode(), 0);
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["delivered"], false);
}

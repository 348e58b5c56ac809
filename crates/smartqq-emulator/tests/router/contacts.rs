//! Contact endpoints: the list hash, codes versus gids, per-era closures.

use serde_json::json;
use smartqq_protocol::api::Era;
use smartqq_protocol::api::{
    DiscussionInfoResult, DiscussionListResult, FriendsResult, GroupInfoResult, GroupListResult,
    OnlineBuddy, RecentEntry, UserInfo, parse_result,
};
use smartqq_protocol::hash::{FriendHashVariant, friend_list_hash};

use crate::harness::{CLIENTID, R_D1, R_S, Session};

#[tokio::test]
async fn friend_list_has_categories_marknames_and_session_uins() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let world = session.world().await;

    let reply = session
        .browser
        .post_r(
            "/api/get_user_friends2",
            R_S,
            &json!({"vfwebqq": session.vfwebqq, "hash": session.hash()}),
        )
        .await;

    let friends: FriendsResult = parse_result(&reply.body).unwrap();
    assert_eq!(
        friends.friends.len(),
        world["friends"].as_array().unwrap().len()
    );
    assert_eq!(friends.categories[0].name, "同学 Classmates");
    let first_uin = world["friends"][0]["uin"].as_u64().unwrap();
    let mark = friends
        .marknames
        .iter()
        .find(|m| m.uin.get() == first_uin)
        .unwrap();
    assert_eq!(mark.markname, "老张");
}

#[tokio::test]
async fn a_wrong_hash_answers_50_and_the_hash_variant_knob_changes_the_rule() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let quicksort = friend_list_hash(
        FriendHashVariant::Quicksort,
        session.own_qq,
        &session.ptwebqq,
    );

    let wrong = session
        .browser
        .post_r(
            "/api/get_group_name_list_mask2",
            R_S,
            &json!({"vfwebqq": session.vfwebqq, "hash": "0000"}),
        )
        .await;
    session
        .browser
        .knobs(json!({"hash_variant": "quicksort"}))
        .await;
    let ecok_now_wrong = session
        .browser
        .post_r(
            "/api/get_group_name_list_mask2",
            R_S,
            &json!({"vfwebqq": session.vfwebqq, "hash": session.hash()}),
        )
        .await;
    let right = session
        .browser
        .post_r(
            "/api/get_group_name_list_mask2",
            R_S,
            &json!({"vfwebqq": session.vfwebqq, "hash": quicksort}),
        )
        .await;

    assert_eq!(wrong.retcode(), 50);
    assert_eq!(ecok_now_wrong.retcode(), 50);
    let groups: GroupListResult = parse_result(&right.body).unwrap();
    assert_eq!(groups.gnamelist.len(), 2);
}

#[tokio::test]
async fn group_info_wants_the_code_not_the_gid() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let group = session.world().await["groups"][0].clone();

    let by_code = session
        .api_get("get_group_info_ext2", &format!("&gcode={}", group["code"]))
        .await;
    let by_gid = session
        .api_get("get_group_info_ext2", &format!("&gcode={}", group["gid"]))
        .await;

    let info: GroupInfoResult = parse_result(&by_code.body).unwrap();
    assert_eq!(info.ginfo.gid.get(), group["gid"].as_u64().unwrap());
    assert_eq!(info.minfo.len(), group["members"].as_array().unwrap().len());
    assert!(info.cards.iter().any(|c| c.card == "Eve (ops)"));
    assert_eq!(by_gid.json(), json!({"retcode": 6}));
}

#[tokio::test]
async fn discussions_self_info_online_and_recent() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let world = session.world().await;
    let did = world["discussions"][0]["did"].clone();
    session
        .browser
        .control(
            "/sandbox/messages",
            json!({"kind": "discu", "from": 3_100_000_006u64, "discussion": did, "text": "hi"}),
        )
        .await;

    let list: DiscussionListResult = parse_result(
        &session
            .api_get(
                "get_discus_list",
                &format!("&clientid={CLIENTID}&psessionid={}", session.psessionid),
            )
            .await
            .body,
    )
    .unwrap();
    let info: DiscussionInfoResult = parse_result(
        &session
            .channel_get("get_discu_info", &format!("&did={did}"))
            .await
            .body,
    )
    .unwrap();
    let me: UserInfo = parse_result(&session.api_get("get_self_info2", "").await.body).unwrap();
    let online: Vec<OnlineBuddy> =
        parse_result(&session.channel_get("get_online_buddies2", "").await.body).unwrap();
    let r =
        json!({"vfwebqq": session.vfwebqq, "clientid": CLIENTID, "psessionid": session.psessionid});
    let recent: Vec<RecentEntry> = parse_result(
        &session
            .browser
            .post_r("/channel/get_recent_list2", R_D1, &r)
            .await
            .body,
    )
    .unwrap();

    assert_eq!(list.dnamelist[0].name, "Weekend trip 周末出游");
    assert_eq!(info.info.mem_list.len(), 4);
    assert!(info.info.mem_list.iter().all(|m| m.ruin.is_some()));
    assert_eq!(me.account.unwrap().get(), session.own_qq);
    assert!(online.iter().all(|b| b.status != "offline"));
    assert!(online.len() >= 4);
    assert_eq!((recent[0].kind, recent[0].uin), (2, did.as_u64().unwrap()));
}

#[tokio::test]
async fn friend_uin_lookup_is_open_in_2015_and_closed_in_2018() {
    let mut modern = Session::start(Era::Smartqq2018).await;
    let mut legacy = Session::start(Era::Legacy2015).await;
    let legacy_friend = legacy.world().await["friends"][2].clone();

    let closed = modern.api_get("get_friend_uin2", "&tuin=1&type=1").await;
    let open = legacy
        .api_get(
            "get_friend_uin2",
            &format!("&tuin={}&type=1", legacy_friend["uin"]),
        )
        .await;

    assert_eq!(closed.status.as_u16(), 404);
    assert!(closed.text().contains("Tomcat"));
    assert_eq!(open.json()["result"]["account"], legacy_friend["qq"]);
}

#[tokio::test]
async fn friend_info_and_long_nick_use_session_uins() {
    let mut session = Session::start(Era::Smartqq2018).await;
    let friend = session.world().await["friends"][0].clone();

    let info = session
        .api_get(
            "get_friend_info2",
            &format!("&tuin={}&clientid={CLIENTID}", friend["uin"]),
        )
        .await;
    let lnick = session
        .api_get("get_single_long_nick2", &format!("&tuin={}", friend["uin"]))
        .await;
    let unknown = session.api_get("get_friend_info2", "&tuin=1").await;

    assert_eq!(info.json()["result"]["nick"], "张伟");
    assert_eq!(lnick.json()["result"][0]["lnick"], "今天也要加油");
    assert_eq!(unknown.retcode(), 6);
}

#[tokio::test]
async fn contact_calls_need_the_vfwebqq() {
    let mut session = Session::start(Era::Smartqq2018).await;

    let reply = session
        .browser
        .get(
            "/api/get_discus_list?vfwebqq=wrong&clientid=53999199",
            Some(R_S),
        )
        .await;

    assert_eq!(reply.retcode(), 100_001);
}

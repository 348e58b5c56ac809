//! `s.web2.qq.com/api/*`: vfwebqq and the contact endpoints (spec §3.5, §7).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use smartqq_protocol::api::{
    Birthday, Category, DiscussionEntry, DiscussionListResult, FriendEntry, FriendInfoEntry,
    FriendUinResult, FriendsResult, GroupInfo, GroupInfoResult, GroupListResult, GroupMark,
    GroupMemberFlag, GroupNameEntry, LongNick, MarkName, MemberCard, MemberInfo, MemberStat,
    UserInfo, VfwebqqResult, stat_for_status,
};
use smartqq_protocol::hash::friend_list_hash;
use smartqq_protocol::retcode::Retcode;
use smartqq_protocol::{GroupCode, QqNumber, Secret, Uin};

use crate::call::{Call, Refusal, result_reply, retcode_reply, tomcat_not_found};
use crate::routes::{api_session, json_u64, login_skey, session_of_login};
use crate::state::{HEX, Sandbox, State as SandboxState, token};
use smartqq_protocol::api::Era;

/// `GET /api/getvfwebqq`: the contact-API key, bound to the login.
pub(crate) async fn getvfwebqq(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let mut state = sandbox.lock();
    state.expire_sessions();
    let skey = match login_skey(&state, &call, Retcode::LOGIN_INVALID) {
        Ok(skey) => skey,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(login) = state.logins.get_mut(&skey) else {
        return retcode_reply(Retcode::LOGIN_INVALID);
    };
    let vfwebqq = login.vfwebqq.get_or_insert_with(|| token(HEX, 80)).clone();
    result_reply(&VfwebqqResult {
        vfwebqq: Secret::new(vfwebqq),
    })
}

/// `GET /api/get_self_info2`.
pub(crate) async fn get_self_info2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let mut state = sandbox.lock();
    let skey = match login_skey(&state, &call, Retcode::BAD_REQUEST) {
        Ok(skey) => skey,
        Err(refusal) => return refusal.into_response(),
    };
    if let Ok(session) = session_of_login(&mut state, &skey) {
        session.init_calls.self_info = true;
    }
    let account = &state.world().account;
    result_reply(&UserInfo {
        uin: account.qq.get(),
        account: Some(account.qq),
        nick: account.nick.clone(),
        lnick: Some(account.lnick.clone()),
        face: account.face,
        gender: account.gender.clone(),
        birthday: Birthday {
            year: 1990,
            month: 1,
            day: 2,
        },
        stat: 10,
        country: String::new(),
        province: String::new(),
        city: String::new(),
    })
}

/// Checks the list `hash` against our QQ and the ptwebqq of the request's cookie, or the
/// login's current or previous one (spec §8.4).
fn hash_matches(sandbox: &Sandbox, call: &Call, skey: &str, hash: &str) -> bool {
    let state = sandbox.lock();
    let Some(login) = state.logins.get(skey) else {
        return false;
    };
    let variant = state.knobs.hash_variant;
    let mut candidates = vec![login.ptwebqq.as_str()];
    candidates.extend(login.previous_ptwebqq.as_deref());
    candidates.extend(call.cookie("ptwebqq"));
    // The 2018 server often left ptwebqq empty and clients hashed "".
    candidates.push("");
    candidates.iter().any(|ptwebqq| {
        friend_list_hash(variant, login.qq.get(), ptwebqq).eq_ignore_ascii_case(hash)
    })
}

/// Reads `r` of a list call and checks vfwebqq and hash; returns the login's skey.
fn list_call(sandbox: &Sandbox, call: &Call) -> Result<String, Refusal> {
    let Some(r) = call.r() else {
        return Err(Refusal(Retcode::BAD_REQUEST));
    };
    let vfwebqq = r.get("vfwebqq").and_then(|v| v.as_str());
    let hash = r.get("hash").and_then(|v| v.as_str()).unwrap_or("");
    let skey = {
        let mut state = sandbox.lock();
        let session = api_session(&mut state, call, vfwebqq)?;
        session.skey.clone()
    };
    if !hash_matches(sandbox, call, &skey, hash) {
        return Err(Refusal(Retcode::BAD_HASH));
    }
    Ok(skey)
}

/// `POST /api/get_user_friends2`.
pub(crate) async fn get_user_friends2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let call = Call::new(headers, &uri, &body);
    let skey = match list_call(&sandbox, &call) {
        Ok(skey) => skey,
        Err(refusal) => return refusal.into_response(),
    };
    let mut state = sandbox.lock();
    let world = state.world().clone();
    let Ok(session) = session_of_login(&mut state, &skey) else {
        return retcode_reply(Retcode::BAD_REQUEST);
    };
    let aliases = &session.aliases;
    let mut result = FriendsResult::default();
    for friend in &world.friends {
        let uin = aliases.uin(friend.qq);
        let nick = world.nick(friend.qq).to_owned();
        result.friends.push(FriendEntry {
            flag: 0,
            uin,
            categories: friend.category,
        });
        result.info.push(FriendInfoEntry {
            face: 0,
            flag: 0,
            nick,
            uin,
        });
        result.vipinfo.push(smartqq_protocol::api::VipInfo {
            vip_level: 0,
            u: uin,
            is_vip: 0,
        });
        if let Some(markname) = &friend.markname {
            result.marknames.push(MarkName {
                uin,
                markname: markname.clone(),
                mark_type: 0,
            });
        }
    }
    result.categories = world
        .categories
        .iter()
        .map(|c| Category {
            index: c.index,
            sort: c.index,
            name: c.name.clone(),
        })
        .collect();
    result_reply(&result)
}

/// `POST /api/get_group_name_list_mask2` (GET with `r` in the query works too).
pub(crate) async fn get_group_name_list_mask2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let call = Call::new(headers, &uri, &body);
    let skey = match list_call(&sandbox, &call) {
        Ok(skey) => skey,
        Err(refusal) => return refusal.into_response(),
    };
    let mut state = sandbox.lock();
    let world = state.world().clone();
    let Ok(session) = session_of_login(&mut state, &skey) else {
        return retcode_reply(Retcode::BAD_REQUEST);
    };
    let mut result = GroupListResult::default();
    for group in &world.groups {
        let Some(gid) = session.aliases.gid(group.code) else {
            continue;
        };
        result.gnamelist.push(GroupNameEntry {
            flag: 1_090_519_041,
            name: group.name.clone(),
            gid,
            code: group.code,
        });
        if let Some(markname) = &group.markname {
            result.gmarklist.push(GroupMark {
                uin: gid,
                markname: markname.clone(),
            });
        }
    }
    result_reply(&result)
}

/// `GET /api/get_discus_list`.
pub(crate) async fn get_discus_list(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let mut state = sandbox.lock();
    let world = state.world().clone();
    if let Err(refusal) = api_session(&mut state, &call, call.query("vfwebqq")) {
        return refusal.into_response();
    }
    let dnamelist = world
        .discussions
        .iter()
        .map(|d| DiscussionEntry {
            name: d.name.clone(),
            did: d.did,
        })
        .collect();
    result_reply(&DiscussionListResult { dnamelist })
}

/// `GET /api/get_friend_uin2`: uin to QQ number. Open in the legacy era; closed (a Tomcat
/// 404 page) from 2017-04 on (spec §7.7).
pub(crate) async fn get_friend_uin2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let mut state = sandbox.lock();
    if state.era() != Era::Legacy2015 {
        return tomcat_not_found();
    }
    let world = state.world().clone();
    let session = match api_session(&mut state, &call, call.query("vfwebqq")) {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(tuin) = call.query("tuin").and_then(|t| t.parse::<u64>().ok()) else {
        return retcode_reply(Retcode::BAD_REQUEST);
    };
    // type=4 with a group code answers the public group number (legacy only).
    if call.query("type") == Some("4") {
        return match world.group_by_code(GroupCode(tuin)) {
            Some(group) => result_reply(&FriendUinResult {
                uiuin: String::new(),
                account: group.number.get(),
                uin: tuin,
            }),
            None => retcode_reply(Retcode::WRONG_ID),
        };
    }
    match session.aliases.qq_of.get(&Uin(tuin)) {
        Some(qq) => result_reply(&FriendUinResult {
            uiuin: String::new(),
            account: qq.get(),
            uin: tuin,
        }),
        None if tuin == world.account.qq.get() => result_reply(&FriendUinResult {
            uiuin: String::new(),
            account: tuin,
            uin: tuin,
        }),
        None => retcode_reply(Retcode::WRONG_ID),
    }
}

/// The person a `tuin` query names in the caller's session: the uin as asked and the QQ
/// number behind it (the account's own uin is its QQ number).
fn queried_person(state: &mut SandboxState, call: &Call) -> Result<(u64, QqNumber), Refusal> {
    let own = state.world().account.qq;
    let session = api_session(state, call, call.query("vfwebqq"))?;
    let tuin = call
        .query("tuin")
        .and_then(|t| t.parse::<u64>().ok())
        .unwrap_or(0);
    let qq = if tuin == own.get() {
        Some(own)
    } else {
        session.aliases.qq_of.get(&Uin(tuin)).copied()
    };
    qq.map(|qq| (tuin, qq)).ok_or(Refusal(Retcode::WRONG_ID))
}

/// `GET /api/get_friend_info2`.
pub(crate) async fn get_friend_info2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let mut state = sandbox.lock();
    let (tuin, qq) = match queried_person(&mut state, &call) {
        Ok(found) => found,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(person) = state.world().person(qq) else {
        return retcode_reply(Retcode::WRONG_ID);
    };
    result_reply(&UserInfo {
        uin: tuin,
        account: None,
        nick: person.nick.clone(),
        lnick: None,
        face: 0,
        gender: person.gender.clone(),
        birthday: Birthday::default(),
        stat: stat_for_status(&person.status),
        country: String::new(),
        province: String::new(),
        city: String::new(),
    })
}

/// `GET /api/get_single_long_nick2`.
pub(crate) async fn get_single_long_nick2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let mut state = sandbox.lock();
    let (tuin, qq) = match queried_person(&mut state, &call) {
        Ok(found) => found,
        Err(refusal) => return refusal.into_response(),
    };
    let world = state.world();
    let lnick = if qq == world.account.qq {
        world.account.lnick.clone()
    } else {
        world
            .person(qq)
            .map(|p| p.lnick.clone())
            .unwrap_or_default()
    };
    result_reply(&[LongNick {
        uin: Uin(tuin),
        lnick,
    }])
}

/// `GET /api/get_group_info_ext2`: members and cards. Wants the group *code*; a gid gives
/// retcode 6, as it did for every client that mixed them up (FAULTS BR-23).
pub(crate) async fn get_group_info_ext2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let mut state = sandbox.lock();
    let world = state.world().clone();
    let session = match api_session(&mut state, &call, call.query("vfwebqq")) {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };
    let gcode = call
        .query("gcode")
        .and_then(|g| g.parse::<u64>().ok())
        .unwrap_or(0);
    let Some(group) = world.group_by_code(GroupCode(gcode)) else {
        return json_retcode_only(Retcode::WRONG_ID);
    };
    let aliases = &session.aliases;
    let Some(gid) = aliases.gid(group.code) else {
        return json_retcode_only(Retcode::WRONG_ID);
    };
    let mut result = GroupInfoResult {
        ginfo: GroupInfo {
            gid,
            code: group.code,
            name: group.name.clone(),
            owner: Some(aliases.uin(group.owner)),
            createtime: 1_400_000_000,
            level: 0,
            face: 0,
            memo: group.memo.clone(),
            fingermemo: String::new(),
            class: 10048,
            flag: 1_090_519_041,
            option: 2,
            members: Vec::new(),
        },
        minfo: Vec::new(),
        cards: Vec::new(),
        stats: Vec::new(),
        vipinfo: Vec::new(),
    };
    for member in &group.members {
        let uin = aliases.uin(member.qq);
        // mflag: bit 0 marks an administrator in the sandbox (the real bits are unknown).
        let mflag = u32::from(member.admin) | if member.qq == group.owner { 0b100 } else { 0 };
        result
            .ginfo
            .members
            .push(GroupMemberFlag { muin: uin, mflag });
        let (gender, status) = match world.person(member.qq) {
            Some(p) => (p.gender.clone(), p.status.clone()),
            None => (world.account.gender.clone(), "online".to_owned()),
        };
        result.minfo.push(MemberInfo {
            uin,
            nick: world.nick(member.qq).to_owned(),
            gender,
            country: String::new(),
            province: String::new(),
            city: String::new(),
        });
        if let Some(card) = &member.card {
            result.cards.push(MemberCard {
                muin: uin,
                card: card.clone(),
            });
        }
        if status != "offline" {
            result.stats.push(MemberStat {
                uin,
                client_type: 1,
                stat: stat_for_status(&status),
            });
        }
    }
    result_reply(&result)
}

/// `{"retcode":N}` with nothing else, the shape of the wrong-id answer (spec §7.10).
fn json_retcode_only(retcode: Retcode) -> Response {
    crate::call::json_reply(&serde_json::json!({ "retcode": retcode.0 }))
}

/// Reads `clientid` from a query or `r`.
pub(crate) fn clientid_of(call: &Call, r: Option<&serde_json::Value>) -> Option<u64> {
    r.and_then(|r| json_u64(r.get("clientid")))
        .or_else(|| call.query("clientid").and_then(|c| c.trim().parse().ok()))
}

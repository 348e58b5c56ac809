//! `d1.web2.qq.com/channel/*` besides the poll and the sends: `login2` and the
//! channel-side contact calls (spec §3.6, §7.5-§7.12).

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use smartqq_protocol::api::{
    DiscussionInfo, DiscussionInfoResult, DiscussionMember, DiscussionMemberInfo, Era,
    Login2Result, OnlineBuddy, RecentEntry, STATUSES,
};
use smartqq_protocol::retcode::Retcode;
use smartqq_protocol::{ClientId, DiscussionId, QqNumber, Secret};

use crate::call::{Call, json_reply, result_reply, retcode_reply};
use crate::routes::api::clientid_of;
use crate::routes::{channel_session, json_u64, login_skey, query_session};
use crate::state::{EndReason, HEX, Sandbox, State as SandboxState, WebSession, token};

/// `POST /channel/login2`: creates the web session, or relinks an existing one.
pub(crate) async fn login2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let call = Call::new(headers, &uri, &body);
    let mut state = sandbox.lock();
    let era = state.era();
    // Legacy servers answered a missing cookie with 103 (spec §3.6); later ones with 100001.
    let refusal = if era == Era::Legacy2015 {
        Retcode::NOT_REGISTERED
    } else {
        Retcode::BAD_REQUEST
    };
    let skey = match login_skey(&state, &call, refusal) {
        Ok(skey) => skey,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(r) = call.r() else {
        return retcode_reply(Retcode::BAD_REQUEST);
    };
    let Some(clientid) = json_u64(r.get("clientid")) else {
        return retcode_reply(Retcode::BAD_REQUEST);
    };
    let ptwebqq = r.get("ptwebqq").and_then(Value::as_str).unwrap_or("");
    let status = r.get("status").and_then(Value::as_str).unwrap_or("online");
    let Some(login) = state.logins.get(&skey) else {
        return retcode_reply(refusal);
    };
    let ptwebqq_ok = ptwebqq.is_empty()
        || ptwebqq == login.ptwebqq
        || login.previous_ptwebqq.as_deref() == Some(ptwebqq);
    // From 2015-11 getvfwebqq became a mandatory step before login2 (spec §0).
    let vfwebqq_missing = era != Era::Legacy2015 && login.vfwebqq.is_none();
    if !ptwebqq_ok || vfwebqq_missing || !STATUSES.contains(&status) {
        return retcode_reply(Retcode::BAD_REQUEST);
    }
    let qq = login.qq;

    // A relink names the live session; it keeps its psessionid, aliases and queue.
    let relink = r
        .get("psessionid")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty());
    let psessionid = match relink.and_then(|p| state.sessions.get(p)) {
        Some(session) if session.skey == skey && session.ended.is_none() => {
            session.psessionid.clone()
        }
        _ => new_session(&mut state, &skey, ClientId(clientid)),
    };
    if let Some(session) = state.sessions.get_mut(&psessionid) {
        session.status = status.to_owned();
    }
    result_reply(&Login2Result {
        uin: qq,
        cip: 2_130_706_433,
        index: 1075,
        port: 47450,
        status: status.to_owned(),
        user_state: 0,
        f: 0,
        vfwebqq: Secret::new(token(HEX, 80)),
        psessionid: Secret::new(psessionid),
    })
}

/// Creates a web session: fresh aliases, the older session kicked (one live session per
/// account, spec §10.1), messages that arrived while offline queued.
fn new_session(state: &mut SandboxState, skey: &str, clientid: ClientId) -> String {
    const KICK_REASON: &str =
        "您的帐号在另一地点登录，您已被迫下线。如有疑问，请登录 safe.qq.com 了解更多。";
    for session in state.sessions.values_mut().filter(|s| s.ended.is_none()) {
        session.kick(KICK_REASON);
        session.end(EndReason::Replaced);
    }
    let psessionid = format!(
        "8368046764001d{}{}",
        hex::encode("connserver_webqq@10.133.41.84"),
        token(HEX, 152)
    );
    let aliases = state.deal_aliases();
    let mut session = WebSession::new(psessionid.clone(), skey.to_owned(), clientid, aliases);
    // The 103 warm-up quirk appeared in 2016 (spec §3.7); legacy sessions start warm.
    session.warmed_up = state.era() == Era::Legacy2015;
    let world = state.world().clone();
    for message in std::mem::take(&mut state.offline) {
        let event = session.translate(&world, state.era(), &message);
        session.push(event);
    }
    state.sessions.insert(psessionid.clone(), session);
    state.prune();
    psessionid
}

/// `GET /channel/get_online_buddies2`: also ends the 103 warm-up (spec §3.7).
pub(crate) async fn get_online_buddies2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let mut state = sandbox.lock();
    let world = state.world().clone();
    let vfwebqq_ok = vfwebqq_matches(&state, &call, call.query("vfwebqq"));
    let session = match query_session(&mut state, &call) {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };
    if !vfwebqq_ok {
        return retcode_reply(Retcode::BAD_REQUEST);
    }
    session.warmed_up = true;
    session.init_calls.online_buddies = true;
    let online: Vec<OnlineBuddy> = world
        .friends
        .iter()
        .filter_map(|f| world.person(f.qq))
        .filter(|p| p.status != "offline" && p.status != "hidden")
        .map(|p| OnlineBuddy {
            uin: session.aliases.uin(p.qq),
            status: p.status.clone(),
            client_type: p.client_type,
        })
        .collect();
    result_reply(&online)
}

fn vfwebqq_matches(state: &SandboxState, call: &Call, vfwebqq: Option<&str>) -> bool {
    let login = call.cookie("skey").and_then(|skey| state.logins.get(skey));
    login
        .and_then(|l| l.vfwebqq.as_deref())
        .is_some_and(|expected| Some(expected) == vfwebqq)
}

/// `POST /channel/get_recent_list2`.
pub(crate) async fn get_recent_list2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let call = Call::new(headers, &uri, &body);
    let Some(r) = call.r() else {
        return retcode_reply(Retcode::BAD_REQUEST);
    };
    let mut state = sandbox.lock();
    let world = state.world().clone();
    let recent = state.recent.clone();
    let vfwebqq_ok = vfwebqq_matches(&state, &call, r.get("vfwebqq").and_then(Value::as_str));
    let psessionid = r
        .get("psessionid")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty());
    // ScienJus sent an empty psessionid here (spec §7.6); then the login's live session counts.
    let psessionid = psessionid.map(str::to_owned).or_else(|| {
        let skey = call.cookie("skey")?;
        state
            .sessions
            .values()
            .find(|s| s.skey == skey && s.ended.is_none())
            .map(|s| s.psessionid.clone())
    });
    let session = match channel_session(
        &mut state,
        &call,
        psessionid.as_deref(),
        clientid_of(&call, Some(&r)),
        Retcode::NOT_REGISTERED,
    ) {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };
    if !vfwebqq_ok {
        return retcode_reply(Retcode::BAD_REQUEST);
    }
    session.init_calls.recent_list = true;
    let entries: Vec<RecentEntry> = recent
        .iter()
        .filter_map(|(kind, id)| match kind {
            0 => world.friend(QqNumber(*id)).map(|_| RecentEntry {
                kind: 0,
                uin: session.aliases.uin(QqNumber(*id)).get(),
            }),
            1 => session
                .aliases
                .gid(smartqq_protocol::GroupCode(*id))
                .map(|gid| RecentEntry {
                    kind: 1,
                    uin: gid.get(),
                }),
            _ => Some(RecentEntry { kind: 2, uin: *id }),
        })
        .collect();
    result_reply(&entries)
}

/// `GET /channel/get_discu_info`.
pub(crate) async fn get_discu_info(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let mut state = sandbox.lock();
    let world = state.world().clone();
    let vfwebqq_ok = vfwebqq_matches(&state, &call, call.query("vfwebqq"));
    let session = match query_session(&mut state, &call) {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };
    if !vfwebqq_ok {
        return retcode_reply(Retcode::BAD_REQUEST);
    }
    let did = call
        .query("did")
        .and_then(|d| d.trim().parse::<u64>().ok())
        .unwrap_or(0);
    let Some(discussion) = world.discussion(DiscussionId(did)) else {
        return retcode_reply(Retcode::WRONG_ID);
    };
    let aliases = &session.aliases;
    let mut result = DiscussionInfoResult {
        info: DiscussionInfo {
            did: discussion.did,
            discu_name: discussion.name.clone(),
            discu_owner: Some(aliases.uin(discussion.owner)),
            mem_list: Vec::new(),
        },
        mem_info: Vec::new(),
        mem_status: Vec::new(),
    };
    for qq in &discussion.members {
        let uin = aliases.uin(*qq);
        result.info.mem_list.push(DiscussionMember {
            mem_uin: uin,
            ruin: Some(*qq),
        });
        result.mem_info.push(DiscussionMemberInfo {
            uin,
            nick: world.nick(*qq).to_owned(),
        });
        if let Some(person) = world.person(*qq).filter(|p| p.status != "offline") {
            result.mem_status.push(OnlineBuddy {
                uin,
                status: person.status.clone(),
                client_type: person.client_type,
            });
        }
    }
    result_reply(&result)
}

/// `GET /channel/change_status2`.
pub(crate) async fn change_status2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let mut state = sandbox.lock();
    let session = match query_session(&mut state, &call) {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };
    match call.query("newstatus").filter(|s| STATUSES.contains(s)) {
        Some(status) => {
            session.status = status.to_owned();
            json_reply(&json!({"retcode": 0, "result": "ok"}))
        }
        None => retcode_reply(Retcode::BAD_REQUEST),
    }
}

/// `GET /channel/logout2`: ends the session.
pub(crate) async fn logout2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let mut state = sandbox.lock();
    let session = match query_session(&mut state, &call) {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };
    session.end(EndReason::LoggedOut);
    json_reply(&json!({"retcode": 0, "result": "ok"}))
}

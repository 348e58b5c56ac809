//! `d1.web2.qq.com/channel/*`: `login2`, the `poll2` long poll, the four sends and the
//! channel-side contact calls (spec §3.6, §5, §6, §7.5-§7.12).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use smartqq_protocol::api::{
    DiscussionInfo, DiscussionInfoResult, DiscussionMember, DiscussionMemberInfo, Era,
    Login2Result, OnlineBuddy, RecentEntry, STATUSES,
};
use smartqq_protocol::content::{Segment, decode_outgoing, plain_text};
use smartqq_protocol::poll::{DiscuMessage, GroupMessage, PollEvent, events_body};
use smartqq_protocol::retcode::Retcode;
use smartqq_protocol::{ClientId, DiscussionId, Gid, QqNumber, Secret, Uin};

use crate::call::{Call, Refusal, gateway_timeout, json_reply, result_reply, retcode_reply};
use crate::knobs::{IdleMode, SendResult, SendShape, SessSend};
use crate::routes::api::clientid_of;
use crate::routes::{channel_session, json_u64, login_skey};
use crate::state::{
    EndReason, HEX, Sandbox, SentMessage, State as SandboxState, WebSession, token,
};
use crate::world::World;

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
    psessionid
}

/// Decrements the in-flight count however a poll ends, cancellation included.
struct InFlight(std::sync::Arc<std::sync::atomic::AtomicI64>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a poll found when it looked at its session.
enum PollStep {
    Answer(Response),
    Wait {
        notify: std::sync::Arc<tokio::sync::Notify>,
    },
}

/// `POST /channel/poll2`: the long poll (spec §5, §10.3).
pub(crate) async fn poll2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let call = Call::new(headers, &uri, &body);
    sandbox.polls_in_flight.fetch_add(1, Ordering::SeqCst);
    let _in_flight = InFlight(sandbox.polls_in_flight.clone());

    let (psessionid, generation, deadline) = {
        let mut state = sandbox.lock();
        match start_poll(&mut state, &call) {
            Ok(started) => started,
            Err(refusal) => return refusal.into_response(),
        }
    };

    loop {
        let notify = {
            let mut state = sandbox.lock();
            match poll_step(
                &mut state,
                &psessionid,
                generation,
                Instant::now() >= deadline,
            ) {
                PollStep::Answer(response) => return response,
                PollStep::Wait { notify } => notify,
            }
        };
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        // Re-check after registering, so a push between the check and here is not missed.
        {
            let mut state = sandbox.lock();
            if let PollStep::Answer(response) =
                poll_step(&mut state, &psessionid, generation, false)
            {
                return response;
            }
        }
        tokio::select! {
            () = notified => {}
            () = tokio::time::sleep_until(deadline.into()) => {}
        }
    }
}

/// Validates a poll and registers it as the session's current one.
fn start_poll(state: &mut SandboxState, call: &Call) -> Result<(String, u64, Instant), Refusal> {
    state.expire_sessions();
    let r = call.r().ok_or(Refusal(Retcode::BAD_REQUEST))?;
    let psessionid = r
        .get("psessionid")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let clientid = json_u64(r.get("clientid"));
    let knobs = state.knobs.clone();
    let current_ptwebqq = call
        .cookie("skey")
        .and_then(|skey| state.logins.get(skey))
        .map(|login| login.ptwebqq.clone());

    // An ended session still hands out what is queued (the kick notice), then 103.
    let session = match channel_session(
        state,
        call,
        psessionid.as_deref(),
        clientid,
        Retcode::NOT_REGISTERED,
    ) {
        Ok(session) => session,
        Err(refusal) => {
            let Some(session) = psessionid.and_then(|p| state.sessions.get_mut(&p)) else {
                return Err(refusal);
            };
            let same_login = call.cookie("skey") == Some(session.skey.as_str());
            if !same_login || session.ended.is_none() || session.queue.is_empty() {
                return Err(refusal);
            }
            session
        }
    };
    if knobs.conflict_session {
        return Err(Refusal(Retcode::NOT_REGISTERED));
    }
    let init = &session.init_calls;
    let init_done = init.self_info && init.online_buddies && init.recent_list;
    if (knobs.strict_init && !init_done) || !session.warmed_up {
        return Err(Refusal(Retcode::NOT_REGISTERED));
    }
    // Empty or absent is fine (2018 clients sent "", legacy ones nothing); a value must be
    // the current one, so a client that ignored a 116 is caught (FAULTS BR-09).
    let sent_ptwebqq = r.get("ptwebqq").and_then(Value::as_str).unwrap_or("");
    if !sent_ptwebqq.is_empty() && Some(sent_ptwebqq) != current_ptwebqq.as_deref() {
        return Err(Refusal(Retcode::BAD_REQUEST));
    }

    session.polls += 1;
    if knobs.rotate_ptwebqq_after > 0 && session.polls % knobs.rotate_ptwebqq_after == 0 {
        session
            .pending_rotation
            .get_or_insert_with(|| token(HEX, 64));
    }
    // A newer poll completes the older one with the idle answer (spec §5.2).
    session.poll_generation += 1;
    session.notify.notify_waiters();
    let psessionid = session.psessionid.clone();
    let generation = session.poll_generation;
    // A held poll wakes when the session's TTL runs out, to answer 103 then.
    let hold = match state.ttl_remaining(&psessionid) {
        Some(remaining) => knobs.hold().min(remaining),
        None => knobs.hold(),
    };
    Ok((psessionid, generation, Instant::now() + hold))
}

/// Looks at the session once: answer now, or wait for a push.
fn poll_step(
    state: &mut SandboxState,
    psessionid: &str,
    generation: u64,
    at_deadline: bool,
) -> PollStep {
    state.expire_sessions();
    let knobs = state.knobs.clone();
    let Some(session) = state.sessions.get_mut(psessionid) else {
        return PollStep::Answer(retcode_reply(Retcode::NOT_REGISTERED));
    };
    if session.poll_generation != generation {
        return PollStep::Answer(idle_answer(knobs.poll_idle_mode));
    }
    if let Some(ptwebqq) = session.pending_rotation.take() {
        let skey = session.skey.clone();
        if let Some(login) = state.logins.get_mut(&skey) {
            login.previous_ptwebqq = Some(std::mem::replace(&mut login.ptwebqq, ptwebqq.clone()));
        }
        return PollStep::Answer(json_reply(&json!({ "retcode": 116, "p": ptwebqq })));
    }
    let ready = !session.queue.is_empty()
        && (session.queue.len() >= knobs.batch_results.max(1)
            || at_deadline
            || session.ended.is_some());
    if ready {
        let events: Vec<PollEvent> = session.queue.drain(..).collect();
        if events.iter().any(|e| matches!(e, PollEvent::Kick(_))) {
            session.end(EndReason::Kicked);
        }
        state.counters.deliveries += events.len() as u64;
        return PollStep::Answer(json_reply(&events_body(&events)));
    }
    if session.ended.is_some() {
        return PollStep::Answer(retcode_reply(Retcode::NOT_REGISTERED));
    }
    if at_deadline {
        return PollStep::Answer(idle_answer(knobs.poll_idle_mode));
    }
    PollStep::Wait {
        notify: session.notify.clone(),
    }
}

/// The era's answer to a poll that found nothing (spec §5.2).
fn idle_answer(mode: IdleMode) -> Response {
    match mode {
        IdleMode::Legacy102 => json_reply(&json!({"retcode": 102, "errmsg": ""})),
        IdleMode::ZeroWithoutResult => json_reply(&json!({"retcode": 0, "errmsg": ""})),
        IdleMode::RecvTimeout => json_reply(&json!({
            "errmsg": "error",
            "retcode": 100012,
            "retmsg": "cmd[qconnect.0], errmsg[RecvTimeout], cost[60.002113481s]",
        })),
        IdleMode::Http504 => gateway_timeout(),
        IdleMode::OkError => json_reply(&json!({"errmsg": "error", "retcode": 0, "retmsg": "ok"})),
    }
}

/// The four kinds of send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum SendKind {
    Buddy,
    Group,
    Discussion,
    Sess,
}

impl SendKind {
    fn endpoint(self) -> &'static str {
        match self {
            Self::Buddy => "send_buddy_msg2",
            Self::Group => "send_qun_msg2",
            Self::Discussion => "send_discu_msg2",
            Self::Sess => "send_sess_msg2",
        }
    }
}

/// A send's target, resolved to stable world terms.
enum Target {
    Friend(QqNumber),
    Group {
        number: u64,
        code: smartqq_protocol::GroupCode,
        gid: Gid,
    },
    Discussion(DiscussionId),
    Stranger(QqNumber),
}

impl Target {
    /// What `GET /sandbox/sent` reports as `target`.
    fn stable_number(&self) -> u64 {
        match self {
            Self::Friend(qq) | Self::Stranger(qq) => qq.get(),
            Self::Group { number, .. } => *number,
            Self::Discussion(did) => did.get(),
        }
    }
}

/// `POST /channel/send_buddy_msg2`.
pub(crate) async fn send_buddy_msg2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    send(&sandbox, &Call::new(headers, &uri, &body), SendKind::Buddy)
}

/// `POST /channel/send_qun_msg2`.
pub(crate) async fn send_qun_msg2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    send(&sandbox, &Call::new(headers, &uri, &body), SendKind::Group)
}

/// `POST /channel/send_discu_msg2`.
pub(crate) async fn send_discu_msg2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    send(
        &sandbox,
        &Call::new(headers, &uri, &body),
        SendKind::Discussion,
    )
}

/// `POST /channel/send_sess_msg2`.
pub(crate) async fn send_sess_msg2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    send(&sandbox, &Call::new(headers, &uri, &body), SendKind::Sess)
}

/// Resolves the target members of a send `r` in the session's alias maps.
fn resolve_target(
    world: &World,
    session: &WebSession,
    kind: SendKind,
    r: &Value,
) -> Option<Target> {
    let aliases = &session.aliases;
    match kind {
        SendKind::Buddy => {
            let qq = *aliases.qq_of.get(&Uin(json_u64(r.get("to"))?))?;
            world.friend(qq).map(|_| Target::Friend(qq))
        }
        SendKind::Group => {
            let gid = Gid(json_u64(r.get("group_uin"))?);
            let code = *aliases.code_of.get(&gid)?;
            let group = world.group_by_code(code)?;
            Some(Target::Group {
                number: group.number.get(),
                code,
                gid,
            })
        }
        SendKind::Discussion => {
            let did = DiscussionId(json_u64(r.get("did"))?);
            world.discussion(did).map(|_| Target::Discussion(did))
        }
        SendKind::Sess => {
            let to = Uin(json_u64(r.get("to"))?);
            let service_type = u8::try_from(json_u64(r.get("service_type"))?).ok()?;
            let sig = r.get("group_sig").and_then(Value::as_str)?;
            let issued = session
                .sigs
                .iter()
                .any(|((_, uin, st), value)| *uin == to && *st == service_type && value == sig);
            let qq = *aliases.qq_of.get(&to)?;
            issued.then_some(Target::Stranger(qq))
        }
    }
}

fn send(sandbox: &Sandbox, call: &Call, kind: SendKind) -> Response {
    let mut state = sandbox.lock();
    let Some(r) = call.r() else {
        return retcode_reply(Retcode::BAD_REQUEST);
    };
    let knobs = state.knobs.clone();
    let world = state.world().clone();
    let own = world.account.qq;
    let psessionid = r.get("psessionid").and_then(Value::as_str);
    let session = match channel_session(
        &mut state,
        call,
        psessionid,
        clientid_of(call, Some(&r)),
        Retcode::RECV_TIMEOUT,
    ) {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };
    let init = &session.init_calls;
    if knobs.strict_init && !(init.self_info && init.online_buddies && init.recent_list) {
        return retcode_reply(Retcode::BAD_REQUEST);
    }
    let (Some(target), Some(msg_id)) = (
        resolve_target(&world, session, kind, &r),
        json_u64(r.get("msg_id")),
    ) else {
        return retcode_reply(Retcode::BAD_REQUEST);
    };
    let Some(content) = r.get("content").and_then(Value::as_str) else {
        return retcode_reply(Retcode::BAD_REQUEST);
    };
    let segments = match decode_outgoing(content) {
        Ok((segments, _font)) => segments,
        Err(_) if knobs.strict_json => return retcode_reply(Retcode::BAD_REQUEST),
        // The lax server said "ok" and delivered nothing (FAULTS BR-01).
        Err(_) => return send_ok(knobs.send_response_shape),
    };
    let text = plain_text(&segments);
    if knobs.max_text_bytes > 0 && text.len() > knobs.max_text_bytes {
        return retcode_reply(Retcode::BAD_REQUEST);
    }
    if kind == SendKind::Sess && knobs.sess_send == SessSend::Blocked {
        return retcode_reply(Retcode::MISSING_COOKIE);
    }

    let (reply, mut delivered) = match knobs.send_result {
        SendResult::Ok => (None, true),
        SendResult::MaybeDelivered => (Some(Retcode::MAYBE_FAILED), true),
        SendResult::MaybeDropped => (Some(Retcode::MAYBE_FAILED), false),
        SendResult::ErrorButDelivered => (Some(Retcode::DELIVERED_ANYWAY), true),
        SendResult::BadRequest => (Some(Retcode::BAD_REQUEST), false),
        SendResult::MissingCookie => (Some(Retcode::MISSING_COOKIE), false),
        SendResult::Frozen => (Some(Retcode::NO_MESSAGE), false),
    };
    let mut reply = reply;
    if knobs.rate_limit > 0 && delivered {
        let window = state.send_times.entry(target.stable_number()).or_default();
        window.retain(|at| at.elapsed() < Duration::from_secs(1));
        if window.len() >= knobs.rate_limit as usize {
            (reply, delivered) = (Some(Retcode::MAYBE_FAILED), false);
        } else {
            window.push_back(Instant::now());
        }
    }
    let shadow_dropped = matches!(
        (&target, knobs.shadow_drop_group),
        (Target::Group { number, .. }, Some(dropped)) if *number == dropped.get()
    );
    let reaches_people = delivered && !shadow_dropped;

    state.sent.push(SentMessage {
        endpoint: kind.endpoint(),
        target: target.stable_number(),
        text,
        segments: segments.clone(),
        msg_id,
        delivered: reaches_people,
    });
    if reaches_people {
        echo_own_message(&mut state, &target, own, &segments);
        match target {
            Target::Friend(qq) | Target::Stranger(qq) => state.note_recent((0, qq.get())),
            Target::Group { code, .. } => state.note_recent((1, code.get())),
            Target::Discussion(did) => state.note_recent((2, did.get())),
        }
    }
    match reply {
        None => send_ok(knobs.send_response_shape),
        Some(code) => json_reply(&json!({"errmsg": "error!!!", "retcode": code.0})),
    }
}

/// From 2017-05 the account's own group and discussion messages came back through
/// `poll2` with `send_uin` = own QQ (spec §10.3).
fn echo_own_message(
    state: &mut SandboxState,
    target: &Target,
    own: QqNumber,
    segments: &[Segment],
) {
    if !state.knobs.echo_self {
        return;
    }
    let era = state.era();
    let font = smartqq_protocol::content::Font::default();
    let Some(session) = state.live_session_mut() else {
        return;
    };
    let content = smartqq_protocol::content::ReceivedContent::to_wire(&font, segments);
    let msg_id = session.next_msg_id + 1;
    session.next_msg_id = msg_id;
    let time = crate::state::unix_seconds();
    let event = match target {
        Target::Group { code, gid, .. } => PollEvent::GroupMessage(GroupMessage {
            from_uin: *gid,
            group_code: if era == Era::Legacy2015 {
                code.get()
            } else {
                gid.get()
            },
            send_uin: own.as_self_uin(),
            to_uin: own.as_self_uin(),
            msg_id,
            msg_type: 0,
            time,
            content,
        }),
        Target::Discussion(did) => PollEvent::DiscuMessage(DiscuMessage {
            from_uin: *did,
            did: *did,
            send_uin: own.as_self_uin(),
            to_uin: own.as_self_uin(),
            msg_id,
            msg_type: 0,
            time,
            content,
        }),
        Target::Friend(_) | Target::Stranger(_) => return,
    };
    session.push(event);
}

fn send_ok(shape: SendShape) -> Response {
    match shape {
        SendShape::Retcode => json_reply(&json!({"retcode": 0, "result": "ok"})),
        SendShape::ErrCode => json_reply(&json!({"errCode": 0, "msg": "send ok"})),
    }
}

/// `GET /channel/get_c2cmsg_sig2`: the signature a temporary-session send needs.
pub(crate) async fn get_c2cmsg_sig2(
    State(sandbox): State<Sandbox>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(headers, &uri, &Bytes::new());
    let mut state = sandbox.lock();
    let world = state.world().clone();
    let session = match channel_session(
        &mut state,
        &call,
        call.query("psessionid"),
        clientid_of(&call, None),
        Retcode::NOT_REGISTERED,
    ) {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };
    let number = |name: &str| call.query(name).and_then(|v| v.trim().parse::<u64>().ok());
    let (Some(id), Some(to_uin), Some(service_type)) =
        (number("id"), number("to_uin"), number("service_type"))
    else {
        return retcode_reply(Retcode::BAD_REQUEST);
    };
    let member = session.aliases.qq_of.get(&Uin(to_uin)).copied();
    let allowed = match (service_type, member) {
        (0, Some(qq)) => session
            .aliases
            .code_of
            .get(&Gid(id))
            .and_then(|code| world.group_by_code(*code))
            .is_some_and(|group| group.member(qq).is_some()),
        (1, Some(qq)) => world
            .discussion(DiscussionId(id))
            .is_some_and(|d| d.members.contains(&qq)),
        (0 | 1, None) => false,
        _ => return retcode_reply(Retcode::BAD_REQUEST),
    };
    // An empty value means "not allowed" (spec §6.2).
    let value = if allowed {
        let key = (id, Uin(to_uin), service_type as u8);
        session
            .sigs
            .entry(key)
            .or_insert_with(|| token(HEX, 32))
            .clone()
    } else {
        String::new()
    };
    result_reply(&json!({
        "type": 0,
        "value": value,
        "flags": {"text": 1, "pic": 1, "file": 1, "audio": 1, "video": 1},
    }))
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
    let session = match channel_session(
        &mut state,
        &call,
        call.query("psessionid"),
        clientid_of(&call, None),
        Retcode::NOT_REGISTERED,
    ) {
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
    let session = match channel_session(
        &mut state,
        &call,
        call.query("psessionid"),
        clientid_of(&call, None),
        Retcode::NOT_REGISTERED,
    ) {
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
    let session = match channel_session(
        &mut state,
        &call,
        call.query("psessionid"),
        clientid_of(&call, None),
        Retcode::NOT_REGISTERED,
    ) {
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
    let session = match channel_session(
        &mut state,
        &call,
        call.query("psessionid"),
        clientid_of(&call, None),
        Retcode::NOT_REGISTERED,
    ) {
        Ok(session) => session,
        Err(refusal) => return refusal.into_response(),
    };
    session.end(EndReason::LoggedOut);
    json_reply(&json!({"retcode": 0, "result": "ok"}))
}

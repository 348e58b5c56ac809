//! `d1.web2.qq.com/channel/send_*_msg2` and `get_c2cmsg_sig2` (spec §6, §10.4).

use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use smartqq_protocol::api::Era;
use smartqq_protocol::content::{Segment, decode_outgoing, plain_text};
use smartqq_protocol::poll::{DiscuMessage, GroupMessage, PollEvent};
use smartqq_protocol::retcode::Retcode;
use smartqq_protocol::{DiscussionId, Gid, QqNumber, Uin};

use crate::call::{Call, json_reply, result_reply, retcode_reply};
use crate::knobs::{SendResult, SendShape, SessSend};
use crate::routes::api::clientid_of;
use crate::routes::{channel_session, json_u64, query_session};
use crate::state::{HEX, Sandbox, SentMessage, State as SandboxState, WebSession, token};
use crate::world::World;

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
    state.prune();
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
    let session = match query_session(&mut state, &call) {
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

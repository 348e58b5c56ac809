//! The control API under `/sandbox/`: act as the phone, as the other people of the world,
//! and as the server's bad days; read what clients sent. Documented in `docs/SANDBOX.md`.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use smartqq_protocol::content::Segment;
use smartqq_protocol::poll::{PollEvent, StatusChange};
use smartqq_protocol::{DiscussionId, GroupNumber, QqNumber};

use crate::state::{
    HEX, Injected, Sandbox, SessRoom, State as SandboxState, code_for_number, token,
};

/// Routes under `/sandbox/`.
pub(crate) fn control_routes() -> Router<Sandbox> {
    Router::new()
        .route("/sandbox/world", get(world))
        .route("/sandbox/qr/scan", post(qr_scan))
        .route("/sandbox/qr/confirm", post(qr_confirm))
        .route("/sandbox/qr/expire", post(qr_expire))
        .route("/sandbox/messages", post(messages))
        .route("/sandbox/status", post(status))
        .route("/sandbox/sent", get(sent))
        .route("/sandbox/kick", post(kick))
        .route("/sandbox/session/expire", post(session_expire))
        .route("/sandbox/ptwebqq/rotate", post(ptwebqq_rotate))
        .route("/sandbox/knobs", get(knobs_get).post(knobs_set))
        .route("/sandbox/counters", get(counters))
        .route("/sandbox/captcha", get(captcha))
}

fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// Parses an optional JSON body (empty is `{}`) into `T`; the error is the text of a 400.
fn body_as<T: serde::de::DeserializeOwned>(body: &Bytes) -> Result<T, String> {
    let value = if body.iter().all(u8::is_ascii_whitespace) {
        json!({})
    } else {
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON: {e}"))?
    };
    serde_json::from_value(value).map_err(|e| format!("body has the wrong shape: {e}"))
}

async fn world(State(sandbox): State<Sandbox>) -> Json<Value> {
    let state = sandbox.lock();
    let world = state.world();
    let aliases = state
        .sessions
        .values()
        .find(|s| s.ended.is_none())
        .map(|s| &s.aliases);
    let uin = |qq: QqNumber| aliases.map(|a| a.uin(qq).get());
    let friends: Vec<Value> = world
        .friends
        .iter()
        .map(|f| {
            let person = world.person(f.qq);
            json!({
                "qq": f.qq, "uin": uin(f.qq), "nick": world.nick(f.qq), "markname": f.markname,
                "category": f.category, "status": person.map(|p| p.status.as_str()),
            })
        })
        .collect();
    let groups: Vec<Value> = world
        .groups
        .iter()
        .map(|g| {
            let members: Vec<Value> = g
                .members
                .iter()
                .map(|m| json!({"qq": m.qq, "uin": uin(m.qq), "nick": world.nick(m.qq), "card": m.card, "admin": m.admin}))
                .collect();
            json!({
                "number": g.number, "gid": aliases.and_then(|a| a.gid(g.code)), "code": g.code,
                "name": g.name, "owner": g.owner, "members": members,
            })
        })
        .collect();
    let discussions: Vec<Value> = world
        .discussions
        .iter()
        .map(|d| {
            let members: Vec<Value> = d
                .members
                .iter()
                .map(|qq| json!({"qq": qq, "uin": uin(*qq), "nick": world.nick(*qq)}))
                .collect();
            json!({"did": d.did, "name": d.name, "owner": d.owner, "members": members})
        })
        .collect();
    let categories: Vec<Value> = world
        .categories
        .iter()
        .map(|c| json!({"index": c.index, "name": c.name}))
        .collect();
    Json(json!({
        "profile": state.era(),
        "self": {"qq": world.account.qq, "nick": world.account.nick},
        "categories": categories,
        "friends": friends,
        "groups": groups,
        "discussions": discussions,
    }))
}

fn with_newest_qr(sandbox: &Sandbox, act: impl FnOnce(&mut crate::state::QrTicket)) -> Response {
    let mut state = sandbox.lock();
    match state.newest_qr() {
        Some(ticket) => {
            act(ticket);
            Json(json!({"qr": ticket.number, "scanned": ticket.scanned, "confirmed": ticket.confirmed, "expired": ticket.expired})).into_response()
        }
        None => problem(
            StatusCode::CONFLICT,
            "no QR code is waiting; a client must call /ptqrshow first",
        ),
    }
}

async fn qr_scan(State(sandbox): State<Sandbox>) -> Response {
    with_newest_qr(&sandbox, |ticket| ticket.scanned = true)
}

async fn qr_confirm(State(sandbox): State<Sandbox>) -> Response {
    with_newest_qr(&sandbox, |ticket| {
        ticket.scanned = true;
        ticket.confirmed = true;
    })
}

async fn qr_expire(State(sandbox): State<Sandbox>) -> Response {
    with_newest_qr(&sandbox, |ticket| ticket.expired = true)
}

/// The body of `POST /sandbox/messages`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct InjectRequest {
    kind: String,
    from: QqNumber,
    #[serde(default)]
    group: Option<GroupNumber>,
    #[serde(default)]
    discussion: Option<DiscussionId>,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    segments: Option<Vec<Segment>>,
}

async fn messages(State(sandbox): State<Sandbox>, body: Bytes) -> Response {
    let request: InjectRequest = match body_as(&body) {
        Ok(request) => request,
        Err(error) => return problem(StatusCode::BAD_REQUEST, error),
    };
    let mut state = sandbox.lock();
    let message = match injected(&state, request) {
        Ok(message) => message,
        Err(error) => return problem(StatusCode::BAD_REQUEST, error),
    };
    let delivered_now = state.inject(message);
    Json(json!({"queued": true, "client_online": delivered_now})).into_response()
}

/// Checks an injected message against the world and puts it in stable terms.
fn injected(state: &SandboxState, request: InjectRequest) -> Result<Injected, String> {
    let world = state.world();
    let mut segments = request.segments.unwrap_or_default();
    if let Some(text) = request.text {
        segments.insert(0, Segment::Text(text));
    }
    if segments.is_empty() {
        return Err("a message needs text or segments".to_owned());
    }
    let from = request.from;
    if from == world.account.qq {
        return Err("the account itself cannot be the sender; use a client".to_owned());
    }
    if world.person(from).is_none() {
        return Err(format!("{from} is nobody in the world"));
    }
    let group = request
        .group
        .map(|number| code_for_number(world, number).ok_or(format!("no group {number}")))
        .transpose()?;
    let discussion = request
        .discussion
        .map(|did| {
            world
                .discussion(did)
                .map(|d| d.did)
                .ok_or(format!("no discussion {did}"))
        })
        .transpose()?;
    let in_group = |code| {
        world
            .group_by_code(code)
            .is_some_and(|g| g.member(from).is_some())
    };
    let in_discussion = |did| {
        world
            .discussion(did)
            .is_some_and(|d| d.members.contains(&from))
    };
    match (request.kind.as_str(), group, discussion) {
        ("buddy", None, None) if world.friend(from).is_some() => Ok(Injected::Buddy { from, segments }),
        ("buddy", None, None) => Err(format!("{from} is not a friend; use kind sess")),
        ("group", Some(code), None) if in_group(code) => Ok(Injected::Group { from, code, segments }),
        ("discu", None, Some(did)) if in_discussion(did) => Ok(Injected::Discussion { from, did, segments }),
        ("sess", Some(code), None) if in_group(code) => {
            Ok(Injected::Sess { from, via: SessRoom::Group(code), segments })
        }
        ("sess", None, Some(did)) if in_discussion(did) => {
            Ok(Injected::Sess { from, via: SessRoom::Discussion(did), segments })
        }
        ("group" | "discu" | "sess", Some(_), _) | ("discu" | "sess", _, Some(_)) => {
            Err(format!("{from} is not a member of that room"))
        }
        ("buddy" | "group" | "discu" | "sess", _, _) => Err(
            "buddy takes no room; group needs \"group\"; discu needs \"discussion\"; sess needs one of them".to_owned(),
        ),
        (other, _, _) => Err(format!("unknown kind {other:?} (buddy, group, discu or sess)")),
    }
}

/// The body of `POST /sandbox/status`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatusRequest {
    qq: QqNumber,
    status: String,
    #[serde(default)]
    client_type: Option<i64>,
}

/// A friend changes status; the client sees `buddies_status_change`.
async fn status(State(sandbox): State<Sandbox>, body: Bytes) -> Response {
    let request: StatusRequest = match body_as(&body) {
        Ok(request) => request,
        Err(error) => return problem(StatusCode::BAD_REQUEST, error),
    };
    if !smartqq_protocol::api::STATUSES.contains(&request.status.as_str()) {
        return problem(
            StatusCode::BAD_REQUEST,
            format!("unknown status {:?}", request.status),
        );
    }
    let mut state = sandbox.lock();
    if state.world().friend(request.qq).is_none() {
        return problem(
            StatusCode::BAD_REQUEST,
            format!("{} is not a friend", request.qq),
        );
    }
    let Some(person) = state
        .config
        .world
        .people
        .iter_mut()
        .find(|p| p.qq == request.qq)
    else {
        return problem(
            StatusCode::BAD_REQUEST,
            format!("{} is nobody in the world", request.qq),
        );
    };
    person.status = request.status.clone();
    if let Some(client_type) = request.client_type {
        person.client_type = client_type;
    }
    let client_type = person.client_type;
    if let Some(session) = state.live_session_mut() {
        let uin = session.aliases.uin(request.qq);
        session.push(PollEvent::StatusChange(StatusChange {
            uin,
            status: request.status,
            client_type,
        }));
    }
    Json(json!({"ok": true})).into_response()
}

async fn sent(State(sandbox): State<Sandbox>) -> Response {
    Json(&sandbox.lock().sent).into_response()
}

async fn kick(State(sandbox): State<Sandbox>, body: Bytes) -> Response {
    let body: Value = match body_as(&body) {
        Ok(body) => body,
        Err(error) => return problem(StatusCode::BAD_REQUEST, error),
    };
    let reason = body
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or("您的帐号在另一地点登录，您已被迫下线。如有疑问，请登录 safe.qq.com 了解更多。");
    let mut state = sandbox.lock();
    match state.live_session_mut() {
        Some(session) => {
            session.kick(reason);
            Json(json!({"kicked": true})).into_response()
        }
        None => problem(StatusCode::CONFLICT, "no client is logged in"),
    }
}

async fn session_expire(State(sandbox): State<Sandbox>) -> Response {
    let mut state = sandbox.lock();
    let Some(psessionid) = state.live_session_mut().map(|s| s.psessionid.clone()) else {
        return problem(StatusCode::CONFLICT, "no client is logged in");
    };
    state.expire_session(&psessionid);
    Json(json!({"expired": true})).into_response()
}

async fn ptwebqq_rotate(State(sandbox): State<Sandbox>) -> Response {
    let mut state = sandbox.lock();
    match state.live_session_mut() {
        Some(session) => {
            session.pending_rotation = Some(token(HEX, 64));
            session.notify.notify_waiters();
            Json(json!({"rotated": true})).into_response()
        }
        None => problem(StatusCode::CONFLICT, "no client is logged in"),
    }
}

async fn knobs_get(State(sandbox): State<Sandbox>) -> Response {
    Json(&sandbox.lock().knobs).into_response()
}

async fn knobs_set(State(sandbox): State<Sandbox>, body: Bytes) -> Response {
    let update: Value = match body_as(&body) {
        Ok(update) => update,
        Err(error) => return problem(StatusCode::BAD_REQUEST, error),
    };
    let mut state = sandbox.lock();
    match state.knobs.apply(&update) {
        // A poll already held keeps the deadline it started with; the new idle mode
        // applies to its answer.
        Ok(()) => Json(&state.knobs).into_response(),
        Err(error) => problem(StatusCode::BAD_REQUEST, error),
    }
}

async fn counters(State(sandbox): State<Sandbox>) -> Response {
    let polls_in_flight = sandbox
        .polls_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    let state = sandbox.lock();
    Json(json!({
        "requests": state.counters.requests,
        "polls_in_flight": polls_in_flight,
        "deliveries": state.counters.deliveries,
        "logins": state.counters.logins,
        "sent": state.sent.len(),
    }))
    .into_response()
}

/// `GET /sandbox/captcha`: what the newest captcha image shows, so a script can play the
/// person who reads it.
async fn captcha(State(sandbox): State<Sandbox>) -> Response {
    let state = sandbox.lock();
    let qq = state.world().account.qq;
    match state.check_codes.get(&qq) {
        Some((code, _)) => Json(json!({"qq": qq, "code": code})).into_response(),
        None => problem(
            StatusCode::CONFLICT,
            "no password check is waiting; a client must call /check first",
        ),
    }
}

//! `d1.web2.qq.com/channel/poll2`: the long poll (spec §5, §10.3).

use std::sync::atomic::Ordering;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use smartqq_protocol::poll::{PollEvent, events_body};
use smartqq_protocol::retcode::Retcode;

use crate::call::{Call, Refusal, gateway_timeout, json_reply, retcode_reply};
use crate::knobs::IdleMode;
use crate::routes::{channel_session, json_u64};
use crate::state::{EndReason, HEX, Sandbox, State as SandboxState, token};

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

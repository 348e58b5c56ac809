//! Fault knobs (FAULTS.md Appendix B): switches a test, a script or a person turns through
//! `POST /sandbox/knobs` to stage what real users hit.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use smartqq_protocol::GroupNumber;
use smartqq_protocol::api::Era;
use smartqq_protocol::hash::FriendHashVariant;
use smartqq_protocol::password::PasswordGeneration;

/// What an empty long poll answers once the hold runs out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdleMode {
    /// `{"retcode":102,"errmsg":""}` (legacy).
    #[serde(rename = "102")]
    Legacy102,
    /// `{"retcode":0,"errmsg":""}` (2016).
    #[serde(rename = "0")]
    ZeroWithoutResult,
    /// `{"errmsg":"error","retcode":100012,"retmsg":"…RecvTimeout…"}` (2018).
    #[serde(rename = "100012")]
    RecvTimeout,
    /// An nginx HTML page with HTTP 504 (2017).
    #[serde(rename = "http504")]
    Http504,
    /// `{"errmsg":"error","retcode":0,"retmsg":"ok"}` (the bogus 2018 success).
    #[serde(rename = "ok_error")]
    OkError,
}

/// How a send endpoint answers, whatever the client sent (FAULTS BR-15).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SendResult {
    /// Success, delivered.
    #[default]
    #[serde(rename = "0")]
    Ok,
    /// 1202, delivered anyway.
    #[serde(rename = "1202+deliver")]
    MaybeDelivered,
    /// 1202, dropped.
    #[serde(rename = "1202+drop")]
    MaybeDropped,
    /// 100100, delivered.
    #[serde(rename = "100100")]
    ErrorButDelivered,
    /// 100001, dropped.
    #[serde(rename = "100001")]
    BadRequest,
    /// 108, dropped.
    #[serde(rename = "108")]
    MissingCookie,
    /// 102 (account frozen), dropped.
    #[serde(rename = "102")]
    Frozen,
}

/// The success body of a send.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SendShape {
    /// `{"retcode":0,"result":"ok"}`.
    Retcode,
    /// `{"errCode":0,"msg":"send ok"}` (2016 – 2017-08).
    ErrCode,
}

/// Whether the temporary-session send works (blocked by Tencent from 2016-02).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessSend {
    /// Sends go through.
    #[default]
    Ok,
    /// `send_sess_msg2` answers `{"errmsg":"error","retcode":108}` and nothing is delivered.
    Blocked,
}

/// Every knob, with its current value.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Knobs {
    /// Empty-poll answer.
    pub poll_idle_mode: IdleMode,
    /// Seconds a poll is held before the idle answer.
    pub poll_hold: f64,
    /// Every message is delivered twice.
    pub duplicate_delivery: bool,
    /// A poll answers once this many events are queued (or at the hold, with what there is).
    pub batch_results: usize,
    /// Forced send answer.
    pub send_result: SendResult,
    /// Success body shape of sends.
    pub send_response_shape: SendShape,
    /// Sends per second per target before 1202 + drop; 0 = no limit.
    pub rate_limit: u32,
    /// Our own group and discussion sends come back through `poll2`.
    pub echo_self: bool,
    /// At each `login2`, uins and gids are dealt anew so that the old ones name other people.
    pub reassign_uins_on_login: bool,
    /// Seconds after `login2` when the session expires; 0 = never.
    pub session_ttl: f64,
    /// Undecodable `content` answers 100001 (on) or is accepted and silently dropped (off).
    pub strict_json: bool,
    /// Require User-Agent, Referer and cookies on `/api/*` and `/channel/*` (100001).
    pub strict_headers: bool,
    /// The friend-list hash the server expects.
    pub hash_variant: FriendHashVariant,
    /// The password-field generation the legacy login accepts.
    pub password_mode: PasswordGeneration,
    /// `check` asks for a captcha.
    pub captcha_required: bool,
    /// Codes `ptqrlogin` answers next, one per call, before normal state resumes.
    pub qr_script: Vec<String>,
    /// Seconds a QR code lives.
    pub qr_ttl: f64,
    /// Until `get_self_info2`, `get_online_buddies2` and `get_recent_list2` are called,
    /// polls answer 103 and sends 100001 (BR-07). Off: only the 103 warm-up of §3.7.
    pub strict_init: bool,
    /// Polls answer 103 at once (another session of the account is active, BR-08).
    pub conflict_session: bool,
    /// Rotate ptwebqq (116) after this many polls of a session; 0 = never.
    pub rotate_ptwebqq_after: u32,
    /// Sends whose text exceeds this many UTF-8 bytes answer 100001; 0 = no limit.
    pub max_text_bytes: usize,
    /// Sends to this group answer success but reach nobody (BR-17).
    pub shadow_drop_group: Option<GroupNumber>,
    /// Temporary-session sending.
    pub sess_send: SessSend,
    /// `pt4_auth` trades a valid `supertoken` for a fresh `check_sig` URL (spec §3.8); off,
    /// every resume needs a new QR scan.
    pub sso_resume: bool,
}

/// The longest TTL a knob takes: ten years.
const MAX_SECONDS: f64 = 315_360_000.0;

impl Knobs {
    /// The defaults of an era.
    pub fn for_era(era: Era) -> Self {
        let legacy = era == Era::Legacy2015;
        Self {
            poll_idle_mode: if legacy {
                IdleMode::Legacy102
            } else {
                IdleMode::RecvTimeout
            },
            poll_hold: 60.0,
            duplicate_delivery: false,
            batch_results: 1,
            send_result: SendResult::Ok,
            send_response_shape: SendShape::Retcode,
            rate_limit: 0,
            echo_self: !legacy,
            reassign_uins_on_login: true,
            session_ttl: 0.0,
            strict_json: true,
            strict_headers: false,
            hash_variant: FriendHashVariant::Ecok,
            password_mode: if legacy {
                PasswordGeneration::GenA
            } else {
                PasswordGeneration::Md5
            },
            captcha_required: false,
            qr_script: Vec::new(),
            qr_ttl: 120.0,
            strict_init: false,
            conflict_session: false,
            rotate_ptwebqq_after: 0,
            max_text_bytes: 0,
            shadow_drop_group: None,
            sess_send: SessSend::Ok,
            sso_resume: true,
        }
    }

    /// Applies a partial update: a JSON object whose members are knob names. Unknown names
    /// and values of the wrong type are refused and nothing changes.
    pub fn apply(&mut self, update: &serde_json::Value) -> Result<(), String> {
        let serde_json::Value::Object(members) = update else {
            return Err("knobs must be a JSON object".to_owned());
        };
        let mut merged = serde_json::to_value(&*self).map_err(|e| e.to_string())?;
        for (name, value) in members {
            let Some(slot) = merged.get_mut(name) else {
                return Err(format!("unknown knob {name:?}"));
            };
            *slot = normalise(name, value.clone());
        }
        let updated: Knobs =
            serde_json::from_value(merged).map_err(|e| format!("bad knob value: {e}"))?;
        if !(updated.poll_hold.is_finite() && (0.0..=600.0).contains(&updated.poll_hold)) {
            return Err("poll_hold must be between 0 and 600 seconds".to_owned());
        }
        // Up to ten years: beyond ~1.8e19 s a float no longer converts to a Duration.
        let sane_seconds =
            |seconds: f64| seconds.is_finite() && (0.0..=MAX_SECONDS).contains(&seconds);
        if !sane_seconds(updated.session_ttl) || !sane_seconds(updated.qr_ttl) {
            return Err(
                "session_ttl and qr_ttl must be between 0 and 315360000 seconds".to_owned(),
            );
        }
        if updated.batch_results == 0 || updated.batch_results > 10_000 {
            return Err("batch_results must be between 1 and 10000".to_owned());
        }
        *self = updated;
        Ok(())
    }

    /// The hold as a duration.
    pub fn hold(&self) -> Duration {
        Duration::from_secs_f64(self.poll_hold)
    }
}

/// Lets people write knobs the short way: `"poll_idle_mode": 102` for `"102"`,
/// `"send_result": 1202` for `"1202+deliver"`, `"qr_script": "66,67,0"` for a list.
fn normalise(name: &str, value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;

    match (name, value) {
        ("send_result", Value::Number(n)) if n.as_i64() == Some(1202) => {
            Value::String("1202+deliver".to_owned())
        }
        ("poll_idle_mode" | "send_result", Value::Number(n)) => Value::String(n.to_string()),
        ("qr_script", Value::String(codes)) => Value::Array(
            codes
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(|c| Value::String(c.to_owned()))
                .collect(),
        ),
        ("qr_script", Value::Array(codes)) => Value::Array(
            codes
                .into_iter()
                .map(|c| match c {
                    Value::Number(n) => Value::String(n.to_string()),
                    other => other,
                })
                .collect(),
        ),
        (_, value) => value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_updates_change_only_named_knobs() {
        let mut knobs = Knobs::for_era(Era::Smartqq2018);

        knobs
            .apply(&serde_json::json!({"poll_idle_mode": "http504", "poll_hold": 1.5, "qr_script": "66, 67,0"}))
            .unwrap();

        assert_eq!(knobs.poll_idle_mode, IdleMode::Http504);
        assert_eq!(knobs.hold(), Duration::from_millis(1500));
        assert_eq!(knobs.qr_script, ["66", "67", "0"]);
        assert!(knobs.echo_self);
    }

    #[test]
    fn short_numeric_forms_are_accepted() {
        let mut knobs = Knobs::for_era(Era::Smartqq2018);

        knobs
            .apply(&serde_json::json!({"poll_idle_mode": 102, "send_result": 1202}))
            .unwrap();

        assert_eq!(knobs.poll_idle_mode, IdleMode::Legacy102);
        assert_eq!(knobs.send_result, SendResult::MaybeDelivered);
    }

    #[test]
    fn unknown_knobs_and_bad_values_change_nothing() {
        let mut knobs = Knobs::for_era(Era::Legacy2015);
        let before = knobs.clone();

        let unknown = knobs.apply(&serde_json::json!({"poll_hold": 2, "warp_speed": true}));
        let bad = knobs.apply(&serde_json::json!({"poll_hold": "soon"}));
        let negative = knobs.apply(&serde_json::json!({"poll_hold": -1}));
        let huge_ttl = knobs.apply(&serde_json::json!({"session_ttl": 1e20}));
        let huge_qr_ttl = knobs.apply(&serde_json::json!({"qr_ttl": 1e308}));
        let no_batch = knobs.apply(&serde_json::json!({"batch_results": 0}));

        assert!(unknown.unwrap_err().contains("warp_speed"));
        assert!(bad.is_err() && negative.is_err());
        assert!(huge_ttl.is_err() && huge_qr_ttl.is_err() && no_batch.is_err());
        assert_eq!(knobs, before);
    }
}

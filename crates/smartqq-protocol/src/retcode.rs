//! Retcodes (spec §9, FAULTS Appendix A) as typed classifications, so that callers ask
//! "what do I do now" instead of matching numbers.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// A `retcode` (or `errCode`) value as the server sent it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Retcode(pub i64);

impl Retcode {
    /// Success.
    pub const OK: Retcode = Retcode(0);
    /// Wrong identifier (a gid where a code belongs) or bad session data.
    pub const WRONG_ID: Retcode = Retcode(6);
    /// The friend/group list `hash` did not match.
    pub const BAD_HASH: Retcode = Retcode(50);
    /// Legacy "no message".
    pub const NO_MESSAGE: Retcode = Retcode(102);
    /// Session not registered, or logged in elsewhere.
    pub const NOT_REGISTERED: Retcode = Retcode(103);
    /// Missing cookie (legacy); discussion send refused.
    pub const MISSING_COOKIE: Retcode = Retcode(108);
    /// A new ptwebqq is in `p`.
    pub const NEW_PTWEBQQ: Retcode = Retcode(116);
    /// Connection lost; relink.
    pub const RELINK: Retcode = Retcode(121);
    /// "Maybe failed" on send.
    pub const MAYBE_FAILED: Retcode = Retcode(1202);
    /// Login invalid ("login domain error").
    pub const LOGIN_INVALID: Retcode = Retcode(100_000);
    /// Parameter or cookie error.
    pub const BAD_REQUEST: Retcode = Retcode(100_001);
    /// Too many requests.
    pub const TOO_FREQUENT: Retcode = Retcode(100_003);
    /// 2018 long-poll timeout on poll; login expired on send.
    pub const RECV_TIMEOUT: Retcode = Retcode(100_012);
    /// Reported as an error, but delivered.
    pub const DELIVERED_ANYWAY: Retcode = Retcode(100_100);

    /// What a `poll2` answer with this code asks of the client (spec §5.2).
    pub fn poll_action(self) -> PollAction {
        match self.0 {
            0 => PollAction::Deliver,
            102 | 100_012 | 1202 | 10_000 => PollAction::Idle,
            116 => PollAction::UpdatePtwebqq,
            103 => PollAction::Reregister,
            120 | 121 => PollAction::Relink,
            100 | 108 | 100_000 | 100_001 | 100_006 => PollAction::Relogin,
            109 | 110 => PollAction::Stop,
            100_003 => PollAction::BackOff,
            _ => PollAction::Unknown,
        }
    }

    /// What a send endpoint's answer with this code means (spec §6.3).
    pub fn send_outcome(self) -> SendOutcome {
        match self.0 {
            0 | 100_100 => SendOutcome::Sent,
            1202 => SendOutcome::Unconfirmed,
            103 | 100_012 | 100_000 => SendOutcome::SessionExpired,
            100_003 => SendOutcome::TooFrequent,
            102 => SendOutcome::Frozen,
            code => SendOutcome::Rejected(Retcode(code)),
        }
    }

    /// Whether a contact-list answer with this code means the login itself is gone, as
    /// opposed to a problem with this one request (hash, id, rate).
    pub fn is_session_expired(self) -> bool {
        matches!(self.0, 100_000 | 103 | 108)
    }
}

/// The client's move after a `poll2` retcode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PollAction {
    /// 0: process every element of `result` (0 without `result` is idle).
    Deliver,
    /// 102, 100012, 1202, 10000: nothing arrived; poll again at once.
    Idle,
    /// 116: take the new ptwebqq from `p`, poll again.
    UpdatePtwebqq,
    /// 103: call `get_online_buddies2` once; if that does not help, relogin.
    Reregister,
    /// 120, 121: `login2` again with the current psessionid, else relogin.
    Relink,
    /// 100, 108, 100000, 100001, 100006: the login is gone.
    Relogin,
    /// 109, 110: the client was logged out; stop.
    Stop,
    /// 100003: too many requests; wait before the next poll.
    BackOff,
    /// A code nobody documented; back off and log it.
    Unknown,
}

/// The meaning of a send endpoint's reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum SendOutcome {
    /// 0 in any shape, or 100100 (reported as an error but delivered).
    Sent,
    /// 1202: perhaps delivered, perhaps filtered; never resend automatically.
    Unconfirmed,
    /// 103, 100012, 100000: the session is gone.
    SessionExpired,
    /// 100003: too many sends.
    TooFrequent,
    /// 102: the account is frozen after flooding.
    Frozen,
    /// Any other retcode: refused (108 discussion send, 100001 bad parameters, …).
    Rejected(Retcode),
    /// The body had no recognisable shape (`{}`, empty, HTML).
    Unrecognised,
}

impl SendOutcome {
    /// Reads a send reply body in every shape of spec §6.3 and FAULTS BR-18:
    /// `{"retcode":0,"result":"ok"}`, `{"errCode":0,"msg":"send ok"}`, `{"retcode":0}`,
    /// errors with `retcode`, and anything else as [`SendOutcome::Unrecognised`].
    pub fn from_body(body: &[u8]) -> Self {
        let Ok(value) = serde_json::from_slice::<Value>(body) else {
            return Self::Unrecognised;
        };
        // An error carries `retcode` even in the 2016 era, when success carried `errCode`.
        let retcode = value.get("retcode").and_then(Value::as_i64);
        let err_code = value.get("errCode").and_then(Value::as_i64);
        match (retcode, err_code) {
            (Some(code), _) | (None, Some(code)) => Retcode(code).send_outcome(),
            (None, None) => Self::Unrecognised,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_poll_code_of_the_table_is_classified() {
        let table = [
            (0, PollAction::Deliver),
            (102, PollAction::Idle),
            (100_012, PollAction::Idle),
            (1202, PollAction::Idle),
            (10_000, PollAction::Idle),
            (116, PollAction::UpdatePtwebqq),
            (103, PollAction::Reregister),
            (120, PollAction::Relink),
            (121, PollAction::Relink),
            (100, PollAction::Relogin),
            (108, PollAction::Relogin),
            (100_000, PollAction::Relogin),
            (100_001, PollAction::Relogin),
            (100_006, PollAction::Relogin),
            (109, PollAction::Stop),
            (110, PollAction::Stop),
            (100_003, PollAction::BackOff),
            (4242, PollAction::Unknown),
        ];

        for (code, action) in table {
            assert_eq!(Retcode(code).poll_action(), action, "retcode {code}");
        }
    }

    #[test]
    fn every_send_reply_shape_is_understood() {
        let table: [(&[u8], SendOutcome); 11] = [
            (br#"{"retcode":0,"result":"ok"}"#, SendOutcome::Sent),
            (br#"{"errCode":0,"msg":"send ok"}"#, SendOutcome::Sent),
            (br#"{"retcode":0}"#, SendOutcome::Sent),
            (
                b"{\"errmsg\":\"error!!!\",\"retcode\":100100}\n",
                SendOutcome::Sent,
            ),
            (
                b"{\"errmsg\":\"error!!!\",\"retcode\":1202}\n",
                SendOutcome::Unconfirmed,
            ),
            (
                br#"{"retcode":100012,"errmsg":"x"}"#,
                SendOutcome::SessionExpired,
            ),
            (
                br#"{"retcode":108,"errmsg":""}"#,
                SendOutcome::Rejected(Retcode(108)),
            ),
            (br#"{"retcode":102}"#, SendOutcome::Frozen),
            (br#"{}"#, SendOutcome::Unrecognised),
            (b"<html>502 Bad Gateway</html>", SendOutcome::Unrecognised),
            (b"", SendOutcome::Unrecognised),
        ];

        for (body, outcome) in table {
            assert_eq!(
                SendOutcome::from_body(body),
                outcome,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

    #[test]
    fn list_codes_tell_session_loss_from_request_problems() {
        assert!(Retcode::LOGIN_INVALID.is_session_expired());
        assert!(!Retcode::BAD_HASH.is_session_expired());
        assert!(!Retcode::WRONG_ID.is_session_expired());
    }
}

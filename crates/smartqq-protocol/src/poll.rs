//! `poll2`: the request, the events it delivers (spec §5.3) and the reply classification.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::content::ReceivedContent;
use crate::ids::{ClientId, DiscussionId, Gid, GroupCode, QqNumber, Secret, Uin};
use crate::retcode::{PollAction, Retcode};

/// The `r` object of a SmartQQ `poll2` request (spec §5.1).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollRequest {
    /// The current ptwebqq, or empty (the 2018 server wanted `""`).
    pub ptwebqq: Secret,
    /// The constant client id.
    pub clientid: ClientId,
    /// The session id from `login2`.
    pub psessionid: Secret,
    /// Always empty.
    pub key: String,
}

/// A friend message (`message`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuddyMessage {
    /// The friend's uin; equals our own QQ when we wrote it on another device.
    pub from_uin: Uin,
    /// Our own uin (our QQ number).
    pub to_uin: Uin,
    /// Server-assigned message counter.
    pub msg_id: u64,
    /// 0 in SmartQQ, 9 in legacy WebQQ.
    #[serde(default)]
    pub msg_type: i64,
    /// Unix seconds.
    pub time: i64,
    /// Raw content array; read it with [`BuddyMessage::content`].
    pub content: Vec<Value>,
}

/// A group message (`group_message`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupMessage {
    /// The group's gid: reply to it with `send_qun_msg2`.
    pub from_uin: Gid,
    /// In SmartQQ this equals the gid (a quirk); in legacy WebQQ it was the real code.
    pub group_code: u64,
    /// The member who wrote it; our own QQ for our own echoed messages.
    pub send_uin: Uin,
    /// Our own uin.
    pub to_uin: Uin,
    /// Server-assigned message counter.
    pub msg_id: u64,
    /// 0 in SmartQQ, 43 in legacy WebQQ.
    #[serde(default)]
    pub msg_type: i64,
    /// Unix seconds.
    pub time: i64,
    /// Raw content array.
    pub content: Vec<Value>,
}

/// A discussion message (`discu_message`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscuMessage {
    /// The discussion id (same as `did`).
    pub from_uin: DiscussionId,
    /// The discussion id.
    pub did: DiscussionId,
    /// The member who wrote it.
    pub send_uin: Uin,
    /// Our own uin.
    pub to_uin: Uin,
    /// Server-assigned message counter.
    pub msg_id: u64,
    /// Always 0 in SmartQQ.
    #[serde(default)]
    pub msg_type: i64,
    /// Unix seconds.
    pub time: i64,
    /// Raw content array.
    pub content: Vec<Value>,
}

/// Which kind of room a temporary session runs through.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "u8", try_from = "u8")]
pub enum SessVia {
    /// `service_type` 0: through a group; `id` is the gid.
    Group,
    /// `service_type` 1: through a discussion; `id` is the did.
    Discussion,
}

impl From<SessVia> for u8 {
    fn from(via: SessVia) -> u8 {
        match via {
            SessVia::Group => 0,
            SessVia::Discussion => 1,
        }
    }
}

impl TryFrom<u8> for SessVia {
    type Error = String;

    fn try_from(value: u8) -> Result<Self, Self::Error> {
        match value {
            0 => Ok(Self::Group),
            1 => Ok(Self::Discussion),
            other => Err(format!("unknown service_type {other}")),
        }
    }
}

/// A temporary-session message from a stranger met in a group or discussion (`sess_message`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessMessage {
    /// The stranger's uin.
    pub from_uin: Uin,
    /// Our own uin.
    pub to_uin: Uin,
    /// Server-assigned message counter.
    pub msg_id: u64,
    /// 140.
    #[serde(default)]
    pub msg_type: i64,
    /// Unix seconds.
    pub time: i64,
    /// The gid or did the session runs through (see `service_type`).
    pub id: u64,
    /// The stranger's real QQ number, when the server gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ruin: Option<QqNumber>,
    /// Group or discussion.
    pub service_type: SessVia,
    /// Capability flags; kept as sent.
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub flags: Value,
    /// Raw content array.
    pub content: Vec<Value>,
}

/// The server ended the session because the account logged in elsewhere (`kick_message`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct KickMessage {
    /// `do_poll` in every observed body.
    #[serde(default)]
    pub way: String,
    /// Whether the reason is meant to be shown.
    #[serde(default)]
    pub show_reason: i64,
    /// The server's text for people.
    #[serde(default)]
    pub reason: String,
}

/// A friend is typing (`input_notify`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InputNotify {
    /// The friend's uin.
    pub from_uin: Uin,
    /// Our own uin.
    #[serde(default)]
    pub to_uin: Option<Uin>,
    /// Server counter.
    #[serde(default)]
    pub msg_id: Option<u64>,
    /// 121.
    #[serde(default)]
    pub msg_type: Option<i64>,
}

/// A friend's online status changed (`buddies_status_change`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatusChange {
    /// The friend's uin.
    pub uin: Uin,
    /// `online`, `offline`, `away`, `hidden`, `busy`, `callme` or `silent`.
    pub status: String,
    /// 1-6 and 10 PC, 21-24 mobile, 41 web.
    #[serde(default)]
    pub client_type: i64,
}

/// A friend shook our window (`shake_message`, legacy).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShakeMessage {
    /// The friend's uin.
    pub from_uin: Uin,
}

/// A legacy notice whose members GnomeQQ does not model one by one: `system_message`,
/// `sys_g_msg`, `group_web_message`, `notify_offfile`, `file_message`. The raw value is kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LegacyNotice(pub Value);

impl LegacyNotice {
    /// The notice's `type` member (e.g. `verify_required`, `group_join`), when present.
    pub fn notice_type(&self) -> Option<&str> {
        self.0.get("type").and_then(Value::as_str)
    }
}

/// One element of a `poll2` result (spec §5.3).
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PollEvent {
    /// `message`.
    Message(BuddyMessage),
    /// `group_message`.
    GroupMessage(GroupMessage),
    /// `discu_message`.
    DiscuMessage(DiscuMessage),
    /// `sess_message`.
    SessMessage(SessMessage),
    /// `kick_message`.
    Kick(KickMessage),
    /// `input_notify`.
    InputNotify(InputNotify),
    /// `buddies_status_change`.
    StatusChange(StatusChange),
    /// `shake_message` (legacy).
    Shake(ShakeMessage),
    /// `system_message`, `sys_g_msg`, `group_web_message`, `notify_offfile`, `file_message`
    /// (legacy).
    LegacyNotice {
        /// The element's `poll_type`.
        poll_type: String,
        /// Its `value`.
        notice: LegacyNotice,
    },
    /// A `poll_type` this crate does not know, or a known one whose value had the wrong
    /// shape; kept whole so the caller can count and log it.
    Unknown {
        /// The element's `poll_type` (empty when missing).
        poll_type: String,
        /// The element's `value`.
        value: Value,
        /// Why it is here: `unknown poll_type` or the decode error.
        reason: String,
    },
}

const LEGACY_NOTICES: [&str; 5] = [
    "system_message",
    "sys_g_msg",
    "group_web_message",
    "notify_offfile",
    "file_message",
];

impl PollEvent {
    /// The element's `poll_type` string.
    pub fn poll_type(&self) -> &str {
        match self {
            Self::Message(_) => "message",
            Self::GroupMessage(_) => "group_message",
            Self::DiscuMessage(_) => "discu_message",
            Self::SessMessage(_) => "sess_message",
            Self::Kick(_) => "kick_message",
            Self::InputNotify(_) => "input_notify",
            Self::StatusChange(_) => "buddies_status_change",
            Self::Shake(_) => "shake_message",
            Self::LegacyNotice { poll_type, .. } | Self::Unknown { poll_type, .. } => poll_type,
        }
    }

    /// Decodes one `{"poll_type":…,"value":…}` element. Never fails: anything it cannot
    /// read becomes [`PollEvent::Unknown`].
    pub fn from_element(element: &Value) -> Self {
        let poll_type = element
            .get("poll_type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let null = Value::Null;
        let value = element.get("value").unwrap_or(&null);
        // Deserialising from `&Value` borrows it; only the rare unknown element is cloned.
        let typed = match poll_type {
            "message" => BuddyMessage::deserialize(value).map(Self::Message),
            "group_message" => GroupMessage::deserialize(value).map(Self::GroupMessage),
            "discu_message" => DiscuMessage::deserialize(value).map(Self::DiscuMessage),
            "sess_message" => SessMessage::deserialize(value).map(Self::SessMessage),
            "kick_message" => KickMessage::deserialize(value).map(Self::Kick),
            "input_notify" => InputNotify::deserialize(value).map(Self::InputNotify),
            "buddies_status_change" => StatusChange::deserialize(value).map(Self::StatusChange),
            "shake_message" => ShakeMessage::deserialize(value).map(Self::Shake),
            other if LEGACY_NOTICES.contains(&other) => Ok(Self::LegacyNotice {
                poll_type: other.to_owned(),
                notice: LegacyNotice(value.clone()),
            }),
            _ => Err(serde_json::Error::custom("unknown poll_type")),
        };
        typed.unwrap_or_else(|error| Self::Unknown {
            poll_type: poll_type.to_owned(),
            value: value.clone(),
            reason: error.to_string(),
        })
    }

    /// The element back in wire shape.
    pub fn to_element(&self) -> Value {
        let value = match self {
            Self::Message(v) => serde_json::to_value(v),
            Self::GroupMessage(v) => serde_json::to_value(v),
            Self::DiscuMessage(v) => serde_json::to_value(v),
            Self::SessMessage(v) => serde_json::to_value(v),
            Self::Kick(v) => serde_json::to_value(v),
            Self::InputNotify(v) => serde_json::to_value(v),
            Self::StatusChange(v) => serde_json::to_value(v),
            Self::Shake(v) => serde_json::to_value(v),
            Self::LegacyNotice { notice, .. } => Ok(notice.0.clone()),
            Self::Unknown { value, .. } => Ok(value.clone()),
        };
        // Serialising these plain structs into a `Value` cannot fail: no maps with non-string
        // keys, no custom serialisers that error.
        let value = value.unwrap_or(Value::Null);
        serde_json::json!({ "poll_type": self.poll_type(), "value": value })
    }

    /// The decoded content of a chat event, if this is one.
    pub fn content(&self) -> Option<ReceivedContent> {
        let raw = match self {
            Self::Message(m) => &m.content,
            Self::GroupMessage(m) => &m.content,
            Self::DiscuMessage(m) => &m.content,
            Self::SessMessage(m) => &m.content,
            _ => return None,
        };
        Some(ReceivedContent::from_wire(raw))
    }
}

impl Serialize for PollEvent {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_element().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for PollEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Value::deserialize(deserializer).map(|element| Self::from_element(&element))
    }
}

impl GroupMessage {
    /// In SmartQQ `group_code` is the gid, not the code (spec §5.3 quirk); this is the
    /// only reading that is right in every era for *sending*, so it is the only one offered.
    pub fn gid(&self) -> Gid {
        self.from_uin
    }

    /// The real group code, which only the legacy server put in `group_code`.
    pub fn legacy_group_code(&self) -> GroupCode {
        GroupCode(self.group_code)
    }
}

/// What one `poll2` reply means to the client.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum PollReply {
    /// Retcode 0 with a `result` array: every element, in order.
    Events(Vec<PollEvent>),
    /// Nothing arrived within the hold (102, 100012, 0 without result, 1202, 10000).
    Idle,
    /// Retcode 116: the server rotated ptwebqq; use the new one from now on.
    NewPtwebqq(Secret),
    /// Any other retcode, classified.
    Failure {
        /// The retcode as sent.
        retcode: Retcode,
        /// What the client should do about it.
        action: PollAction,
    },
}

/// Why a `poll2` body could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PollDecodeError {
    /// The body is not JSON (for example an HTML error page).
    #[error("poll reply is not JSON")]
    NotJson(#[source] serde_json::Error),
    /// The JSON has no integer `retcode`.
    #[error("poll reply has no retcode")]
    NoRetcode,
}

impl PollReply {
    /// Classifies a `poll2` body (spec §5.2). HTTP-level answers (502/504) are the caller's.
    pub fn parse(body: &[u8]) -> Result<Self, PollDecodeError> {
        let value: Value = serde_json::from_slice(body).map_err(PollDecodeError::NotJson)?;
        let retcode = value
            .get("retcode")
            .and_then(Value::as_i64)
            .map(Retcode)
            .ok_or(PollDecodeError::NoRetcode)?;

        Ok(match retcode.poll_action() {
            PollAction::Deliver => match value.get("result").and_then(Value::as_array) {
                Some(elements) => {
                    Self::Events(elements.iter().map(PollEvent::from_element).collect())
                }
                // 0 without `result` is the 2016-2018 idle answer, including the 2018
                // `{"errmsg":"error","retcode":0,"retmsg":"ok"}`.
                None => Self::Idle,
            },
            PollAction::Idle => Self::Idle,
            PollAction::UpdatePtwebqq => match value.get("p").and_then(Value::as_str) {
                Some(p) => Self::NewPtwebqq(Secret::new(p)),
                None => Self::Failure {
                    retcode,
                    action: PollAction::Relogin,
                },
            },
            action => Self::Failure { retcode, action },
        })
    }
}

/// Serialises a list of events as a successful `poll2` body.
pub fn events_body(events: &[PollEvent]) -> Value {
    serde_json::json!({ "retcode": 0, "result": events })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIXED: &str = r#"{"retcode":0,"result":[{"poll_type":"message","value":{"from_uin":3100000001,"to_uin":2400000001,"msg_id":31337,"msg_type":0,"time":1500000123,"content":[["font",{"color":"000000","name":"微软雅黑","size":10,"style":[0,0,0]}],"hello there"]}},{"poll_type":"buddies_status_change","value":{"uin":3100000001,"status":"away","client_type":21}}]}"#;

    #[test]
    fn spec_poll_body_decodes_every_element_in_order() {
        let reply = PollReply::parse(MIXED.as_bytes()).unwrap();

        let PollReply::Events(events) = reply else {
            panic!("expected events, got {reply:?}")
        };
        assert_eq!(events.len(), 2);
        let PollEvent::Message(message) = &events[0] else {
            panic!("expected a message")
        };
        assert_eq!(message.from_uin, Uin(3_100_000_001));
        assert_eq!(events[0].content().unwrap().plain_text(), "hello there");
        assert!(matches!(&events[1], PollEvent::StatusChange(s) if s.status == "away"));
    }

    #[test]
    fn events_round_trip_to_the_same_json() {
        let original: Value = serde_json::from_str(MIXED).unwrap();
        let PollReply::Events(events) = PollReply::parse(MIXED.as_bytes()).unwrap() else {
            panic!("expected events")
        };

        assert_eq!(events_body(&events), original);
    }

    #[test]
    fn idle_answers_of_every_era_are_idle() {
        for body in [
            r#"{"retcode":102,"errmsg":""}"#,
            r#"{"retcode":0,"errmsg":""}"#,
            r#"{"errmsg":"error!!!","retcode":0}"#,
            r#"{"errmsg":"error","retcode":100012,"retmsg":"cmd[qconnect.0], errmsg[RecvTimeout], cost[60.002113481s]"}"#,
            r#"{"errmsg":"error","retcode":0,"retmsg":"ok"}"#,
        ] {
            assert_eq!(
                PollReply::parse(body.as_bytes()).unwrap(),
                PollReply::Idle,
                "{body}"
            );
        }
    }

    #[test]
    fn rotation_and_failures_are_classified() {
        let rotated = PollReply::parse(
            br#"{"retcode":116,"p":"37c19aaf10afbf525116c2a2da7f542be3292dca25cb052ede0b165da630d0a5"}"#,
        )
        .unwrap();
        let relink = PollReply::parse(br#"{"retcode":121,"t":"0"}"#).unwrap();
        let expired = PollReply::parse(br#"{"errmsg":"error","retcode":103}"#).unwrap();

        assert!(matches!(rotated, PollReply::NewPtwebqq(p) if p.expose().starts_with("37c1")));
        assert!(matches!(
            relink,
            PollReply::Failure {
                action: PollAction::Relink,
                ..
            }
        ));
        assert!(matches!(
            expired,
            PollReply::Failure {
                action: PollAction::Reregister,
                ..
            }
        ));
    }

    #[test]
    fn unknown_and_malformed_elements_are_kept() {
        let body = br#"{"retcode":0,"result":[{"poll_type":"tips","value":{"x":1}},{"poll_type":"message","value":{"from_uin":"oops"}},{"poll_type":"sys_g_msg","value":{"type":"group_join","gcode":7001}}]}"#;

        let PollReply::Events(events) = PollReply::parse(body).unwrap() else {
            panic!("expected events")
        };

        assert!(matches!(&events[0], PollEvent::Unknown { poll_type, .. } if poll_type == "tips"));
        assert!(
            matches!(&events[1], PollEvent::Unknown { poll_type, .. } if poll_type == "message")
        );
        let PollEvent::LegacyNotice { notice, .. } = &events[2] else {
            panic!("expected a notice")
        };
        assert_eq!(notice.notice_type(), Some("group_join"));
    }

    #[test]
    fn html_gateway_pages_are_not_json() {
        let error =
            PollReply::parse(b"<html><body>504 Gateway Time-out</body></html>").unwrap_err();

        assert!(matches!(error, PollDecodeError::NotJson(_)));
    }

    proptest::proptest! {
        #[test]
        fn poll_parser_never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = PollReply::parse(&bytes);
        }
    }
}

//! Request and reply payloads of the login, send and contact endpoints (spec §3, §6, §7).
//!
//! Request structs serialise their members in the order the web client wrote them, so a
//! body can be compared byte for byte with the spec's examples. Reply structs are lenient:
//! optional collections default to empty (FAULTS BR-27) and odd members are ignored.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::{ClientId, DiscussionId, Gid, GroupCode, QqNumber, Secret, Uin};
use crate::poll::SessVia;
use crate::retcode::Retcode;

/// Which era of the service a server or client follows (spec §0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Era {
    /// Legacy WebQQ on `d.web2.qq.com`: idle 102, password login, `get_friend_uin2` open,
    /// no `ptqrtoken`, real group codes in `group_message`.
    Legacy2015,
    /// SmartQQ of 2018: idle 100012, `ptqrtoken` required, own messages echoed,
    /// `get_friend_uin2` closed, QR login only.
    #[default]
    Smartqq2018,
}

impl std::str::FromStr for Era {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "legacy2015" => Ok(Self::Legacy2015),
            "smartqq2018" => Ok(Self::Smartqq2018),
            other => Err(format!(
                "unknown profile {other:?} (expected legacy2015 or smartqq2018)"
            )),
        }
    }
}

impl std::fmt::Display for Era {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Legacy2015 => "legacy2015",
            Self::Smartqq2018 => "smartqq2018",
        })
    }
}

/// The `{"retcode":N,"result":…}` envelope of every JSON endpoint (spec §2.3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope<T> {
    /// 0 on success.
    pub retcode: Retcode,
    /// The payload, present on success.
    #[serde(default = "Option::default", skip_serializing_if = "Option::is_none")]
    pub result: Option<T>,
    /// `""`, `"error"` or `"error!!!"` on failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub errmsg: Option<String>,
}

impl<T> Envelope<T> {
    /// A success envelope.
    pub fn ok(result: T) -> Self {
        Self {
            retcode: Retcode::OK,
            result: Some(result),
            errmsg: None,
        }
    }

    /// A failure envelope with the era's usual `errmsg`.
    pub fn error(retcode: Retcode) -> Self {
        Self {
            retcode,
            result: None,
            errmsg: Some("error".to_owned()),
        }
    }
}

/// Why a reply could not be turned into its payload.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplyError {
    /// The body is not the JSON this endpoint promises.
    #[error("reply has an unexpected shape")]
    Shape(#[source] serde_json::Error),
    /// The server answered with a non-zero retcode.
    #[error("server answered retcode {}", .0 .0)]
    Retcode(Retcode),
    /// Retcode 0 but no `result`.
    #[error("reply has no result")]
    MissingResult,
}

impl ReplyError {
    /// The retcode, when the server sent one.
    pub fn retcode(&self) -> Option<Retcode> {
        match self {
            Self::Retcode(code) => Some(*code),
            _ => None,
        }
    }
}

/// Decodes an envelope and returns its `result`, or the retcode as an error.
pub fn parse_result<T: DeserializeOwned>(body: &[u8]) -> Result<T, ReplyError> {
    // Read the retcode first, so an error body never fails on a missing or odd `result`.
    let value: Value = serde_json::from_slice(body).map_err(ReplyError::Shape)?;
    let retcode: Retcode =
        serde_json::from_value(value.get("retcode").cloned().unwrap_or(Value::Null))
            .map_err(ReplyError::Shape)?;
    if retcode != Retcode::OK {
        return Err(ReplyError::Retcode(retcode));
    }
    let result = value
        .get("result")
        .cloned()
        .ok_or(ReplyError::MissingResult)?;
    serde_json::from_value(result).map_err(ReplyError::Shape)
}

/// Result of `getvfwebqq` (§3.5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VfwebqqResult {
    /// 80 hex characters; the key of every contact call.
    pub vfwebqq: Secret,
}

/// The `r` of `login2` (§3.6). Also the relink request, with the current psessionid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Login2Request {
    /// The ptwebqq cookie value (or empty).
    pub ptwebqq: Secret,
    /// The constant client id. Legacy clients sent a string; both are read.
    pub clientid: ClientId,
    /// Empty on a first login; the current one on a relink. Legacy sent `null`.
    #[serde(default, deserialize_with = "null_as_default")]
    pub psessionid: Secret,
    /// `online`, `away`, `busy`, `silent`, `hidden`, `callme` or `offline`.
    #[serde(default = "online")]
    pub status: String,
    /// `""` in a relink request (spec §3.6); absent in a first login.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
}

fn online() -> String {
    "online".to_owned()
}

fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Result of `login2`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Login2Result {
    /// The user's own QQ number.
    pub uin: QqNumber,
    /// Client IP as a 32-bit integer.
    #[serde(default)]
    pub cip: u64,
    /// Connection server index.
    #[serde(default)]
    pub index: u64,
    /// Connection server port.
    #[serde(default)]
    pub port: u64,
    /// The status the session started in.
    #[serde(default)]
    pub status: String,
    /// Always 0 in captures.
    #[serde(default)]
    pub user_state: i64,
    /// Always 0 in captures.
    #[serde(default)]
    pub f: i64,
    /// A vfwebqq that SmartQQ clients ignore (they keep the `getvfwebqq` one).
    #[serde(default)]
    pub vfwebqq: Secret,
    /// The channel session id.
    pub psessionid: Secret,
}

/// A message body for `send_buddy_msg2`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuddySendRequest {
    /// The friend's uin.
    pub to: Uin,
    /// The doubly encoded content (see [`crate::content::encode_outgoing`]).
    pub content: String,
    /// The sender's avatar id; any integer works.
    pub face: u32,
    /// The constant client id.
    pub clientid: ClientId,
    /// The client-chosen message id (spec §6.5).
    pub msg_id: u64,
    /// The channel session id.
    pub psessionid: Secret,
}

/// A message body for `send_qun_msg2`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupSendRequest {
    /// The group's gid.
    pub group_uin: Gid,
    /// The doubly encoded content.
    pub content: String,
    /// The sender's avatar id.
    pub face: u32,
    /// The constant client id.
    pub clientid: ClientId,
    /// The client-chosen message id.
    pub msg_id: u64,
    /// The channel session id.
    pub psessionid: Secret,
}

/// A message body for `send_discu_msg2`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscuSendRequest {
    /// The discussion id.
    pub did: DiscussionId,
    /// The doubly encoded content.
    pub content: String,
    /// The sender's avatar id.
    pub face: u32,
    /// The constant client id.
    pub clientid: ClientId,
    /// The client-chosen message id.
    pub msg_id: u64,
    /// The channel session id.
    pub psessionid: Secret,
}

/// A message body for `send_sess_msg2` (temporary session).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SessSendRequest {
    /// The stranger's uin.
    pub to: Uin,
    /// The signature from `get_c2cmsg_sig2`.
    pub group_sig: Secret,
    /// Through a group (0) or a discussion (1).
    pub service_type: SessVia,
    /// The doubly encoded content.
    pub content: String,
    /// The sender's avatar id.
    pub face: u32,
    /// The constant client id.
    pub clientid: ClientId,
    /// The client-chosen message id.
    pub msg_id: u64,
    /// The channel session id.
    pub psessionid: Secret,
}

/// Result of `get_c2cmsg_sig2` (§6.2).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct C2cMsgSig {
    /// Always 0 in captures.
    #[serde(rename = "type", default)]
    pub sig_type: i64,
    /// The signature; empty means "not allowed".
    pub value: Secret,
    /// Capability flags, kept as sent.
    #[serde(default)]
    pub flags: Value,
}

/// The `r` of `get_user_friends2` and `get_group_name_list_mask2` (§7.2, §7.3).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ListRequest {
    /// The session's vfwebqq.
    pub vfwebqq: Secret,
    /// The friend-list hash of our QQ and ptwebqq (§8).
    pub hash: Secret,
}

/// The `r` of `get_recent_list2` (§7.6).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecentListRequest {
    /// The session's vfwebqq.
    pub vfwebqq: Secret,
    /// The constant client id.
    pub clientid: ClientId,
    /// The channel session id.
    pub psessionid: Secret,
}

/// A date of birth in `get_self_info2` / `get_friend_info2`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Birthday {
    /// Year.
    #[serde(default)]
    pub year: u32,
    /// Month.
    #[serde(default)]
    pub month: u32,
    /// Day.
    #[serde(default)]
    pub day: u32,
}

/// Result of `get_self_info2` (§7.1); also of `get_friend_info2` (§7.8), where `account`
/// and `lnick` are absent and `uin` is the friend's.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UserInfo {
    /// Our QQ number (self info) or the friend's uin (friend info).
    pub uin: u64,
    /// Our QQ number (self info only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<QqNumber>,
    /// Nickname.
    #[serde(default)]
    pub nick: String,
    /// Signature (self info only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lnick: Option<String>,
    /// Avatar id.
    #[serde(default)]
    pub face: u32,
    /// `male`, `female` or `unknown`.
    #[serde(default)]
    pub gender: String,
    /// Date of birth.
    #[serde(default)]
    pub birthday: Birthday,
    /// Numeric status: 10 online, 20 offline, 30 away, …
    #[serde(default)]
    pub stat: u32,
    /// Country.
    #[serde(default)]
    pub country: String,
    /// Province.
    #[serde(default)]
    pub province: String,
    /// City.
    #[serde(default)]
    pub city: String,
}

/// One entry of `friends` in `get_user_friends2`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FriendEntry {
    /// Flags, meaning unknown.
    #[serde(default)]
    pub flag: i64,
    /// The friend's uin.
    pub uin: Uin,
    /// The category index (0 = "My friends").
    #[serde(default)]
    pub categories: u32,
}

/// One entry of `marknames`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MarkName {
    /// The friend's uin.
    pub uin: Uin,
    /// The name we gave them.
    pub markname: String,
    /// Always 0.
    #[serde(rename = "type", default)]
    pub mark_type: i64,
}

/// One entry of `categories`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Category {
    /// The index friends refer to.
    pub index: u32,
    /// Display order.
    #[serde(default)]
    pub sort: u32,
    /// The category's name.
    pub name: String,
}

/// One entry of `vipinfo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct VipInfo {
    /// VIP level.
    #[serde(default)]
    pub vip_level: u32,
    /// The person's uin.
    pub u: Uin,
    /// 0 or 1.
    #[serde(default)]
    pub is_vip: u32,
}

/// One entry of `info`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FriendInfoEntry {
    /// Avatar id.
    #[serde(default)]
    pub face: u32,
    /// Flags, meaning unknown.
    #[serde(default)]
    pub flag: i64,
    /// Nickname (may hold HTML entities).
    #[serde(default)]
    pub nick: String,
    /// The friend's uin.
    pub uin: Uin,
}

/// Result of `get_user_friends2` (§7.2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FriendsResult {
    /// Friends with their category.
    #[serde(default)]
    pub friends: Vec<FriendEntry>,
    /// Marknames; sometimes missing.
    #[serde(default)]
    pub marknames: Vec<MarkName>,
    /// Categories other than the implicit index 0.
    #[serde(default)]
    pub categories: Vec<Category>,
    /// VIP flags.
    #[serde(default)]
    pub vipinfo: Vec<VipInfo>,
    /// Nicknames and avatars.
    #[serde(default)]
    pub info: Vec<FriendInfoEntry>,
}

/// One group of `gnamelist`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupNameEntry {
    /// Flags, meaning unknown.
    #[serde(default)]
    pub flag: i64,
    /// The group's name.
    pub name: String,
    /// Session alias: send to it, and it is `from_uin` of group messages.
    pub gid: Gid,
    /// Internal code: the key of `get_group_info_ext2`.
    pub code: GroupCode,
}

/// One entry of `gmarklist`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupMark {
    /// The group's gid.
    pub uin: Gid,
    /// The name we gave the group.
    pub markname: String,
}

/// Result of `get_group_name_list_mask2` (§7.3).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupListResult {
    /// Masked groups (always empty in captures).
    #[serde(default)]
    pub gmasklist: Vec<Value>,
    /// The groups.
    #[serde(default)]
    pub gnamelist: Vec<GroupNameEntry>,
    /// Our marknames for groups.
    #[serde(default)]
    pub gmarklist: Vec<GroupMark>,
}

/// One discussion of `dnamelist`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscussionEntry {
    /// The discussion's name; may be empty.
    #[serde(default)]
    pub name: String,
    /// The discussion id.
    pub did: DiscussionId,
}

/// Result of `get_discus_list` (§7.4).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DiscussionListResult {
    /// The discussions; missing for accounts without any.
    #[serde(default)]
    pub dnamelist: Vec<DiscussionEntry>,
}

/// One element of `get_online_buddies2` (§7.5).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OnlineBuddy {
    /// The friend's uin.
    pub uin: Uin,
    /// `online`, `away`, …
    pub status: String,
    /// Device kind.
    #[serde(default)]
    pub client_type: i64,
}

/// One element of `get_recent_list2` (§7.6).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecentEntry {
    /// 0 friend (uin), 1 group (gid), 2 discussion (did).
    #[serde(rename = "type")]
    pub kind: u8,
    /// The uin, gid or did, per `kind`.
    pub uin: u64,
}

/// Result of `get_friend_uin2` (§7.7).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FriendUinResult {
    /// Always empty.
    #[serde(default)]
    pub uiuin: String,
    /// The real QQ number (or the public group number for `type=4`).
    pub account: u64,
    /// The uin (or code) that was asked about.
    pub uin: u64,
}

/// One element of `get_single_long_nick2` (§7.9).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LongNick {
    /// The friend's uin.
    pub uin: Uin,
    /// Their signature.
    #[serde(default)]
    pub lnick: String,
}

/// `ginfo.members[i]` of `get_group_info_ext2`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupMemberFlag {
    /// The member's uin.
    pub muin: Uin,
    /// Bit field; bit 0 is set for admins in the sandbox (real meaning unknown).
    #[serde(default)]
    pub mflag: u32,
}

/// `ginfo` of `get_group_info_ext2`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupInfo {
    /// Session alias.
    pub gid: Gid,
    /// Internal code.
    pub code: GroupCode,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// The owner's uin.
    #[serde(default)]
    pub owner: Option<Uin>,
    /// Unix seconds.
    #[serde(default)]
    pub createtime: i64,
    /// Level.
    #[serde(default)]
    pub level: i64,
    /// Avatar.
    #[serde(default)]
    pub face: i64,
    /// Group notice.
    #[serde(default)]
    pub memo: String,
    /// Unknown.
    #[serde(default)]
    pub fingermemo: String,
    /// Group class.
    #[serde(default)]
    pub class: i64,
    /// Flags.
    #[serde(default)]
    pub flag: i64,
    /// Unknown.
    #[serde(default)]
    pub option: i64,
    /// Members with their flags, parallel to `minfo`.
    #[serde(default)]
    pub members: Vec<GroupMemberFlag>,
}

/// `minfo[i]` of `get_group_info_ext2`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberInfo {
    /// The member's uin.
    pub uin: Uin,
    /// Nickname.
    #[serde(default)]
    pub nick: String,
    /// Gender.
    #[serde(default)]
    pub gender: String,
    /// Country.
    #[serde(default)]
    pub country: String,
    /// Province.
    #[serde(default)]
    pub province: String,
    /// City.
    #[serde(default)]
    pub city: String,
}

/// `cards[i]` of `get_group_info_ext2`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberCard {
    /// The member's uin.
    pub muin: Uin,
    /// The member's name in this group.
    pub card: String,
}

/// `stats[i]` of `get_group_info_ext2`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MemberStat {
    /// The member's uin.
    pub uin: Uin,
    /// Device kind.
    #[serde(default)]
    pub client_type: i64,
    /// Numeric status.
    #[serde(default)]
    pub stat: u32,
}

/// Result of `get_group_info_ext2` (§7.10).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupInfoResult {
    /// The group.
    pub ginfo: GroupInfo,
    /// Member details; answers carrying only `ginfo` occurred.
    #[serde(default)]
    pub minfo: Vec<MemberInfo>,
    /// Member cards; absent when nobody has one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cards: Vec<MemberCard>,
    /// Online members.
    #[serde(default)]
    pub stats: Vec<MemberStat>,
    /// VIP flags.
    #[serde(default)]
    pub vipinfo: Vec<VipInfo>,
}

/// `info.mem_list[i]` of `get_discu_info`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscussionMember {
    /// The member's uin.
    pub mem_uin: Uin,
    /// The member's real QQ number.
    #[serde(default)]
    pub ruin: Option<QqNumber>,
}

/// `info` of `get_discu_info`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscussionInfo {
    /// The discussion id.
    pub did: DiscussionId,
    /// Its name.
    #[serde(default)]
    pub discu_name: String,
    /// The owner's uin; not always present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discu_owner: Option<Uin>,
    /// Members.
    #[serde(default)]
    pub mem_list: Vec<DiscussionMember>,
}

/// `mem_info[i]` of `get_discu_info`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscussionMemberInfo {
    /// The member's uin.
    pub uin: Uin,
    /// Nickname.
    #[serde(default)]
    pub nick: String,
}

/// Result of `get_discu_info` (§7.11).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DiscussionInfoResult {
    /// The discussion.
    pub info: DiscussionInfo,
    /// Member nicknames.
    #[serde(default)]
    pub mem_info: Vec<DiscussionMemberInfo>,
    /// Online members.
    #[serde(default)]
    pub mem_status: Vec<OnlineBuddy>,
}

/// Status values of `login2` and `change_status2` (§3.6).
pub const STATUSES: [&str; 7] = [
    "online", "away", "busy", "silent", "hidden", "callme", "offline",
];

/// The numeric `stat` for a status name (§7.5): 10 online, 20 offline, 30 away, …
pub fn stat_for_status(status: &str) -> u32 {
    match status {
        "online" => 10,
        "offline" => 20,
        "away" => 30,
        "hidden" => 40,
        "busy" => 50,
        "callme" => 60,
        "silent" => 70,
        _ => 20,
    }
}

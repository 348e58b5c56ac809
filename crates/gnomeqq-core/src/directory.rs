//! The contact directory of one login: friends, groups with members and cards, discussions
//! with members, and the names to show for each.

use std::collections::HashMap;

use smartqq_protocol::api::{DiscussionInfoResult, FriendsResult, GroupInfoResult};
use smartqq_protocol::content::decode_received_text;
use smartqq_protocol::{DiscussionId, Gid, GroupCode, QqNumber, Uin};

/// A friend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Friend {
    /// Session uin.
    pub uin: Uin,
    /// Nickname.
    pub nick: String,
    /// Our name for them.
    pub markname: Option<String>,
    /// Category name ("我的好友" for index 0).
    pub category: String,
    /// Last known status.
    pub status: String,
}

impl Friend {
    /// Markname, else nickname.
    pub fn display_name(&self) -> &str {
        self.markname
            .as_deref()
            .filter(|m| !m.is_empty())
            .unwrap_or(&self.nick)
    }
}

/// What a member may do in a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Role {
    /// The group's owner (`ginfo.owner`).
    Owner,
    /// An administrator: bit 0 of `mflag` (the only bit anyone was seen to rely on; the
    /// sandbox sets it for its administrators).
    Admin,
    /// Everyone else, and every discussion member.
    #[default]
    Member,
}

/// A group member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    /// Session uin.
    pub uin: Uin,
    /// Nickname.
    pub nick: String,
    /// Card in this room, if any.
    pub card: Option<String>,
    /// Real QQ number, when the server gave it (discussions).
    pub qq: Option<QqNumber>,
    /// Owner, administrator or member.
    pub role: Role,
}

impl Member {
    /// Card, else nickname.
    pub fn display_name(&self) -> &str {
        self.card
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or(&self.nick)
    }
}

/// A group or a discussion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Room {
    /// Name.
    pub name: String,
    /// The group code (groups only).
    pub code: Option<GroupCode>,
    /// Members by uin.
    pub members: HashMap<Uin, Member>,
}

/// Everything known about the people and rooms of one login.
#[derive(Clone, Debug, Default)]
pub struct Directory {
    /// Our own QQ number.
    pub own_qq: Option<QqNumber>,
    /// Our nickname.
    pub own_nick: String,
    /// Friends by uin.
    pub friends: HashMap<Uin, Friend>,
    /// Groups by gid.
    pub groups: HashMap<Gid, Room>,
    /// Discussions by did.
    pub discussions: HashMap<DiscussionId, Room>,
    /// The server's recent conversations, most recent first (`get_recent_list2`).
    pub recent: Vec<crate::events::Conversation>,
}

/// Names come with HTML entities (spec §7.2); they are decoded exactly once, here.
fn name(raw: &str) -> String {
    decode_received_text(raw)
}

impl Directory {
    /// Takes the recent list: type 0 friend (uin), 1 group (gid), 2 discussion (did).
    /// Entries of other types are skipped.
    pub fn set_recent(&mut self, entries: &[smartqq_protocol::api::RecentEntry]) {
        use crate::events::Conversation;

        self.recent = entries
            .iter()
            .filter_map(|entry| match entry.kind {
                0 => Some(Conversation::Friend { uin: entry.uin }),
                1 => Some(Conversation::Group { gid: entry.uin }),
                2 => Some(Conversation::Discussion { did: entry.uin }),
                _ => None,
            })
            .collect();
    }

    /// Takes the friend list.
    pub fn set_friends(&mut self, result: &FriendsResult) {
        let categories: HashMap<u32, String> = result
            .categories
            .iter()
            .map(|c| (c.index, name(&c.name)))
            .collect();
        let nicks: HashMap<Uin, &str> = result
            .info
            .iter()
            .map(|i| (i.uin, i.nick.as_str()))
            .collect();
        let marks: HashMap<Uin, &str> = result
            .marknames
            .iter()
            .map(|m| (m.uin, m.markname.as_str()))
            .collect();
        self.friends = result
            .friends
            .iter()
            .map(|f| {
                let friend = Friend {
                    uin: f.uin,
                    nick: nicks.get(&f.uin).map(|n| name(n)).unwrap_or_default(),
                    markname: marks.get(&f.uin).map(|m| name(m)),
                    category: categories
                        .get(&f.categories)
                        .cloned()
                        .unwrap_or_else(|| "我的好友".to_owned()),
                    status: "offline".to_owned(),
                };
                (f.uin, friend)
            })
            .collect();
    }

    /// Takes a group's members and cards.
    pub fn set_group(
        &mut self,
        gid: Gid,
        group_name: &str,
        code: GroupCode,
        info: Option<&GroupInfoResult>,
    ) {
        let mut members = HashMap::new();
        if let Some(info) = info {
            let cards: HashMap<Uin, &str> = info
                .cards
                .iter()
                .map(|c| (c.muin, c.card.as_str()))
                .collect();
            let flags: HashMap<Uin, u32> = info
                .ginfo
                .members
                .iter()
                .map(|m| (m.muin, m.mflag))
                .collect();
            for member in &info.minfo {
                let role = if info.ginfo.owner == Some(member.uin) {
                    Role::Owner
                } else if flags.get(&member.uin).is_some_and(|flag| flag & 1 == 1) {
                    Role::Admin
                } else {
                    Role::Member
                };
                members.insert(
                    member.uin,
                    Member {
                        uin: member.uin,
                        nick: name(&member.nick),
                        card: cards.get(&member.uin).map(|c| name(c)),
                        qq: None,
                        role,
                    },
                );
            }
        }
        self.groups.insert(
            gid,
            Room {
                name: name(group_name),
                code: Some(code),
                members,
            },
        );
    }

    /// Takes a discussion's members.
    pub fn set_discussion(
        &mut self,
        did: DiscussionId,
        discussion_name: &str,
        info: Option<&DiscussionInfoResult>,
    ) {
        let mut members = HashMap::new();
        if let Some(info) = info {
            let qqs: HashMap<Uin, QqNumber> = info
                .info
                .mem_list
                .iter()
                .filter_map(|m| m.ruin.map(|qq| (m.mem_uin, qq)))
                .collect();
            for member in &info.mem_info {
                members.insert(
                    member.uin,
                    Member {
                        uin: member.uin,
                        nick: name(&member.nick),
                        card: None,
                        qq: qqs.get(&member.uin).copied(),
                        role: Role::Member,
                    },
                );
            }
        }
        self.discussions.insert(
            did,
            Room {
                name: name(discussion_name),
                code: None,
                members,
            },
        );
    }

    /// Every group and discussion: (is a group, gid or did, room).
    pub fn rooms(&self) -> impl Iterator<Item = (bool, u64, &Room)> {
        let groups = self
            .groups
            .iter()
            .map(|(gid, room)| (true, gid.get(), room));
        groups.chain(
            self.discussions
                .iter()
                .map(|(did, room)| (false, did.get(), room)),
        )
    }

    /// Whether the room and the sender of a message are in the directory.
    pub fn knows(&self, message: &crate::events::IncomingMessage) -> bool {
        use crate::events::Conversation;

        let sender = Uin(message.sender_uin);
        if self.is_own(sender) {
            return true;
        }
        let room = match message.conversation {
            Conversation::Friend { .. } => return self.friends.contains_key(&sender),
            Conversation::Group { gid } => self.groups.get(&Gid(gid)),
            Conversation::Discussion { did } => self.discussions.get(&DiscussionId(did)),
            Conversation::Temporary {
                via_group: true,
                room,
                ..
            } => self.groups.get(&Gid(room)),
            Conversation::Temporary { room, .. } => self.discussions.get(&DiscussionId(room)),
        };
        room.is_some_and(|room| room.members.contains_key(&sender))
    }

    /// Whether this uin is our own (SmartQQ gives the account its QQ number as uin).
    pub fn is_own(&self, uin: Uin) -> bool {
        self.own_qq.is_some_and(|qq| qq.get() == uin.get())
    }

    /// A person's name as seen from a room (card first), falling back to the friend list,
    /// then to a placeholder that names the uin.
    pub fn person_name(&self, uin: Uin, room: Option<&Room>) -> String {
        if self.is_own(uin) {
            return self.own_nick.clone();
        }
        if let Some(member) = room.and_then(|r| r.members.get(&uin)) {
            return member.display_name().to_owned();
        }
        match self.friends.get(&uin) {
            Some(friend) => friend.display_name().to_owned(),
            // A stranger: shown under a placeholder, never dropped; the account reloads the
            // lists in the background when it meets one (`Account::refresh_directory_soon`).
            None => format!("uin {uin}"),
        }
    }
}

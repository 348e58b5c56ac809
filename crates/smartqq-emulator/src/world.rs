//! The sandbox's world: the account that logs in and the people, groups and discussions
//! around it, read from TOML (`--world FILE`) or the built-in default.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};
use smartqq_protocol::{DiscussionId, GroupCode, GroupNumber, QqNumber};

/// Everything the sandbox knows about its people and rooms.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct World {
    /// The account a client logs in as.
    #[serde(rename = "self")]
    pub account: SelfAccount,
    /// Friend categories besides the implicit index 0 ("我的好友").
    #[serde(default)]
    pub categories: Vec<CategoryDef>,
    /// Every other person: friends, group members and discussion members.
    #[serde(default)]
    pub people: Vec<Person>,
    /// Which people are friends, in which category, under which markname.
    #[serde(default)]
    pub friends: Vec<FriendDef>,
    /// Groups the account is in.
    #[serde(default)]
    pub groups: Vec<GroupDef>,
    /// Discussions the account is in.
    #[serde(default)]
    pub discussions: Vec<DiscussionDef>,
}

/// The account that logs in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SelfAccount {
    /// QQ number (also its uin in SmartQQ).
    pub qq: QqNumber,
    /// Nickname.
    pub nick: String,
    /// Signature.
    #[serde(default)]
    pub lnick: String,
    /// Password for the legacy password login (sandbox only, so kept in plain text).
    #[serde(default = "default_password")]
    pub password: String,
    /// A locked account refuses password logins with code 19.
    #[serde(default)]
    pub locked: bool,
    /// Avatar id.
    #[serde(default)]
    pub face: u32,
    /// `male`, `female` or `unknown`.
    #[serde(default = "unknown_gender")]
    pub gender: String,
}

fn default_password() -> String {
    "sandbox-password".to_owned()
}

fn unknown_gender() -> String {
    "unknown".to_owned()
}

fn online() -> String {
    "online".to_owned()
}

/// A friend category.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CategoryDef {
    /// Index friends refer to (1 and up; 0 is implicit).
    pub index: u32,
    /// Name.
    pub name: String,
}

/// A person other than the account itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// QQ number.
    pub qq: QqNumber,
    /// Nickname.
    pub nick: String,
    /// Signature.
    #[serde(default)]
    pub lnick: String,
    /// `male`, `female` or `unknown`.
    #[serde(default = "unknown_gender")]
    pub gender: String,
    /// `online`, `away`, `busy`, `hidden`, `offline`, …
    #[serde(default = "online")]
    pub status: String,
    /// Device kind (1 PC, 21 mobile, 41 web).
    #[serde(default = "pc")]
    pub client_type: i64,
}

fn pc() -> i64 {
    1
}

/// A friendship.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FriendDef {
    /// The friend's QQ number (must be in `people`).
    pub qq: QqNumber,
    /// Category index; 0 is "My friends".
    #[serde(default)]
    pub category: u32,
    /// Our name for them.
    #[serde(default)]
    pub markname: Option<String>,
}

/// A group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupDef {
    /// Public number.
    pub number: GroupNumber,
    /// Internal code (stable).
    pub code: GroupCode,
    /// Name.
    pub name: String,
    /// Notice.
    #[serde(default)]
    pub memo: String,
    /// Owner's QQ number.
    pub owner: QqNumber,
    /// Our markname for the group.
    #[serde(default)]
    pub markname: Option<String>,
    /// Members, the account itself included.
    pub members: Vec<MemberDef>,
}

/// A group member.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MemberDef {
    /// QQ number (the account itself, or someone in `people`).
    pub qq: QqNumber,
    /// Name card in this group.
    #[serde(default)]
    pub card: Option<String>,
    /// Whether the member is an administrator.
    #[serde(default)]
    pub admin: bool,
}

/// A discussion.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscussionDef {
    /// Discussion id (stable).
    pub did: DiscussionId,
    /// Name; may be empty.
    #[serde(default)]
    pub name: String,
    /// Owner's QQ number.
    pub owner: QqNumber,
    /// Members' QQ numbers, the account itself included.
    pub members: Vec<QqNumber>,
}

/// Why a world file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorldError {
    /// The TOML did not parse or had unknown keys.
    #[error("world file is not valid: {0}")]
    Toml(#[from] toml::de::Error),
    /// The world contradicts itself.
    #[error("world is inconsistent: {0}")]
    Inconsistent(String),
}

impl World {
    /// Reads and checks a world from TOML text.
    pub fn from_toml(text: &str) -> Result<Self, WorldError> {
        let world: World = toml::from_str(text)?;
        world.validate()?;
        Ok(world)
    }

    /// The built-in world the demo and the tests use.
    pub fn builtin() -> Self {
        // The built-in world is a constant of this crate; a test checks it parses.
        Self::from_toml(DEFAULT_WORLD).expect("built-in world is valid")
    }

    /// Checks that every reference points at someone who exists and nothing is doubled.
    pub fn validate(&self) -> Result<(), WorldError> {
        let fail = |message: String| Err(WorldError::Inconsistent(message));
        self.check_values()?;
        let mut known: HashSet<QqNumber> = HashSet::from([self.account.qq]);
        for person in &self.people {
            if !known.insert(person.qq) {
                return fail(format!("person {} is listed twice", person.qq));
            }
        }
        let categories: HashSet<u32> = self.categories.iter().map(|c| c.index).collect();
        let mut friends = HashSet::new();
        for friend in &self.friends {
            if friend.qq == self.account.qq || !known.contains(&friend.qq) {
                return fail(format!("friend {} is not in people", friend.qq));
            }
            if friend.category != 0 && !categories.contains(&friend.category) {
                return fail(format!(
                    "friend {} has unknown category {}",
                    friend.qq, friend.category
                ));
            }
            if !friends.insert(friend.qq) {
                return fail(format!("friend {} is listed twice", friend.qq));
            }
        }
        let mut rooms = HashSet::new();
        for group in &self.groups {
            if !rooms.insert(group.code.get()) || !rooms.insert(group.number.get()) {
                return fail(format!("group {} reuses a number or code", group.number));
            }
            let members: Vec<QqNumber> = group.members.iter().map(|m| m.qq).collect();
            self.check_members(
                &known,
                &members,
                group.owner,
                &format!("group {}", group.number),
            )?;
        }
        for discussion in &self.discussions {
            if !rooms.insert(discussion.did.get()) {
                return fail(format!("discussion {} reuses an id", discussion.did));
            }
            let label = format!("discussion {}", discussion.did);
            self.check_members(&known, &discussion.members, discussion.owner, &label)?;
        }
        Ok(())
    }

    /// Numbers and names within what the real service allowed, so that nothing the world
    /// says can break a reply (a nick turns into a cookie, statuses into API answers).
    fn check_values(&self) -> Result<(), WorldError> {
        let fail = |message: String| Err(WorldError::Inconsistent(message));
        let qq_numbers = std::iter::once(self.account.qq).chain(self.people.iter().map(|p| p.qq));
        if let Some(bad) = qq_numbers
            .into_iter()
            .find(|qq| !(10_000..=99_999_999_999).contains(&qq.get()))
        {
            return fail(format!("QQ number {bad} is outside 10000..=99999999999"));
        }
        let mut names: Vec<(&str, &str)> = vec![("nick", &self.account.nick)];
        names.extend(self.people.iter().map(|p| ("nick", p.nick.as_str())));
        names.extend(
            self.categories
                .iter()
                .map(|c| ("category", c.name.as_str())),
        );
        names.extend(
            self.friends
                .iter()
                .filter_map(|f| f.markname.as_deref())
                .map(|m| ("markname", m)),
        );
        names.extend(self.groups.iter().map(|g| ("group name", g.name.as_str())));
        names.extend(
            self.groups
                .iter()
                .flat_map(|g| g.members.iter())
                .filter_map(|m| m.card.as_deref())
                .map(|c| ("card", c)),
        );
        names.extend(
            self.discussions
                .iter()
                .map(|d| ("discussion name", d.name.as_str())),
        );
        if let Some((what, name)) = names
            .iter()
            .find(|(_, name)| name.chars().count() > MAX_NAME_CHARS)
        {
            return fail(format!(
                "a {what} is longer than {MAX_NAME_CHARS} characters: {:?}…",
                name.chars().take(20).collect::<String>()
            ));
        }
        if let Some(person) = self
            .people
            .iter()
            .find(|p| !smartqq_protocol::api::STATUSES.contains(&p.status.as_str()))
        {
            return fail(format!(
                "person {} has unknown status {:?}",
                person.qq, person.status
            ));
        }
        if let Some(person) = self
            .people
            .iter()
            .find(|p| !(0..=1000).contains(&p.client_type))
        {
            return fail(format!(
                "person {} has client_type {} outside 0..=1000",
                person.qq, person.client_type
            ));
        }
        let mut indices = HashSet::new();
        if let Some(category) = self
            .categories
            .iter()
            .find(|c| c.index == 0 || !indices.insert(c.index))
        {
            return fail(format!(
                "category index {} is 0 (implicit) or used twice",
                category.index
            ));
        }
        Ok(())
    }

    fn check_members(
        &self,
        known: &HashSet<QqNumber>,
        members: &[QqNumber],
        owner: QqNumber,
        label: &str,
    ) -> Result<(), WorldError> {
        let unique: HashSet<_> = members.iter().collect();
        if unique.len() != members.len() {
            return Err(WorldError::Inconsistent(format!(
                "{label} lists a member twice"
            )));
        }
        if let Some(stranger) = members.iter().find(|qq| !known.contains(qq)) {
            return Err(WorldError::Inconsistent(format!(
                "{label}: member {stranger} is not in people"
            )));
        }
        if !members.contains(&self.account.qq) || !members.contains(&owner) {
            return Err(WorldError::Inconsistent(format!(
                "{label} must list the account and the owner as members"
            )));
        }
        Ok(())
    }

    /// The person with this QQ number.
    pub fn person(&self, qq: QqNumber) -> Option<&Person> {
        self.people.iter().find(|p| p.qq == qq)
    }

    /// A nickname for anyone, the account included.
    pub fn nick(&self, qq: QqNumber) -> &str {
        if qq == self.account.qq {
            return &self.account.nick;
        }
        self.person(qq).map_or("", |p| p.nick.as_str())
    }

    /// The friendship with this QQ number.
    pub fn friend(&self, qq: QqNumber) -> Option<&FriendDef> {
        self.friends.iter().find(|f| f.qq == qq)
    }

    /// The group with this public number.
    pub fn group_by_number(&self, number: GroupNumber) -> Option<&GroupDef> {
        self.groups.iter().find(|g| g.number == number)
    }

    /// The group with this code.
    pub fn group_by_code(&self, code: GroupCode) -> Option<&GroupDef> {
        self.groups.iter().find(|g| g.code == code)
    }

    /// The discussion with this id.
    pub fn discussion(&self, did: DiscussionId) -> Option<&DiscussionDef> {
        self.discussions.iter().find(|d| d.did == did)
    }

    /// Everyone whose uin a session must know: friends, group and discussion members.
    pub fn everyone(&self) -> Vec<QqNumber> {
        let mut all: BTreeMap<QqNumber, ()> = BTreeMap::new();
        all.extend(self.people.iter().map(|p| (p.qq, ())));
        all.into_keys().collect()
    }
}

impl GroupDef {
    /// The member entry for this QQ number.
    pub fn member(&self, qq: QqNumber) -> Option<&MemberDef> {
        self.members.iter().find(|m| m.qq == qq)
    }
}

/// The longest name (nick, card, markname, room or category name) a world may hold.
const MAX_NAME_CHARS: usize = 64;

/// The built-in world: 6 friends in 2 categories, 2 groups, 1 discussion, Chinese and Latin
/// names. Numbers are invented.
pub const DEFAULT_WORLD: &str = r#"
[self]
qq = 2400000001
nick = "小明 Ming"
lnick = "Trying GnomeQQ in the sandbox"
gender = "male"
face = 603

[[categories]]
index = 1
name = "同学 Classmates"

[[people]]
qq = 3100000001
nick = "张伟"
gender = "male"
lnick = "今天也要加油"

[[people]]
qq = 3100000002
nick = "Bob"
gender = "male"
status = "away"
client_type = 21

[[people]]
qq = 3100000003
nick = "李娜"
gender = "female"

[[people]]
qq = 3100000004
nick = "Carol"
gender = "female"
status = "busy"

[[people]]
qq = 3100000005
nick = "王芳"
gender = "female"
status = "offline"

[[people]]
qq = 3100000006
nick = "Dave"
gender = "male"

[[people]]
qq = 3300000001
nick = "陈静"
gender = "female"

[[people]]
qq = 3300000002
nick = "Eve"
gender = "female"

[[friends]]
qq = 3100000001
markname = "老张"

[[friends]]
qq = 3100000002

[[friends]]
qq = 3100000003
category = 1

[[friends]]
qq = 3100000004
category = 1
markname = "Carol (school)"

[[friends]]
qq = 3100000005
category = 1

[[friends]]
qq = 3100000006
category = 1

[[groups]]
number = 600001
code = 2100000003
name = "GnomeQQ 开发组"
memo = "Be kind; ship small steps."
owner = 2400000001
members = [
  { qq = 2400000001, card = "明 (maintainer)", admin = true },
  { qq = 3100000001, card = "老张", admin = true },
  { qq = 3100000004 },
  { qq = 3300000001, card = "静静" },
  { qq = 3300000002, card = "Eve (ops)" },
]

[[groups]]
number = 600002
code = 2100000007
name = "周末羽毛球 Badminton"
owner = 3100000002
members = [
  { qq = 3100000002, admin = true },
  { qq = 2400000001 },
  { qq = 3100000003, card = "娜娜" },
  { qq = 3300000001 },
]

[[discussions]]
did = 3600000004
name = "Weekend trip 周末出游"
owner = 3100000006
members = [3100000006, 2400000001, 3100000002, 3300000002]
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_world_has_the_promised_shape() {
        let world = World::builtin();

        assert!(world.friends.len() >= 6);
        let categories: HashSet<u32> = world.friends.iter().map(|f| f.category).collect();
        assert_eq!(categories.len(), 2);
        assert_eq!(world.groups.len(), 2);
        assert_eq!(world.discussions.len(), 1);
    }

    #[test]
    fn dangling_references_are_refused() {
        let text = DEFAULT_WORLD.replace("qq = 3100000006\ncategory = 1", "qq = 3999999999");

        let error = World::from_toml(&text).unwrap_err();

        assert!(error.to_string().contains("3999999999"), "{error}");
    }

    #[test]
    fn out_of_range_values_are_refused() {
        let long_nick =
            DEFAULT_WORLD.replace("nick = \"Bob\"", &format!("nick = \"{}\"", "B".repeat(65)));
        let bad_status = DEFAULT_WORLD.replace("status = \"away\"", "status = \"banana\"");
        let zero_category = DEFAULT_WORLD.replace("index = 1", "index = 0");
        let tiny_qq = DEFAULT_WORLD.replace("qq = 2400000001\nnick", "qq = 0\nnick");

        for (text, expected) in [
            (long_nick, "longer than"),
            (bad_status, "banana"),
            (zero_category, "index 0"),
            (tiny_qq, "QQ number 0"),
        ] {
            let error = World::from_toml(&text).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        }
    }

    #[test]
    fn unknown_keys_are_refused() {
        let text = format!("{DEFAULT_WORLD}\n[extra]\nx = 1\n");

        assert!(matches!(World::from_toml(&text), Err(WorldError::Toml(_))));
    }
}

//! The sandbox's mutable state: QR tickets, logins, web sessions with their alias maps and
//! event queues, what clients sent, and counters.
//!
//! One mutex guards it all. Handlers hold it only between awaits, so a long poll waits on
//! its session's [`Notify`] with the lock released.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::atomic::AtomicI64;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rand::Rng;
use rand::seq::SliceRandom;
use serde::Serialize;
use smartqq_protocol::api::Era;
use smartqq_protocol::content::{Font, ReceivedContent, Segment};
use smartqq_protocol::poll::{
    BuddyMessage, DiscuMessage, GroupMessage, KickMessage, PollEvent, SessMessage, SessVia,
};
use smartqq_protocol::{ClientId, DiscussionId, Gid, GroupCode, GroupNumber, QqNumber, Uin};
use tokio::sync::Notify;

use crate::knobs::Knobs;
use crate::world::World;

/// How the sandbox was started.
#[derive(Clone, Debug)]
pub struct Config {
    /// The era to speak.
    pub era: Era,
    /// The world.
    pub world: World,
    /// Act as a phone that scans after half this delay and confirms after all of it.
    pub auto_confirm: Option<Duration>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            era: Era::default(),
            world: World::builtin(),
            auto_confirm: None,
        }
    }
}

/// Shared handle to the sandbox state; cheap to clone.
#[derive(Clone, Debug)]
pub struct Sandbox {
    inner: Arc<Mutex<State>>,
    /// Long polls currently held (across all sessions).
    pub(crate) polls_in_flight: Arc<AtomicI64>,
}

impl Sandbox {
    /// A fresh sandbox.
    pub fn new(config: Config) -> Self {
        Self {
            inner: Arc::new(Mutex::new(State::new(config))),
            polls_in_flight: Arc::default(),
        }
    }

    /// Locks the state. A handler that panicked while holding it leaves it usable: every
    /// update is a complete step, so the data is still consistent.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// State of one QR code.
#[derive(Debug)]
pub(crate) struct QrTicket {
    pub number: u64,
    pub qrsig: String,
    pub created: Instant,
    pub scanned: bool,
    pub confirmed: bool,
    pub expired: bool,
    pub used: bool,
}

/// Cookies and tokens of one successful ptlogin (QR or password).
#[derive(Debug)]
pub(crate) struct Login {
    pub qq: QqNumber,
    pub skey: String,
    pub p_skey: Option<String>,
    pub ptwebqq: String,
    pub previous_ptwebqq: Option<String>,
    pub vfwebqq: Option<String>,
    pub expired: bool,
}

/// A web session created by `login2`.
#[derive(Debug)]
pub(crate) struct WebSession {
    pub psessionid: String,
    pub skey: String,
    pub clientid: ClientId,
    pub created: Instant,
    pub status: String,
    pub warmed_up: bool,
    pub init_calls: InitCalls,
    pub ended: Option<EndReason>,
    pub aliases: Aliases,
    pub queue: VecDeque<PollEvent>,
    pub pending_rotation: Option<String>,
    pub polls: u32,
    pub poll_generation: u64,
    pub notify: Arc<Notify>,
    pub sigs: HashMap<(u64, Uin, u8), String>,
    pub next_msg_id: u64,
}

/// Which post-login calls a session made (FAULTS BR-07).
#[derive(Debug, Default)]
pub(crate) struct InitCalls {
    pub self_info: bool,
    pub online_buddies: bool,
    pub recent_list: bool,
}

/// Why a session stopped working.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum EndReason {
    Expired,
    Kicked,
    LoggedOut,
    Replaced,
}

/// One session's aliases: uins for people, gids for groups (spec §10.1).
#[derive(Clone, Debug, Default)]
pub(crate) struct Aliases {
    pub uin_of: BTreeMap<QqNumber, Uin>,
    pub qq_of: HashMap<Uin, QqNumber>,
    pub gid_of: BTreeMap<GroupCode, Gid>,
    pub code_of: HashMap<Gid, GroupCode>,
}

impl Aliases {
    fn insert_person(&mut self, qq: QqNumber, uin: Uin) {
        self.uin_of.insert(qq, uin);
        self.qq_of.insert(uin, qq);
    }

    fn insert_group(&mut self, code: GroupCode, gid: Gid) {
        self.gid_of.insert(code, gid);
        self.code_of.insert(gid, code);
    }

    /// The uin of a person in this session; the account's own uin is its QQ number.
    pub fn uin(&self, qq: QqNumber) -> Uin {
        self.uin_of.get(&qq).copied().unwrap_or(Uin(qq.get()))
    }

    /// The gid of a group in this session.
    pub fn gid(&self, code: GroupCode) -> Option<Gid> {
        self.gid_of.get(&code).copied()
    }
}

/// A message a person of the world sends, in stable (QQ-number) terms.
#[derive(Clone, Debug)]
pub(crate) enum Injected {
    Buddy {
        from: QqNumber,
        segments: Vec<Segment>,
    },
    Group {
        from: QqNumber,
        code: GroupCode,
        segments: Vec<Segment>,
    },
    Discussion {
        from: QqNumber,
        did: DiscussionId,
        segments: Vec<Segment>,
    },
    Sess {
        from: QqNumber,
        via: SessRoom,
        segments: Vec<Segment>,
    },
}

/// The room a temporary session runs through.
#[derive(Clone, Copy, Debug)]
pub(crate) enum SessRoom {
    Group(GroupCode),
    Discussion(DiscussionId),
}

/// One message a client sent, as `GET /sandbox/sent` lists it.
#[derive(Clone, Debug, Serialize)]
pub struct SentMessage {
    /// `send_buddy_msg2`, `send_qun_msg2`, `send_discu_msg2` or `send_sess_msg2`.
    pub endpoint: &'static str,
    /// The friend's or stranger's QQ number, the group's public number, or the did.
    pub target: u64,
    /// The text, faces written as `[face:N]`.
    pub text: String,
    /// The segments as decoded.
    pub segments: Vec<Segment>,
    /// The client's `msg_id`.
    pub msg_id: u64,
    /// Whether it reached its recipients (false for dropped sends).
    pub delivered: bool,
}

/// Per-endpoint request counts and delivery figures.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: BTreeMap<String, u64>,
    pub deliveries: u64,
    pub logins: u64,
}

/// The whole mutable state.
#[derive(Debug)]
pub(crate) struct State {
    pub config: Config,
    pub knobs: Knobs,
    pub qr: Vec<QrTicket>,
    pub next_qr_number: u64,
    pub ptsig: HashMap<String, QqNumber>,
    pub logins: HashMap<String, Login>,
    pub sessions: HashMap<String, WebSession>,
    pub previous_aliases: Option<Aliases>,
    pub offline: Vec<Injected>,
    pub sent: Vec<SentMessage>,
    pub send_times: HashMap<u64, VecDeque<Instant>>,
    pub counters: Counters,
    pub check_codes: HashMap<QqNumber, (String, String)>,
    /// Single-sign-on tokens (`supertoken` cookie) still valid for `pt4_auth` (spec §3.8).
    pub super_tokens: HashMap<String, QqNumber>,
    pub recent: Vec<(u8, u64)>,
}

impl State {
    fn new(config: Config) -> Self {
        Self {
            knobs: Knobs::for_era(config.era),
            config,
            qr: Vec::new(),
            next_qr_number: 1,
            ptsig: HashMap::new(),
            logins: HashMap::new(),
            sessions: HashMap::new(),
            previous_aliases: None,
            offline: Vec::new(),
            sent: Vec::new(),
            send_times: HashMap::new(),
            counters: Counters::default(),
            check_codes: HashMap::new(),
            super_tokens: HashMap::new(),
            recent: Vec::new(),
        }
    }

    pub fn world(&self) -> &World {
        &self.config.world
    }

    pub fn era(&self) -> Era {
        self.config.era
    }

    /// The live web session, if a client is logged in. There is at most one: a new
    /// `login2` replaces the old session (spec §10.1).
    pub fn live_session_mut(&mut self) -> Option<&mut WebSession> {
        self.sessions.values_mut().find(|s| s.ended.is_none())
    }

    /// How long until this session's TTL runs out, if a TTL is set.
    pub fn ttl_remaining(&self, psessionid: &str) -> Option<Duration> {
        let ttl = self.knobs.session_ttl;
        let session = self.sessions.get(psessionid)?;
        (ttl > 0.0).then(|| Duration::from_secs_f64(ttl).saturating_sub(session.created.elapsed()))
    }

    /// Forgets the oldest ended sessions beyond a hundredth of [`MAX_KEPT`], and the oldest
    /// sent messages beyond [`MAX_KEPT`].
    pub fn prune(&mut self) {
        if self.sessions.len() > MAX_KEPT / 100 {
            let mut ended: Vec<(Instant, String)> = self
                .sessions
                .values()
                .filter(|s| s.ended.is_some() && s.queue.is_empty())
                .map(|s| (s.created, s.psessionid.clone()))
                .collect();
            ended.sort();
            let excess = self.sessions.len().saturating_sub(MAX_KEPT / 100);
            // Logins stay: a newer session of the same login may still be live.
            for (_, psessionid) in ended.into_iter().take(excess) {
                self.sessions.remove(&psessionid);
            }
        }
        if self.sent.len() > MAX_KEPT {
            let excess = self.sent.len() - MAX_KEPT;
            self.sent.drain(..excess);
        }
        if self.ptsig.len() > MAX_KEPT {
            self.ptsig.clear();
        }
    }

    /// Ends sessions whose TTL has run out.
    pub fn expire_sessions(&mut self) {
        let ttl = self.knobs.session_ttl;
        if ttl <= 0.0 {
            return;
        }
        let ttl = Duration::from_secs_f64(ttl);
        let expired: Vec<String> = self
            .sessions
            .values()
            .filter(|s| s.ended.is_none() && s.created.elapsed() >= ttl)
            .map(|s| s.psessionid.clone())
            .collect();
        for psessionid in expired {
            self.expire_session(&psessionid);
        }
    }

    /// Ends a session and its login as the 48-hour expiry did (FAULTS BR-32): polls answer
    /// 103, list calls 100000, sends 100012.
    pub fn expire_session(&mut self, psessionid: &str) {
        let Some(session) = self.sessions.get_mut(psessionid) else {
            return;
        };
        session.end(EndReason::Expired);
        let skey = session.skey.clone();
        if let Some(login) = self.logins.get_mut(&skey) {
            login.expired = true;
        }
    }

    /// Aliases for a new login: random 9-10 digit numbers the first time; afterwards, with
    /// `reassign_uins_on_login`, the previous numbers dealt out again one place along, so a
    /// client that kept an old uin reaches the wrong person (FAULTS BR-21).
    pub fn deal_aliases(&mut self) -> Aliases {
        let world = &self.config.world;
        let people = world.everyone();
        let codes: Vec<GroupCode> = world.groups.iter().map(|g| g.code).collect();
        let mut aliases = Aliases::default();

        match (&self.previous_aliases, self.knobs.reassign_uins_on_login) {
            (Some(previous), false) => aliases = previous.clone(),
            (Some(previous), true) => {
                let mut uins: Vec<Uin> = people.iter().map(|qq| previous.uin(*qq)).collect();
                let mut gids: Vec<Gid> = codes
                    .iter()
                    .filter_map(|code| previous.gid(*code))
                    .collect();
                let shift = 1.min(uins.len());
                uins.rotate_left(shift);
                let shift = 1.min(gids.len());
                gids.rotate_left(shift);
                for (qq, uin) in people.iter().zip(uins) {
                    aliases.insert_person(*qq, uin);
                }
                for (code, gid) in codes.iter().zip(gids) {
                    aliases.insert_group(*code, gid);
                }
            }
            (None, _) => {
                let mut numbers = random_aliases(people.len() + codes.len());
                numbers.shuffle(&mut rand::rng());
                let (person_numbers, group_numbers) = numbers.split_at(people.len());
                for (qq, number) in people.iter().zip(person_numbers) {
                    aliases.insert_person(*qq, Uin(*number));
                }
                for (code, number) in codes.iter().zip(group_numbers) {
                    aliases.insert_group(*code, Gid(*number));
                }
            }
        }
        self.previous_aliases = Some(aliases.clone());
        aliases
    }

    /// Hands a message of the world to the live session, or keeps it for the next login
    /// (QQ delivered messages that arrived while offline at the next login).
    pub fn inject(&mut self, message: Injected) -> bool {
        self.expire_sessions();
        self.touch_recent(&message);
        let era = self.era();
        let duplicate = self.knobs.duplicate_delivery;
        let world = self.config.world.clone();
        let Some(session) = self.live_session_mut() else {
            if self.offline.len() >= MAX_KEPT {
                self.offline.remove(0);
            }
            self.offline.push(message);
            return false;
        };
        let event = session.translate(&world, era, &message);
        session.push(event.clone());
        if duplicate {
            session.push(event);
        }
        true
    }

    fn touch_recent(&mut self, message: &Injected) {
        let key = match message {
            Injected::Buddy { from, .. } | Injected::Sess { from, .. } => (0, from.get()),
            Injected::Group { code, .. } => (1, code.get()),
            Injected::Discussion { did, .. } => (2, did.get()),
        };
        self.note_recent(key);
    }

    /// Moves a conversation to the top of the recent list; kind 0 friend (QQ), 1 group
    /// (code), 2 discussion (did).
    pub fn note_recent(&mut self, key: (u8, u64)) {
        self.recent.retain(|k| *k != key);
        self.recent.insert(0, key);
        self.recent.truncate(50);
    }
}

impl WebSession {
    pub fn new(psessionid: String, skey: String, clientid: ClientId, aliases: Aliases) -> Self {
        Self {
            psessionid,
            skey,
            clientid,
            created: Instant::now(),
            status: "online".to_owned(),
            warmed_up: false,
            init_calls: InitCalls::default(),
            ended: None,
            aliases,
            queue: VecDeque::new(),
            pending_rotation: None,
            polls: 0,
            poll_generation: 0,
            notify: Arc::new(Notify::new()),
            sigs: HashMap::new(),
            next_msg_id: 20_000 + rand::rng().random_range(0..10_000),
        }
    }

    /// Queues an event and wakes the held poll.
    pub fn push(&mut self, event: PollEvent) {
        self.queue.push_back(event);
        self.notify.notify_waiters();
    }

    /// Marks the session dead and wakes its poll so it answers at once.
    pub fn end(&mut self, reason: EndReason) {
        if self.ended.is_none() {
            self.ended = Some(reason);
        }
        self.notify.notify_waiters();
    }

    fn next_msg_id(&mut self) -> u64 {
        self.next_msg_id += 1;
        self.next_msg_id
    }

    /// Puts a world message into this session's terms: uins, gids, and the era's quirks.
    pub fn translate(&mut self, world: &World, era: Era, message: &Injected) -> PollEvent {
        let own = world.account.qq;
        let msg_id = self.next_msg_id();
        let time = unix_seconds();
        let font = Font {
            name: "微软雅黑".to_owned(),
            ..Font::default()
        };
        let content = |segments: &[Segment]| ReceivedContent::to_wire(&font, segments);
        match message {
            Injected::Buddy { from, segments } => PollEvent::Message(BuddyMessage {
                from_uin: self.aliases.uin(*from),
                to_uin: own.as_self_uin(),
                msg_id,
                msg_type: if era == Era::Legacy2015 { 9 } else { 0 },
                time,
                content: content(segments),
            }),
            Injected::Group {
                from,
                code,
                segments,
            } => {
                let gid = self.aliases.gid(*code).unwrap_or(Gid(code.get()));
                PollEvent::GroupMessage(GroupMessage {
                    from_uin: gid,
                    // The SmartQQ quirk: `group_code` carries the gid; legacy sent the code.
                    group_code: if era == Era::Legacy2015 {
                        code.get()
                    } else {
                        gid.get()
                    },
                    send_uin: self.aliases.uin(*from),
                    to_uin: own.as_self_uin(),
                    msg_id,
                    msg_type: if era == Era::Legacy2015 { 43 } else { 0 },
                    time,
                    content: content(segments),
                })
            }
            Injected::Discussion {
                from,
                did,
                segments,
            } => PollEvent::DiscuMessage(DiscuMessage {
                from_uin: *did,
                did: *did,
                send_uin: self.aliases.uin(*from),
                to_uin: own.as_self_uin(),
                msg_id,
                msg_type: 0,
                time,
                content: content(segments),
            }),
            Injected::Sess {
                from,
                via,
                segments,
            } => {
                let (id, service_type) = match via {
                    SessRoom::Group(code) => (
                        self.aliases.gid(*code).map_or(code.get(), Gid::get),
                        SessVia::Group,
                    ),
                    SessRoom::Discussion(did) => (did.get(), SessVia::Discussion),
                };
                PollEvent::SessMessage(SessMessage {
                    from_uin: self.aliases.uin(*from),
                    to_uin: own.as_self_uin(),
                    msg_id,
                    msg_type: 140,
                    time,
                    id,
                    ruin: Some(*from),
                    service_type,
                    flags: serde_json::json!({"text":1,"pic":1,"file":1,"audio":1,"video":1}),
                    content: content(segments),
                })
            }
        }
    }

    /// Queues the kick notice of spec §5.3; the session ends once it has been delivered.
    pub fn kick(&mut self, reason: &str) {
        self.push(PollEvent::Kick(KickMessage {
            way: "do_poll".to_owned(),
            show_reason: 1,
            reason: reason.to_owned(),
        }));
    }
}

/// `n` distinct random numbers of 9 or 10 digits, below 2^32 so they also fit clients that
/// stored uins in 32 bits.
fn random_aliases(n: usize) -> Vec<u64> {
    let mut rng = rand::rng();
    let mut numbers: Vec<u64> = Vec::with_capacity(n);
    while numbers.len() < n {
        let candidate = rng.random_range(100_000_000..4_294_967_295);
        if !numbers.contains(&candidate) {
            numbers.push(candidate);
        }
    }
    numbers
}

/// Seconds since the Unix epoch.
pub(crate) fn unix_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// A random token of `len` characters from `alphabet`.
pub(crate) fn token(alphabet: &[u8], len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// The most sent messages, offline messages, ended sessions and logins the sandbox keeps:
/// a long-running sandbox must not grow without bound (the oldest go first).
pub(crate) const MAX_KEPT: usize = 10_000;

/// Lower-case hex digits.
pub(crate) const HEX: &[u8] = b"0123456789abcdef";
/// Characters of `qrsig`, `p_skey` and friends.
pub(crate) const SIG: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789*-_";
/// Characters of `skey`.
pub(crate) const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// Resolves the public number of a group to its code.
pub(crate) fn code_for_number(world: &World, number: GroupNumber) -> Option<GroupCode> {
    world.group_by_number(number).map(|g| g.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reassigned_aliases_give_old_uins_to_other_people() {
        let sandbox = Sandbox::new(Config::default());
        let mut state = sandbox.lock();

        let first = state.deal_aliases();
        let second = state.deal_aliases();

        assert_eq!(first.uin_of.len(), second.uin_of.len());
        for (qq, uin) in &first.uin_of {
            assert_ne!(second.uin(*qq), *uin, "QQ {qq} kept its uin");
            let new_owner = second.qq_of[uin];
            assert_ne!(new_owner, *qq);
        }
        for (code, gid) in &first.gid_of {
            assert_ne!(second.gid(*code), Some(*gid));
        }
    }

    #[test]
    fn ended_sessions_and_old_sends_are_forgotten_beyond_the_limits() {
        let sandbox = Sandbox::new(Config::default());
        let mut state = sandbox.lock();
        for n in 0..150 {
            let mut session = WebSession::new(
                format!("ps{n}"),
                "@skey".to_owned(),
                ClientId::SMARTQQ,
                Aliases::default(),
            );
            session.end(EndReason::LoggedOut);
            state.sessions.insert(session.psessionid.clone(), session);
        }
        let live = WebSession::new(
            "live".to_owned(),
            "@skey".to_owned(),
            ClientId::SMARTQQ,
            Aliases::default(),
        );
        state.sessions.insert("live".to_owned(), live);
        for msg_id in 0..(MAX_KEPT as u64 + 5) {
            state.sent.push(SentMessage {
                endpoint: "send_buddy_msg2",
                target: 1,
                text: String::new(),
                segments: Vec::new(),
                msg_id,
                delivered: true,
            });
        }

        state.prune();

        assert_eq!(state.sessions.len(), MAX_KEPT / 100);
        assert!(
            state.sessions.contains_key("live"),
            "a live session is never pruned"
        );
        assert_eq!(state.sent.len(), MAX_KEPT);
        assert_eq!(state.sent[0].msg_id, 5, "the oldest went first");
    }

    #[test]
    fn aliases_stay_when_reassignment_is_off() {
        let sandbox = Sandbox::new(Config::default());
        let mut state = sandbox.lock();
        state.knobs.reassign_uins_on_login = false;

        let first = state.deal_aliases();
        let second = state.deal_aliases();

        assert_eq!(first.uin_of, second.uin_of);
    }
}

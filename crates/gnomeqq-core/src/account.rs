//! One account at work: login, contact lists, the poll loop, sends, and the events that
//! come out of them.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use smartqq_client::{Client, LoginProgress, SendTarget};
use smartqq_protocol::content::{Segment, plain_text};
use smartqq_protocol::poll::{PollEvent, PollReply, SessVia};
use smartqq_protocol::retcode::{PollAction, SendOutcome};
use smartqq_protocol::{DiscussionId, Gid, Uin};
use tokio::sync::{mpsc, watch};
use unicode_segmentation::UnicodeSegmentation;

use crate::directory::Directory;
use crate::events::{AppEvent, Conversation, IncomingMessage, LoginStep, NoticeKind};
use crate::inbox::SeenMessages;
use crate::session_store::SessionStore;
use gnomeqq_history::{History, NewMessage};

/// Errors of the engine.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The SmartQQ client failed.
    #[error(transparent)]
    Client(#[from] smartqq_client::Error),
    /// No contact matches a name.
    #[error("no {kind} matches {query:?}")]
    NoMatch {
        /// What was looked for.
        kind: &'static str,
        /// The query.
        query: String,
    },
    /// Several contacts match a name.
    #[error("{query:?} matches several contacts: {candidates}")]
    Ambiguous {
        /// The query.
        query: String,
        /// Their names, comma separated.
        candidates: String,
    },
    /// The history refused or failed what was asked of it (or no history is open).
    #[error("history: {0}")]
    History(String),
}

/// `Result` with the engine's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The most UTF-8 bytes one message carries (qqbot's limit, spec §6.4).
pub const MAX_PART_BYTES: usize = 720;

/// One account: a client, what it knows about contacts, and the event stream.
#[derive(Clone, Debug)]
pub struct Account {
    client: Client,
    directory: Arc<RwLock<Directory>>,
    events: mpsc::UnboundedSender<AppEvent>,
    stop: Arc<watch::Sender<bool>>,
    store: Option<Arc<dyn SessionStore>>,
    /// What the last failed poll asked for, so recovery can pick relink or relogin.
    last_failure: Arc<std::sync::Mutex<Option<PollAction>>>,
    /// Messages already published, so a duplicate delivery is shown once.
    seen: Arc<std::sync::Mutex<SeenMessages>>,
    /// When the contacts were last loaded, to rate-limit background refreshes.
    last_refresh: Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    /// The least time between two sends of this account (DESIGN.md: at least 1 s).
    pacing: Duration,
    /// When the last send went out; its lock is the send queue (tokio's mutex is fair, so
    /// sends leave in the order they were asked for).
    last_send: Arc<tokio::sync::Mutex<Option<tokio::time::Instant>>>,
    /// Where messages are kept, once attached after login (the database is per account);
    /// unset keeps nothing (the demo).
    history: Arc<std::sync::OnceLock<Arc<std::sync::Mutex<History>>>>,
    /// Whether a background task is adding stored messages to the search index, so at
    /// most one runs per account.
    indexing: Arc<std::sync::atomic::AtomicBool>,
    /// The history keys temporary sessions were filed under by their peers' messages.
    peer_keys: Arc<std::sync::Mutex<PeerKeys>>,
}

/// A temporary-session message carries its sender's QQ number, which member lists no
/// longer show, so the session is filed under `qq:N`; our replies, and a conversation
/// opened again from the history, must find that same key. Kept for the login they were
/// learned in only: uins change with it (a relink keeps them).
#[derive(Debug, Default)]
struct PeerKeys {
    session: Option<Arc<smartqq_client::Session>>,
    keys: HashMap<Conversation, gnomeqq_history::ConversationKey>,
}

impl PeerKeys {
    /// The keys learned in `session`'s login; those of an earlier login are dropped.
    fn of(
        &mut self,
        session: Option<Arc<smartqq_client::Session>>,
    ) -> &mut HashMap<Conversation, gnomeqq_history::ConversationKey> {
        let same = match (&self.session, &session) {
            (Some(known), Some(now)) => known.same_login(now),
            _ => false,
        };
        if !same {
            self.session = session;
            self.keys.clear();
        }
        &mut self.keys
    }
}

/// How stable ids begin (see the `records` module); `find` takes them as well as names.
const STABLE_ID_PREFIXES: [&str; 4] = ["qq:", "friend:", "group:", "discussion:"];

/// The least time between two background refreshes of the contacts.
const REFRESH_INTERVAL: Duration = Duration::from_secs(60);

/// The default least time between two sends: accounts that sent faster were locked
/// (FAULTS BR-20).
pub const DEFAULT_PACING: Duration = Duration::from_secs(1);

/// How long after a send its echo still confirms it (seconds of server time).
const ECHO_WINDOW_SECS: i64 = 300;

/// How many stored messages may wait for the search index before the background task
/// indexes them, and how many it indexes per transaction. FTS5 writes an index segment
/// per transaction, so chunks this large cost a fraction per message of indexing each
/// poll batch; a search catches up on fewer than this many itself.
const BACKGROUND_INDEX_CHUNK: usize = 1_000;

/// How [`Account::connect`] got online.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Connected {
    /// A saved session still worked.
    Resumed,
    /// The saved session was gone, but single sign-on gave a new one without a scan.
    SignedOn,
    /// A QR scan.
    Scanned,
}

/// At most this many recoveries in [`RECOVERY_WINDOW`]; then the session is given up.
const MAX_RECOVERIES: usize = 3;
const RECOVERY_WINDOW: Duration = Duration::from_secs(600);

/// Why the poll loop ended.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PollEnd {
    /// [`Account::stop`] was called.
    Stopped,
    /// The server kicked the session; the reason is the server's.
    Kicked(String),
    /// The session stopped working.
    SessionLost(String),
}

/// How many 103 answers in a row, after the re-registration, before the session counts
/// as lost: with the doubling backoff that is about half a minute of trying.
const MAX_REPEATED_103: u32 = 5;

/// Polls that fail for a reason a retry cannot fix (4xx, an unreadable reply) before the
/// session counts as lost.
const MAX_PERMANENT_FAILURES: u32 = 3;

/// An idle answer faster than this did not wait for anything.
const QUICK_IDLE: Duration = Duration::from_secs(1);
/// After this many quick idle answers in a row the loop spaces its polls (rebown allowed 3).
const MAX_QUICK_IDLES: u32 = 3;

/// Backoff after failed polls: 1 s doubling to 60 s (FAULTS BR-08).
const BACKOFF_START: Duration = Duration::from_secs(1);
const BACKOFF_CAP: Duration = Duration::from_secs(60);

impl Account {
    /// An account on this client, and the receiver of its events.
    pub fn new(client: Client) -> (Self, mpsc::UnboundedReceiver<AppEvent>) {
        let (events, receiver) = mpsc::unbounded_channel();
        let (stop, _) = watch::channel(false);
        let account = Self {
            client,
            directory: Arc::default(),
            events,
            stop: Arc::new(stop),
            store: None,
            last_failure: Arc::default(),
            seen: Arc::default(),
            history: Arc::default(),
            indexing: Arc::default(),
            peer_keys: Arc::default(),
            last_refresh: Arc::default(),
            pacing: DEFAULT_PACING,
            last_send: Arc::default(),
        };
        (account, receiver)
    }

    /// Sets the least time between two sends (default [`DEFAULT_PACING`]).
    #[must_use]
    pub fn with_send_pacing(mut self, pacing: Duration) -> Self {
        self.pacing = pacing;
        self
    }

    /// From now on stores every message received and sent in `history`, before it is
    /// published. Attach it after the login and before the poll loop; a second call is
    /// refused (returns `false`): clones share one history.
    pub fn attach_history(&self, history: History) -> bool {
        self.history
            .set(Arc::new(std::sync::Mutex::new(history)))
            .is_ok()
    }

    fn history(&self) -> Option<Arc<std::sync::Mutex<History>>> {
        self.history.get().cloned()
    }

    /// Keeps the session in `store` after each login and each ptwebqq rotation.
    #[must_use]
    pub fn with_session_store(mut self, store: Arc<dyn SessionStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Writes the current session to the store, if there is one (the engine does so after
    /// its own logins; call it after a login made directly on the client). A failure is
    /// logged: the session goes on working, only the next start will need a scan.
    pub async fn save_session(&self) {
        let (Some(store), Some(saved)) = (&self.store, self.client.saved_session()) else {
            return;
        };
        if let Err(error) = store.save(&saved.to_json()).await {
            tracing::warn!("Could not save the session: {error}");
        }
    }

    /// Forgets the saved session (after a logout).
    pub async fn forget_session(&self) {
        let Some(store) = &self.store else { return };
        if let Err(error) = store.clear().await {
            tracing::warn!("Could not remove the saved session: {error}");
        }
    }

    /// The saved session's JSON, if this account keeps one (to offer it before connecting).
    pub async fn saved_session_json(&self) -> Option<String> {
        match self.store.as_ref()?.load().await {
            Ok(text) => text,
            Err(error) => {
                tracing::warn!("Could not read the saved session: {error}");
                None
            }
        }
    }

    /// Gets online: resumes the saved session when it still works, else signs on again
    /// without a scan when the server allows it, else logs in with a QR code. A stale,
    /// corrupt or foreign saved session gives one notice, never an error (FAULTS BR-31);
    /// a network error while checking it keeps it for the next try.
    pub async fn connect(&self) -> Result<Connected> {
        if let Some(connected) = self.try_saved_session().await? {
            self.load_contacts().await?;
            self.save_session().await;
            if connected == Connected::Resumed {
                self.publish(AppEvent::Resumed);
            }
            return Ok(connected);
        }
        self.login().await?;
        self.save_session().await;
        Ok(Connected::Scanned)
    }

    async fn try_saved_session(&self) -> Result<Option<Connected>> {
        let Some(store) = &self.store else {
            return Ok(None);
        };
        let text = match store.load().await {
            Ok(Some(text)) => text,
            Ok(None) => return Ok(None),
            Err(error) => {
                let text =
                    format!("Could not read the saved session ({error}); a new login follows");
                let kind = NoticeKind::SavedSessionUnreadable;
                self.publish(AppEvent::Notice { kind, text });
                return Ok(None);
            }
        };
        let restored = smartqq_client::SavedSession::from_json(&text)
            .and_then(|saved| self.client.restore_session(&saved));
        if let Err(error) = restored {
            let text = format!("The saved session is unusable ({error}); a new login follows");
            let kind = NoticeKind::SavedSessionUnusable;
            self.publish(AppEvent::Notice { kind, text });
            self.forget_session().await;
            return Ok(None);
        }
        match self.client.check_session().await {
            Ok(()) => return Ok(Some(Connected::Resumed)),
            Err(error) if error.is_transient() => return Err(error.into()),
            Err(_) => {}
        }
        match self.client.resume_with_sso().await {
            Ok(true) => return Ok(Some(Connected::SignedOn)),
            Ok(false) => {}
            // The saved single sign-on may still be good: keep the file for the next try.
            Err(error) if error.is_transient() => return Err(error.into()),
            Err(_) => {}
        }
        let text = "The saved session has expired; a new login follows".to_owned();
        let kind = NoticeKind::SavedSessionExpired;
        self.publish(AppEvent::Notice { kind, text });
        self.forget_session().await;
        Ok(None)
    }

    /// Polls like [`Account::run_poll_loop`], and when the session is lost gets it back —
    /// relink after 120/121, else single sign-on, else (if `allow_scan`) a new QR login —
    /// at most three times in ten minutes, never in a loop. A kick is never answered with a
    /// new login (FAULTS BR-33).
    pub async fn run_supervised(&self, allow_scan: bool) -> PollEnd {
        let mut recoveries: std::collections::VecDeque<std::time::Instant> = Default::default();
        loop {
            let end = self.poll_loop().await;
            let PollEnd::SessionLost(reason) = &end else {
                self.publish_end(&end);
                return end;
            };
            recoveries.retain(|at| at.elapsed() < RECOVERY_WINDOW);
            // 109/110: the client was logged out elsewhere on purpose; logging in again would
            // undo that (as a kick, FAULTS BR-33).
            let logged_out =
                self.last_failure.lock().ok().and_then(|f| *f) == Some(PollAction::Stop);
            if logged_out || recoveries.len() >= MAX_RECOVERIES || *self.stop.borrow() {
                self.publish_end(&end);
                return end;
            }
            recoveries.push_back(std::time::Instant::now());
            self.publish(AppEvent::Reconnecting {
                reason: reason.clone(),
            });
            match self.recover(allow_scan).await {
                Some(how) => {
                    self.save_session().await;
                    self.publish(AppEvent::Reconnected {
                        how: how.to_owned(),
                    });
                }
                None => {
                    self.publish_end(&end);
                    return end;
                }
            }
        }
    }

    /// One recovery attempt; the way that worked, or `None`.
    async fn recover(&self, allow_scan: bool) -> Option<&'static str> {
        let last_failure = self.last_failure.lock().ok().and_then(|f| *f);
        if last_failure == Some(PollAction::Relink) && self.client.relink().await.is_ok() {
            return Some("relink");
        }
        match self.client.resume_with_sso().await {
            // New uins and gids come with a new login: reload what they name.
            Ok(true) => return self.load_contacts().await.ok().map(|()| "single sign-on"),
            Ok(false) => {}
            Err(error) => tracing::warn!("Could not sign on again: {error}"),
        }
        if allow_scan {
            match self.login().await {
                Ok(()) => return Some("new login"),
                Err(error) => tracing::warn!("Could not log in again: {error}"),
            }
        }
        None
    }

    /// The client underneath.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// A snapshot of the contact directory.
    pub fn directory(&self) -> Directory {
        self.directory.read().map(|d| d.clone()).unwrap_or_default()
    }

    fn publish(&self, event: AppEvent) {
        // A closed receiver means nobody listens any more; the engine goes on regardless.
        let _ = self.events.send(event);
    }

    /// QR login, publishing each step, then the contact lists.
    pub async fn login(&self) -> Result<()> {
        let events = self.events.clone();
        self.client
            .login_with_qr(move |progress| {
                let step = match progress {
                    LoginProgress::QrReady(qr) => LoginStep::QrReady {
                        png: qr.png,
                        text: qr.text,
                    },
                    LoginProgress::Waiting => LoginStep::Waiting,
                    LoginProgress::Scanned => LoginStep::Scanned,
                    LoginProgress::Expired => LoginStep::Expired,
                    LoginProgress::Connecting => LoginStep::Connecting,
                    _ => return,
                };
                let _ = events.send(AppEvent::Login(step));
            })
            .await?;
        self.load_contacts().await
    }

    /// Loads the contacts (see [`Account::refresh_directory`]) and publishes
    /// [`AppEvent::Online`].
    pub async fn load_contacts(&self) -> Result<()> {
        self.refresh_directory().await?;
        let directory = self.directory();
        self.publish(AppEvent::Online {
            nick: directory.own_nick.clone(),
            friends: directory.friends.len(),
            groups: directory.groups.len(),
            discussions: directory.discussions.len(),
        });
        Ok(())
    }

    /// Loads self info, friends, groups with members and cards, and discussions with
    /// members, and replaces the directory. A room whose details fail to load is kept,
    /// without members.
    pub async fn refresh_directory(&self) -> Result<()> {
        if let Ok(mut last) = self.last_refresh.lock() {
            *last = Some(std::time::Instant::now());
        }
        // The lists name people by this session's uins; if a relogin deals new ones while
        // they load, they must not replace the newer directory (they would give Bob the
        // owner's markname).
        let session = self.client.session();
        let me = self.client.self_info().await?;
        let friends = self.client.friends().await?;
        let groups = self.client.groups().await?;
        let discussions = self.client.discussions().await?;
        let mut directory = Directory {
            own_qq: me.account,
            own_nick: smartqq_protocol::content::decode_received_text(&me.nick),
            ..Directory::default()
        };
        directory.set_friends(&friends);
        for group in &groups.gnamelist {
            let info = self.client.group_info(group.code).await;
            if let Err(error) = &info {
                tracing::warn!(gid = %group.gid, "Could not load group members: {error}");
            }
            directory.set_group(group.gid, &group.name, group.code, info.as_ref().ok());
        }
        for discussion in &discussions.dnamelist {
            let info = self.client.discussion_info(discussion.did).await;
            if let Err(error) = &info {
                tracing::warn!(did = %discussion.did, "Could not load discussion members: {error}");
            }
            directory.set_discussion(discussion.did, &discussion.name, info.as_ref().ok());
        }
        match self.client.recent_list().await {
            Ok(recent) => directory.set_recent(&recent),
            Err(error) => tracing::warn!("Could not load the recent conversations: {error}"),
        }
        match self.client.online_buddies().await {
            Ok(online) => {
                for buddy in online {
                    if let Some(friend) = directory.friends.get_mut(&buddy.uin) {
                        friend.status = buddy.status;
                    }
                }
            }
            Err(error) => tracing::warn!("Could not load online friends: {error}"),
        }
        // A relink while they loaded renews the psessionid but keeps the uins: the lists
        // still hold.
        let same_login = match (&session, self.client.session()) {
            (Some(before), Some(now)) => before.same_login(&now),
            _ => false,
        };
        if !same_login {
            tracing::debug!("Dropped contact lists loaded across a relogin");
            return Ok(());
        }
        if let Ok(mut slot) = self.directory.write() {
            *slot = directory;
        }
        Ok(())
    }

    /// A message named someone the directory does not know (a new group member, a new
    /// friend): reload the contacts in the background, at most once a minute, without
    /// holding up the poll loop. The message itself was shown under a placeholder.
    fn refresh_directory_soon(&self) {
        let Ok(mut last) = self.last_refresh.lock() else {
            return;
        };
        if last.is_some_and(|at| at.elapsed() < REFRESH_INTERVAL) {
            return;
        }
        *last = Some(std::time::Instant::now());
        drop(last);
        let account = self.clone();
        tokio::spawn(async move {
            if let Err(error) = account.refresh_directory().await {
                tracing::warn!("Could not refresh the contacts: {error}");
            }
        });
    }

    /// Asks the poll loop to end after its current request.
    pub fn stop(&self) {
        self.stop.send_replace(true);
    }

    /// Polls until stopped, kicked or the session is lost, publishing every event. Exactly
    /// one poll is in flight at any time: the loop awaits each before sending the next.
    pub async fn run_poll_loop(&self) -> PollEnd {
        let end = self.poll_loop().await;
        self.publish_end(&end);
        end
    }

    fn publish_end(&self, end: &PollEnd) {
        match end {
            PollEnd::Kicked(reason) => self.publish(AppEvent::Kicked {
                reason: reason.clone(),
            }),
            PollEnd::SessionLost(reason) => self.publish(AppEvent::SessionLost {
                reason: reason.clone(),
            }),
            PollEnd::Stopped => {}
        }
        self.publish(AppEvent::Stopped);
    }

    async fn poll_loop(&self) -> PollEnd {
        let mut stop = self.stop.subscribe();
        let mut backoff = BACKOFF_START;
        let mut reregistered = false;
        let mut repeated_103 = 0;
        let mut quick_idles = 0;
        let mut failed_in_a_row = 0;
        tracing::info!("Poll loop started");
        let end = loop {
            if *stop.borrow() {
                break PollEnd::Stopped;
            }
            let sent_at = std::time::Instant::now();
            let reply = tokio::select! {
                reply = self.client.poll() => reply,
                _ = stop.changed() => break PollEnd::Stopped,
            };
            // An idle answer is meant to come after a hold; instant ones in a row mean a
            // broken session (the 2018 `retcode 0, errmsg error`, FAULTS BR-36).
            let quick = sent_at.elapsed() < QUICK_IDLE;
            let wait = match reply {
                // An empty list is an idle answer in disguise.
                Ok(PollReply::Events(events)) if !events.is_empty() => {
                    backoff = BACKOFF_START;
                    reregistered = false;
                    repeated_103 = 0;
                    quick_idles = 0;
                    failed_in_a_row = 0;
                    if let Some(end) = self.handle_events(events).await {
                        break end;
                    }
                    None
                }

                Ok(PollReply::Failure { retcode, action }) => match action {
                    PollAction::Reregister if !reregistered => {
                        // 103: the warm-up call registers the session again (spec §3.7).
                        reregistered = true;
                        match self.client.online_buddies().await {
                            Ok(_) => Some(BACKOFF_START),
                            // Refused too: not a conflict, the login itself is gone.
                            Err(error) if error.retcode().is_some() => {
                                if let Ok(mut last) = self.last_failure.lock() {
                                    *last = Some(action);
                                }
                                break PollEnd::SessionLost(format!(
                                    "the server answered retcode {}",
                                    retcode.0
                                ));
                            }
                            Err(error) => {
                                tracing::warn!("Could not re-register the session: {error}");
                                Some(BACKOFF_START)
                            }
                        }
                    }
                    // 103 again: another session of the account may be active (FAULTS
                    // BR-08). Back off, doubling, and give up only after several in a row.
                    PollAction::Reregister if repeated_103 < MAX_REPEATED_103 => {
                        repeated_103 += 1;
                        tracing::warn!(
                            retcode = retcode.0,
                            "Session conflict, retrying in {} s",
                            backoff.as_secs()
                        );
                        Some(backoff)
                    }
                    PollAction::BackOff | PollAction::Unknown => {
                        tracing::warn!(
                            retcode = retcode.0,
                            "Poll refused, retrying in {} s",
                            backoff.as_secs()
                        );
                        Some(backoff)
                    }
                    // The login is gone: the supervisor (`run_supervised`) picks relink,
                    // single sign-on or a new login from what the server asked for.
                    action => {
                        if let Ok(mut last) = self.last_failure.lock() {
                            *last = Some(action);
                        }
                        break PollEnd::SessionLost(format!(
                            "the server answered retcode {}",
                            retcode.0
                        ));
                    }
                },
                // Transport errors and 5xx: back off and retry, for as long as it takes.
                Err(error) if error.is_transient() => {
                    tracing::warn!("Poll failed, retrying in {} s: {error}", backoff.as_secs());
                    Some(backoff)
                }
                // 4xx, undecodable replies, no session: a few tries, then the supervisor.
                Err(error) => {
                    failed_in_a_row += 1;
                    if failed_in_a_row >= MAX_PERMANENT_FAILURES {
                        break PollEnd::SessionLost(format!("polls keep failing: {error}"));
                    }
                    tracing::warn!("Poll failed, retrying in {} s: {error}", backoff.as_secs());
                    Some(backoff)
                }
                Ok(PollReply::NewPtwebqq(_)) => {
                    // The client took the new value; the saved copy must follow it.
                    self.save_session().await;
                    None
                }
                // Idle, and any later kind of reply.
                Ok(_) => {
                    // A session that polls normally again may be re-registered again.
                    reregistered = false;
                    repeated_103 = 0;
                    failed_in_a_row = 0;
                    quick_idles = if quick { quick_idles + 1 } else { 0 };
                    if quick_idles >= MAX_QUICK_IDLES {
                        tracing::warn!(
                            "Idle answers come back at once, polling again in {} s",
                            backoff.as_secs()
                        );
                        Some(backoff)
                    } else {
                        backoff = BACKOFF_START;
                        None
                    }
                }
            };
            if let Some(wait) = wait {
                backoff = (backoff * 2).min(BACKOFF_CAP);
                // ±25 %, so that many clients refused at once do not come back at once.
                let wait = wait.mul_f64(rand::random_range(0.75..1.25));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = stop.changed() => break PollEnd::Stopped,
                }
            }
        };
        tracing::info!("Poll loop stopped");
        end
    }

    /// Publishes every element of one reply, in order; returns the end if one was a kick.
    /// The reply's messages are stored first, in one transaction, and only those stored
    /// (or, without a history, all) are published: nothing is shown or answered before it
    /// is kept.
    async fn handle_events(&self, events: Vec<PollEvent>) -> Option<PollEnd> {
        let mut messages: Vec<Option<IncomingMessage>> = Vec::with_capacity(events.len());
        for event in &events {
            let message = self.incoming(event).filter(|message| {
                let new = self
                    .seen
                    .lock()
                    .map_or(true, |mut seen| seen.first_time(message));
                if !new {
                    tracing::debug!(msg_id = message.msg_id, "Dropped a message delivered twice");
                }
                new
            });
            messages.push(message);
        }
        let directory = self.directory();
        let strangers = messages
            .iter()
            .flatten()
            .any(|message| !directory.knows(message));
        if strangers {
            self.refresh_directory_soon();
        }
        let publishable = self.store_inbound(&messages).await;

        // Everything stored is published, even what follows a kick in the same reply: the
        // history already holds it and would not let it be shown later.
        let mut end = None;
        for ((event, message), publish) in events.into_iter().zip(messages).zip(publishable) {
            match event {
                PollEvent::Kick(kick) => end = end.or(Some(PollEnd::Kicked(kick.reason))),
                PollEvent::StatusChange(change) => {
                    let name = {
                        let mut directory = self
                            .directory
                            .write()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        let friend = directory.friends.get_mut(&change.uin);
                        let name = friend.as_ref().map(|f| f.display_name().to_owned());
                        if let Some(friend) = friend {
                            friend.status = change.status.clone();
                        }
                        name.unwrap_or_else(|| format!("uin {}", change.uin))
                    };
                    self.publish(AppEvent::StatusChanged {
                        name,
                        status: change.status,
                    });
                }
                PollEvent::InputNotify(_) => {}
                PollEvent::Message(_)
                | PollEvent::GroupMessage(_)
                | PollEvent::DiscuMessage(_)
                | PollEvent::SessMessage(_) => {
                    if let (Some(message), true) = (message, publish) {
                        self.publish(AppEvent::Message(message));
                    }
                }
                other => {
                    // Counted in the log, never dropped without a trace.
                    tracing::warn!(
                        poll_type = other.poll_type(),
                        "Skipped a poll event GnomeQQ does not show yet"
                    );
                }
            }
        }
        end
    }

    /// Stores the messages of one reply in one transaction. Returns, per slot, whether it
    /// may be published: a message already stored (a redelivery after a restart) is not
    /// shown again. Our own echoed message confirms the outbox row it stands for instead of
    /// becoming a second row. If the store fails the messages are still shown, with an
    /// error logged: hiding them would lose them for good.
    async fn store_inbound(&self, messages: &[Option<IncomingMessage>]) -> Vec<bool> {
        let mut publishable = vec![true; messages.len()];
        if self.history().is_none() {
            return publishable;
        }
        let directory = self.directory();
        let Some(account) = directory.own_qq.map(|qq| qq.to_string()) else {
            return publishable;
        };
        let rows: Vec<(usize, bool, NewMessage)> = messages
            .iter()
            .enumerate()
            .filter_map(|(slot, message)| {
                let message = message.as_ref()?;
                Some((
                    slot,
                    message.own,
                    crate::records::inbound_row(&account, &directory, message),
                ))
            })
            .collect();
        if rows.is_empty() {
            return publishable;
        }

        let stored = self
            .with_history(move |history| {
                let mut to_insert = Vec::with_capacity(rows.len());
                let mut slots = Vec::with_capacity(rows.len());
                for (slot, own, row) in rows {
                    let not_before = row.server_time.saturating_sub(ECHO_WINDOW_SECS);
                    if own
                        && history
                            .confirm_echo(&account, &row.conversation, &row.text, not_before)?
                            .is_some()
                    {
                        continue;
                    }
                    to_insert.push(row);
                    slots.push(slot);
                }
                let inserted = history.insert_inbound_batch(&to_insert)?;
                Ok(slots.into_iter().zip(inserted).collect::<Vec<_>>())
            })
            .await;
        let Some(stored) = stored else {
            return publishable;
        };
        match stored {
            Ok(inserted) => {
                if inserted.iter().any(|(_, inserted)| inserted.is_new()) {
                    self.index_in_background();
                }
                for (slot, inserted) in inserted {
                    if !inserted.is_new() {
                        tracing::debug!("A message already in the history was delivered again");
                        publishable[slot] = false;
                    }
                }
            }
            Err(error) => tracing::error!("Could not store received messages: {error}"),
        }
        publishable
    }

    /// Resolves a chat event into an [`IncomingMessage`] with names.
    fn incoming(&self, event: &PollEvent) -> Option<IncomingMessage> {
        let directory = self.directory.read().ok()?;
        let segments = event.content()?.segments;
        let (conversation, conversation_name, sender, sender_qq, msg_id, time) = match event {
            PollEvent::Message(m) => {
                let own = directory.is_own(m.from_uin);
                // Our own message from another device names the friend in `to_uin`.
                let peer = if own { m.to_uin } else { m.from_uin };
                let name = directory.person_name(peer, None);
                (
                    Conversation::Friend { uin: peer.get() },
                    name,
                    m.from_uin,
                    None,
                    m.msg_id,
                    m.time,
                )
            }
            PollEvent::GroupMessage(m) => {
                let name = directory.groups.get(&m.from_uin).map(|g| g.name.clone());
                let name = name.unwrap_or_else(|| format!("group {}", m.from_uin));
                (
                    Conversation::Group {
                        gid: m.from_uin.get(),
                    },
                    name,
                    m.send_uin,
                    None,
                    m.msg_id,
                    m.time,
                )
            }
            PollEvent::DiscuMessage(m) => {
                let room = directory.discussions.get(&m.did);
                let name = room.map_or_else(|| format!("discussion {}", m.did), |r| r.name.clone());
                let qq = room
                    .and_then(|r| r.members.get(&m.send_uin))
                    .and_then(|member| member.qq);
                (
                    Conversation::Discussion { did: m.did.get() },
                    name,
                    m.send_uin,
                    qq.map(|q| q.get()),
                    m.msg_id,
                    m.time,
                )
            }
            PollEvent::SessMessage(m) => {
                let via_group = m.service_type == SessVia::Group;
                let conversation = Conversation::Temporary {
                    uin: m.from_uin.get(),
                    via_group,
                    room: m.id,
                };
                let room = sess_room(&directory, via_group, m.id);
                let name = directory.person_name(m.from_uin, room);
                (
                    conversation,
                    name,
                    m.from_uin,
                    m.ruin.map(|q| q.get()),
                    m.msg_id,
                    m.time,
                )
            }
            _ => return None,
        };
        let room = match conversation {
            Conversation::Group { gid } => directory.groups.get(&Gid(gid)),
            Conversation::Discussion { did } => directory.discussions.get(&DiscussionId(did)),
            Conversation::Temporary {
                via_group, room, ..
            } => sess_room(&directory, via_group, room),
            Conversation::Friend { .. } => None,
        };
        let own = directory.is_own(sender);
        let history_key =
            crate::records::conversation_key(&directory, conversation, sender_qq.filter(|_| !own));
        let learns_a_key =
            matches!(conversation, Conversation::Temporary { .. }) && sender_qq.is_some() && !own;
        if learns_a_key && let Ok(mut learned) = self.peer_keys.lock() {
            learned
                .of(self.client.session())
                .insert(conversation, history_key.clone());
        }
        Some(IncomingMessage {
            history_key,
            conversation,
            conversation_name,
            sender_uin: sender.get(),
            sender_name: directory.person_name(sender, room),
            sender_qq,
            sender_markname: directory
                .friends
                .get(&sender)
                .and_then(|f| f.markname.clone()),
            own,
            time,
            msg_id,
            text: plain_text(&segments),
            segments,
        })
    }

    /// Sends text to a conversation, split into parts of at most [`MAX_PART_BYTES`]; stops
    /// at the first part that is not sent and returns the outcome of each part tried.
    pub async fn send_text(
        &self,
        conversation: Conversation,
        text: &str,
    ) -> Result<Vec<SendOutcome>> {
        let target = send_target(conversation);
        let mut outcomes = Vec::new();
        // One send at a time per account, in the order asked, spaced by the pacing; every
        // part is its own send, stored first and its state recorded.
        let mut last_send = self.last_send.lock().await;
        for part in split_message(text, MAX_PART_BYTES) {
            self.wait_for_send_slot(*last_send).await;
            let row = self.record_outbound(conversation, &part).await;
            let sent = self.send_part(target, &part, row).await;
            *last_send = Some(tokio::time::Instant::now());
            let outcome = sent?;
            outcomes.push(outcome);
            if outcome != SendOutcome::Sent {
                break;
            }
        }
        Ok(outcomes)
    }

    /// Sends again a message of ours that failed, stored in the history as row `id`. The
    /// row is queued again rather than copied, so it keeps its place in the conversation
    /// and shows once; its state follows this attempt and the echo confirms it. The
    /// conversation is found again from the row's stable id, in this session.
    pub async fn resend(&self, id: i64) -> Result<SendOutcome> {
        let stored = from_history(self.with_history(move |history| history.message(id)).await)?
            .ok_or_else(|| Error::History(format!("no message with id {id}")))?;
        // Found before the row is queued: a conversation gone from the contact lists
        // leaves the row failed, as it was.
        let conversation = self.find_stable(
            stored.conversation.kind.into(),
            &stored.conversation.stable_id,
        )?;
        let retried = from_history(
            self.with_history(move |history| history.retry_outbound(id))
                .await,
        )?;

        let mut last_send = self.last_send.lock().await;
        self.wait_for_send_slot(*last_send).await;
        let sent = self
            .send_part(send_target(conversation), &retried.text, Some(id))
            .await;
        *last_send = Some(tokio::time::Instant::now());
        sent
    }

    /// Waits for this account's next send slot: reserved in the history's schedule, so
    /// the pacing also holds between processes (a `send` while `bot` runs), or without a
    /// history the pacing after `last_send`.
    async fn wait_for_send_slot(&self, last_send: Option<tokio::time::Instant>) {
        match self.reserve_send_slot().await {
            Some(wait) => tokio::time::sleep(wait).await,
            None => {
                if let Some(at) = last_send {
                    tokio::time::sleep_until(at + self.pacing).await;
                }
            }
        }
    }

    /// Sends one part and records how it went on its history row, when it has one.
    async fn send_part(
        &self,
        target: SendTarget,
        text: &str,
        row: Option<i64>,
    ) -> Result<SendOutcome> {
        let sent = self
            .client
            .send(target, &[Segment::Text(text.to_owned())])
            .await;
        let state = match &sent {
            Ok((outcome, _)) => crate::records::outbox_state(*outcome),
            Err(error) if error.may_have_been_delivered() => {
                gnomeqq_history::OutboxState::Unconfirmed
            }
            Err(error) => gnomeqq_history::OutboxState::Failed(error.to_string()),
        };
        if let Some(row) = row {
            self.record_outbox_state(row, state).await;
        }
        let (outcome, _msg_id) = sent?;
        Ok(outcome)
    }

    /// Stores a part about to be sent, as `Queued`; its row id, or `None` without a history
    /// (or when storing failed, which is logged and does not stop the send).
    async fn record_outbound(&self, conversation: Conversation, text: &str) -> Option<i64> {
        let directory = self.directory();
        let account = directory.own_qq?.to_string();
        let key = self
            .learned_key(conversation)
            .unwrap_or_else(|| crate::records::conversation_key(&directory, conversation, None));
        let name = crate::records::conversation_name(&directory, conversation);
        let row = crate::records::outbound_row(&account, key, &name, &directory.own_nick, text);
        let stored = self
            .with_history(move |history| history.insert_outbound(&row))
            .await?;
        stored
            .inspect_err(|error| tracing::error!("Could not store a message being sent: {error}"))
            .ok()
    }

    /// How long to wait for this account's next send slot in the history's schedule;
    /// `None` without a history (or when it failed, which is logged).
    async fn reserve_send_slot(&self) -> Option<Duration> {
        let account = self.directory().own_qq?.to_string();
        let pacing_ms = i64::try_from(self.pacing.as_millis()).unwrap_or(i64::MAX);
        let now_ms = i64::try_from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()?
                .as_millis(),
        )
        .ok()?;
        let reserved = self
            .with_history(move |history| history.reserve_send(&account, pacing_ms, now_ms))
            .await?;
        match reserved {
            Ok(at_ms) => Some(Duration::from_millis(
                u64::try_from(at_ms.saturating_sub(now_ms)).unwrap_or(0),
            )),
            Err(error) => {
                tracing::warn!("Could not reserve a send slot: {error}");
                None
            }
        }
    }

    async fn record_outbox_state(&self, row: i64, state: gnomeqq_history::OutboxState) {
        let stored = self
            .with_history(move |history| history.set_outbox_state(row, &state))
            .await;
        if let Some(Err(error)) = stored {
            tracing::error!("Could not store a send's state: {error}");
        }
    }

    /// Adds stored messages to the history's search index on a blocking thread, once
    /// [`BACKGROUND_INDEX_CHUNK`] of them wait, so that storing a poll batch never pays
    /// for the index. The lock is taken per chunk: a poll batch waits for at most one.
    /// Returns at once; does nothing while an earlier run is still going.
    fn index_in_background(&self) {
        use std::sync::atomic::Ordering;

        let Some(history) = self.history() else {
            return;
        };
        if self.indexing.swap(true, Ordering::AcqRel) {
            return;
        }
        let indexing = Arc::clone(&self.indexing);
        let task = tokio::task::spawn_blocking(move || {
            loop {
                let mut history = history
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let indexed = match history.unindexed() {
                    Ok(waiting) if waiting >= BACKGROUND_INDEX_CHUNK as u64 => {
                        history.index_pending(BACKGROUND_INDEX_CHUNK)
                    }
                    Ok(_) => break,
                    Err(error) => Err(error),
                };
                if let Err(error) = indexed {
                    // Nothing is lost: a search indexes whatever trails, and a writer does
                    // once the store's bound is reached.
                    tracing::warn!("Could not update the search index: {error}");
                    break;
                }
            }
            indexing.store(false, Ordering::Release);
        });
        // Not awaited: the poll loop goes on while the index is written.
        drop(task);
    }

    /// Runs `work` on the history in a blocking thread (SQLite calls block); `None` when
    /// no history is attached. Readers (the GUI opening a conversation) share the one
    /// connection with the writer, so a read never sees a half-stored reply.
    pub async fn with_history<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut History) -> gnomeqq_history::Result<T> + Send + 'static,
    ) -> Option<std::result::Result<T, String>> {
        let history = self.history()?;
        let outcome = tokio::task::spawn_blocking(move || {
            // A panic in an earlier call leaves the connection usable: SQLite rolled back
            // whatever transaction it had open.
            let mut history = history
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            work(&mut history).map_err(|error| error.to_string())
        })
        .await;
        Some(
            outcome
                .map_err(|error| error.to_string())
                .and_then(|result| result),
        )
    }

    /// The stable id of a conversation: the same person or room keeps it across logins,
    /// while uins and gids change (see the `records` module for the forms).
    pub fn stable_id(&self, conversation: Conversation) -> String {
        crate::records::conversation_key(&self.directory(), conversation, None).stable_id
    }

    /// The conversation a stable id names in this session. It reaches the same person or
    /// room as before the relogin, or fails: an id that now fits two contacts is an error,
    /// never a guess (FAULTS BR-21).
    pub fn find_stable(&self, kind: TargetKind, stable_id: &str) -> Result<Conversation> {
        let kind_of_history = match kind {
            TargetKind::Friend => gnomeqq_history::ConversationKind::Friend,
            TargetKind::Group => gnomeqq_history::ConversationKind::Group,
            TargetKind::Discussion => gnomeqq_history::ConversationKind::Discussion,
            TargetKind::Temporary => gnomeqq_history::ConversationKind::Temporary,
        };
        let mut found = crate::records::resolve(&self.directory(), kind_of_history, stable_id);
        if found.is_empty() {
            found = self.learned_conversations(kind_of_history, stable_id);
        }
        match found.len() {
            0 => Err(Error::NoMatch {
                kind: kind.label(),
                query: stable_id.to_owned(),
            }),
            1 => Ok(found.remove(0)),
            n => Err(Error::Ambiguous {
                query: stable_id.to_owned(),
                candidates: format!("{n} contacts share this id since the last login"),
            }),
        }
    }

    /// The history key a temporary session's peer's messages were filed under in this
    /// login, when one came.
    fn learned_key(&self, conversation: Conversation) -> Option<gnomeqq_history::ConversationKey> {
        let mut learned = self.peer_keys.lock().ok()?;
        learned
            .of(self.client.session())
            .get(&conversation)
            .cloned()
    }

    /// The conversations of this login whose peers' messages were filed under this key.
    fn learned_conversations(
        &self,
        kind: gnomeqq_history::ConversationKind,
        stable_id: &str,
    ) -> Vec<Conversation> {
        let Ok(mut learned) = self.peer_keys.lock() else {
            return Vec::new();
        };
        let mut found: Vec<Conversation> = learned
            .of(self.client.session())
            .iter()
            .filter(|(_, key)| key.kind == kind && key.stable_id == stable_id)
            .map(|(conversation, _)| *conversation)
            .collect();
        // The same person may have written through two rooms: one is enough to reach
        // them, and the choice must not depend on the map's order.
        found.sort_by_key(|conversation| format!("{conversation:?}"));
        found.truncate(1);
        found
    }

    /// Finds a conversation by name: markname, nickname or uin for friends; name or gid for
    /// groups; name or did for discussions; card, nickname or uin of a room member for
    /// temporary sessions (the first room they share with us).
    pub fn find(&self, kind: TargetKind, query: &str) -> Result<(Conversation, String)> {
        let directory = self.directory();
        if STABLE_ID_PREFIXES
            .iter()
            .any(|prefix| query.starts_with(prefix))
        {
            let conversation = self.find_stable(kind, query)?;
            return Ok((
                conversation,
                crate::records::conversation_name(&directory, conversation),
            ));
        }
        let number: Option<u64> = query.trim().parse().ok();
        let mut found: Vec<(Conversation, String)> = Vec::new();
        match kind {
            TargetKind::Friend => {
                for friend in directory.friends.values() {
                    let matches = friend.markname.as_deref() == Some(query)
                        || friend.nick == query
                        || number == Some(friend.uin.get());
                    if matches {
                        found.push((
                            Conversation::Friend {
                                uin: friend.uin.get(),
                            },
                            friend.display_name().to_owned(),
                        ));
                    }
                }
            }
            TargetKind::Group => {
                for (gid, room) in &directory.groups {
                    if room.name == query || number == Some(gid.get()) {
                        found.push((Conversation::Group { gid: gid.get() }, room.name.clone()));
                    }
                }
            }
            TargetKind::Discussion => {
                for (did, room) in &directory.discussions {
                    if room.name == query || number == Some(did.get()) {
                        found.push((
                            Conversation::Discussion { did: did.get() },
                            room.name.clone(),
                        ));
                    }
                }
            }
            TargetKind::Temporary => {
                let rooms = directory.rooms();
                for (via_group, room_id, room) in rooms {
                    for member in room.members.values() {
                        let matches = member.card.as_deref() == Some(query)
                            || member.nick == query
                            || number == Some(member.uin.get());
                        if matches && !directory.is_own(member.uin) && !found.iter().any(|(c, _)| matches!(c, Conversation::Temporary { uin, .. } if *uin == member.uin.get())) {
                            let conversation = Conversation::Temporary { uin: member.uin.get(), via_group, room: room_id };
                            found.push((conversation, member.display_name().to_owned()));
                        }
                    }
                }
            }
        }
        match found.len() {
            0 => Err(Error::NoMatch {
                kind: kind.label(),
                query: query.to_owned(),
            }),
            1 => Ok(found.remove(0)),
            _ => Err(Error::Ambiguous {
                query: query.to_owned(),
                candidates: found
                    .iter()
                    .map(|(_, name)| name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            }),
        }
    }
}

/// The room a temporary session runs through.
fn sess_room(directory: &Directory, via_group: bool, id: u64) -> Option<&crate::directory::Room> {
    if via_group {
        directory.groups.get(&Gid(id))
    } else {
        directory.discussions.get(&DiscussionId(id))
    }
}

/// What kind of conversation a name should be looked up in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    /// A friend.
    Friend,
    /// A group.
    Group,
    /// A discussion.
    Discussion,
    /// A temporary session with a room member.
    Temporary,
}

/// The kind of contact a history conversation is with.
impl From<gnomeqq_history::ConversationKind> for TargetKind {
    fn from(kind: gnomeqq_history::ConversationKind) -> Self {
        match kind {
            gnomeqq_history::ConversationKind::Friend => Self::Friend,
            gnomeqq_history::ConversationKind::Group => Self::Group,
            gnomeqq_history::ConversationKind::Discussion => Self::Discussion,
            gnomeqq_history::ConversationKind::Temporary => Self::Temporary,
        }
    }
}

impl TargetKind {
    fn label(self) -> &'static str {
        match self {
            Self::Friend => "friend",
            Self::Group => "group",
            Self::Discussion => "discussion",
            Self::Temporary => "room member",
        }
    }
}

/// Where a message to `conversation` goes, in the protocol's terms.
fn send_target(conversation: Conversation) -> SendTarget {
    match conversation {
        Conversation::Friend { uin } => SendTarget::Buddy(Uin(uin)),
        Conversation::Group { gid } => SendTarget::Group(Gid(gid)),
        Conversation::Discussion { did } => SendTarget::Discussion(DiscussionId(did)),
        Conversation::Temporary {
            uin,
            via_group,
            room,
        } => SendTarget::Sess {
            to: Uin(uin),
            via: if via_group {
                SessVia::Group
            } else {
                SessVia::Discussion
            },
            room,
        },
    }
}

/// What [`Account::with_history`] gave, as the engine's result: no history is an error.
fn from_history<T>(outcome: Option<std::result::Result<T, String>>) -> Result<T> {
    outcome
        .unwrap_or_else(|| Err("no history is open".to_owned()))
        .map_err(Error::History)
}

/// Splits text into parts of at most `max_bytes` UTF-8 bytes, never inside a grapheme,
/// preferring the last whitespace in the final 100 bytes of a part (qqbot's rule, §6.4).
pub fn split_message(text: &str, max_bytes: usize) -> Vec<String> {
    let max_bytes = max_bytes.max(4);
    let mut parts = Vec::new();
    let mut rest = text;
    while rest.len() > max_bytes {
        // The last grapheme boundary within the budget: a family emoji or a letter with its
        // combining accent is never split (FAULTS BR-19). A single grapheme longer than the
        // budget is cut at a character boundary instead.
        let mut cut = rest
            .grapheme_indices(true)
            .map(|(index, grapheme)| index + grapheme.len())
            .take_while(|&end| end <= max_bytes)
            .last()
            .unwrap_or(0);
        if cut == 0 {
            cut = max_bytes;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
        }
        let window_start = cut.saturating_sub(100);
        if let Some(space) = rest[..cut]
            .rfind(char::is_whitespace)
            .filter(|&at| at >= window_start && at > 0)
        {
            let space_len = rest[space..].chars().next().map_or(1, char::len_utf8);
            cut = space + space_len;
        }
        parts.push(rest[..cut].to_owned());
        rest = &rest[cut..];
    }
    if !rest.is_empty() || parts.is_empty() {
        parts.push(rest.to_owned());
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_one_part() {
        assert_eq!(split_message("hello", 720), ["hello"]);
        assert_eq!(split_message("", 720), [""]);
    }

    #[test]
    fn long_text_splits_on_whitespace_and_keeps_every_byte() {
        let text = format!("{} {}", "a".repeat(700), "b".repeat(100));

        let parts = split_message(&text, 720);

        assert_eq!(parts, [format!("{} ", "a".repeat(700)), "b".repeat(100)]);
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn a_family_emoji_or_an_accented_letter_is_never_split() {
        let family = "👨\u{200d}👩\u{200d}👧";
        let text = format!("{}{family}{}e\u{301}", "a".repeat(710), "b".repeat(700));

        let parts = split_message(&text, 720);

        assert!(parts.iter().all(|p| p.len() <= 720));
        assert!(
            parts[0].ends_with('a'),
            "the family went whole to the next part"
        );
        assert!(parts[1].starts_with(family));
        assert_eq!(parts.concat(), text);
        assert!(!parts.iter().any(|p| p.starts_with('\u{301}')));
    }

    #[test]
    fn cjk_is_never_cut_inside_a_character() {
        let text = "中".repeat(500);

        let parts = split_message(&text, 720);

        assert!(parts.iter().all(|p| p.len() <= 720));
        assert_eq!(parts[0].chars().count(), 240);
        assert_eq!(parts.concat(), text);
    }
}

//! The engine side of the app: one account, its login, its poll loop and its history, run
//! on tokio. It knows nothing of GTK: it sends [`ClientEvent`]s (plain `Send` data) through
//! a channel to the main loop, and the UI calls its async methods through `spawn_tokio`.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use gettextrs::gettext;
use gnomeqq_core::{Account, AppEvent, LoginStep, NoticeKind, places};
use gnomeqq_history::{ConversationKey, ConversationKind, ConversationSummary, StoredMessage};
use smartqq_client::{Client, ClientOptions, PasswordCheck};
use smartqq_emulator::{SandboxServer, World};
use smartqq_protocol::api::Era;
use smartqq_protocol::content::Segment;
use smartqq_protocol::password::PasswordGeneration;
use smartqq_protocol::retcode::SendOutcome;

use crate::i18n::gettext_f;

/// How many messages of a conversation are loaded from the history when it is opened.
pub const HISTORY_PAGE: usize = 5_000;

/// After how long the embedded sandbox's phone confirms a scan: long enough to see the
/// code, short enough not to wait.
const SANDBOX_CONFIRM_AFTER: Duration = Duration::from_secs(3);

/// Where and how to connect.
#[derive(Clone, Debug, Default)]
pub struct SessionOptions {
    /// A SmartQQ server's base URL; `None` means the real servers (and, with `sandbox`,
    /// the embedded sandbox).
    pub server: Option<String>,
    /// Start the embedded sandbox and connect to it.
    pub sandbox: bool,
    /// The protocol era.
    pub era: Era,
    /// `--data-dir`; `None` uses the XDG data directory.
    pub data_dir: Option<PathBuf>,
}

/// A message, ready for the model.
#[derive(Clone, Debug, PartialEq)]
pub struct MessageInfo {
    /// The conversation it belongs to, by stable key.
    pub key: ConversationKey,
    /// The conversation's name.
    pub conversation_name: String,
    /// Who wrote it: markname, group card or nickname.
    pub sender_name: String,
    /// We wrote it.
    pub own: bool,
    /// Unix seconds.
    pub time: i64,
    /// The text to show, faces already drawn.
    pub text: String,
    /// The outbox state of our own messages (`None` for received ones).
    pub outbox: Option<Outbox>,
}

/// Whether a send is a message's first attempt or another at one that failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// A new message: stored, then sent.
    First,
    /// A message that failed, shown at `written` (Unix seconds): its stored row is sent
    /// again rather than a copy written.
    Retry {
        /// When the window showed it (live) or the history stored it (loaded).
        written: i64,
    },
}

/// Where one of our messages stands, as the conversation view shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outbox {
    /// Being sent.
    Sending,
    /// The server took it.
    Sent,
    /// The server's echo came back: it certainly arrived.
    Confirmed,
    /// The answer was ambiguous: it may or may not have arrived (never resent by itself).
    Unconfirmed,
    /// It did not go out, with the reason in English.
    Failed(String),
}

impl Outbox {
    /// The state as the model keeps it (`sending`, `sent`, …).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Confirmed => "confirmed",
            Self::Unconfirmed => "unconfirmed",
            Self::Failed(_) => "failed",
        }
    }
}

/// A contact to list: a friend (with the category), a group or a discussion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContactInfo {
    /// Its conversation's key.
    pub key: ConversationKey,
    /// The name to show.
    pub name: String,
    /// The friend's category; empty for rooms.
    pub category: String,
}

/// What the engine tells the UI.
#[derive(Clone, Debug)]
pub enum ClientEvent {
    /// The embedded sandbox listens at this URL.
    SandboxReady {
        /// Its base URL.
        url: String,
    },
    /// A login step (QR code, scanned, expired, connecting).
    Login(LoginStep),
    /// Something to tell people (a saved session was unusable, …), with the engine's
    /// English detail for the log.
    Notice(NoticeKind, String),
    /// Online, with the contacts and the conversations of the history.
    Online {
        /// Our QQ number.
        qq: u64,
        /// Our nickname.
        nick: String,
        /// Friends, groups and discussions.
        contacts: Vec<ContactInfo>,
        /// Every conversation of the history, most recent first.
        conversations: Vec<ConversationSummary>,
        /// The newest message of each, for the previews.
        last_messages: Vec<MessageInfo>,
    },
    /// A message arrived (or our own, echoed by the server).
    Message(MessageInfo),
    /// The session broke and the engine is getting it back.
    Reconnecting,
    /// It is back.
    Reconnected,
    /// The server ended the session because the account logged in elsewhere.
    Kicked(String),
    /// The session is gone; a new login is needed.
    SessionLost(String),
}

/// The engine of one window: cheap to clone, `Send`, used from the main loop through
/// `spawn_tokio`.
#[derive(Clone, Debug)]
pub struct Session {
    account: Account,
    data_dir: Option<PathBuf>,
    events: async_channel::Sender<ClientEvent>,
    /// The embedded sandbox, kept alive as long as the session.
    sandbox: Option<Arc<SandboxServer>>,
    /// The password login's first step, kept for the second.
    password_check: Arc<Mutex<Option<PasswordCheck>>>,
    /// The send queue: one worker sends in the order the UI asked, so two quick messages
    /// never overtake each other.
    sends: tokio::sync::mpsc::UnboundedSender<SendRequest>,
    /// Set when the window lets go, so the forwarder ends even if the engine never
    /// publishes again (a login abandoned half-way).
    closed: Arc<tokio::sync::watch::Sender<bool>>,
}

/// One message for the send queue, and where its outcome goes.
#[derive(Debug)]
struct SendRequest {
    key: ConversationKey,
    text: String,
    attempt: Attempt,
    done: tokio::sync::oneshot::Sender<Outbox>,
}

/// How many engine events may wait for the main loop; the engine waits beyond that, so a
/// burst of offline messages cannot pile up without bound.
const EVENT_BACKLOG: usize = 256;

impl Session {
    /// Starts the sandbox when asked, makes the account and forwards its events; nothing is
    /// sent to a server yet.
    pub async fn start(
        options: SessionOptions,
    ) -> anyhow::Result<(Self, async_channel::Receiver<ClientEvent>)> {
        let (events, receiver) = async_channel::bounded(EVENT_BACKLOG);
        let (server, sandbox) = if options.sandbox {
            let config = smartqq_emulator::Config {
                era: options.era,
                world: World::builtin(),
                auto_confirm: Some(SANDBOX_CONFIRM_AFTER),
            };
            let address = "127.0.0.1:0".parse().context("the loopback address")?;
            let sandbox = SandboxServer::spawn(config, address)
                .await
                .context("could not start the sandbox")?;
            let url = sandbox.url();
            let _ = events
                .send(ClientEvent::SandboxReady { url: url.clone() })
                .await;
            (Some(url), Some(Arc::new(sandbox)))
        } else {
            (options.server.clone(), None)
        };
        let client_options = match &server {
            Some(url) => ClientOptions::for_server(url),
            None => ClientOptions::default(),
        };
        let server_key = client_options.endpoints.d_web2.clone();
        let client = Client::new(ClientOptions {
            era: options.era,
            ..client_options
        })?;
        let (mut account, account_events) = Account::new(client);
        // The embedded sandbox's world is gone when the app stops: its login is not worth
        // saving, and its messages go to the real history only with an explicit
        // `--data-dir` (tests), never into the everyday one.
        let data_dir = if sandbox.is_some() {
            options.data_dir.clone()
        } else {
            places::data_dir(options.data_dir.as_deref())
        };
        let store = match sandbox {
            None => places::session_store(data_dir.as_deref(), &server_key).await,
            Some(_) => None,
        };
        if let Some(store) = store {
            account = account.with_session_store(store);
        }
        let (sends, queue) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(send_worker(account.clone(), queue));
        let (closed, closing) = tokio::sync::watch::channel(false);
        tokio::spawn(forward(
            account.clone(),
            events.clone(),
            account_events,
            closing,
        ));
        let session = Self {
            data_dir,
            account,
            events,
            sandbox,
            password_check: Arc::default(),
            sends,
            closed: Arc::new(closed),
        };
        Ok((session, receiver))
    }

    /// The embedded sandbox's URL, when one runs.
    pub fn sandbox_url(&self) -> Option<String> {
        self.sandbox.as_ref().map(|s| s.url())
    }

    /// Whether the app may draw a password login: only the 2015 era had one.
    pub fn password_login_exists(&self) -> bool {
        self.account.client().options().era == Era::Legacy2015
    }

    /// The QQ number of the saved login, if one is kept for this server.
    pub async fn saved_account(&self) -> Option<u64> {
        let text = self.account.saved_session_json().await?;
        smartqq_client::SavedSession::from_json(&text)
            .ok()
            .map(|saved| saved.qq.get())
    }

    /// Gets online: with `resume`, the saved login when it still works (else a QR code);
    /// without, a new QR login. Then the contacts, the history and the poll loop.
    pub async fn connect(&self, resume: bool) -> anyhow::Result<()> {
        if resume {
            self.account.connect().await?;
        } else {
            self.account.login().await?;
            self.account.save_session().await;
        }
        self.go_online().await
    }

    /// The password login's first step: `Some(png)` when the server wants a captcha typed.
    pub async fn password_check(&self, qq: u64) -> anyhow::Result<Option<Vec<u8>>> {
        let check = self.account.client().password_check(qq).await?;
        let captcha = check.captcha.clone();
        *self
            .password_check
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(check);
        Ok(captcha)
    }

    /// The password login's second step, after [`Session::password_check`].
    pub async fn password_login(
        &self,
        password: String,
        captcha: Option<String>,
    ) -> anyhow::Result<()> {
        let check = self
            .password_check
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .context("the account was not checked first")?;
        self.account
            .client()
            .password_login(
                &check,
                &password,
                captcha.as_deref(),
                PasswordGeneration::GenA,
            )
            .await?;
        drop(password);
        self.account.load_contacts().await?;
        self.account.save_session().await;
        self.go_online().await
    }

    /// Attaches the history, tells the UI, and starts the supervised poll loop.
    async fn go_online(&self) -> anyhow::Result<()> {
        let session = self
            .account
            .client()
            .session()
            .context("no session after the login")?;
        let qq = session.qq.get();
        let (conversations, last_messages) = match &self.data_dir {
            Some(dir) => {
                let dir = dir.clone();
                let (history, conversations, last_messages) =
                    tokio::task::spawn_blocking(move || open_with_summaries(&dir, qq))
                        .await
                        .context("the history task failed")??;
                // A relogin in the same window keeps the history it attached first.
                self.account.attach_history(history);
                (conversations, last_messages)
            }
            None => (Vec::new(), Vec::new()),
        };
        let directory = self.account.directory();
        let _ = self
            .events
            .send(ClientEvent::Online {
                qq,
                nick: directory.own_nick.clone(),
                contacts: contacts(&self.account),
                conversations,
                last_messages,
            })
            .await;
        let account = self.account.clone();
        // Recovery without a scan only (relink, single sign-on): a QR code drawn while the
        // window shows the conversations would go unseen, and could bring another account
        // into this window. When it fails, the window offers "Log In Again".
        tokio::spawn(async move { account.run_supervised(false).await });
        Ok(())
    }

    /// The newest messages of a conversation, oldest first.
    pub async fn history(&self, key: ConversationKey) -> anyhow::Result<Vec<MessageInfo>> {
        let read = self
            .account
            .with_history(move |history| history.messages(Some(&key), None, HISTORY_PAGE))
            .await;
        let stored = match read {
            Some(read) => read.map_err(anyhow::Error::msg)?,
            None => Vec::new(),
        };
        Ok(stored.iter().map(stored_message).collect())
    }

    /// Queues `text` for a conversation at once (so sends keep the order of the calls)
    /// and returns a future of where it stands once sent. Another attempt at a message
    /// that failed ([`Attempt::Retry`]) sends the history's failed row with this text
    /// again, so the message keeps one row, its place and its states; without one (no
    /// history) it is sent anew.
    pub fn send(
        &self,
        key: ConversationKey,
        text: String,
        attempt: Attempt,
    ) -> impl std::future::Future<Output = Outbox> + Send + 'static {
        let (done, outcome) = tokio::sync::oneshot::channel();
        let request = SendRequest {
            key,
            text,
            attempt,
            done,
        };
        let queued = self.sends.send(request).is_ok();
        async move {
            if !queued {
                return Outbox::Failed(gettext("the session has ended"));
            }
            outcome
                .await
                .unwrap_or_else(|_| Outbox::Failed(gettext("the session has ended")))
        }
    }

    /// Stops the poll loop and lets go of the window (it is closing or starting over); the
    /// session stays valid at the server, so the saved login resumes next time.
    pub fn close(&self) {
        self.account.stop();
        self.events.close();
        self.closed.send_replace(true);
    }

    /// Stops the poll loop and ends the session at the server.
    pub async fn log_out(&self) {
        self.account.stop();
        if let Err(error) = self.account.client().logout().await {
            tracing::warn!("Could not log out: {error}");
        }
        self.account.forget_session().await;
    }
}

/// Why the server refused a send, in the user's language.
fn refusal_text(outcome: SendOutcome) -> String {
    match outcome {
        SendOutcome::SessionExpired => gettext("the session has ended"),
        SendOutcome::TooFrequent => gettext("too many messages in a short time; wait a little"),
        SendOutcome::Frozen => gettext("the account is frozen for sending too much"),
        SendOutcome::Rejected(code) => gettext_f(
            // Translators: why a message was not sent; {code} is the server's number.
            "the server refused it (code {code})",
            &[("code", &code.0.to_string())],
        ),
        // Sent, unconfirmed and unreadable answers are not refusals.
        _ => gettext("the server refused it"),
    }
}

/// Sends what the queue holds, one at a time, in order.
async fn send_worker(
    account: Account,
    mut queue: tokio::sync::mpsc::UnboundedReceiver<SendRequest>,
) {
    while let Some(request) = queue.recv().await {
        let failed_row = match request.attempt {
            Attempt::Retry { written } => {
                failed_row(&account, &request.key, &request.text, written).await
            }
            Attempt::First => None,
        };
        let outbox = match failed_row {
            Some(row) => outbox_of(account.resend(row).await.map(|outcome| vec![outcome])),
            None => send_one(&account, &request.key, &request.text).await,
        };
        let _ = request.done.send(outbox);
    }
}

/// The history's row of our failed message `text` in conversation `key`, shown at
/// `written`, if it has one (its send may have failed before it was stored).
async fn failed_row(
    account: &Account,
    key: &ConversationKey,
    text: &str,
    written: i64,
) -> Option<i64> {
    let (key, text) = (key.clone(), text.to_owned());
    let found = account
        .with_history(move |history| history.failed_outbound(&key, &text, written))
        .await?;
    found
        .inspect_err(|error| tracing::warn!("Could not look up the failed message: {error}"))
        .ok()
        .flatten()
}

/// Sends one message and says where it stands.
async fn send_one(account: &Account, key: &ConversationKey, text: &str) -> Outbox {
    match account.find_stable(key.kind.into(), &key.stable_id) {
        Ok(conversation) => outbox_of(account.send_text(conversation, text).await),
        Err(error) => outbox_of(Err(error)),
    }
}

/// Where a message stands after the engine's answer to its send (the outcome of each
/// part tried, the last one telling).
fn outbox_of(sent: gnomeqq_core::Result<Vec<SendOutcome>>) -> Outbox {
    match sent {
        Ok(outcomes) => match outcomes.last() {
            Some(SendOutcome::Sent) | None => Outbox::Sent,
            Some(SendOutcome::Unconfirmed | SendOutcome::Unrecognised) => Outbox::Unconfirmed,
            Some(refused) => Outbox::Failed(refusal_text(*refused)),
        },
        Err(gnomeqq_core::Error::Client(error)) if error.may_have_been_delivered() => {
            Outbox::Unconfirmed
        }
        Err(error) => {
            tracing::info!("Not sent: {error}");
            Outbox::Failed(match error {
                gnomeqq_core::Error::Ambiguous { .. } => {
                    gettext("several contacts match this conversation since the last login")
                }
                gnomeqq_core::Error::NoMatch { .. } => {
                    gettext("this contact is not in the contact list of this login")
                }
                gnomeqq_core::Error::History(_) => {
                    gettext("the message could not be found in the history")
                }
                _ => gettext("the server could not be reached"),
            })
        }
    }
}

/// Turns the engine's events into the UI's, with each message's stable key, until the
/// engine stops or the window lets go.
async fn forward(
    account: Account,
    events: async_channel::Sender<ClientEvent>,
    mut account_events: tokio::sync::mpsc::UnboundedReceiver<AppEvent>,
    mut closing: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        let event = tokio::select! {
            event = account_events.recv() => event,
            // The window let go (or dropped every handle): nobody listens any more.
            _ = closing.wait_for(|closed| *closed) => None,
        };
        let Some(event) = event else { return };
        let event = match event {
            AppEvent::Login(step) => ClientEvent::Login(step),
            AppEvent::Notice { kind, text } => ClientEvent::Notice(kind, text),
            AppEvent::Message(message) => ClientEvent::Message(MessageInfo {
                key: message.history_key.clone(),
                conversation_name: message.conversation_name.clone(),
                sender_name: message.sender_name.clone(),
                own: message.own,
                time: message.time,
                text: display_text(&message.segments),
                outbox: message.own.then_some(Outbox::Confirmed),
            }),
            AppEvent::Reconnecting { .. } => ClientEvent::Reconnecting,
            AppEvent::Reconnected { .. } => ClientEvent::Reconnected,
            AppEvent::Kicked { reason } => ClientEvent::Kicked(reason),
            AppEvent::SessionLost { reason } => ClientEvent::SessionLost(reason),
            // The poll loop is over: nothing more will come.
            AppEvent::Stopped => return,
            // Online is sent by `go_online`, with the contacts and the history.
            _ => continue,
        };
        if events.send(event).await.is_err() {
            // The window let go of this session.
            account.stop();
            return;
        }
    }
}

/// Opens the history of account `qq`, with its conversations and the newest message of
/// each (for the sidebar's previews).
fn open_with_summaries(
    dir: &std::path::Path,
    qq: u64,
) -> anyhow::Result<(
    gnomeqq_history::History,
    Vec<ConversationSummary>,
    Vec<MessageInfo>,
)> {
    let history = places::open_history(dir, qq)?;
    let conversations = history.conversations().unwrap_or_else(|error| {
        tracing::warn!("Could not list the history's conversations: {error}");
        Vec::new()
    });
    let last_messages = history
        .newest_of_each_conversation()
        .unwrap_or_else(|error| {
            tracing::warn!("Could not read the history's newest messages: {error}");
            Vec::new()
        })
        .iter()
        .map(stored_message)
        .collect();
    Ok((history, conversations, last_messages))
}

/// Friends by category, then groups, then discussions, each by name.
fn contacts(account: &Account) -> Vec<ContactInfo> {
    let directory = account.directory();
    let key_of = |conversation| {
        let stable_id = account.stable_id(conversation);
        let kind = ConversationKind::parse(gnomeqq_core::Conversation::kind(&conversation))
            .unwrap_or(ConversationKind::Friend);
        ConversationKey::new(kind, stable_id)
    };
    let mut friends: Vec<ContactInfo> = directory
        .friends
        .values()
        .map(|friend| ContactInfo {
            key: key_of(gnomeqq_core::Conversation::Friend {
                uin: friend.uin.get(),
            }),
            name: friend.display_name().to_owned(),
            category: friend.category.clone(),
        })
        .collect();
    friends.sort_by(|a, b| (&a.category, &a.name).cmp(&(&b.category, &b.name)));
    let mut rooms: Vec<(u8, ContactInfo)> = directory
        .rooms()
        .map(|(is_group, id, room)| {
            let conversation = if is_group {
                gnomeqq_core::Conversation::Group { gid: id }
            } else {
                gnomeqq_core::Conversation::Discussion { did: id }
            };
            let order = if is_group { 0 } else { 1 };
            let info = ContactInfo {
                key: key_of(conversation),
                name: room.name.clone(),
                category: String::new(),
            };
            (order, info)
        })
        .collect();
    rooms.sort_by(|(a_order, a), (b_order, b)| (a_order, &a.name).cmp(&(b_order, &b.name)));
    friends.extend(rooms.into_iter().map(|(_, info)| info));
    friends
}

/// A message as the view shows it: faces drawn, images as a placeholder.
pub fn display_text(segments: &[Segment]) -> String {
    let mut text = String::new();
    for segment in segments {
        match segment {
            Segment::Text(piece) => text.push_str(piece),
            Segment::Face(id) => text.push_str(&crate::faces::display(*id)),
            // The protocol never delivered the picture itself.
            Segment::Image => text.push_str(&gettext("[image]")),
        }
    }
    text
}

/// A stored message as the view shows it.
fn stored_message(message: &StoredMessage) -> MessageInfo {
    let text = serde_json::from_str::<Vec<Segment>>(&message.segments_json)
        .map(|segments| display_text(&segments))
        .unwrap_or_else(|_| message.text.clone());
    let own = message.direction == gnomeqq_history::Direction::Out;
    let outbox = match &message.outbox_state {
        _ if !own => None,
        None | Some(gnomeqq_history::OutboxState::Confirmed) => Some(Outbox::Confirmed),
        Some(gnomeqq_history::OutboxState::Accepted) => Some(Outbox::Sent),
        // A send that never got an answer before the app stopped may or may not have left.
        Some(gnomeqq_history::OutboxState::Queued | gnomeqq_history::OutboxState::Unconfirmed) => {
            Some(Outbox::Unconfirmed)
        }
        // The stored reason is the engine's English; the view words it.
        Some(gnomeqq_history::OutboxState::Failed(reason)) => {
            tracing::debug!("A stored send had failed: {reason}");
            Some(Outbox::Failed(gettext("an earlier attempt failed")))
        }
    };
    MessageInfo {
        key: message.conversation.clone(),
        conversation_name: message.conversation_name.clone(),
        sender_name: message.sender_name.clone(),
        own,
        time: message.server_time,
        text,
        outbox,
    }
}

//! `gnomeqq-cli`: GnomeQQ in the terminal. `demo` shows the whole flow on an embedded
//! sandbox; the other commands talk to any SmartQQ server (`--server URL` for a sandbox,
//! the real host names otherwise).
#![allow(
    clippy::print_stdout,
    reason = "a command-line program prints its results"
)]

use std::io::Read;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use gnomeqq_core::places::{self, data_dir};
use gnomeqq_core::{Account, AppEvent, LoginStep, TargetKind};
use smartqq_client::{Client, ClientOptions};
use smartqq_protocol::api::Era;
use smartqq_protocol::retcode::SendOutcome;
use tokio::sync::mpsc::UnboundedReceiver;

mod bot;
mod config;
mod demo;
mod history;
mod interactive;
mod terminal;

/// GnomeQQ in the terminal.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Base URL of the SmartQQ server to talk to, such as a sandbox on 127.0.0.1; without
    /// it, the commands that connect use the real SmartQQ hosts. `demo` runs its own
    /// sandbox, and `history`, `search` and `export` only read the data directory.
    #[arg(long, global = true, value_name = "URL")]
    server: Option<String>,
    /// Where GnomeQQ keeps its data (default: the XDG data directory). `demo` keeps its
    /// conversation there only when this is given.
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Which era's conventions the client follows.
    #[arg(long, global = true, default_value = "smartqq2018")]
    era: Era,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The whole flow on an embedded sandbox: login, four kinds of messages, bot replies.
    Demo {
        /// Stay online afterwards and send with `/to NAME text`.
        #[arg(long)]
        interactive: bool,
    },
    /// Run the sandbox server alone.
    Sandbox(SandboxArgs),
    /// Log in with a QR code (drawn here and saved as PNG), or with a password.
    Login {
        /// Log in with this QQ number and a password instead of a QR code (the legacy era's
        /// password login). The password comes from GNOMEQQ_PASSWORD or a prompt, never
        /// from the command line, and is never stored.
        #[arg(long, value_name = "QQ")]
        password_for: Option<u64>,
        /// Which password field the server expects: `gen_a` (2015-03 on) or `md5` (before).
        #[arg(long, default_value = "gen_a")]
        password_mode: smartqq_protocol::password::PasswordGeneration,
    },
    /// Log in and print one line per event.
    Listen {
        /// JSON lines instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Send a message; the text comes from the argument or, when absent, from stdin.
    Send {
        /// Kind of conversation.
        kind: SendKind,
        /// Name, markname, card, or uin/gid/did.
        target: String,
        /// The text (line breaks kept). Read from stdin when absent.
        text: Option<String>,
    },
    /// List friends, groups and discussions.
    Contacts {
        /// JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Show stored messages: the conversations, or one conversation's messages.
    History {
        /// A conversation's name or stable id; all conversations when absent.
        conversation: Option<String>,
        /// Only messages since this date (YYYY-MM-DD, UTC) or Unix time.
        #[arg(long)]
        since: Option<String>,
        /// At most this many (the newest).
        #[arg(long, default_value_t = 1000)]
        limit: usize,
        /// JSON lines.
        #[arg(long)]
        json: bool,
        /// The account (QQ number), when the data directory holds several.
        #[arg(long)]
        account: Option<u64>,
    },
    /// Search stored messages (Chinese words of one or two characters work too).
    Search {
        /// Words to find, all of them.
        query: String,
        /// At most this many hits, best first.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// JSON lines.
        #[arg(long)]
        json: bool,
        /// The account (QQ number), when the data directory holds several.
        #[arg(long)]
        account: Option<u64>,
    },
    /// Write stored messages to stdout, as JSON lines or text.
    Export {
        /// `jsonl` or `txt`.
        #[arg(long, default_value = "jsonl")]
        format: ExportFormat,
        /// A conversation's name or stable id; everything when absent.
        conversation: Option<String>,
        /// The account (QQ number), when the data directory holds several.
        #[arg(long)]
        account: Option<u64>,
    },
    /// Run the bot: `#` commands for allowed people, `exit` from the owner.
    Bot {
        /// Configuration file (default: the XDG config directory's gnomeqq/config.toml).
        #[arg(long)]
        config: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum ExportFormat {
    Jsonl,
    Txt,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum SendKind {
    Buddy,
    Group,
    Discuss,
    Sess,
}

#[derive(Debug, clap::Args)]
struct SandboxArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8650")]
    listen: SocketAddr,
    /// World file (TOML); the built-in world when absent.
    #[arg(long)]
    world: Option<PathBuf>,
    /// Era to speak: legacy2015 or smartqq2018.
    #[arg(long, default_value = "smartqq2018")]
    profile: Era,
    /// Act as a phone that confirms each new QR code after SECS seconds.
    #[arg(long, value_name = "SECS")]
    auto_confirm: Option<f64>,
}

/// Prints a line for people on stdout.
pub(crate) fn say(line: &str) {
    println!("{line}");
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    smartqq_emulator::logging::install("gnomeqq=info,smartqq_client=info,warn");
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("gnomeqq-cli: could not start: {error}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("gnomeqq-cli: {error:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<u8> {
    match cli.command {
        Command::Demo { interactive } => demo::run(interactive, cli.data_dir.as_deref()).await,
        Command::Sandbox(args) => sandbox(args).await,
        Command::Login {
            password_for: Some(qq),
            password_mode,
        } => {
            password_login(&cli, qq, password_mode).await?;
            say("Logged in; the session is saved, so the next command needs no scan.");
            Ok(0)
        }
        Command::Login {
            password_for: None, ..
        } => {
            let (account, _) = online(&cli, false).await?;
            say("Logged in; the session is saved, so the next command needs no scan.");
            drop(account);
            Ok(0)
        }
        Command::Listen { json } => {
            let (account, mut events) = online(&cli, json).await?;
            listen(&account, &mut events, json).await
        }
        Command::Send {
            kind,
            ref target,
            ref text,
        } => {
            let text = match text {
                Some(text) => text.clone(),
                None => {
                    let mut text = String::new();
                    std::io::stdin()
                        .read_to_string(&mut text)
                        .context("could not read the text from stdin")?;
                    // One final newline is the terminal's, not the message's.
                    text.strip_suffix('\n').map(str::to_owned).unwrap_or(text)
                }
            };
            if text.is_empty() {
                bail!("nothing to send: the text is empty");
            }
            let (account, _) = online(&cli, false).await?;
            send(&account, kind, target, &text).await
        }
        Command::Contacts { json } => {
            let (account, _) = online(&cli, json).await?;
            contacts(&account, json)?;
            Ok(0)
        }
        Command::History {
            ref conversation,
            ref since,
            limit,
            json,
            account,
        } => {
            let store = history::open(data_dir(cli.data_dir.as_deref()).as_deref(), account)?;
            history::history(
                &store,
                conversation.as_deref(),
                since.as_deref(),
                limit,
                json,
            )?;
            Ok(0)
        }
        Command::Search {
            ref query,
            limit,
            json,
            account,
        } => {
            let store = history::open(data_dir(cli.data_dir.as_deref()).as_deref(), account)?;
            history::search(&store, query, limit, json)?;
            Ok(0)
        }
        Command::Export {
            format,
            ref conversation,
            account,
        } => {
            let store = history::open(data_dir(cli.data_dir.as_deref()).as_deref(), account)?;
            history::export(
                &store,
                conversation.as_deref(),
                matches!(format, ExportFormat::Txt),
            )?;
            Ok(0)
        }
        Command::Bot { ref config } => {
            let config = match config {
                // A file named on the command line must exist: a typo would otherwise run a
                // bot that obeys nobody and cannot be stopped with `exit`.
                Some(path) if !path.exists() => {
                    bail!("no configuration file at {}", path.display())
                }
                Some(path) => config::Config::load(path)?,
                None => {
                    let path =
                        config::Config::default_path().context("no configuration directory")?;
                    config::Config::load(&path)?
                }
            };
            if config.bot.owner == config::Person::default() {
                tracing::warn!(
                    "The bot has no owner: nobody can stop it with `exit` (see the README)"
                );
            }
            if config.commands.is_empty() {
                tracing::warn!("No commands are configured: the bot will only answer `exit`");
            }
            let (account, mut events) = online(&cli, false).await?;
            let bot = bot::Bot::new(account.clone(), config, false)?;
            let poller = account.clone();
            let poll_loop = tokio::spawn(async move { poller.run_supervised(true).await });
            let code = bot::serve(&bot, &mut events, false).await?;
            account.stop();
            let _ = tokio::time::timeout(Duration::from_secs(5), poll_loop).await;
            if code == 0 {
                // The owner's `exit` ends the session for good.
                account.forget_session().await;
                account.client().logout().await?;
            }
            Ok(code)
        }
    }
}

async fn sandbox(args: SandboxArgs) -> anyhow::Result<u8> {
    let world = match &args.world {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("could not read {}", path.display()))?;
            smartqq_emulator::World::from_toml(&text)?
        }
        None => smartqq_emulator::World::builtin(),
    };
    let auto_confirm = match args.auto_confirm {
        Some(secs) if secs.is_finite() && (0.0..=3600.0).contains(&secs) => {
            Some(Duration::from_secs_f64(secs))
        }
        Some(_) => bail!("--auto-confirm takes seconds between 0 and 3600"),
        None => None,
    };
    let config = smartqq_emulator::Config {
        era: args.profile,
        world,
        auto_confirm,
    };
    let server = smartqq_emulator::SandboxServer::spawn(config, args.listen)
        .await
        .with_context(|| format!("could not listen on {}", args.listen))?;
    say(&format!("Sandbox listening on {}", server.url()));
    tokio::select! {
        result = server.wait() => result?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(0)
}

/// The password login (spec §4): `check`, the captcha when asked (saved as PNG, the code
/// typed in), the password field, `login`; then contacts and the saved session as after a
/// QR login.
async fn password_login(
    cli: &Cli,
    qq: u64,
    generation: smartqq_protocol::password::PasswordGeneration,
) -> anyhow::Result<()> {
    let password = match std::env::var("GNOMEQQ_PASSWORD") {
        Ok(password) if !password.is_empty() => password,
        _ => rpassword::prompt_password(format!("Password for {qq}: ")).context(
            "could not read the password (set GNOMEQQ_PASSWORD when there is no terminal)",
        )?,
    };
    let (account, _events) = account_for(cli).await?;
    let client = account.client();
    let check = client.password_check(qq).await?;
    let answer = match &check.captcha {
        Some(image) => {
            let dir = data_dir(cli.data_dir.as_deref())
                .context("no data directory for the captcha image")?;
            std::fs::create_dir_all(&dir)?;
            let path = dir.join("captcha.png");
            std::fs::write(&path, image)
                .with_context(|| format!("could not save {}", path.display()))?;
            eprintln!(
                "The server asks for a captcha: open {} and type what it shows:",
                path.display()
            );
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("could not read the captcha answer")?;
            Some(line.trim().to_owned())
        }
        None => None,
    };
    client
        .password_login(&check, &password, answer.as_deref(), generation)
        .await?;
    drop(password);
    account.load_contacts().await?;
    account.save_session().await;
    attach_history(cli, &account)?;
    Ok(())
}

/// An account for the chosen server with its saved-session store, not yet logged in.
async fn account_for(cli: &Cli) -> anyhow::Result<(Account, UnboundedReceiver<AppEvent>)> {
    let options = match &cli.server {
        Some(url) => ClientOptions::for_server(url),
        None => ClientOptions::default(),
    };
    let server = options.endpoints.d_web2.clone();
    let client = Client::new(ClientOptions {
        era: cli.era,
        ..options
    })?;
    let (mut account, events) = Account::new(client);
    // The Secret Service when the desktop session runs one, else a 0600 file.
    let data_dir = data_dir(cli.data_dir.as_deref());
    if let Some(store) = places::session_store(data_dir.as_deref(), &server).await {
        account = account.with_session_store(store);
    }
    Ok((account, events))
}

/// Opens the account's history (per account, so only once the login says whose) and
/// attaches it, so every message from now on is stored before it is shown.
fn attach_history(cli: &Cli, account: &Account) -> anyhow::Result<()> {
    let (Some(dir), Some(session)) = (
        data_dir(cli.data_dir.as_deref()),
        account.client().session(),
    ) else {
        return Ok(());
    };
    let store = places::open_history(&dir, session.qq.get())?;
    account.attach_history(store);
    Ok(())
}

/// An account for the chosen server, with its saved-session file in the data directory,
/// connected: resumed without a scan when the saved session still works.
async fn online(cli: &Cli, json: bool) -> anyhow::Result<(Account, UnboundedReceiver<AppEvent>)> {
    let (account, mut events) = account_for(cli).await?;
    let target = cli.server.as_deref().unwrap_or("the real SmartQQ servers");
    login(&account, &mut events, data_dir(cli.data_dir.as_deref()), json)
        .await
        .with_context(|| format!("could not log in at {target} (for a sandbox: `gnomeqq-cli sandbox --auto-confirm 1`, then --server http://127.0.0.1:8650)"))?;
    attach_history(cli, &account)?;
    Ok((account, events))
}

/// Logs in, drawing each QR code in the terminal and, given a directory, saving it there
/// as `qr.png`.
pub(crate) async fn login(
    account: &Account,
    events: &mut UnboundedReceiver<AppEvent>,
    qr_dir: Option<PathBuf>,
    progress_on_stderr: bool,
) -> anyhow::Result<()> {
    // With --json, stdout carries only JSON; the login's progress goes to stderr.
    let show = |line: &str| {
        if progress_on_stderr {
            eprintln!("{line}");
        } else {
            say(line);
        }
    };
    let mut login = {
        let account = account.clone();
        tokio::spawn(async move { account.connect().await })
    };
    let finished = loop {
        let event = tokio::select! {
            // Events first: a login publishes everything before it returns.
            biased;
            event = events.recv() => event,
            finished = &mut login => break Some(finished),
        };
        let Some(event) = event else { break None };
        if let AppEvent::Login(LoginStep::QrReady { png, text }) = &event {
            if let Some(art) = text.as_deref().and_then(terminal::qr_art) {
                show(&art);
            }
            if let Some(dir) = &qr_dir {
                let path = dir.join("qr.png");
                match std::fs::create_dir_all(dir).and_then(|()| std::fs::write(&path, png)) {
                    Ok(()) => show(&format!("QR code saved as {}", path.display())),
                    Err(error) => tracing::warn!("Could not save the QR code: {error}"),
                }
            }
        }
        if let Some(line) = terminal::describe(&event) {
            show(&line);
        }
        if matches!(event, AppEvent::Online { .. }) {
            break None;
        }
    };
    let finished = match finished {
        Some(finished) => finished,
        None => login.await,
    };
    finished.context("login task failed")??;
    Ok(())
}

async fn listen(
    account: &Account,
    events: &mut UnboundedReceiver<AppEvent>,
    json: bool,
) -> anyhow::Result<u8> {
    let poller = account.clone();
    let poll_loop = tokio::spawn(async move { poller.run_supervised(true).await });
    // One Ctrl-C future for the whole loop: one made per iteration misses a signal that
    // arrives while an event is being printed.
    let ctrl_c = tokio::signal::ctrl_c();
    tokio::pin!(ctrl_c);
    let code = loop {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = &mut ctrl_c => break 0,
        };
        let Some(event) = event else { break 0 };
        match (&event, json) {
            (AppEvent::Message(message), true) => say(&terminal::message_json(message).to_string()),
            // With --json a new code goes to stderr, like the first login's.
            (AppEvent::Login(LoginStep::QrReady { .. }), true) => {
                if let Some(art) = terminal::login_qr(&event) {
                    eprintln!("{art}");
                }
            }
            (_, true) => say(&serde_json::to_string(&event).unwrap_or_default()),
            // A kick is reported once, on stderr, below.
            (AppEvent::Kicked { .. }, false) => {}
            (AppEvent::Login(LoginStep::QrReady { .. }), false) => {
                if let Some(art) = terminal::login_qr(&event) {
                    say(&art);
                }
                if let Some(line) = terminal::describe(&event) {
                    say(&line);
                }
            }
            (_, false) => {
                if let Some(line) = terminal::describe(&event) {
                    say(&line);
                }
            }
        }
        match event {
            AppEvent::Kicked { reason } => {
                eprintln!("Kicked off by the server: {reason}");
                break 2;
            }
            AppEvent::SessionLost { .. } => break 3,
            AppEvent::Stopped => break 0,
            _ => {}
        }
    };
    account.stop();
    let _ = tokio::time::timeout(Duration::from_secs(5), poll_loop).await;
    // No logout: the saved session lets the next command resume without a scan.
    Ok(code)
}

async fn send(account: &Account, kind: SendKind, target: &str, text: &str) -> anyhow::Result<u8> {
    let kind = match kind {
        SendKind::Buddy => TargetKind::Friend,
        SendKind::Group => TargetKind::Group,
        SendKind::Discuss => TargetKind::Discussion,
        SendKind::Sess => TargetKind::Temporary,
    };
    let (conversation, name) = account.find(kind, target)?;
    let outcomes = account.send_text(conversation, text).await?;
    let all_sent = outcomes.iter().all(|o| *o == SendOutcome::Sent);
    say(&format!(
        "To {name}: {} part(s), {}",
        outcomes.len(),
        if all_sent { "sent" } else { "NOT all sent" }
    ));
    for (index, outcome) in outcomes
        .iter()
        .enumerate()
        .filter(|(_, o)| **o != SendOutcome::Sent)
    {
        say(&format!("  part {}: {outcome:?}", index + 1));
    }
    Ok(if all_sent { 0 } else { 4 })
}

fn contacts(account: &Account, json: bool) -> anyhow::Result<()> {
    let directory = account.directory();
    let mut friends: Vec<_> = directory.friends.values().collect();
    friends.sort_by(|a, b| (&a.category, a.display_name()).cmp(&(&b.category, b.display_name())));
    let mut groups: Vec<_> = directory.groups.iter().collect();
    groups.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    let mut discussions: Vec<_> = directory.discussions.iter().collect();
    discussions.sort_by(|a, b| a.1.name.cmp(&b.1.name));
    if json {
        let value = serde_json::json!({
            "friends": friends.iter().map(|f| serde_json::json!({"uin": f.uin, "nick": f.nick, "markname": f.markname, "category": f.category, "status": f.status})).collect::<Vec<_>>(),
            "groups": groups.iter().map(|(gid, g)| serde_json::json!({"gid": gid, "name": g.name, "members": g.members.values().map(|m| serde_json::json!({"uin": m.uin, "nick": m.nick, "card": m.card})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
            "discussions": discussions.iter().map(|(did, d)| serde_json::json!({"did": did, "name": d.name, "members": d.members.values().map(|m| serde_json::json!({"uin": m.uin, "nick": m.nick, "qq": m.qq})).collect::<Vec<_>>()})).collect::<Vec<_>>(),
        });
        say(&serde_json::to_string_pretty(&value)?);
        return Ok(());
    }
    let mut category = None;
    for friend in friends {
        if category != Some(&friend.category) {
            say(&format!("{}:", friend.category));
            category = Some(&friend.category);
        }
        let nick = if friend.markname.is_some() {
            format!(" ({})", friend.nick)
        } else {
            String::new()
        };
        say(&format!(
            "  {}{nick} [{}]",
            friend.display_name(),
            friend.status
        ));
    }
    say("Groups:");
    for (_, group) in groups {
        let mut names: Vec<&str> = group.members.values().map(|m| m.display_name()).collect();
        names.sort_unstable();
        say(&format!(
            "  {} ({} members): {}",
            group.name,
            names.len(),
            names.join(", ")
        ));
    }
    say("Discussions:");
    for (_, discussion) in discussions {
        let mut names: Vec<&str> = discussion
            .members
            .values()
            .map(|m| m.display_name())
            .collect();
        names.sort_unstable();
        say(&format!(
            "  {} ({} members): {}",
            discussion.name,
            names.len(),
            names.join(", ")
        ));
    }
    Ok(())
}

//! `gnomeqq-cli demo`: the whole seed flow on an embedded sandbox, in seconds.
//!
//! A sandbox starts on a free loopback port with a phone that confirms the scan after
//! about 2 s. The client logs in over real HTTP, people of the sandbox's world write a
//! friend, a group, a discussion and a temporary-session message (quotes, backslashes,
//! line breaks, CJK, emoji outside the BMP, a face), the built-in bot answers each through
//! the matching send endpoint, a `#` command runs for an allowed friend, the owner says
//! `exit`, and the demo checks with `GET /sandbox/sent` that every reply arrived byte-exact.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};
use gnomeqq_core::commands::CommandSpec;
use gnomeqq_core::{Account, AppEvent, IncomingMessage, TargetKind, places};
use serde_json::{Value, json};
use smartqq_client::{Client, ClientOptions};
use smartqq_emulator::{Config as SandboxConfig, SandboxServer, World};
use tokio::sync::mpsc::UnboundedReceiver;

use crate::bot::{Bot, ECHO_PREFIX, Handled};
use crate::config::{BotConfig, Config, Person};
use crate::{say, terminal};

/// How long any one step may take before the demo gives up.
const STEP_TIMEOUT: Duration = Duration::from_secs(15);

/// One message a person of the world sends, and what the bot must answer.
struct Scene {
    /// The body of `POST /sandbox/messages`.
    inject: Value,
    /// The endpoint the answer must go through, or `None` when the bot must stay silent.
    endpoint: Option<&'static str>,
    /// The answer's text.
    reply: String,
}

fn scenes(world: &World) -> Vec<Scene> {
    let group = world.groups[0].number.get();
    let did = world.discussions[0].did.get();
    let buddy_text = "He said \"hi\"\\ C:\\new\\table\n第二行 🙂👨‍👩‍👧 done";
    let discussion_text = "Meeting at 3?\tBring 🍕 and 𠀀";
    let sess_text = "你好，我们还不是好友 'psst'";
    let echo = |text: &str| format!("{ECHO_PREFIX}{text}");
    vec![
        Scene {
            inject: json!({"kind": "buddy", "from": 3_100_000_002u64, "text": buddy_text}),
            endpoint: Some("send_buddy_msg2"),
            reply: echo(buddy_text),
        },
        Scene {
            inject: json!({"kind": "group", "from": 3_300_000_002u64, "group": group,
                "segments": [{"type": "text", "data": "大家好 <b>&amp;</b> "}, {"type": "face", "data": 14}, {"type": "text", "data": " ok"}]}),
            endpoint: Some("send_qun_msg2"),
            reply: echo("大家好 <b>&amp;</b> [face:14] ok"),
        },
        Scene {
            inject: json!({"kind": "discu", "from": 3_100_000_006u64, "discussion": did, "text": discussion_text}),
            endpoint: Some("send_discu_msg2"),
            reply: echo(discussion_text),
        },
        Scene {
            inject: json!({"kind": "sess", "from": 3_300_000_001u64, "group": group, "text": sess_text}),
            endpoint: Some("send_sess_msg2"),
            reply: echo(sess_text),
        },
        Scene {
            inject: json!({"kind": "buddy", "from": 3_100_000_001u64, "text": "#echo $(id) 你好 from GnomeQQ"}),
            endpoint: Some("send_buddy_msg2"),
            reply: "$(id) 你好 from GnomeQQ".to_owned(),
        },
        Scene {
            inject: json!({"kind": "buddy", "from": 3_100_000_002u64, "text": "exit"}),
            endpoint: None,
            reply: String::new(),
        },
    ]
}

/// The demo's bot: 老张 (a friend's markname in the built-in world) owns it; `#echo` runs
/// `echo` without a shell.
fn demo_config() -> anyhow::Result<Config> {
    let echo = CommandSpec::new(vec!["echo".to_owned()])?
        .with_timeout(Duration::from_secs(5))?
        .with_max_output_bytes(2000)?;
    Ok(Config {
        bot: BotConfig {
            owner: Person {
                qq: None,
                markname: Some("老张".to_owned()),
            },
            allowed: Vec::new(),
        },
        commands: BTreeMap::from([("echo".to_owned(), echo)]),
    })
}

/// Runs the demo; the exit status is 0 only if every reply arrived byte-exact. With
/// `data_dir` (`--data-dir`) the conversation is kept in that directory's history, to
/// try `history`, `search` and `export` on afterwards; without it nothing is kept.
pub async fn run(interactive: bool, data_dir: Option<&Path>) -> anyhow::Result<u8> {
    let world = World::builtin();
    let sandbox_config = SandboxConfig {
        era: smartqq_protocol::api::Era::Smartqq2018,
        world: world.clone(),
        auto_confirm: Some(Duration::from_secs(2)),
    };
    let server = SandboxServer::spawn(sandbox_config, "127.0.0.1:0".parse()?)
        .await
        .context("could not start the sandbox")?;
    say(&format!(
        "Sandbox listening on {} (profile smartqq2018)",
        server.url()
    ));
    say("The sandbox plays your phone (it scans and confirms the QR code below in about 2 s)");
    say("and the other people of its world, who write to you once you are online.");
    let control = Control {
        http: reqwest::Client::builder().no_proxy().build()?,
        base: server.url(),
    };

    let options = ClientOptions {
        qr_check_interval: Duration::from_millis(400),
        ..ClientOptions::for_server(&server.url())
    };
    let (account, mut events) = Account::new(Client::new(options)?);
    crate::login(&account, &mut events, None, false).await?;
    if let (Some(dir), Some(session)) = (data_dir, account.client().session()) {
        account.attach_history(places::open_history(dir, session.qq.get())?);
    }
    print_contacts(&account);

    let poller = account.clone();
    let poll_loop = tokio::spawn(async move { poller.run_poll_loop().await });
    let bot = Bot::new(account.clone(), demo_config()?, true)?;
    let outcome = if interactive {
        crate::interactive::run(&account, &bot, &mut events)
            .await
            .map(|()| 0)
    } else {
        play(&bot, &control, &world, &mut events).await
    };

    account.stop();
    let _ = tokio::time::timeout(STEP_TIMEOUT, poll_loop).await;
    match account.client().logout().await {
        Ok(()) => say("Logged out"),
        Err(error) => eprintln!("Could not log out: {error}"),
    }
    if let Some(dir) = data_dir {
        say(&format!(
            "The conversation is kept in {}: try `gnomeqq-cli --data-dir {} history`",
            dir.display(),
            dir.display()
        ));
    }
    outcome
}

fn print_contacts(account: &Account) {
    let directory = account.directory();
    let mut friends: Vec<_> = directory.friends.values().collect();
    friends.sort_by(|a, b| (&a.category, a.display_name()).cmp(&(&b.category, b.display_name())));
    say("Contacts:");
    for friend in friends {
        say(&format!(
            "  friend     {:<16} {:<14} {}",
            friend.display_name(),
            friend.category,
            friend.status
        ));
    }
    for room in directory.groups.values() {
        say(&format!(
            "  group      {:<16} {} members",
            room.name,
            room.members.len()
        ));
    }
    for room in directory.discussions.values() {
        say(&format!(
            "  discussion {:<16} {} members",
            room.name,
            room.members.len()
        ));
    }
}

/// The sandbox's control API, over HTTP like any script would use it.
struct Control {
    http: reqwest::Client,
    base: String,
}

impl Control {
    async fn post(&self, path: &str, body: &Value) -> anyhow::Result<Value> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .json(body)
            .send()
            .await?;
        let status = response.status();
        let body: Value = response.json().await?;
        if !status.is_success() {
            bail!("sandbox refused {path}: {body}");
        }
        Ok(body)
    }

    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        Ok(self
            .http
            .get(format!("{}{path}", self.base))
            .send()
            .await?
            .json()
            .await?)
    }
}

/// Waits for the next message event, printing everything on the way.
async fn next_message(events: &mut UnboundedReceiver<AppEvent>) -> anyhow::Result<IncomingMessage> {
    loop {
        let event = tokio::time::timeout(STEP_TIMEOUT, events.recv())
            .await
            .context("no message arrived in time")?;
        let Some(event) = event else {
            bail!("the engine stopped")
        };
        if let Some(line) = terminal::describe(&event) {
            say(&format!("  ← {line}"));
        }
        match event {
            AppEvent::Message(message) if !message.own => return Ok(message),
            AppEvent::Kicked { reason } => bail!("kicked: {reason}"),
            AppEvent::SessionLost { reason } => bail!("session lost: {reason}"),
            _ => {}
        }
    }
}

async fn play(
    bot: &Bot,
    control: &Control,
    world: &World,
    events: &mut UnboundedReceiver<AppEvent>,
) -> anyhow::Result<u8> {
    let scenes = scenes(world);
    for scene in &scenes {
        control.post("/sandbox/messages", &scene.inject).await?;
        let message = next_message(events).await?;
        match bot.handle(&message).await? {
            Handled::Replied(reply) => say(&format!("  → {}", reply.replace('\n', "⏎ "))),
            Handled::Ignored => say("  (ignored: only the owner may say exit)"),
            Handled::Exit => bail!("the bot stopped early"),
        }
    }
    let owner = world
        .friends
        .iter()
        .find(|f| f.markname.as_deref() == Some("老张"))
        .context("the world has no 老张")?;
    control
        .post(
            "/sandbox/messages",
            &json!({"kind": "buddy", "from": owner.qq, "text": "exit"}),
        )
        .await?;
    let message = next_message(events).await?;
    if bot.handle(&message).await? != Handled::Exit {
        bail!("the owner's exit was not obeyed");
    }
    say("The owner said exit");
    verify(control, world, &scenes).await
}

/// Compares what the sandbox received with what the bot meant to send.
async fn verify(control: &Control, world: &World, scenes: &[Scene]) -> anyhow::Result<u8> {
    let sent = control.get("/sandbox/sent").await?;
    let sent = sent.as_array().context("/sandbox/sent is not a list")?;
    let expected: Vec<&Scene> = scenes.iter().filter(|s| s.endpoint.is_some()).collect();
    say("");
    say("Received and answered:");
    let mut missing = 0;
    for scene in &expected {
        let target = expected_target(world, &scene.inject);
        let arrived = sent.iter().filter(|m| {
            m["endpoint"] == scene.endpoint.unwrap_or_default()
                && m["target"] == target
                && m["text"] == scene.reply.as_str()
        });
        let count = arrived.count();
        let mark = if count == 1 { "ok " } else { "MISSING" };
        if count != 1 {
            missing += 1;
        }
        say(&format!(
            "  {mark} {:<16} → {}",
            scene.endpoint.unwrap_or_default(),
            scene.reply.replace('\n', "⏎ ")
        ));
    }
    if sent.len() != expected.len() {
        say(&format!(
            "  the sandbox received {} sends, {} expected",
            sent.len(),
            expected.len()
        ));
        missing += 1;
    }
    if missing == 0 {
        say(&format!(
            "All {} replies arrived byte-exact.",
            expected.len()
        ));
        Ok(0)
    } else {
        say("Some replies did not arrive as sent.");
        Ok(1)
    }
}

/// What `/sandbox/sent` names as the target of the reply to an injected message.
fn expected_target(world: &World, inject: &Value) -> Value {
    match inject["kind"].as_str() {
        Some("group") => inject["group"].clone(),
        Some("discu") => inject["discussion"].clone(),
        _ => {
            let _ = world;
            inject["from"].clone()
        }
    }
}

/// Finds a conversation for `/to NAME`: friends first, then groups, discussions and
/// room members.
pub fn find_any(
    account: &Account,
    name: &str,
) -> anyhow::Result<(gnomeqq_core::Conversation, String)> {
    let mut last_error = None;
    for kind in [
        TargetKind::Friend,
        TargetKind::Group,
        TargetKind::Discussion,
        TargetKind::Temporary,
    ] {
        match account.find(kind, name) {
            Ok(found) => return Ok(found),
            Err(error @ gnomeqq_core::Error::Ambiguous { .. }) => return Err(error.into()),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.map_or_else(|| anyhow::anyhow!("no contact {name:?}"), Into::into))
}

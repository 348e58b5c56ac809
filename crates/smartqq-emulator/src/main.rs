//! `smartqq-sandbox`: the GnomeQQ sandbox server on its own.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use smartqq_emulator::{Config, SandboxServer, World};
use smartqq_protocol::api::Era;

/// A local server that speaks the SmartQQ web protocol, for GnomeQQ and any other client.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8650")]
    listen: SocketAddr,
    /// World file (TOML); the built-in world when absent.
    #[arg(long)]
    world: Option<PathBuf>,
    /// Era to speak: legacy2015 or smartqq2018.
    #[arg(long, default_value = "smartqq2018")]
    profile: Era,
    /// Act as a phone that scans each new QR code and confirms it after SECS seconds.
    #[arg(long, value_name = "SECS")]
    auto_confirm: Option<f64>,
}

/// Dependencies whose logs may carry tokens.
const SILENCED_LOG_TARGETS: [&str; 6] = [
    "cookie_store=off",
    "reqwest=off",
    "hyper=off",
    "hyper_util=off",
    "h2=off",
    "rustls=off",
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "smartqq_emulator=info,warn".into());
    // These libraries log cookies, headers or URLs with their query strings at debug and
    // trace; whatever RUST_LOG asks, they stay silent (STYLE.md §6).
    for directive in SILENCED_LOG_TARGETS {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let world = match &args.world {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("could not read world file {}", path.display()))?;
            World::from_toml(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => World::builtin(),
    };
    let auto_confirm = match args.auto_confirm {
        Some(secs) if secs.is_finite() && (0.0..=3600.0).contains(&secs) => {
            Some(Duration::from_secs_f64(secs))
        }
        Some(_) => anyhow::bail!("--auto-confirm takes seconds between 0 and 3600"),
        None => None,
    };

    let config = Config {
        era: args.profile,
        world,
        auto_confirm,
    };
    let server = SandboxServer::spawn(config, args.listen)
        .await
        .with_context(|| format!("could not listen on {}", args.listen))?;
    #[allow(clippy::print_stdout, reason = "the address is this program's output")]
    {
        println!("smartqq-sandbox listening on {}", server.url());
    }
    tracing::info!(profile = %args.profile, "Sandbox started");
    tokio::select! {
        result = server.wait() => result.context("server stopped")?,
        _ = tokio::signal::ctrl_c() => tracing::info!("Sandbox stopped"),
    }
    Ok(())
}

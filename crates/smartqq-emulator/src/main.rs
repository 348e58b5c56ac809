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

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    smartqq_emulator::logging::install("smartqq_emulator=info,warn");
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

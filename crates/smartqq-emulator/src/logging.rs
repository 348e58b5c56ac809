//! Log output for GnomeQQ's binaries (`smartqq-sandbox`, `gnomeqq-cli`), in one place so
//! that the list of libraries kept silent cannot drift apart between them.

/// Dependencies whose debug and trace output carries cookies, headers or URLs with their
/// query strings; whatever `RUST_LOG` asks, they stay silent (STYLE.md §6).
const SILENCED_TARGETS: [&str; 6] = [
    "cookie_store=off",
    "reqwest=off",
    "hyper=off",
    "hyper_util=off",
    "h2=off",
    "rustls=off",
];

/// Installs the process's log subscriber: `RUST_LOG`, else `default_filter`; to stderr,
/// coloured only on a terminal; token-carrying libraries silenced.
pub fn install(default_filter: &str) {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| default_filter.into());
    for directive in SILENCED_TARGETS {
        if let Ok(directive) = directive.parse() {
            filter = filter.add_directive(directive);
        }
    }
    tracing_subscriber::fmt()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

//! The GnomeQQ sandbox: an axum server that speaks SmartQQ as the real service did, era
//! quirks and failures included, plus a control API under `/sandbox/`.
//!
//! [`router`] gives the whole server for in-process tests; [`SandboxServer::spawn`] serves
//! it on a TCP port (with `TCP_NODELAY`, so replies are not held back by Nagle's
//! algorithm) and stops it when dropped.
#![warn(missing_docs, missing_debug_implementations)]

use std::net::SocketAddr;
use std::time::Instant;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

mod call;
mod captcha;
mod control;
pub mod knobs;
pub mod logging;
mod routes;
mod state;
pub mod world;

pub use routes::login::qr_text;
pub use state::{Config, Sandbox, SentMessage};
pub use world::World;

/// The whole sandbox as a router: every SmartQQ endpoint and the control API.
pub fn router(sandbox: Sandbox) -> Router {
    // `route_layer`: only requests that matched a route are observed, so the per-path
    // counters cannot be grown without bound by made-up paths.
    routes::protocol_routes()
        .merge(control::control_routes())
        .route_layer(middleware::from_fn_with_state(sandbox.clone(), observe))
        .with_state(sandbox)
}

/// Routes by `Host`, counts requests per path, and logs one line per request with the path
/// only: query strings carry ptwebqq, vfwebqq and psessionid.
async fn observe(State(sandbox): State<Sandbox>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(|h| {
            h.rsplit_once(':')
                .map_or(h, |(name, _)| name)
                .to_ascii_lowercase()
        })
        .unwrap_or_default();
    if !path.starts_with("/sandbox/") && !routes::host_serves(&host, &path) {
        return StatusCode::NOT_FOUND.into_response();
    }
    if !path.starts_with("/sandbox/") {
        *sandbox
            .lock()
            .counters
            .requests
            .entry(path.clone())
            .or_default() += 1;
    }

    let started = Instant::now();
    let response = next.run(request).await;
    tracing::debug!(
        %method,
        path,
        status = response.status().as_u16(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "Served request"
    );
    response
}

/// A sandbox served on a TCP port; stops when dropped.
#[derive(Debug)]
pub struct SandboxServer {
    address: SocketAddr,
    sandbox: Sandbox,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl SandboxServer {
    /// Binds `address` (use port 0 for a free port) and serves the sandbox on it.
    pub async fn spawn(config: Config, address: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(address).await?;
        let address = listener.local_addr()?;
        let sandbox = Sandbox::new(config);
        let app = router(sandbox.clone());
        let (shutdown, stopped) = oneshot::channel::<()>();
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            // A reply split over writes on a delayed socket costs ~40 ms per poll.
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::warn!("Could not set TCP_NODELAY: {error}");
            }
        });
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Self {
            address,
            sandbox,
            shutdown: Some(shutdown),
            task: Some(task),
        })
    }

    /// The address it listens on.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// `http://ADDRESS`, the base URL clients take as `--server`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The state, for in-process control.
    pub fn sandbox(&self) -> &Sandbox {
        &self.sandbox
    }

    /// Serves until the server stops by itself (it does not, unless the socket fails).
    pub async fn wait(mut self) -> std::io::Result<()> {
        match self.task.take() {
            Some(task) => task.await.map_err(std::io::Error::other)?,
            None => Ok(()),
        }
    }
}

impl Drop for SandboxServer {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        // Held long polls would delay a graceful stop by their hold; tests want it now.
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

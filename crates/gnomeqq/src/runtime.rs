//! The one tokio runtime of the app: the network, the sandbox and the history run here,
//! GObjects never do. UI code awaits the `JoinHandle`s from the GLib main loop.

use std::future::Future;
use std::sync::OnceLock;

use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

/// The runtime, started on first use with two workers (a chat client needs no more).
pub fn runtime() -> &'static Runtime {
    static RUNTIME: OnceLock<Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("gnomeqq-net")
            .enable_all()
            .build()
            // Without a runtime nothing can work; this fails only when threads cannot be
            // created at all.
            .expect("could not start the tokio runtime")
    })
}

/// Runs `future` on the runtime; await the handle from the main loop.
pub fn spawn_tokio<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    runtime().spawn(future)
}

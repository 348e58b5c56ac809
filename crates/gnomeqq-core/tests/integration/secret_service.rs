//! The saved session in a real Secret Service. These tests need a session bus with an
//! unlocked gnome-keyring, so they are ignored by a plain `cargo test`; `.ci/run` runs them
//! under `dbus-run-session` with a keyring it starts and unlocks itself.

use std::sync::Arc;

use gnomeqq_core::{Connected, SecretServiceStore, SessionStore};

use crate::support::{account, bounded, inspect, sandbox};

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/test runs it under dbus-run-session with gnome-keyring"]
async fn secret_service_saves_loads_and_forgets_a_session() {
    let store = SecretServiceStore::connect("http://127.0.0.1:1/store-test")
        .await
        .expect("a Secret Service runs");

    store.save("{\"saved\":1}").await.unwrap();
    let loaded = store.load().await.unwrap();
    store.clear().await.unwrap();
    let after_clear = store.load().await.unwrap();

    assert_eq!(loaded.as_deref(), Some("{\"saved\":1}"));
    assert_eq!(after_clear, None);
}

#[tokio::test]
#[ignore = "needs a Secret Service: scripts/test runs it under dbus-run-session with gnome-keyring"]
async fn a_session_kept_in_the_secret_service_is_resumed_without_a_scan() {
    let server = sandbox().await;
    let store = Arc::new(
        SecretServiceStore::connect(&server.url())
            .await
            .expect("a Secret Service runs"),
    );
    let (first, _) = account(&server);
    bounded(
        "first login",
        first.with_session_store(store.clone()).connect(),
    )
    .await
    .unwrap();

    let (second, _) = account(&server);
    let connected = bounded("resume", second.with_session_store(store.clone()).connect())
        .await
        .unwrap();

    assert_eq!(connected, Connected::Resumed);
    assert_eq!(
        inspect(&server, "/sandbox/counters").await["requests"]["/ptqrshow"],
        1
    );
    store.clear().await.unwrap();
}

//! Client message ids, in the web client's scheme (spec §6.5).

use std::sync::atomic::{AtomicU64, Ordering};

/// Hands out `base + 1`, `base + 2`, … where `base = (start_s mod 10000) × 10000`.
#[derive(Debug)]
pub struct MsgIds {
    base: u64,
    sent: AtomicU64,
}

impl MsgIds {
    /// Ids for a client started at `start_ms` (Unix milliseconds).
    pub fn starting_at(start_ms: u64) -> Self {
        Self {
            base: (start_ms / 1000 % 10_000) * 10_000,
            sent: AtomicU64::new(0),
        }
    }

    /// Ids for a new client: the web client's base plus a random offset below 9,000, so two
    /// processes sharing a saved session and started in the same second (a `send` right
    /// after another) do not hand out the same first ids.
    pub fn for_new_client(start_ms: u64) -> Self {
        let ids = Self::starting_at(start_ms);
        ids.sent
            .store(rand::random_range(0..9_000), Ordering::Relaxed);
        ids
    }

    /// The next id; never the same twice.
    pub fn next(&self) -> u64 {
        self.base + self.sent.fetch_add(1, Ordering::Relaxed) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_clients_start_inside_the_web_client_range() {
        let id = MsgIds::for_new_client(1_500_000_123_456).next();

        assert!((1_230_001..1_239_001).contains(&id), "{id}");
    }

    #[test]
    fn ids_follow_the_spec_vector() {
        let ids = MsgIds::starting_at(1_500_000_123_456);

        let first_three = [ids.next(), ids.next(), ids.next()];

        assert_eq!(first_three, [1_230_001, 1_230_002, 1_230_003]);
    }
}

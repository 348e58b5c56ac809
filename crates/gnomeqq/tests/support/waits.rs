//! Waiting on the app from the GLib main loop, shared by the GUI test and the start-up
//! bench: on events, with a bound, never a fixed sleep.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use gtk::glib;
use gtk::prelude::*;

/// How long a wait may take, and how often its condition is checked.
pub struct Waits {
    /// The longest any one wait may take.
    pub bound: Duration,
    /// How often the condition is checked.
    pub poll: Duration,
}

impl Waits {
    /// Waits until `ready` gives a value.
    pub async fn until<T>(
        &self,
        what: &str,
        mut ready: impl FnMut() -> Option<T>,
    ) -> Result<T, String> {
        let started = Instant::now();
        loop {
            if let Some(value) = ready() {
                return Ok(value);
            }
            if started.elapsed() > self.bound {
                return Err(format!("timed out waiting for {what}"));
            }
            glib::timeout_future(self.poll).await;
        }
    }

    /// Waits for `window` to draw `frames` more frames, so what just changed is on screen.
    pub async fn frames_drawn(
        &self,
        window: &impl IsA<gtk::Widget>,
        frames: u32,
    ) -> Result<(), String> {
        let drawn = Rc::new(Cell::new(0u32));
        let counter = drawn.clone();
        let tick = window.add_tick_callback(move |_, _| {
            counter.set(counter.get() + 1);
            glib::ControlFlow::Continue
        });
        window.queue_draw();
        let result = self
            .until("frames to be drawn", || {
                (drawn.get() >= frames).then_some(())
            })
            .await;
        tick.remove();
        result
    }
}

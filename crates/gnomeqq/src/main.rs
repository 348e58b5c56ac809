//! `gnomeqq`: the desktop app. `gnomeqq --sandbox` opens straight into the embedded sandbox.

fn main() -> gtk::glib::ExitCode {
    gnomeqq::run()
}

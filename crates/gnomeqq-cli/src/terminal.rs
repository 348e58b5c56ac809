//! Drawing for the terminal: QR codes and one-line event descriptions.

use gnomeqq_core::{AppEvent, IncomingMessage, LoginStep};
use qrcode::QrCode;
use qrcode::render::unicode::Dense1x2;

/// A QR code drawn with half-block characters, two modules per character cell.
pub fn qr_art(text: &str) -> Option<String> {
    let code = QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}

/// The QR code of a login step, drawn for the terminal; `None` for other events. A
/// running `listen` or `bot` shows it too, when recovering the session needs a new scan.
pub fn login_qr(event: &AppEvent) -> Option<String> {
    match event {
        AppEvent::Login(LoginStep::QrReady {
            text: Some(text), ..
        }) => qr_art(text),
        _ => None,
    }
}

/// One human line for an event, or `None` for events that print nothing.
pub fn describe(event: &AppEvent) -> Option<String> {
    Some(match event {
        AppEvent::Login(LoginStep::QrReady { .. }) => {
            "QR code ready: scan it with the QQ app".to_owned()
        }
        AppEvent::Login(LoginStep::Waiting) => "Waiting for the scan…".to_owned(),
        AppEvent::Login(LoginStep::Scanned) => "Scanned: confirm on your phone".to_owned(),
        AppEvent::Login(LoginStep::Expired) => "The QR code expired; here is a new one".to_owned(),
        AppEvent::Login(LoginStep::Connecting) => "Confirmed; connecting…".to_owned(),
        AppEvent::Online {
            nick,
            friends,
            groups,
            discussions,
        } => format!(
            "Online as {nick}: {}, {}, {}",
            count(*friends, "friend"),
            count(*groups, "group"),
            count(*discussions, "discussion")
        ),
        AppEvent::Resumed => "Resumed the saved session: no scan needed".to_owned(),
        AppEvent::Notice { text, .. } => text.clone(),
        AppEvent::Reconnecting { reason } => format!("Connection lost ({reason}); reconnecting…"),
        AppEvent::Reconnected { how } => format!("Reconnected ({how})"),
        AppEvent::Message(message) => describe_message(message),
        AppEvent::StatusChanged { name, status } => format!("{name} is now {status}"),
        AppEvent::Kicked { reason } => format!("Kicked off by the server: {reason}"),
        AppEvent::SessionLost { reason } => format!("Session lost: {reason}"),
        AppEvent::Stopped => "Stopped".to_owned(),
        _ => return None,
    })
}

/// `3 friends`, `1 group`.
fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// `[group 开发组] Eve (ops): hello`; line breaks shown as `⏎ ` so one message is one line.
pub fn describe_message(message: &IncomingMessage) -> String {
    let place = match message.conversation.kind() {
        "friend" => format!("[{}]", message.conversation_name),
        "temporary" => format!("[temporary: {}]", message.conversation_name),
        kind => format!("[{kind} {}]", message.conversation_name),
    };
    let who = if message.own {
        "me"
    } else {
        &message.sender_name
    };
    format!(
        "{place} {who}: {}",
        message.text.replace("\r\n", "\n").replace('\n', "⏎ ")
    )
}

/// The JSON line `listen --json` prints for a message.
pub fn message_json(message: &IncomingMessage) -> serde_json::Value {
    serde_json::json!({
        "kind": message.conversation.kind(),
        "conversation": {
            "name": message.conversation_name,
            "id": message.conversation,
        },
        "from": {
            "name": message.sender_name,
            "uin": message.sender_uin,
            "qq": message.sender_qq,
            "own": message.own,
        },
        "time": message.time,
        "text": message.text,
        "segments": message.segments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_art_draws_a_square_of_half_blocks() {
        let art = qr_art("https://sandbox.gnomeqq.invalid/qr/1").unwrap();

        let lines: Vec<&str> = art.lines().collect();
        assert!(lines.len() > 10);
        assert!(
            lines
                .iter()
                .all(|l| l.chars().count() == lines[0].chars().count())
        );
        assert!(art.contains('▀') || art.contains('▄'));
    }
}

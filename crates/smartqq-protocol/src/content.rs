//! The message content codec (spec §5.4, §6.1).
//!
//! Received `content` is a JSON array: a font element, then text strings and faces. Outgoing
//! `content` is a *string* holding a JSON array whose last element is the font: it is encoded
//! twice, once here and once more when the request object around it is serialised. Both
//! levels go through `serde_json`, never through string formatting, so any Unicode text
//! survives byte for byte.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// One piece of a message, as GnomeQQ models it above the wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data", rename_all = "snake_case")]
pub enum Segment {
    /// Plain text; may contain any Unicode, line breaks included.
    Text(String),
    /// A classic QQ face by index (14 = smile). Unknown ids are kept as they are.
    Face(u32),
    /// An image the protocol does not deliver: legacy `offpic`/`cface`, or the empty message
    /// the 2018 server sent in place of a picture.
    Image,
}

impl Segment {
    /// Shortcut for a text segment.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }
}

/// Renders segments as one line of plain text: faces as `[face:N]`, images as `[image]`.
pub fn plain_text(segments: &[Segment]) -> String {
    let mut text = String::new();
    for segment in segments {
        match segment {
            Segment::Text(piece) => text.push_str(piece),
            Segment::Face(id) => text.push_str(&format!("[face:{id}]")),
            Segment::Image => text.push_str("[image]"),
        }
    }
    text
}

/// The font element that leads received content and closes outgoing content.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Font {
    /// Font family, e.g. `宋体`.
    pub name: String,
    /// Point size. Some clients sent it as a string; [`Font::from_wire`] accepts both.
    pub size: u32,
    /// Bold, italic, underline flags.
    pub style: [u8; 3],
    /// `RRGGBB` without `#`.
    pub color: String,
}

impl Default for Font {
    /// The font the web client sent (spec §6.2 examples).
    fn default() -> Self {
        Self {
            name: "宋体".to_owned(),
            size: 10,
            style: [0, 0, 0],
            color: "000000".to_owned(),
        }
    }
}

impl Font {
    /// Reads a font object leniently: missing or odd members fall back to the defaults.
    pub fn from_wire(value: &Value) -> Self {
        let default = Font::default();
        let size = match value.get("size") {
            Some(Value::Number(n)) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
            Some(Value::String(s)) => s.trim().parse().ok(),
            _ => None,
        };
        let style = value
            .get("style")
            .and_then(Value::as_array)
            .map(|flags| {
                let flag =
                    |i: usize| flags.get(i).and_then(Value::as_u64).unwrap_or(0).min(1) as u8;
                [flag(0), flag(1), flag(2)]
            })
            .unwrap_or(default.style);

        Self {
            name: value
                .get("name")
                .and_then(Value::as_str)
                .map_or(default.name, str::to_owned),
            size: size.unwrap_or(default.size),
            style,
            color: value
                .get("color")
                .and_then(Value::as_str)
                .map_or(default.color, str::to_owned),
        }
    }

    fn to_wire(&self) -> Value {
        // Member order as the web client wrote it: name, size, style, color.
        json!(["font", {"name": self.name, "size": self.size, "style": self.style, "color": self.color}])
    }
}

/// Received content decoded into segments (spec §5.4).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReceivedContent {
    /// The sender's font, when the content carried one.
    pub font: Option<Font>,
    /// Text runs (adjacent runs merged, entities decoded, line breaks normalised to LF),
    /// faces and image placeholders, in order.
    pub segments: Vec<Segment>,
}

impl ReceivedContent {
    /// Decodes a received `content` array. Never fails: elements it does not understand are
    /// skipped, and a content made of the font alone is the 2018 server's image message.
    pub fn from_wire(elements: &[Value]) -> Self {
        let mut content = ReceivedContent::default();
        for element in elements {
            match element {
                Value::String(text) => {
                    push_text(&mut content.segments, &decode_received_text(text))
                }
                Value::Array(parts) => match parts.first().and_then(Value::as_str) {
                    Some("font") if content.font.is_none() => {
                        content.font = Some(Font::from_wire(parts.get(1).unwrap_or(&Value::Null)));
                    }
                    Some("face") => {
                        let id = parts.get(1).and_then(Value::as_u64).unwrap_or(0);
                        content
                            .segments
                            .push(Segment::Face(u32::try_from(id).unwrap_or(u32::MAX)));
                    }
                    Some("offpic" | "cface" | "pic" | "image") => {
                        content.segments.push(Segment::Image)
                    }
                    _ => {}
                },
                _ => {}
            }
        }
        if content.segments.is_empty() && content.font.is_some() {
            content.segments.push(Segment::Image);
        }
        content
    }

    /// Encodes segments the way the server delivered them: font first, text HTML-escaped
    /// (`<`, `>`, `&`, spec §10.4), faces as `["face",N]`. Used by the sandbox.
    pub fn to_wire(font: &Font, segments: &[Segment]) -> Vec<Value> {
        let mut elements = vec![font.to_wire()];
        for segment in segments {
            match segment {
                Segment::Text(text) => elements.push(Value::String(escape_html(text))),
                Segment::Face(id) => elements.push(json!(["face", id])),
                Segment::Image => {}
            }
        }
        elements
    }

    /// The content as one line of plain text (see [`plain_text`]).
    pub fn plain_text(&self) -> String {
        plain_text(&self.segments)
    }
}

fn push_text(segments: &mut Vec<Segment>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Segment::Text(previous)) = segments.last_mut() {
        previous.push_str(text);
    } else {
        segments.push(Segment::text(text));
    }
}

/// Encodes outgoing segments into the `content` string of a send request (spec §6.1): the
/// inner array is serialised to text here; the caller serialises the request object around
/// it, which escapes that text a second time.
pub fn encode_outgoing(segments: &[Segment], font: &Font) -> String {
    let mut elements: Vec<Value> = Vec::with_capacity(segments.len() + 1);
    for segment in segments {
        match segment {
            Segment::Text(text) => elements.push(Value::String(text.clone())),
            Segment::Face(id) => elements.push(json!(["face", id])),
            // SmartQQ cannot send images (spec §6.1); the placeholder is sent as text so
            // that nothing the user wrote disappears without a trace.
            Segment::Image => elements.push(Value::String("[image]".to_owned())),
        }
    }
    elements.push(font.to_wire());
    Value::Array(elements).to_string()
}

/// Why an outgoing `content` string could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[non_exhaustive]
pub enum ContentError {
    /// The string is not JSON.
    #[error("content is not valid JSON")]
    NotJson,
    /// The JSON is not an array.
    #[error("content is not a JSON array")]
    NotArray,
    /// An element is neither text, a face nor a font.
    #[error("content element {0} is not text, a face or a font")]
    BadElement(usize),
}

/// Decodes an outgoing `content` string, as the server did: text exactly as sent, faces,
/// and the font (wherever it stands). The sandbox uses it to check what clients send.
pub fn decode_outgoing(content: &str) -> Result<(Vec<Segment>, Option<Font>), ContentError> {
    let value: Value = serde_json::from_str(content).map_err(|_| ContentError::NotJson)?;
    let Value::Array(elements) = value else {
        return Err(ContentError::NotArray);
    };

    let mut segments = Vec::new();
    let mut font = None;
    for (index, element) in elements.iter().enumerate() {
        match element {
            Value::String(text) => push_text(&mut segments, text),
            Value::Array(parts) => match (parts.first().and_then(Value::as_str), parts.get(1)) {
                (Some("font"), Some(value)) => font = Some(Font::from_wire(value)),
                (Some("face"), Some(id)) => {
                    let id = id.as_u64().and_then(|id| u32::try_from(id).ok());
                    segments.push(Segment::Face(id.ok_or(ContentError::BadElement(index))?));
                }
                _ => return Err(ContentError::BadElement(index)),
            },
            _ => return Err(ContentError::BadElement(index)),
        }
    }
    Ok((segments, font))
}

/// Escapes text as the server did on delivery: `&`, `<` and `>` only.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// The one decoding step applied to received text (spec §5.4, FAULTS BR-04): HTML entities
/// (`&lt;` `&gt;` `&amp;` `&quot;` `&apos;` `&nbsp;` and numeric `&#N;` / `&#xH;`) are
/// decoded once, in a single left-to-right pass, and CRLF or CR become LF. Anything that
/// looks like an entity but is not one stays as written.
pub fn decode_received_text(text: &str) -> String {
    let mut decoded = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(position) = rest.find(['&', '\r']) {
        decoded.push_str(&rest[..position]);
        rest = &rest[position..];
        if let Some(after) = rest.strip_prefix('\r') {
            decoded.push('\n');
            rest = after.strip_prefix('\n').unwrap_or(after);
            continue;
        }
        match decode_entity(rest) {
            Some((c, length)) => {
                decoded.push(c);
                rest = &rest[length..];
            }
            None => {
                decoded.push('&');
                rest = &rest[1..];
            }
        }
    }
    decoded.push_str(rest);
    decoded
}

/// Decodes the entity at the start of `text` (which begins with `&`), returning the
/// character and the entity's length in bytes.
fn decode_entity(text: &str) -> Option<(char, usize)> {
    // The longest entity we accept is `&#x10FFFF;` (10 bytes).
    let end = text.char_indices().take(12).find(|&(_, c)| c == ';')?.0;
    let name = &text[1..end];
    let c = match name {
        "lt" => '<',
        "gt" => '>',
        "amp" => '&',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        _ => {
            let number = name.strip_prefix('#')?;
            let code = match number.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => number.parse().ok()?,
            };
            char::from_u32(code)?
        }
    };
    Some((c, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str =
        "He said \"hi\"\\ ok\nline2\r\n\ttab \u{2028}\u{2029} 🙂👨‍👩‍👧 中文 C:\\new\\table";

    #[test]
    fn outgoing_content_matches_the_spec_worked_example() {
        let font = Font {
            name: "Arial".into(),
            ..Font::default()
        };
        let segments = [
            Segment::text("He said \"hi\"\\ ok\nline2"),
            Segment::Face(14),
        ];

        let content = encode_outgoing(&segments, &font);

        assert_eq!(
            content,
            r#"["He said \"hi\"\\ ok\nline2",["face",14],["font",{"name":"Arial","size":10,"style":[0,0,0],"color":"000000"}]]"#
        );
    }

    #[test]
    fn outgoing_content_round_trips_hostile_text_byte_for_byte() {
        let segments = vec![
            Segment::text(HOSTILE),
            Segment::Face(14),
            Segment::text(" end"),
        ];

        let (decoded, font) =
            decode_outgoing(&encode_outgoing(&segments, &Font::default())).unwrap();

        assert_eq!(decoded, segments);
        assert_eq!(font, Some(Font::default()));
    }

    #[test]
    fn outgoing_decoder_rejects_bad_shapes() {
        assert_eq!(decode_outgoing("not json"), Err(ContentError::NotJson));
        assert_eq!(decode_outgoing("{}"), Err(ContentError::NotArray));
        assert_eq!(decode_outgoing("[1]"), Err(ContentError::BadElement(0)));
        assert_eq!(
            decode_outgoing(r#"["a",["face",-1]]"#),
            Err(ContentError::BadElement(1))
        );
    }

    #[test]
    fn received_content_merges_text_and_keeps_faces() {
        let wire: Vec<Value> = serde_json::from_str(
            r#"[["font",{"color":"000000","name":"宋体","size":10,"style":[0,0,0]}],"@Bob"," hi all ",["face",14]," ok",["face",999]]"#,
        )
        .unwrap();

        let content = ReceivedContent::from_wire(&wire);

        assert_eq!(
            content.segments,
            vec![
                Segment::text("@Bob hi all "),
                Segment::Face(14),
                Segment::text(" ok"),
                Segment::Face(999)
            ]
        );
        assert_eq!(content.font.unwrap().name, "宋体");
    }

    #[test]
    fn received_font_alone_is_an_image_message() {
        let wire: Vec<Value> =
            serde_json::from_str(r#"[["font",{"name":"宋体","size":"9","style":[1,0,0]}]]"#)
                .unwrap();

        let content = ReceivedContent::from_wire(&wire);

        assert_eq!(content.segments, vec![Segment::Image]);
        let font = content.font.unwrap();
        assert_eq!(
            (font.size, font.style, font.color.as_str()),
            (9, [1, 0, 0], "000000")
        );
    }

    #[test]
    fn received_text_decodes_entities_once_and_normalises_line_breaks() {
        assert_eq!(decode_received_text("&lt;tag&gt; &amp; x"), "<tag> & x");
        assert_eq!(decode_received_text("&amp;lt;"), "&lt;");
        assert_eq!(decode_received_text("a\r\nb\rc\nd"), "a\nb\nc\nd");
        assert_eq!(
            decode_received_text("&#92;&#x1F642;&nbsp;&apos;&quot;"),
            "\\🙂\u{a0}'\""
        );
        assert_eq!(
            decode_received_text("AT&T &unknown; &#xZZ; &"),
            "AT&T &unknown; &#xZZ; &"
        );
    }

    #[test]
    fn delivery_escaping_round_trips_through_received_decoding() {
        let segments = vec![Segment::text("<?xml?> <b>bold</b> & &lt; \r\n")];

        let wire = ReceivedContent::to_wire(&Font::default(), &segments);
        let content = ReceivedContent::from_wire(&wire);

        assert_eq!(content.plain_text(), "<?xml?> <b>bold</b> & &lt; \n");
    }

    mod properties {
        use proptest::prelude::*;

        use super::super::*;

        proptest! {
            #[test]
            fn any_text_survives_the_outgoing_codec(text in any::<String>(), face in any::<u32>()) {
                prop_assume!(!text.is_empty());
                let segments = vec![Segment::Text(text), Segment::Face(face)];

                let (decoded, _) = decode_outgoing(&encode_outgoing(&segments, &Font::default())).unwrap();

                prop_assert_eq!(decoded, segments);
            }

            #[test]
            fn any_text_without_cr_survives_delivery(text in "[^\r]+") {
                let segments = vec![Segment::Text(text)];

                let wire = ReceivedContent::to_wire(&Font::default(), &segments);

                prop_assert_eq!(ReceivedContent::from_wire(&wire).segments, segments);
            }

            #[test]
            fn received_decoding_never_panics(text in any::<String>()) {
                let _ = decode_received_text(&text);
                let _ = decode_outgoing(&text);
            }
        }
    }
}

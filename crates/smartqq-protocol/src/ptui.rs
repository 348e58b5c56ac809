//! ptlogin JavaScript answers: `ptuiCB(…)`, `ptui_checkVC(…)`, `ptui_auth_CB(…)`.
//!
//! The ptlogin endpoints answer a single JavaScript call whose arguments are quoted strings
//! (§2.3 of the protocol specification). [`parse_js_call`] reads any such call; the types
//! below classify the QR poll (§3.3), the password `login` (§4.5) and the `pt4_auth`
//! resume (§3.8) answers, and [`format_ptui_cb`] writes them for the emulator.

use std::fmt;

/// Function name of the QR poll and password login answers.
pub const PTUI_CB: &str = "ptuiCB";

/// Function name of the `pt4_auth` answer.
pub const PTUI_AUTH_CB: &str = "ptui_auth_CB";

/// Why a ptlogin answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PtuiError {
    /// The text does not start with `name(`.
    #[error("answer is not a javascript call")]
    NotACall,
    /// Something other than a quoted string, `,` or `)` inside the argument list.
    #[error("unexpected character in the argument list at byte {0}")]
    UnexpectedChar(usize),
    /// A string literal that never closes.
    #[error("unterminated string starting at byte {0}")]
    UnterminatedString(usize),
    /// A `\x` or `\u` escape without enough hex digits.
    #[error("invalid escape sequence at byte {0}")]
    BadEscape(usize),
    /// Text after the closing `)` and optional `;`.
    #[error("unexpected text after the call at byte {0}")]
    TrailingText(usize),
    /// A well-formed call to another function than the endpoint answers with.
    #[error("expected a call to {expected}, found {found}")]
    WrongFunction {
        /// The function the endpoint answers with.
        expected: &'static str,
        /// The function found in the answer.
        found: String,
    },
    /// Fewer arguments than the answer needs.
    #[error("{function} needs at least {expected} arguments, found {found}")]
    MissingArguments {
        /// The function whose arguments are counted.
        function: &'static str,
        /// The minimum number of arguments.
        expected: usize,
        /// The number found.
        found: usize,
    },
    /// A success answer without the `check_sig` URL in its third argument.
    #[error("success answer has no check_sig url")]
    MissingCheckSigUrl,
}

/// One JavaScript call with string arguments, as the ptlogin endpoints answer.
///
/// `Debug` shows the name and the argument count only: the arguments can hold a `check_sig`
/// URL, which is a login credential.
#[derive(Clone, PartialEq, Eq)]
pub struct JsCall {
    /// The called function, e.g. `ptuiCB`.
    pub name: String,
    /// The decoded values of the string arguments, in order.
    pub args: Vec<String>,
}

impl JsCall {
    /// The argument at `index` (0-based), or `""` when the answer is shorter.
    pub fn arg(&self, index: usize) -> &str {
        self.args.get(index).map_or("", String::as_str)
    }

    /// Checks that this is a call to `expected` with at least `min_args` arguments.
    pub fn ensure(&self, expected: &'static str, min_args: usize) -> Result<(), PtuiError> {
        if self.name != expected {
            return Err(PtuiError::WrongFunction {
                expected,
                found: self.name.clone(),
            });
        }
        if self.args.len() < min_args {
            return Err(PtuiError::MissingArguments {
                function: expected,
                expected: min_args,
                found: self.args.len(),
            });
        }

        Ok(())
    }
}

impl fmt::Debug for JsCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JsCall")
            .field("name", &self.name)
            .field("arg_count", &self.args.len())
            .finish_non_exhaustive()
    }
}

/// Parses `name('a', "b", …);` into its name and decoded string arguments.
///
/// Whitespace (including CRLF and a byte-order mark) is allowed around every token, and the
/// trailing `;` is optional. Strings may use either quote and the usual JavaScript escapes
/// (`\'`, `\\`, `\n`, `\xHH`, `\uHHHH`, …); lone surrogates decode to U+FFFD.
pub fn parse_js_call(text: &str) -> Result<JsCall, PtuiError> {
    let mut cursor = Cursor { text, offset: 0 };

    cursor.skip_whitespace();
    let name = cursor.identifier().ok_or(PtuiError::NotACall)?;
    cursor.skip_whitespace();
    if !cursor.eat('(') {
        return Err(PtuiError::NotACall);
    }

    let args = cursor.arguments()?;
    cursor.skip_whitespace();
    cursor.eat(';');
    cursor.skip_whitespace();
    if cursor.peek().is_some() {
        return Err(PtuiError::TrailingText(cursor.offset));
    }

    Ok(JsCall {
        name: name.to_owned(),
        args,
    })
}

/// A byte-offset reader over the answer text.
struct Cursor<'a> {
    text: &'a str,
    offset: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<char> {
        self.text[self.offset..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.offset += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, expected: char) -> bool {
        let found = self.peek() == Some(expected);
        if found {
            self.offset += expected.len_utf8();
        }
        found
    }

    fn skip_whitespace(&mut self) {
        while self
            .peek()
            .is_some_and(|c| c.is_whitespace() || c == '\u{FEFF}')
        {
            self.bump();
        }
    }

    /// A dotted JavaScript name such as `ptuiCB` or `window.ptuiCB`.
    fn identifier(&mut self) -> Option<&'a str> {
        let start = self.offset;
        let is_name_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '.');
        if self
            .peek()
            .is_none_or(|c| c.is_ascii_digit() || !is_name_char(c))
        {
            return None;
        }
        while self.peek().is_some_and(is_name_char) {
            self.bump();
        }
        Some(&self.text[start..self.offset])
    }

    /// The argument list after `(`, up to and including `)`.
    fn arguments(&mut self) -> Result<Vec<String>, PtuiError> {
        let mut args = Vec::new();
        self.skip_whitespace();
        if self.eat(')') {
            return Ok(args);
        }

        loop {
            self.skip_whitespace();
            args.push(self.string()?);
            self.skip_whitespace();
            match self.bump() {
                Some(',') => {}
                Some(')') => return Ok(args),
                Some(c) => return Err(PtuiError::UnexpectedChar(self.offset - c.len_utf8())),
                None => return Err(PtuiError::UnexpectedChar(self.offset)),
            }
        }
    }

    /// A quoted string literal.
    fn string(&mut self) -> Result<String, PtuiError> {
        let start = self.offset;
        let Some(quote @ ('\'' | '"')) = self.peek() else {
            return Err(PtuiError::UnexpectedChar(start));
        };
        self.bump();

        self.literal_body(Some(quote), start)
    }

    /// Decodes characters up to the closing `quote`, or to the end of the text when `quote`
    /// is `None`. The value is built from UTF-16 units because `\uHHHH` escapes may spell a
    /// surrogate pair in two halves.
    fn literal_body(&mut self, quote: Option<char>, start: usize) -> Result<String, PtuiError> {
        let mut units: Vec<u16> = Vec::new();
        loop {
            let at = self.offset;
            let Some(c) = self.bump() else {
                return match quote {
                    Some(_) => Err(PtuiError::UnterminatedString(start)),
                    None => Ok(String::from_utf16_lossy(&units)),
                };
            };
            if Some(c) == quote {
                return Ok(String::from_utf16_lossy(&units));
            }
            if c == '\\' {
                self.escape(at, start, &mut units)?;
            } else {
                push_char(&mut units, c);
            }
        }
    }

    /// Decodes one escape sequence whose backslash is at byte `at`.
    fn escape(&mut self, at: usize, start: usize, units: &mut Vec<u16>) -> Result<(), PtuiError> {
        let escaped = self.bump().ok_or(PtuiError::UnterminatedString(start))?;
        let unit = match escaped {
            'n' => 0x0A,
            'r' => 0x0D,
            't' => 0x09,
            'b' => 0x08,
            'f' => 0x0C,
            'v' => 0x0B,
            '0' => 0x00,
            'x' => self.hex_unit(2).ok_or(PtuiError::BadEscape(at))?,
            'u' => self.hex_unit(4).ok_or(PtuiError::BadEscape(at))?,
            // A backslash before a line break continues the literal on the next line.
            '\r' => {
                self.eat('\n');
                return Ok(());
            }
            '\n' | '\u{2028}' | '\u{2029}' => return Ok(()),
            other => {
                push_char(units, other);
                return Ok(());
            }
        };
        units.push(unit);

        Ok(())
    }

    /// Exactly `digits` hex digits as one UTF-16 unit.
    fn hex_unit(&mut self, digits: usize) -> Option<u16> {
        let hex = self.text.get(self.offset..self.offset + digits)?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.offset += digits;
        u16::from_str_radix(hex, 16).ok()
    }
}

/// Decodes the inside of a JavaScript string literal (without its quotes), e.g. the salt
/// text `\x00\x00\x00\x00\x07\x5b\xcd\x15` of a `ptui_checkVC` answer.
pub fn unescape_js_string(body: &str) -> Result<String, PtuiError> {
    let mut cursor = Cursor {
        text: body,
        offset: 0,
    };
    cursor.literal_body(None, 0)
}

fn push_char(units: &mut Vec<u16>, c: char) {
    let mut buffer = [0u16; 2];
    units.extend_from_slice(c.encode_utf16(&mut buffer));
}

/// Escapes `value` for a single-quoted JavaScript literal, without the quotes.
///
/// Backslash and `'` are escaped, and so are CR and LF, which may not appear raw inside a
/// literal; everything else, Chinese text included, is written as is, like the server does.
pub fn escape_js_string(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '\'' => escaped.push_str("\\'"),
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            other => escaped.push(other),
        }
    }
    escaped
}

/// Writes `name('a','b',…);` with every argument escaped and no spaces.
pub fn format_js_call(name: &str, args: &[&str]) -> String {
    let quoted: Vec<String> = args
        .iter()
        .map(|arg| format!("'{}'", escape_js_string(arg)))
        .collect();
    format!("{name}({});", quoted.join(","))
}

/// Writes a `ptuiCB` answer exactly as ptlogin did: `ptuiCB('a','b','c','d','e', 'f');`.
///
/// The single space before the sixth argument is part of the real format; iqq's parser
/// depended on it, so the emulator reproduces it.
pub fn format_ptui_cb(args: &[&str; 6]) -> String {
    let [a, b, c, d, e, f] = args.map(escape_js_string);
    format!("{PTUI_CB}('{a}','{b}','{c}','{d}','{e}', '{f}');")
}

/// State of a QR login, from the `ptqrlogin` answer (§3.3).
#[derive(Clone, PartialEq, Eq)]
pub enum QrLoginState {
    /// Code 66: the QR code is valid and not scanned yet.
    Waiting,
    /// Code 67: scanned, waiting for confirmation on the phone.
    Scanned,
    /// Code 65: expired; fetch a new QR code.
    Expired,
    /// Code 0: confirmed; continue at `check_sig`.
    Confirmed {
        /// The URL to GET next, verbatim (it carries the one-shot `ptsigx`).
        check_sig_url: String,
        /// The account's nickname (sixth argument).
        nickname: String,
    },
    /// Any other code: fatal for this QR code.
    Other {
        /// The first argument as sent.
        code: String,
        /// The human-readable text (fifth argument).
        message: String,
    },
}

impl QrLoginState {
    /// Parses and classifies a `ptqrlogin` answer.
    pub fn parse(text: &str) -> Result<Self, PtuiError> {
        Self::from_call(&parse_js_call(text)?)
    }

    /// Classifies a parsed `ptuiCB` call.
    ///
    /// The code decides for 66, 67, 65 and 0. Only for another code do the texts
    /// `未失效`, `认证中`, `已失效`, `登录成功` decide, because one source's hand-edited
    /// fixtures pair 66 with `认证中` while every live client trusted the code.
    pub fn from_call(call: &JsCall) -> Result<Self, PtuiError> {
        call.ensure(PTUI_CB, 1)?;
        let message = call.arg(4);

        let state = match call.arg(0).trim() {
            "66" => Self::Waiting,
            "67" => Self::Scanned,
            "65" => Self::Expired,
            "0" => confirmed(call)?,
            _ if message.contains("未失效") => Self::Waiting,
            _ if message.contains("认证中") => Self::Scanned,
            _ if message.contains("已失效") => Self::Expired,
            _ if message.contains("登录成功") && !call.arg(2).is_empty() => confirmed(call)?,
            code => Self::Other {
                code: code.to_owned(),
                message: message.to_owned(),
            },
        };

        Ok(state)
    }

    /// The body the server sends for this state, with the texts of §3.3.
    pub fn to_ptui_cb(&self) -> String {
        match self {
            Self::Waiting => format_ptui_cb(&["66", "0", "", "0", "二维码未失效。", ""]),
            Self::Scanned => format_ptui_cb(&["67", "0", "", "0", "二维码认证中。", ""]),
            Self::Expired => format_ptui_cb(&["65", "0", "", "0", "二维码已失效。", ""]),
            Self::Confirmed {
                check_sig_url,
                nickname,
            } => format_ptui_cb(&["0", "0", check_sig_url, "0", "登录成功！", nickname]),
            Self::Other { code, message } => format_ptui_cb(&[code, "0", "", "0", message, ""]),
        }
    }
}

fn confirmed(call: &JsCall) -> Result<QrLoginState, PtuiError> {
    let (check_sig_url, nickname) = success_fields(call)?;
    Ok(QrLoginState::Confirmed {
        check_sig_url,
        nickname,
    })
}

fn success_fields(call: &JsCall) -> Result<(String, String), PtuiError> {
    let url = call.arg(2);
    if url.is_empty() {
        return Err(PtuiError::MissingCheckSigUrl);
    }
    Ok((url.to_owned(), call.arg(5).to_owned()))
}

impl fmt::Debug for QrLoginState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Waiting => f.write_str("Waiting"),
            Self::Scanned => f.write_str("Scanned"),
            Self::Expired => f.write_str("Expired"),
            Self::Confirmed { nickname, .. } => f
                .debug_struct("Confirmed")
                .field("nickname", nickname)
                .finish_non_exhaustive(),
            Self::Other { code, message } => f
                .debug_struct("Other")
                .field("code", code)
                .field("message", message)
                .finish(),
        }
    }
}

/// Outcome of a password `login` answer (§4.5).
#[derive(Clone, PartialEq, Eq)]
pub enum PasswordLoginResult {
    /// Code 0: continue at `check_sig`.
    Success {
        /// The URL to GET next, verbatim.
        check_sig_url: String,
        /// The account's nickname (sixth argument).
        nickname: String,
    },
    /// Code 3: wrong account or password.
    WrongPassword {
        /// The server's text.
        message: String,
    },
    /// Code 4: wrong captcha answer, or (`'4','2'`) the login page expired.
    WrongCaptcha {
        /// The server's text.
        message: String,
    },
    /// Code 7: parameter or network error on the server side.
    ParameterError {
        /// The server's text.
        message: String,
    },
    /// Code 19 (frozen account) and every other code, e.g. 24 (cookies disabled) or 10005.
    AccountProblem {
        /// The first argument as sent.
        code: String,
        /// The server's text, the only explanation the user gets.
        message: String,
    },
}

impl PasswordLoginResult {
    /// Parses and classifies a `login` answer.
    pub fn parse(text: &str) -> Result<Self, PtuiError> {
        Self::from_call(&parse_js_call(text)?)
    }

    /// Classifies a parsed `ptuiCB` call by its code.
    pub fn from_call(call: &JsCall) -> Result<Self, PtuiError> {
        call.ensure(PTUI_CB, 1)?;
        let message = call.arg(4).to_owned();

        let result = match call.arg(0).trim() {
            "0" => {
                let (check_sig_url, nickname) = success_fields(call)?;
                Self::Success {
                    check_sig_url,
                    nickname,
                }
            }
            "3" => Self::WrongPassword { message },
            "4" => Self::WrongCaptcha { message },
            "7" => Self::ParameterError { message },
            code => Self::AccountProblem {
                code: code.to_owned(),
                message,
            },
        };

        Ok(result)
    }
}

impl fmt::Debug for PasswordLoginResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Success { nickname, .. } => f
                .debug_struct("Success")
                .field("nickname", nickname)
                .finish_non_exhaustive(),
            Self::WrongPassword { message } => f
                .debug_struct("WrongPassword")
                .field("message", message)
                .finish(),
            Self::WrongCaptcha { message } => f
                .debug_struct("WrongCaptcha")
                .field("message", message)
                .finish(),
            Self::ParameterError { message } => f
                .debug_struct("ParameterError")
                .field("message", message)
                .finish(),
            Self::AccountProblem { code, message } => f
                .debug_struct("AccountProblem")
                .field("code", code)
                .field("message", message)
                .finish(),
        }
    }
}

/// Reads a `pt4_auth` answer `ptui_auth_CB('code','url');` (§3.8).
///
/// Returns the fresh `check_sig` URL when the second argument is one; `None` means the
/// stored login is no longer valid and a full QR login is needed. The code is not
/// interpreted because no source documents its values.
pub fn parse_auth_cb(text: &str) -> Result<Option<String>, PtuiError> {
    let call = parse_js_call(text)?;
    call.ensure(PTUI_AUTH_CB, 2)?;

    let url = call.arg(1);
    let is_url = url.starts_with("http://") || url.starts_with("https://");

    Ok(is_url.then(|| url.to_owned()))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const CHECK_SIG_URL: &str = concat!(
        "http://ptlogin4.web2.qq.com/check_sig?pttype=1&uin=2400000001&service=ptqrlogin",
        "&nodirect=0&ptsigx=",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        "&s_url=http%3A%2F%2Fw.qq.com%2Fproxy.html%3Flogin2qq%3D1%26webqq_type%3D10",
        "&f_url=&ptlang=2052&ptredirect=100&aid=501004106&daid=164&j_later=0",
        "&low_login_hour=0&regmaster=0&pt_login_type=3&pt_aid=0&pt_aaid=16&pt_light=0",
        "&pt_3rd_aid=0",
    );

    #[test]
    fn parse_js_call_reads_name_and_arguments() {
        let text = "ptuiCB('66','0','','0','二维码未失效。', '');";

        let call = parse_js_call(text).expect("spec body parses");

        assert_eq!(call.name, "ptuiCB");
        assert_eq!(call.args, ["66", "0", "", "0", "二维码未失效。", ""]);
    }

    #[test]
    fn parse_js_call_tolerates_spaces_crlf_and_missing_semicolon() {
        let text = "\u{FEFF} ptui_auth_CB ( 'a' ,\t\"b\" , 'c' )\r\n";

        let call = parse_js_call(text).expect("loose body parses");

        assert_eq!(call.name, "ptui_auth_CB");
        assert_eq!(call.args, ["a", "b", "c"]);
    }

    #[test]
    fn parse_js_call_decodes_escapes() {
        let text = r#"f('it\'s','a\\b','\x00\x5b\xCD','\u4e8c\ud83d\ude00','q\"\z\n');"#;

        let call = parse_js_call(text).expect("escaped body parses");

        assert_eq!(
            call.args,
            ["it's", "a\\b", "\0[\u{CD}", "二\u{1F600}", "q\"z\n"]
        );
    }

    #[test]
    fn unescape_js_string_decodes_a_literal_body() {
        let body = r"\x00\x07[\xcd it's \\";

        let decoded = unescape_js_string(body);

        assert_eq!(decoded.as_deref(), Ok("\0\u{7}[\u{CD} it's \\"));
    }

    #[test]
    fn parse_js_call_accepts_an_empty_argument_list() {
        let call = parse_js_call("noop();").expect("empty call parses");

        assert_eq!(call.name, "noop");
        assert!(call.args.is_empty());
    }

    #[test]
    fn parse_js_call_reports_malformed_answers() {
        let cases = [
            ("<html>", PtuiError::NotACall),
            ("ptuiCB", PtuiError::NotACall),
            ("ptuiCB('a',0);", PtuiError::UnexpectedChar(11)),
            ("ptuiCB('a' 'b');", PtuiError::UnexpectedChar(11)),
            ("ptuiCB('a", PtuiError::UnterminatedString(7)),
            ("ptuiCB('a\\", PtuiError::UnterminatedString(7)),
            ("ptuiCB('\\x4');", PtuiError::BadEscape(8)),
            ("ptuiCB('a'", PtuiError::UnexpectedChar(10)),
            ("ptuiCB('a'); x", PtuiError::TrailingText(13)),
        ];

        for (text, expected) in cases {
            let result = parse_js_call(text);

            assert_eq!(result, Err(expected), "{text:?}");
        }
    }

    #[test]
    fn qr_states_parse_from_spec_bodies() {
        let cases = [
            (
                "ptuiCB('66','0','','0','二维码未失效。', '');",
                QrLoginState::Waiting,
            ),
            (
                "ptuiCB('67','0','','0','二维码认证中。', '');",
                QrLoginState::Scanned,
            ),
            (
                "ptuiCB('65','0','','0','二维码已失效。', '');",
                QrLoginState::Expired,
            ),
            (
                "ptuiCB('66','0','','0','二维码未失效。(1234567890)', '');\r\n",
                QrLoginState::Waiting,
            ),
        ];

        for (text, expected) in cases {
            let state = QrLoginState::parse(text);

            assert_eq!(state, Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn qr_confirmed_carries_check_sig_url_and_nickname() {
        let text = format!("ptuiCB('0','0','{CHECK_SIG_URL}','0','登录成功！', 'Alice');");

        let state = QrLoginState::parse(&text);

        let expected = QrLoginState::Confirmed {
            check_sig_url: CHECK_SIG_URL.to_owned(),
            nickname: "Alice".to_owned(),
        };
        assert_eq!(state, Ok(expected));
    }

    #[test]
    fn qr_code_wins_over_contradicting_text() {
        let text = "ptuiCB('66','0','','0','二维码认证中。', '');";

        let state = QrLoginState::parse(text);

        assert_eq!(state, Ok(QrLoginState::Waiting));
    }

    #[test]
    fn qr_text_decides_when_code_is_unexpected() {
        let cases = [
            (
                "ptuiCB('99','0','','0','二维码未失效。(1234567890)', '');",
                QrLoginState::Waiting,
            ),
            (
                "ptuiCB('','0','','0','二维码认证中。', '');",
                QrLoginState::Scanned,
            ),
            (
                "ptuiCB('1','0','','0','二维码已失效。', '');",
                QrLoginState::Expired,
            ),
        ];

        for (text, expected) in cases {
            let state = QrLoginState::parse(text);

            assert_eq!(state, Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn qr_success_text_with_url_confirms_despite_unexpected_code() {
        let text = format!("ptuiCB('1','0','{CHECK_SIG_URL}','0','登录成功！', 'Alice');");

        let state = QrLoginState::parse(&text);

        let expected = QrLoginState::Confirmed {
            check_sig_url: CHECK_SIG_URL.to_owned(),
            nickname: "Alice".to_owned(),
        };
        assert_eq!(state, Ok(expected));
    }

    #[test]
    fn qr_unknown_code_and_text_is_other() {
        let text = "ptuiCB('10006','0','','0','请求失败', '');";

        let state = QrLoginState::parse(text);

        let expected = QrLoginState::Other {
            code: "10006".to_owned(),
            message: "请求失败".to_owned(),
        };
        assert_eq!(state, Ok(expected));
    }

    #[test]
    fn qr_confirmed_without_url_is_an_error() {
        let text = "ptuiCB('0','0','','0','登录成功！', 'Alice');";

        let state = QrLoginState::parse(text);

        assert_eq!(state, Err(PtuiError::MissingCheckSigUrl));
    }

    #[test]
    fn qr_state_rejects_other_functions() {
        let text = "ptui_checkVC('0','!ABC','\\x00');";

        let state = QrLoginState::parse(text);

        let expected = PtuiError::WrongFunction {
            expected: PTUI_CB,
            found: "ptui_checkVC".into(),
        };
        assert_eq!(state, Err(expected));
    }

    #[test]
    fn qr_states_format_to_spec_bodies() {
        let confirmed = QrLoginState::Confirmed {
            check_sig_url: CHECK_SIG_URL.to_owned(),
            nickname: "Alice".to_owned(),
        };

        let bodies = [
            QrLoginState::Waiting.to_ptui_cb(),
            QrLoginState::Scanned.to_ptui_cb(),
            QrLoginState::Expired.to_ptui_cb(),
            confirmed.to_ptui_cb(),
        ];

        assert_eq!(bodies[0], "ptuiCB('66','0','','0','二维码未失效。', '');");
        assert_eq!(bodies[1], "ptuiCB('67','0','','0','二维码认证中。', '');");
        assert_eq!(bodies[2], "ptuiCB('65','0','','0','二维码已失效。', '');");
        assert_eq!(
            bodies[3],
            format!("ptuiCB('0','0','{CHECK_SIG_URL}','0','登录成功！', 'Alice');")
        );
    }

    #[test]
    fn qr_confirmed_debug_hides_the_check_sig_url() {
        let state = QrLoginState::Confirmed {
            check_sig_url: CHECK_SIG_URL.to_owned(),
            nickname: "Alice".to_owned(),
        };

        let debug = format!("{state:?} {:?}", parse_js_call(&state.to_ptui_cb()));

        assert!(!debug.contains("ptsigx"), "{debug}");
        assert!(debug.contains("Alice"));
    }

    #[test]
    fn format_ptui_cb_escapes_quotes_and_backslashes() {
        let args = ["0", "0", "", "0", "it's a \\ test", "O'Neil"];

        let body = format_ptui_cb(&args);

        assert_eq!(
            body,
            r"ptuiCB('0','0','','0','it\'s a \\ test', 'O\'Neil');"
        );
    }

    #[test]
    fn format_js_call_writes_no_spaces() {
        let body = format_js_call("ptui_auth_CB", &["0", "http://x/'"]);

        assert_eq!(body, r"ptui_auth_CB('0','http://x/\'');");
    }

    #[test]
    fn password_login_answers_are_classified_by_code() {
        let success = format!("ptuiCB('0','0','{CHECK_SIG_URL}','0','登录成功！', 'Bob');");
        let cases = [
            (
                success.as_str(),
                PasswordLoginResult::Success {
                    check_sig_url: CHECK_SIG_URL.to_owned(),
                    nickname: "Bob".to_owned(),
                },
            ),
            (
                "ptuiCB('3','0','','0','密码错误', '');",
                PasswordLoginResult::WrongPassword {
                    message: "密码错误".to_owned(),
                },
            ),
            (
                "ptuiCB('4','2','','0','页面过期', '');",
                PasswordLoginResult::WrongCaptcha {
                    message: "页面过期".to_owned(),
                },
            ),
            (
                "ptuiCB('7','0','','0','参数错误', '');",
                PasswordLoginResult::ParameterError {
                    message: "参数错误".to_owned(),
                },
            ),
            (
                "ptuiCB('19','0','','0','帐号冻结', '');",
                PasswordLoginResult::AccountProblem {
                    code: "19".to_owned(),
                    message: "帐号冻结".to_owned(),
                },
            ),
            (
                "ptuiCB('24','0','','0','cookies', '');",
                PasswordLoginResult::AccountProblem {
                    code: "24".to_owned(),
                    message: "cookies".to_owned(),
                },
            ),
        ];

        for (text, expected) in cases {
            let result = PasswordLoginResult::parse(text);

            assert_eq!(result, Ok(expected), "{text:?}");
        }
    }

    #[test]
    fn auth_cb_yields_url_only_when_login_is_valid() {
        let valid = format!("ptui_auth_CB('0','{CHECK_SIG_URL}');");
        let invalid = "ptui_auth_CB('1','');";

        let fresh = parse_auth_cb(&valid);
        let stale = parse_auth_cb(invalid);

        assert_eq!(fresh, Ok(Some(CHECK_SIG_URL.to_owned())));
        assert_eq!(stale, Ok(None));
    }

    /// Short texts made of the characters the parser branches on, so that proptest reaches
    /// escapes, separators and truncations far more often than with arbitrary strings.
    const CALL_LIKE: &str = r"[a-z]{0,3}\(?[ '\x22\\x0-9a-fu,;()\r\n]{0,24}";

    proptest! {
        #[test]
        fn format_then_parse_round_trips(args in any::<[String; 6]>()) {
            let refs: [&str; 6] = [&args[0], &args[1], &args[2], &args[3], &args[4], &args[5]];

            let call = parse_js_call(&format_ptui_cb(&refs));

            prop_assert_eq!(call, Ok(JsCall { name: PTUI_CB.to_owned(), args: args.to_vec() }));
        }

        #[test]
        fn parser_never_panics(text in any::<String>()) {
            let _ = parse_js_call(&text);
        }

        #[test]
        fn parser_never_panics_on_call_like_text(text in CALL_LIKE) {
            let _ = parse_js_call(&text);
            let _ = QrLoginState::parse(&text);
            let _ = PasswordLoginResult::parse(&text);
        }
    }
}

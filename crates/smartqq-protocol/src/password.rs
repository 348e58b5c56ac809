//! The ptlogin password field `p` and the `check` answer that supplies its salt.
//!
//! Two generations are implemented (§4.4 of the protocol specification): the MD5 era and
//! Gen A (RSA-1024 inside QQTEA). Both sides are here: the client builds `p`, the sandbox
//! verifies it from the account's password without any RSA private key.
//
// TODO: Gen B (RSA-2048 outside TEA, 2018) needs a configurable public key; no issue: the
// legacy login GnomeQQ offers predates it, and the sandbox stages md5 and gen_a only.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use md5::{Digest, Md5};
use num_bigint::BigUint;
use serde::{Deserialize, Serialize};

use crate::ptui::{self, JsCall, PtuiError};
use crate::tea;

/// Function name of the `check` answer.
pub const PTUI_CHECK_VC: &str = "ptui_checkVC";

/// Modulus of "key A", the RSA-1024 key of Gen A (public exponent 3).
const KEY_A_MODULUS: &str = concat!(
    "F20CE00BAE5361F8FA3AE9CEFA495362FF7DA1BA628F64A347F0A8C012BF0B25",
    "4A30CD92ABFFE7A6EE0DC424CB6166F8819EFA5BCCB20EDFB4AD02E412CCF579",
    "B1CA711D55B8B0B3AEB60153D5E0693A2A86F3167D7847A0CB8B00004716A909",
    "5D9BADC977CBB804DBDCBA6029A9710869A453F27DFDDF83C016D928B3CBF4C7",
);

/// Byte length of key A's modulus, and so of every RSA block of Gen A.
const KEY_A_LEN: usize = 128;

/// Public exponent of key A.
const KEY_A_EXPONENT: u32 = 3;

/// Which password field generation a server era expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordGeneration {
    /// Upper-hex MD5 chain over password hash, salt and verify code (≤ 2015-03).
    Md5,
    /// RSA-1024 of the password hash inside a QQTEA envelope (2015-03 → ~2017).
    GenA,
}

impl PasswordGeneration {
    /// Every generation this crate implements.
    pub const ALL: [Self; 2] = [Self::Md5, Self::GenA];

    /// The snake-case name used in configuration files and by serde.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Md5 => "md5",
            Self::GenA => "gen_a",
        }
    }
}

impl fmt::Display for PasswordGeneration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PasswordGeneration {
    type Err = UnknownPasswordGeneration;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|generation| generation.as_str() == s)
            .ok_or_else(|| UnknownPasswordGeneration(s.to_owned()))
    }
}

/// A name that is not one of `md5`, `gen_a`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("unknown password generation {0:?} (expected md5 or gen_a)")]
pub struct UnknownPasswordGeneration(pub String);

/// Why the sandbox rejects a password field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PasswordFieldError {
    /// The field cannot be decoded at all: wrong alphabet, length or layout.
    #[error("malformed password field: {0}")]
    Malformed(&'static str),
    /// The field was built from another password or salt. In MD5 mode a wrong verify code
    /// also lands here, because that hash mixes both inputs inseparably.
    #[error("wrong password or salt")]
    WrongPassword,
    /// The password is right but the verify code is not the one issued.
    #[error("wrong verify code")]
    WrongVerifyCode,
}

/// The 8-byte salt of an account: its QQ number, big-endian.
pub fn salt_for_qq(qq: u64) -> [u8; 8] {
    qq.to_be_bytes()
}

/// `p` of the MD5 era: upper-hex MD5( upper-hex(MD5(H1 ‖ S)) ‖ V ).
pub fn md5_era(password: &str, salt: &[u8; 8], verify_code: &str) -> String {
    let key = tea_key(password, salt);
    let mut outer = Md5::new();
    outer.update(hex::encode_upper(key));
    outer.update(verify_code.to_ascii_uppercase());

    hex::encode_upper(outer.finalize())
}

/// `p` of Gen A: `b64*(QQTEA(K, u16(128) ‖ RSA_A(H1) ‖ S ‖ u16(len V) ‖ V))`.
///
/// `random` supplies, in this order, the PKCS#1 padding string (zeros are drawn again, as
/// the padding must not contain any), the TEA header byte and the TEA fill bytes. The RSA
/// length is always written as 128, like PiWebQQ, even when the block has leading zeros.
pub fn gen_a(
    password: &str,
    salt: &[u8; 8],
    verify_code: &str,
    mut random: impl FnMut() -> u8,
) -> String {
    let h1 = password_md5(password);
    let rsa = rsa_key_a(&h1, &mut random);
    let verify = verify_code.to_ascii_uppercase();

    let mut plain = Vec::with_capacity(2 + rsa.len() + salt.len() + 2 + verify.len());
    push_length_prefixed(&mut plain, &rsa);
    plain.extend_from_slice(salt);
    push_length_prefixed(&mut plain, verify.as_bytes());

    b64_star_encode(&tea::encrypt(&tea_key(password, salt), &plain, random))
}

/// Checks a password field as the sandbox's `login` endpoint does.
///
/// Gen A is checked without the RSA private key (§4.4 "Emulator:"): the TEA layer is opened
/// with `K`, which only the right password and salt give, the RSA blob is skipped, and the
/// salt and verify code inside are compared. The verify code is compared ignoring case.
pub fn verify(
    mode: PasswordGeneration,
    password: &str,
    salt: &[u8; 8],
    verify_code: &str,
    p: &str,
) -> Result<(), PasswordFieldError> {
    match mode {
        PasswordGeneration::Md5 => verify_md5(password, salt, verify_code, p),
        PasswordGeneration::GenA => verify_gen_a(password, salt, verify_code, p),
    }
}

fn verify_md5(
    password: &str,
    salt: &[u8; 8],
    verify_code: &str,
    p: &str,
) -> Result<(), PasswordFieldError> {
    if p.len() != 32 || !p.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(PasswordFieldError::Malformed("expected 32 hex digits"));
    }

    if p.eq_ignore_ascii_case(&md5_era(password, salt, verify_code)) {
        Ok(())
    } else {
        Err(PasswordFieldError::WrongPassword)
    }
}

fn verify_gen_a(
    password: &str,
    salt: &[u8; 8],
    verify_code: &str,
    p: &str,
) -> Result<(), PasswordFieldError> {
    let cipher = b64_star_decode(p).ok_or(PasswordFieldError::Malformed("not b64* text"))?;

    let plain = tea::decrypt(&tea_key(password, salt), &cipher).map_err(|error| match error {
        tea::TeaError::BadLength(_) => PasswordFieldError::Malformed("not whole tea blocks"),
        // Any other failure means the key K, hence password or salt, differs.
        _ => PasswordFieldError::WrongPassword,
    })?;
    let fields = GenAFields::parse(&plain)?;

    if fields.salt != salt {
        return Err(PasswordFieldError::WrongPassword);
    }
    if !fields
        .verify_code
        .eq_ignore_ascii_case(verify_code.as_bytes())
    {
        return Err(PasswordFieldError::WrongVerifyCode);
    }

    Ok(())
}

/// The TEA plaintext of Gen A, split into the fields the sandbox can check; the RSA block
/// is only length-checked, as opening it would need key A's private half.
#[derive(Debug)]
struct GenAFields<'a> {
    salt: &'a [u8],
    verify_code: &'a [u8],
}

impl<'a> GenAFields<'a> {
    fn parse(plain: &'a [u8]) -> Result<Self, PasswordFieldError> {
        const TRUNCATED: PasswordFieldError = PasswordFieldError::Malformed("truncated plaintext");

        let (rsa, rest) = split_length_prefixed(plain).ok_or(TRUNCATED)?;
        let (salt, rest) = rest.split_at_checked(8).ok_or(TRUNCATED)?;
        let (verify_code, rest) = split_length_prefixed(rest).ok_or(TRUNCATED)?;
        if !rest.is_empty() {
            return Err(PasswordFieldError::Malformed("trailing bytes in plaintext"));
        }
        // The web JS drops leading zero bytes of the RSA block, so shorter is legal.
        if rsa.is_empty() || rsa.len() > KEY_A_LEN {
            return Err(PasswordFieldError::Malformed("rsa block length"));
        }

        Ok(Self { salt, verify_code })
    }
}

/// `H1` = MD5(password) as raw bytes; the password is hashed as UTF-8.
fn password_md5(password: &str) -> [u8; 16] {
    Md5::digest(password.as_bytes()).into()
}

/// `K` = MD5(H1 ‖ S), the TEA key of Gen A and the inner hash of the MD5 era.
fn tea_key(password: &str, salt: &[u8; 8]) -> [u8; 16] {
    let mut hasher = Md5::new();
    hasher.update(password_md5(password));
    hasher.update(salt);
    hasher.finalize().into()
}

/// RSA-PKCS#1-v1.5 (type 2) encryption of `message` with key A, as 128 bytes.
fn rsa_key_a(message: &[u8; 16], random: &mut impl FnMut() -> u8) -> Vec<u8> {
    let padding_len = KEY_A_LEN - 3 - message.len();
    let mut block = Vec::with_capacity(KEY_A_LEN);
    block.extend_from_slice(&[0x00, 0x02]);
    block.extend((0..padding_len).map(|_| nonzero_byte(random)));
    block.push(0x00);
    block.extend_from_slice(message);

    let modulus = BigUint::parse_bytes(KEY_A_MODULUS.as_bytes(), 16)
        .expect("key A modulus is a hex constant");
    let cipher = BigUint::from_bytes_be(&block).modpow(&BigUint::from(KEY_A_EXPONENT), &modulus);

    // The result is below the 128-byte modulus; left-pad it to the full block width.
    let bytes = cipher.to_bytes_be();
    let mut out = vec![0u8; KEY_A_LEN - bytes.len()];
    out.extend_from_slice(&bytes);
    out
}

/// PKCS#1 padding bytes must not be zero, so zeros are drawn again. The bound only keeps a
/// broken source that yields nothing but zeros from hanging the caller.
fn nonzero_byte(random: &mut impl FnMut() -> u8) -> u8 {
    (0..256)
        .map(|_| random())
        .find(|&byte| byte != 0)
        .unwrap_or(1)
}

/// Appends `u16(len) ‖ bytes`; every field here is far below 64 KiB.
fn push_length_prefixed(buffer: &mut Vec<u8>, bytes: &[u8]) {
    let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
    buffer.extend_from_slice(&len.to_be_bytes());
    buffer.extend_from_slice(bytes);
}

fn split_length_prefixed(buffer: &[u8]) -> Option<(&[u8], &[u8])> {
    let (len, rest) = buffer.split_first_chunk::<2>()?;
    rest.split_at_checked(usize::from(u16::from_be_bytes(*len)))
}

/// Standard Base64 with `/`→`-`, `+`→`*`, `=`→`_`, so the field survives a query string.
fn b64_star_encode(bytes: &[u8]) -> String {
    STANDARD
        .encode(bytes)
        .chars()
        .map(|c| match c {
            '/' => '-',
            '+' => '*',
            '=' => '_',
            other => other,
        })
        .collect()
}

fn b64_star_decode(text: &str) -> Option<Vec<u8>> {
    let standard: String = text
        .chars()
        .map(|c| match c {
            '-' => '/',
            '*' => '+',
            '_' => '=',
            other => other,
        })
        .collect();
    STANDARD.decode(standard).ok()
}

/// The answer of the `check` endpoint:
/// `ptui_checkVC('need','code','salt escapes','vsession','randsalt');` (§4.2).
///
/// `Debug` leaves out `verify_session`, which stands in for a login credential.
#[derive(Clone, PartialEq, Eq)]
pub struct CheckAnswer {
    /// `need` = `1`: the user must solve a captcha first.
    pub captcha_required: bool,
    /// The verify code to send (no captcha), or the captcha id `cap_cd` (captcha).
    pub code: String,
    /// The account's 8 salt bytes.
    pub salt: [u8; 8],
    /// Sent back as `pt_verifysession_v1`; empty in older three-argument answers.
    pub verify_session: String,
    /// Sent back as `pt_randsalt`; empty in older three-argument answers.
    pub rand_salt: String,
}

/// Why a `check` answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckAnswerError {
    /// The answer is not a readable `ptui_checkVC` call.
    #[error("unreadable check answer")]
    Js(#[from] PtuiError),
    /// The first argument is neither `0` nor `1`.
    #[error("captcha flag is neither 0 nor 1")]
    BadCaptchaFlag,
    /// The third argument does not spell exactly 8 bytes.
    #[error("salt is not 8 bytes")]
    BadSalt,
}

impl CheckAnswer {
    /// Parses a `check` answer; the last two arguments may be missing.
    pub fn parse(text: &str) -> Result<Self, CheckAnswerError> {
        Self::from_call(&ptui::parse_js_call(text)?)
    }

    /// Reads a parsed `ptui_checkVC` call, whose arguments are already unescaped.
    pub fn from_call(call: &JsCall) -> Result<Self, CheckAnswerError> {
        call.ensure(PTUI_CHECK_VC, 3)?;

        let captcha_required = match call.arg(0).trim() {
            "0" => false,
            "1" => true,
            _ => return Err(CheckAnswerError::BadCaptchaFlag),
        };
        let salt = salt_from_chars(call.arg(2)).ok_or(CheckAnswerError::BadSalt)?;

        Ok(Self {
            captcha_required,
            code: call.arg(1).to_owned(),
            salt,
            verify_session: call.arg(3).to_owned(),
            rand_salt: call.arg(4).to_owned(),
        })
    }

    /// The answer as the server writes it, the salt in `\xHH` escapes.
    pub fn to_js(&self) -> String {
        let need = if self.captcha_required { "1" } else { "0" };
        format!(
            "{PTUI_CHECK_VC}('{need}','{}','{}','{}','{}');",
            ptui::escape_js_string(&self.code),
            salt_to_js_escapes(&self.salt),
            ptui::escape_js_string(&self.verify_session),
            ptui::escape_js_string(&self.rand_salt),
        )
    }
}

impl fmt::Debug for CheckAnswer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CheckAnswer")
            .field("captcha_required", &self.captcha_required)
            .field("code", &self.code)
            .field("salt", &hex::encode(self.salt))
            .field("rand_salt", &self.rand_salt)
            .finish_non_exhaustive()
    }
}

/// The salt as the server spells it: `\x00\x00\x00\x00\x07\x5b\xcd\x15`.
pub fn salt_to_js_escapes(salt: &[u8; 8]) -> String {
    salt.iter().map(|byte| format!("\\x{byte:02x}")).collect()
}

/// Reads the salt from its escaped spelling (`\xHH` escapes or, tolerated, raw Latin-1
/// characters); `None` unless it spells exactly 8 bytes.
pub fn salt_from_js_escapes(text: &str) -> Option<[u8; 8]> {
    salt_from_chars(&ptui::unescape_js_string(text).ok()?)
}

/// The decoded string maps one character to one byte, as JS strings of `\xHH` do.
fn salt_from_chars(decoded: &str) -> Option<[u8; 8]> {
    let bytes: Vec<u8> = decoded
        .chars()
        .map(|c| u8::try_from(c).ok())
        .collect::<Option<_>>()?;
    bytes.try_into().ok()
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const PASSWORD: &str = "correct horse";
    const QQ: u64 = 123456789;
    const VERIFY_CODE: &str = "!abc";

    /// The §11.3 Gen A vector: 109 PKCS#1 bytes 0x5A, TEA header 0xF8, fill 0xAA.
    const GEN_A_P: &str = concat!(
        "ZCNQ3-k7PV1TSMJ4lxSx0E-LNU8t6MSj4MfK0bvYyJ1D1L*nlcwStKyMulZ-sZ*OsbUj74WG",
        "*O8U5PmtoQRXVda*ay2i2NAJjMLa8hnEfkhOAp0YqYRx*I5*xjbXi7C3koCQzEG4E5xh-oEo",
        "M80cpGGYq5zRnT0WqH*aCzN1AT76p*4rPaMf3tTIsN2ODzioa*RBFVzuuhc4dJjSeg9DfA__",
    );

    /// Replays a fixed prefix, then `0xAA` forever.
    fn scripted(prefix: Vec<u8>) -> impl FnMut() -> u8 {
        let mut bytes = prefix.into_iter();
        move || bytes.next().unwrap_or(0xAA)
    }

    fn gen_a_vector_source() -> impl FnMut() -> u8 {
        let mut prefix = vec![0x5A; 109];
        prefix.push(0xF8);
        scripted(prefix)
    }

    #[test]
    fn derived_keys_match_spec_vectors() {
        let salt = salt_for_qq(QQ);

        let (h1, key) = (password_md5(PASSWORD), tea_key(PASSWORD, &salt));

        assert_eq!(hex::encode(h1), "3cb4e732631f47e6eb961f34554b7cde");
        assert_eq!(hex::encode(salt), "00000000075bcd15");
        assert_eq!(hex::encode(key), "ba3d9b21f76137833fa940a72aa0522f");
    }

    #[test]
    fn md5_era_matches_spec_vector() {
        let salt = salt_for_qq(QQ);

        let p = md5_era(PASSWORD, &salt, VERIFY_CODE);

        assert_eq!(p, "F7AA1B4E0F057F627253287040926517");
    }

    #[test]
    fn gen_b_inner_plaintext_encrypts_to_spec_vector() {
        let salt = salt_for_qq(QQ);
        let mut inner = password_md5(PASSWORD).to_vec();
        inner.extend_from_slice(&salt);
        push_length_prefixed(&mut inner, b"!ABC");

        let cipher = tea::encrypt(&tea_key(PASSWORD, &salt), &inner, scripted(vec![0xF8]));

        assert_eq!(
            hex::encode(&inner),
            "3cb4e732631f47e6eb961f34554b7cde00000000075bcd15000421414243"
        );
        assert_eq!(
            hex::encode(cipher),
            "510c0ab34bc235d76f2d9ba25ed5765c1fcf4d09a72b7918b5e40d8895575edbf96c4e82da394060"
        );
    }

    #[test]
    fn rsa_key_a_matches_spec_vector() {
        let mut random = scripted(vec![0x5A; 109]);

        let rsa = rsa_key_a(&password_md5(PASSWORD), &mut random);

        assert_eq!(rsa.len(), 128);
        assert!(hex::encode(&rsa).starts_with("dfcc2022a997ed15"));
        assert!(hex::encode(&rsa).ends_with("e96e99af"));
    }

    #[test]
    fn gen_a_matches_spec_vector() {
        let salt = salt_for_qq(QQ);

        let p = gen_a(PASSWORD, &salt, VERIFY_CODE, gen_a_vector_source());

        assert_eq!(p.len(), 216);
        assert_eq!(p, GEN_A_P);
    }

    #[test]
    fn gen_a_vector_opens_to_rsa_salt_and_upper_case_code() {
        let salt = salt_for_qq(QQ);
        let cipher = b64_star_decode(GEN_A_P).expect("vector is b64*");

        let plain = tea::decrypt(&tea_key(PASSWORD, &salt), &cipher).expect("vector decrypts");
        let fields = GenAFields::parse(&plain).expect("vector has the gen A layout");

        assert_eq!(plain.len(), 144);
        assert_eq!(plain[..2], [0x00, 0x80]);
        assert_eq!(fields.salt, salt);
        assert_eq!(fields.verify_code, b"!ABC");
    }

    #[test]
    fn verify_accepts_own_fields_in_both_generations() {
        let salt = salt_for_qq(QQ);
        let md5 = md5_era(PASSWORD, &salt, VERIFY_CODE);
        let gen_a = gen_a(
            PASSWORD,
            &salt,
            VERIFY_CODE,
            scripted(vec![0x00, 0x17, 0x00, 0x42]),
        );

        let results = [
            verify(PasswordGeneration::Md5, PASSWORD, &salt, "!ABC", &md5),
            verify(PasswordGeneration::GenA, PASSWORD, &salt, "!ABC", &gen_a),
            verify(PasswordGeneration::GenA, PASSWORD, &salt, "!abc", GEN_A_P),
        ];

        assert_eq!(results, [Ok(()), Ok(()), Ok(())]);
    }

    #[test]
    fn verify_rejects_a_wrong_password() {
        let salt = salt_for_qq(QQ);
        let md5 = md5_era("battery staple", &salt, VERIFY_CODE);

        let results = [
            verify(PasswordGeneration::Md5, PASSWORD, &salt, VERIFY_CODE, &md5),
            verify(
                PasswordGeneration::GenA,
                "battery staple",
                &salt,
                VERIFY_CODE,
                GEN_A_P,
            ),
            verify(
                PasswordGeneration::GenA,
                PASSWORD,
                &salt_for_qq(QQ + 1),
                VERIFY_CODE,
                GEN_A_P,
            ),
        ];

        assert_eq!(
            results,
            [const { Err(PasswordFieldError::WrongPassword) }; 3]
        );
    }

    #[test]
    fn verify_rejects_a_wrong_verify_code() {
        let salt = salt_for_qq(QQ);
        let md5 = md5_era(PASSWORD, &salt, "!XYZ");

        let gen_a_result = verify(PasswordGeneration::GenA, PASSWORD, &salt, "!XYZ", GEN_A_P);
        let md5_result = verify(PasswordGeneration::Md5, PASSWORD, &salt, VERIFY_CODE, &md5);

        assert_eq!(gen_a_result, Err(PasswordFieldError::WrongVerifyCode));
        // MD5 mixes code and password into one hash, so it cannot say which is wrong.
        assert_eq!(md5_result, Err(PasswordFieldError::WrongPassword));
    }

    #[test]
    fn verify_reports_malformed_fields() {
        let salt = salt_for_qq(QQ);

        let results = [
            verify(
                PasswordGeneration::Md5,
                PASSWORD,
                &salt,
                VERIFY_CODE,
                "F7AA",
            ),
            verify(
                PasswordGeneration::GenA,
                PASSWORD,
                &salt,
                VERIFY_CODE,
                "not/base64!",
            ),
            verify(
                PasswordGeneration::GenA,
                PASSWORD,
                &salt,
                VERIFY_CODE,
                "AAAA",
            ),
        ];

        assert!(
            results
                .iter()
                .all(|r| matches!(r, Err(PasswordFieldError::Malformed(_))))
        );
    }

    #[test]
    fn verify_reports_a_bad_gen_a_layout_as_malformed() {
        let salt = salt_for_qq(QQ);
        let key = tea_key(PASSWORD, &salt);
        let cipher = tea::encrypt(&key, &[0x00, 0x80, 1, 2, 3], scripted(vec![]));

        let result = verify(
            PasswordGeneration::GenA,
            PASSWORD,
            &salt,
            VERIFY_CODE,
            &b64_star_encode(&cipher),
        );

        assert_eq!(
            result,
            Err(PasswordFieldError::Malformed("truncated plaintext"))
        );
    }

    #[test]
    fn generation_names_round_trip_through_from_str_display_and_serde() {
        for generation in PasswordGeneration::ALL {
            let name = generation.to_string();

            let parsed: PasswordGeneration = name.parse().expect("display output parses");
            let json = serde_json::to_string(&generation).expect("generation serialises");

            assert_eq!(parsed, generation);
            assert_eq!(json, format!("\"{name}\""));
        }
        assert_eq!("gen_a".parse(), Ok(PasswordGeneration::GenA));
        assert_eq!(
            "gen_b".parse::<PasswordGeneration>(),
            Err(UnknownPasswordGeneration("gen_b".into()))
        );
    }

    #[test]
    fn check_answer_parses_the_emulator_body() {
        let text = r"ptui_checkVC('0','!ABC','\x00\x00\x00\x00\x07\x5b\xcd\x15','vs-1','0');";

        let answer = CheckAnswer::parse(text);

        let expected = CheckAnswer {
            captcha_required: false,
            code: "!ABC".to_owned(),
            salt: salt_for_qq(QQ),
            verify_session: "vs-1".to_owned(),
            rand_salt: "0".to_owned(),
        };
        assert_eq!(answer, Ok(expected));
    }

    #[test]
    fn check_answer_tolerates_the_old_three_argument_form() {
        let text = "ptui_checkVC('1','cap-id','\\x00\\x00\\x00\\x00\\x07\\x5B\\xCD\\x15');\r\n";

        let answer = CheckAnswer::parse(text).expect("old answer parses");

        assert!(answer.captcha_required);
        assert_eq!(answer.code, "cap-id");
        assert_eq!(answer.salt, salt_for_qq(QQ));
        assert_eq!(
            (answer.verify_session.as_str(), answer.rand_salt.as_str()),
            ("", "")
        );
    }

    #[test]
    fn check_answer_formats_salt_as_escapes_and_round_trips() {
        let answer = CheckAnswer {
            captcha_required: false,
            code: "!ABC".to_owned(),
            salt: salt_for_qq(2400000001),
            verify_session: "it's".to_owned(),
            rand_salt: "2".to_owned(),
        };

        let text = answer.to_js();

        assert_eq!(
            text,
            r"ptui_checkVC('0','!ABC','\x00\x00\x00\x00\x8f\x0d\x18\x01','it\'s','2');"
        );
        assert_eq!(CheckAnswer::parse(&text), Ok(answer));
    }

    #[test]
    fn check_answer_rejects_bad_flag_and_salt() {
        let bad_flag = r"ptui_checkVC('x','!ABC','\x00\x00\x00\x00\x07\x5b\xcd\x15');";
        let short_salt = r"ptui_checkVC('0','!ABC','\x00\x07\x5b\xcd\x15');";
        let wide_salt = "ptui_checkVC('0','!ABC','\\u4e8c\\x00\\x00\\x00\\x07\\x5b\\xcd\\x15');";

        let results = [bad_flag, short_salt, wide_salt].map(CheckAnswer::parse);

        assert_eq!(results[0], Err(CheckAnswerError::BadCaptchaFlag));
        assert_eq!(results[1], Err(CheckAnswerError::BadSalt));
        assert_eq!(results[2], Err(CheckAnswerError::BadSalt));
    }

    #[test]
    fn salt_escapes_round_trip() {
        let salt = salt_for_qq(4123456789);

        let text = salt_to_js_escapes(&salt);

        assert_eq!(text, r"\x00\x00\x00\x00\xf5\xc6\xf5\x15");
        assert_eq!(salt_from_js_escapes(&text), Some(salt));
        assert_eq!(
            salt_from_js_escapes(r"\x00\x00\x00\x00\x07[\xcd\x15"),
            Some(salt_for_qq(QQ))
        );
    }

    #[test]
    fn check_answer_debug_hides_the_verify_session() {
        let answer = CheckAnswer {
            captcha_required: false,
            code: "!ABC".to_owned(),
            salt: salt_for_qq(QQ),
            verify_session: "secret-session".to_owned(),
            rand_salt: "0".to_owned(),
        };

        let debug = format!("{answer:?}");

        assert!(!debug.contains("secret-session"), "{debug}");
    }

    proptest! {
        #[test]
        fn verify_never_panics(
            password in any::<String>(),
            code in any::<String>(),
            p in any::<String>(),
            b64ish in "[A-Za-z0-9*_-]{0,240}",
        ) {
            let salt = salt_for_qq(QQ);

            for mode in PasswordGeneration::ALL {
                let _ = verify(mode, &password, &salt, &code, &p);
                let _ = verify(mode, &password, &salt, &code, &b64ish);
            }
        }

        #[test]
        fn gen_a_verifies_for_any_password_and_noise(
            password in any::<String>(),
            code in "[!A-Za-z0-9]{0,8}",
            noise in proptest::collection::vec(any::<u8>(), 1..32),
        ) {
            let salt = salt_for_qq(QQ);
            let mut source = noise.into_iter().cycle();

            let p = gen_a(&password, &salt, &code, || source.next().unwrap_or(0));

            prop_assert_eq!(verify(PasswordGeneration::GenA, &password, &salt, &code, &p), Ok(()));
        }

        #[test]
        fn check_answer_parse_never_panics(text in any::<String>()) {
            let _ = CheckAnswer::parse(&text);
            let _ = salt_from_js_escapes(&text);
        }
    }
}

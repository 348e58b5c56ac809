//! String hashes of the web client: `hash33`, `time33`, `bkn` and the friend-list `hash`.
//!
//! All of them work on UTF-16 code units, because the originals are JavaScript and read
//! `charCodeAt`. The three friend-list variants are era-dependent (§0 and §8 of the protocol
//! specification); the emulator picks one per profile, the client normally uses ECOK.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// `hash33`: times-33 over the UTF-16 code units from 0, kept to 31 bits.
///
/// Used as `ptqrtoken = hash33(qrsig)` when polling the QR state.
pub fn hash33(s: &str) -> u32 {
    times33(0, s) & 0x7FFF_FFFF
}

/// `time33`: times-33 over the UTF-16 code units from 0, as an unsigned 32-bit value.
///
/// Used as `auth_token = time33(supertoken)` when resuming a login through `pt4_auth`.
pub fn time33(s: &str) -> u32 {
    times33(0, s)
}

/// `bkn` (also `g_tk`): times-33 over the UTF-16 code units from 5381, kept to 31 bits.
///
/// The CSRF token of the qun.qq.com side APIs, computed from the `skey` cookie.
pub fn bkn(s: &str) -> u32 {
    times33(5381, s) & 0x7FFF_FFFF
}

/// The shared core; wrapping arithmetic is exact because callers keep at most 32 bits.
fn times33(seed: u32, s: &str) -> u32 {
    s.encode_utf16().fold(seed, |acc, unit| {
        acc.wrapping_mul(33).wrapping_add(u32::from(unit))
    })
}

/// Which friend-list `hash` algorithm a server era expects (§8.1–8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FriendHashVariant {
    /// XOR of `ptwebqq` into four bytes interleaved with `uin ^ "ECOK"` (2013-12 → 2014-06,
    /// and 2015 → 2019).
    Ecok,
    /// `ptwebqq + "password error"` XORed with the repeated decimal `uin` (2014-06 → 2015-03).
    PasswordError,
    /// Four bytes of `uin` stirred by an explicit-stack quicksort of `ptwebqq` (≤ 2013-11).
    Quicksort,
}

impl FriendHashVariant {
    /// Every variant, in the order of the specification.
    pub const ALL: [Self; 3] = [Self::Ecok, Self::PasswordError, Self::Quicksort];

    /// The snake-case name used in configuration files and by serde.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ecok => "ecok",
            Self::PasswordError => "password_error",
            Self::Quicksort => "quicksort",
        }
    }
}

impl fmt::Display for FriendHashVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FriendHashVariant {
    type Err = UnknownFriendHashVariant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|variant| variant.as_str() == s)
            .ok_or_else(|| UnknownFriendHashVariant(s.to_owned()))
    }
}

/// A name that is not one of `ecok`, `password_error`, `quicksort`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
#[error("unknown friend hash variant {0:?} (expected ecok, password_error or quicksort)")]
pub struct UnknownFriendHashVariant(pub String);

/// The `hash` field of `get_user_friends2` and `get_group_name_list_mask2`.
///
/// `uin` is the user's own QQ number and `ptwebqq` the cookie value (possibly empty). The
/// output is upper-case hex, as the web client sent it.
pub fn friend_list_hash(variant: FriendHashVariant, uin: u64, ptwebqq: &str) -> String {
    match variant {
        FriendHashVariant::Ecok => ecok_hash(uin, ptwebqq),
        FriendHashVariant::PasswordError => password_error_hash(uin, ptwebqq),
        FriendHashVariant::Quicksort => quicksort_hash(uin, ptwebqq),
    }
}

/// The JS shifts `uin` as a 32-bit integer, which keeps only its low 32 bits.
fn uin_bytes(uin: u64) -> [u8; 4] {
    let low = (uin & 0xFFFF_FFFF) as u32;
    low.to_be_bytes()
}

/// §8.1. The JS keeps whole code units in `N` but prints only their low byte.
fn ecok_hash(uin: u64, ptwebqq: &str) -> String {
    let mut folded = [0u16; 4];
    for (index, unit) in ptwebqq.encode_utf16().enumerate() {
        folded[index % 4] ^= unit;
    }
    let mixed = uin_bytes(uin)
        .into_iter()
        .zip(*b"ECOK")
        .map(|(byte, key)| byte ^ key);

    let mut bytes = Vec::with_capacity(8);
    for (unit, byte) in folded.iter().zip(mixed) {
        bytes.push(unit.to_be_bytes()[1]);
        bytes.push(byte);
    }

    hex::encode_upper(bytes)
}

/// §8.2. The uin is used as the decimal text JS would concatenate, not reduced: QQ numbers
/// fit in 32 bits anyway.
fn password_error_hash(uin: u64, ptwebqq: &str) -> String {
    let keyed: Vec<u16> = ptwebqq
        .encode_utf16()
        .chain("password error".encode_utf16())
        .collect();
    let digits = uin.to_string();
    let repeated = digits.encode_utf16().cycle();

    let bytes: Vec<u8> = keyed
        .iter()
        .zip(repeated)
        .map(|(a, s)| (a ^ s).to_be_bytes()[1])
        .collect();

    hex::encode_upper(bytes)
}

/// §8.3. Ranges are signed because the JS pushes `s - 1`, which can be -1.
fn quicksort_hash(uin: u64, ptwebqq: &str) -> String {
    let mut r = uin_bytes(uin);
    let mut j: Vec<u16> = ptwebqq.encode_utf16().collect();
    let len = j.len() as isize;
    let mut stack: Vec<(isize, isize)> = vec![(0, len - 1)];

    while let Some((lo, hi)) = stack.pop() {
        if lo >= hi || lo < 0 || hi >= len {
            continue;
        }
        let (lo_index, hi_index) = (lo as usize, hi as usize);
        if hi_index == lo_index + 1 {
            if j[lo_index] > j[hi_index] {
                j.swap(lo_index, hi_index);
            }
            continue;
        }

        let split = partition(&mut j, lo_index, hi_index, &mut r) as isize;
        stack.push((lo, split - 1));
        stack.push((split + 1, hi));
    }

    hex::encode_upper(r)
}

/// One Hoare-style partition of `j[lo..=hi]` around `j[lo]`, stirring `r` on every move as
/// the original does. Returns the pivot's final index.
fn partition(j: &mut [u16], lo: usize, hi: usize, r: &mut [u8; 4]) -> usize {
    let pivot = j[lo];
    let (mut s, mut e) = (lo, hi);

    while s < e {
        while s < e && j[e] >= pivot {
            e -= 1;
            r[0] = r[0].wrapping_add(3);
        }
        if s < e {
            j[s] = j[e];
            s += 1;
            r[1] = r[1].wrapping_mul(13).wrapping_add(43);
        }
        while s < e && j[s] <= pivot {
            s += 1;
            r[2] = r[2].wrapping_sub(3);
        }
        if s < e {
            j[e] = j[s];
            e -= 1;
            r[3] = r[0] ^ r[1] ^ r[2] ^ r[3].wrapping_add(1);
        }
    }
    j[s] = pivot;

    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const P1: &str = "0c5dd117f6266037d17ec710e65fb51dc5c35e2b16a958f41d3c6795ccbd9258";
    const P2: &str = "37c19aaf10afbf525116c2a2da7f542be3292dca25cb052ede0b165da630d0a5";

    /// §11.1: input, hash33, time33, bkn.
    const TIMES33_VECTORS: [(&str, u32, u32, u32); 10] = [
        ("", 0, 0, 5381),
        ("a", 97, 97, 177670),
        ("abc", 108966, 108966, 193485963),
        ("qrsig-example", 1236244831, 1236244831, 917171844),
        ("0123456789abcdef", 389841794, 389841794, 1426588295),
        ("@AbCdEfGhI", 457966125, 457966125, 1358553458),
        ("@Zx9Yw8Vu7", 823920981, 2971404629, 1724508314),
        ("supertoken-1", 1272203438, 3419687086, 611781939),
        (
            "Xk3pQ9-Zr7vT*eW1sLm4Hn8bC2dF6gJ0aYtUoIiRrEeWwQqPpLlKkJjHhGgFf5_",
            263355049,
            263355049,
            1650600718,
        ),
        (
            "k9Yb2Qm7*RtLw3Hx-Ez5Ns8Pd1Vc4Jf6Ga0Ui2Oo7Ke9Sh3Wl5Bn8Mr1Tq4Zy6Xv",
            1006610002,
            1006610002,
            1688560471,
        ),
    ];

    /// The port in GnomeQQ's `code/hash.py`: XORs the digit's value instead of its
    /// character code, so it only accepts all-digit tokens. Kept here to prove we differ.
    fn gnomeqq_hash_py(uin: u64, ptwebqq: &str) -> Option<String> {
        let mut folded = [0u8; 4];
        for (index, c) in ptwebqq.chars().enumerate() {
            folded[index % 4] ^= u8::try_from(c.to_digit(10)?).ok()?;
        }
        let mixed: Vec<u8> = uin_bytes(uin)
            .iter()
            .zip(b"ECOK")
            .map(|(b, k)| b ^ k)
            .collect();
        let bytes: Vec<u8> = folded
            .iter()
            .zip(&mixed)
            .flat_map(|(n, v)| [*n, *v])
            .collect();
        Some(hex::encode_upper(bytes))
    }

    #[test]
    fn hash33_matches_spec_vectors() {
        for (input, expected, _, _) in TIMES33_VECTORS {
            assert_eq!(hash33(input), expected, "hash33({input:?})");
        }
    }

    #[test]
    fn time33_matches_spec_vectors() {
        for (input, _, expected, _) in TIMES33_VECTORS {
            assert_eq!(time33(input), expected, "time33({input:?})");
        }
    }

    #[test]
    fn bkn_matches_spec_vectors() {
        for (input, _, _, expected) in TIMES33_VECTORS {
            assert_eq!(bkn(input), expected, "bkn({input:?})");
        }
    }

    #[test]
    fn times33_counts_utf16_code_units() {
        let astral = "\u{1F600}";

        let hashed = time33(astral);

        assert_eq!(hashed, 0xD83D * 33 + 0xDE00);
    }

    #[test]
    fn ecok_hash_matches_spec_vectors() {
        let vectors = [
            (123456789, P1, "0B420D180C82535E"),
            (2000000001, P2, "5B32547654DB5F4A"),
            (4123456789, P1, "0BB00D850CBA535E"),
            (2400000001, P1, "0BCA0D4E0C57534A"),
            (2400000001, P2, "5BCA544E54575F4A"),
            (2400000001, "", "00CA004E0057004A"),
            (123456789, "", "004200180082005E"),
            (10001, "", "004500430068005A"),
            (752584911, "123456789", "3D69049804C70C84"),
        ];

        for (uin, ptwebqq, expected) in vectors {
            let hash = friend_list_hash(FriendHashVariant::Ecok, uin, ptwebqq);

            assert_eq!(hash, expected, "ecok({uin}, {ptwebqq:?})");
        }
    }

    #[test]
    fn ecok_hash_reduces_uin_mod_2_pow_32() {
        let wide = (1u64 << 32) + 123456789;

        let hash = friend_list_hash(FriendHashVariant::Ecok, wide, P1);

        assert_eq!(hash, "0B420D180C82535E");
    }

    #[test]
    fn gnomeqq_hash_py_port_differs_from_ecok() {
        let buggy = gnomeqq_hash_py(752584911, "123456789");

        let ours = friend_list_hash(FriendHashVariant::Ecok, 752584911, "123456789");

        assert_eq!(buggy.as_deref(), Some("0D69049804C70C84"));
        assert_ne!(buggy.as_deref(), Some(ours.as_str()));
        assert_eq!(gnomeqq_hash_py(752584911, P1), None);
    }

    #[test]
    fn password_error_hash_matches_spec_vectors() {
        let vectors = [
            (
                123456789,
                "abcdef0123",
                "50505050505007090B024252474641584A5D115741465A44",
            ),
            (
                2400000001,
                "abcdef0123",
                "5356535455560001020242554343475F4254105440465F42",
            ),
        ];

        for (uin, ptwebqq, expected) in vectors {
            let hash = friend_list_hash(FriendHashVariant::PasswordError, uin, ptwebqq);

            assert_eq!(hash, expected, "password_error({uin}, {ptwebqq:?})");
        }
    }

    #[test]
    fn password_error_hash_is_two_digits_per_code_unit() {
        let hash = friend_list_hash(FriendHashVariant::PasswordError, 10001, P1);

        assert_eq!(hash.len(), 2 * (P1.len() + 14));
    }

    #[test]
    fn quicksort_hash_matches_spec_vectors() {
        let vectors = [
            (123456789, "abcdef0123", "19B8BB55"),
            (123456789, P1, "F8DD2679"),
            (2000000001, P2, "0E47500F"),
            (2400000001, "abcdef0123", "A1F20655"),
        ];

        for (uin, ptwebqq, expected) in vectors {
            let hash = friend_list_hash(FriendHashVariant::Quicksort, uin, ptwebqq);

            assert_eq!(hash, expected, "quicksort({uin}, {ptwebqq:?})");
        }
    }

    #[test]
    fn quicksort_hash_of_empty_token_is_the_uin() {
        let hash = friend_list_hash(FriendHashVariant::Quicksort, 123456789, "");

        assert_eq!(hash, "075BCD15");
    }

    #[test]
    fn variant_names_round_trip_through_from_str_display_and_serde() {
        for variant in FriendHashVariant::ALL {
            let name = variant.to_string();

            let parsed: FriendHashVariant = name.parse().expect("display output parses");
            let json = serde_json::to_string(&variant).expect("variant serialises");

            assert_eq!(parsed, variant);
            assert_eq!(json, format!("\"{name}\""));
        }
        assert_eq!(
            "password_error".parse(),
            Ok(FriendHashVariant::PasswordError)
        );
    }

    #[test]
    fn unknown_variant_name_is_rejected() {
        let parsed = "ECOK".parse::<FriendHashVariant>();

        assert_eq!(parsed, Err(UnknownFriendHashVariant("ECOK".to_owned())));
    }
}

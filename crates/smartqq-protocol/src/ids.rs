//! Typed identifiers, so that a uin can never be passed where a group code is wanted.
//!
//! SmartQQ names people and rooms with six different integers (spec §1). Most of them are
//! session aliases that change at every login; only the QQ number and the discussion id are
//! stable. Each gets its own type; all serialise as plain JSON numbers.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl $name {
            /// The raw number as it travels on the wire.
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_lenient_u64(deserializer).map(Self)
            }
        }
    };
}

id_type!(
    /// The public, permanent account number of a person.
    QqNumber
);
id_type!(
    /// A person's alias for one login session; never persist it.
    Uin
);
id_type!(
    /// A group's alias for one login session; used to send to the group.
    Gid
);
id_type!(
    /// A group's internal code, the key of `get_group_info_ext2`; not the public number.
    GroupCode
);
id_type!(
    /// A group's public number, as people see it in the official client.
    GroupNumber
);
id_type!(
    /// A discussion's id; stable across logins as far as anyone observed.
    DiscussionId
);
id_type!(
    /// The client id sent with every channel request (53999199 in every SmartQQ client).
    ClientId
);

impl ClientId {
    /// The constant every SmartQQ-era client sends (spec §12, contradiction 2).
    pub const SMARTQQ: ClientId = ClientId(53_999_199);
}

impl QqNumber {
    /// In SmartQQ the logged-in user's uin equals their QQ number (spec §1).
    pub fn as_self_uin(self) -> Uin {
        Uin(self.0)
    }
}

/// Accepts `123`, `"123"` and `123.0`: legacy servers and clients sent some ids as strings.
fn deserialize_lenient_u64<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
    use serde::de::Error;

    match serde_json::Value::deserialize(deserializer)? {
        serde_json::Value::Number(number) => number
            .as_u64()
            .or_else(|| {
                number
                    .as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0 && *f < 1.8e19)
                    .map(|f| f as u64)
            })
            .ok_or_else(|| D::Error::custom("id is not a non-negative integer")),
        serde_json::Value::String(text) => text
            .trim()
            .parse()
            .map_err(|_| D::Error::custom("id string is not a number")),
        _ => Err(D::Error::custom("id is neither a number nor a string")),
    }
}

/// A credential that must never reach a log line or a panic message.
///
/// It has no `Display`; `Debug` prints a placeholder. Read it with [`Secret::expose`] at the
/// single place where it goes on the wire.
#[derive(Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a token.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The token itself, for the request that carries it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether the token is the empty string (the 2018 server often sent an empty `ptwebqq`).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self(value.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_numbers_and_numeric_strings() {
        let from_number: Uin = serde_json::from_str("3100000001").unwrap();
        let from_string: Uin = serde_json::from_str("\"3100000001\"").unwrap();

        assert_eq!(from_number, Uin(3_100_000_001));
        assert_eq!(from_string, from_number);
        assert_eq!(serde_json::to_string(&from_string).unwrap(), "3100000001");
    }

    #[test]
    fn ids_reject_negative_and_fractional_values() {
        assert!(serde_json::from_str::<Gid>("-1").is_err());
        assert!(serde_json::from_str::<Gid>("1.5").is_err());
        assert!(serde_json::from_str::<Gid>("\"abc\"").is_err());
        assert!(serde_json::from_str::<Gid>("null").is_err());
    }

    #[test]
    fn secret_debug_prints_no_value() {
        let secret = Secret::new("0c5dd117f6266037");

        let printed = format!("{secret:?}");

        assert!(!printed.contains("0c5d"));
        assert_eq!(secret.expose(), "0c5dd117f6266037");
    }
}

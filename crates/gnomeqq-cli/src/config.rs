//! The CLI's configuration file (`~/.config/gnomeqq/config.toml`, TOML).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use gnomeqq_core::commands::CommandSpec;
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The bot's section.
    #[serde(default)]
    pub bot: BotConfig,
    /// Commands the bot runs, by name (`#NAME`).
    #[serde(default)]
    pub commands: BTreeMap<String, CommandSpec>,
}

/// Who the bot obeys.
///
/// People are recognised by QQ number where the server gives it (discussions, temporary
/// sessions, the legacy era) and otherwise by the markname *you* gave a friend: a nickname
/// is chosen by its owner and could be copied, a markname cannot.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BotConfig {
    /// The owner, who may also end the bot with `exit`.
    #[serde(default)]
    pub owner: Person,
    /// Others allowed to run `#` commands.
    #[serde(default)]
    pub allowed: Vec<Person>,
}

/// A person the bot recognises.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// QQ number.
    #[serde(default)]
    pub qq: Option<u64>,
    /// Markname of a friend.
    #[serde(default)]
    pub markname: Option<String>,
}

impl Person {
    /// Whether the sender of a message is this person.
    pub fn matches(&self, qq: Option<u64>, markname: Option<&str>) -> bool {
        let by_qq = self.qq.is_some() && self.qq == qq;
        let by_mark = self
            .markname
            .as_deref()
            .is_some_and(|m| !m.is_empty() && Some(m) == markname);
        by_qq || by_mark
    }
}

impl Config {
    /// Reads a config file; a missing file is an empty config.
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text).with_context(|| format!("in {}", path.display())),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(error) => Err(error).with_context(|| format!("could not read {}", path.display())),
        }
    }

    /// Parses config text.
    pub fn parse(text: &str) -> anyhow::Result<Self> {
        // Command specs validate themselves while they are read.
        toml::from_str(text).context("the configuration is not valid")
    }

    /// The default location under the XDG config directory.
    pub fn default_path() -> Option<PathBuf> {
        directories::ProjectDirs::from("", "", "gnomeqq")
            .map(|dirs| dirs.config_dir().join("config.toml"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bot_config_parses_with_commands() {
        let config = Config::parse(
            r#"
            [bot]
            owner = { markname = "老张" }
            allowed = [{ qq = 1234509876 }]

            [commands.echo]
            argv = ["echo"]
            timeout_secs = 5
            "#,
        )
        .unwrap();

        assert!(config.bot.owner.matches(None, Some("老张")));
        assert!(!config.bot.owner.matches(Some(1), Some("老李")));
        assert!(config.bot.allowed[0].matches(Some(1_234_509_876), None));
        assert_eq!(config.commands["echo"].argv(), ["echo"]);
    }

    #[test]
    fn an_empty_person_matches_nobody() {
        assert!(!Person::default().matches(None, None));
        assert!(
            !Person {
                markname: Some(String::new()),
                qq: None
            }
            .matches(None, Some(""))
        );
    }

    #[test]
    fn bad_commands_are_refused() {
        assert!(Config::parse("[commands.x]\nargv = []\n").is_err());
        assert!(Config::parse("[bot]\nowner = 5\n").is_err());
    }
}

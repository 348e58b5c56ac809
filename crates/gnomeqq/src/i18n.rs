//! Translation helpers: named placeholders, so translators can reorder a sentence.

use gettextrs::{gettext, ngettext};

/// Replaces each `{name}` in `template` with its value, in one pass: a value that itself
/// contains `{…}` (a nickname, a message) is never filled in again.
fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut text = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let value = after.find('}').and_then(|close| {
            let name = &after[..close];
            args.iter()
                .find(|(candidate, _)| *candidate == name)
                .map(|(_, value)| (*value, close))
        });
        match value {
            Some((value, close)) => {
                text.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                text.push('{');
                rest = after;
            }
        }
    }
    text.push_str(rest);
    text
}

/// `gettext` with named placeholders: `gettext_f("Message to {name} failed", &[("name", n)])`.
pub fn gettext_f(msgid: &str, args: &[(&str, &str)]) -> String {
    fill(&gettext(msgid), args)
}

/// `ngettext` with named placeholders; `{n}` is not filled in unless passed in `args`.
pub fn ngettext_f(msgid: &str, msgid_plural: &str, n: u32, args: &[(&str, &str)]) -> String {
    fill(&ngettext(msgid, msgid_plural, n), args)
}

/// Points gettext at the app's catalogs and follows the system locale. GtkBuilder
/// translates `.ui` strings through the same domain.
pub fn init() {
    gettextrs::setlocale(gettextrs::LocaleCategory::LcAll, "");
    if let Err(error) =
        gettextrs::bindtextdomain(crate::config::GETTEXT_PACKAGE, crate::config::LOCALEDIR)
    {
        tracing::warn!("Could not bind the translations: {error}");
    }
    if let Err(error) = gettextrs::bind_textdomain_codeset(crate::config::GETTEXT_PACKAGE, "UTF-8")
    {
        tracing::warn!("Could not set the translations' encoding: {error}");
    }
    if let Err(error) = gettextrs::textdomain(crate::config::GETTEXT_PACKAGE) {
        tracing::warn!("Could not choose the translation domain: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::fill;

    #[test]
    fn placeholders_are_filled_by_name_in_any_order() {
        assert_eq!(
            fill(
                "{who} wrote in {room}",
                &[("room", "开发组"), ("who", "老张")]
            ),
            "老张 wrote in 开发组"
        );
    }

    #[test]
    fn values_are_not_filled_again() {
        assert_eq!(
            fill("{sender}: {text}", &[("sender", "{text}"), ("text", "hi")]),
            "{text}: hi"
        );
    }

    #[test]
    fn unknown_placeholders_and_lone_braces_stay() {
        assert_eq!(fill("{x} {y", &[("z", "1")]), "{x} {y");
        assert_eq!(fill("a}b{", &[]), "a}b{");
    }
}

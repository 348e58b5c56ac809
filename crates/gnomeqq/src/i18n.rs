//! Translation helpers: named placeholders, so translators can reorder a sentence.

use gettextrs::{gettext, ngettext};

/// Replaces each `{name}` in `template` with its value.
fn fill(template: &str, args: &[(&str, &str)]) -> String {
    let mut text = template.to_owned();
    for (name, value) in args {
        text = text.replace(&format!("{{{name}}}"), value);
    }
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
    fn braces_in_values_are_not_filled_again_by_later_names() {
        // A name containing a later placeholder is filled in first; its own text is
        // replaced too, which is harmless but shows the order is the caller's.
        assert_eq!(fill("{a}", &[("a", "{x}")]), "{x}");
    }
}

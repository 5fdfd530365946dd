//! The widget's words in English and German, chosen from the page's language, then the
//! browser's.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    pub fn pick(page_lang: &str, browser_lang: &str) -> Lang {
        let de = |l: &str| l.to_ascii_lowercase().starts_with("de");
        if !page_lang.is_empty() {
            return if de(page_lang) { Lang::De } else { Lang::En };
        }
        if de(browser_lang) { Lang::De } else { Lang::En }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::De => "de",
        }
    }
}

pub struct Words {
    pub close: &'static str,
    pub composer: &'static str,
    pub placeholder: &'static str,
    pub send: &'static str,
    pub sending: &'static str,
    pub retrying: &'static str,
    pub failed: &'static str,
    pub sent: &'static str,
    pub offline_kept: &'static str,
    pub away_until: &'static str,
    pub away: &'static str,
    pub email_me: &'static str,
    pub email_label: &'static str,
    pub email_save: &'static str,
    pub email_saved: &'static str,
    pub link_expired: &'static str,
    pub link_failed: &'static str,
    pub shared: &'static str,
    pub page: &'static str,
    pub cart: &'static str,
    pub total: &'static str,
    pub earlier: &'static str,
    pub messages: &'static str,
    pub new_messages: &'static str,
    pub gone: &'static str,
    pub empty: &'static str,
    pub too_long: &'static str,
    pub bad_email: &'static str,
}

impl Words {
    /// A refusal of the shopper's input (`validate`'s code) in the panel's language.
    pub fn invalid(&self, code: &str) -> &'static str {
        match code {
            "empty_message" => self.empty,
            "message_too_long" => self.too_long,
            "invalid_email" => self.bad_email,
            // A NUL character: nothing a keyboard types.
            _ => self.empty,
        }
    }
}

pub fn words(lang: Lang) -> &'static Words {
    match lang {
        Lang::En => &EN,
        Lang::De => &DE,
    }
}

static EN: Words = Words {
    close: "Close chat",
    composer: "Your message",
    placeholder: "Write a message…",
    send: "Send",
    sending: "Sending…",
    retrying: "Not sent yet – retrying",
    failed: "Not sent",
    sent: "Sent",
    offline_kept: "You're offline. Your messages are kept and sent when you're back.",
    away_until: "We're away until {when} – we'll email you the answer.",
    away: "We're away right now – leave a message and we'll get back to you.",
    email_me: "Email me when they reply",
    email_label: "Your email",
    email_save: "Save",
    email_saved: "We'll email you at {email}.",
    link_expired: "This link has expired or no longer works. Reply to the email instead, or write here to start a new conversation.",
    link_failed: "The conversation from your email could not be opened. Check your connection and open the link again.",
    shared: "Shared with the shop",
    page: "Page",
    cart: "Cart",
    total: "Total",
    earlier: "Show earlier messages",
    messages: "Messages",
    new_messages: "New messages ↓",
    gone: "This conversation was deleted. Your next message starts a new one.",
    empty: "The message is empty.",
    too_long: "The message is too long: at most 4,000 characters.",
    bad_email: "Enter one email address, like name@example.com.",
};

static DE: Words = Words {
    close: "Chat schließen",
    composer: "Deine Nachricht",
    placeholder: "Nachricht schreiben…",
    send: "Senden",
    sending: "Wird gesendet…",
    retrying: "Noch nicht gesendet – neuer Versuch",
    failed: "Nicht gesendet",
    sent: "Gesendet",
    offline_kept: "Du bist offline. Deine Nachrichten bleiben gespeichert und werden gesendet, sobald du wieder online bist.",
    away_until: "Wir sind bis {when} nicht da – wir schicken dir die Antwort per E-Mail.",
    away: "Wir sind gerade nicht da – hinterlass eine Nachricht, wir melden uns.",
    email_me: "Per E-Mail benachrichtigen",
    email_label: "Deine E-Mail",
    email_save: "Speichern",
    email_saved: "Wir schreiben dir an {email}.",
    link_expired: "Dieser Link ist abgelaufen oder funktioniert nicht mehr. Antworte einfach auf die E-Mail oder schreib hier, um ein neues Gespräch zu beginnen.",
    link_failed: "Das Gespräch aus deiner E-Mail ließ sich nicht öffnen. Prüfe deine Verbindung und öffne den Link erneut.",
    shared: "Mit dem Shop geteilt",
    page: "Seite",
    cart: "Warenkorb",
    total: "Summe",
    earlier: "Frühere Nachrichten anzeigen",
    messages: "Nachrichten",
    new_messages: "Neue Nachrichten ↓",
    gone: "Dieses Gespräch wurde gelöscht. Deine nächste Nachricht beginnt ein neues.",
    empty: "Die Nachricht ist leer.",
    too_long: "Die Nachricht ist zu lang: höchstens 4.000 Zeichen.",
    bad_email: "Gib eine E-Mail-Adresse ein, z. B. name@example.com.",
};

/// The text with its one `{placeholder}` replaced by `value` (searching for single
/// characters keeps the substring searcher out of the wasm).
pub fn fill(template: &str, value: &str) -> String {
    match template.split_once('{').and_then(|(before, rest)| Some((before, rest.split_once('}')?.1))) {
        Some((before, after)) => format!("{before}{value}{after}"),
        None => template.to_owned(),
    }
}

/// Money in minor units, formatted for the shopper's language (e.g. "59,98 €").
pub fn money(lang: Lang, minor: i64, currency: &str) -> String {
    let digits = match currency { // the usual few; all of ISO 4217 (pigeon_protocol::currency_digits) costs 111 B more
        "JPY" | "KRW" | "CLP" | "ISK" | "VND" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    };
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let scale = 10u64.pow(digits);
    let (whole, frac) = (abs / scale, abs % scale);
    let sep = if lang == Lang::De { ',' } else { '.' };
    let amount = if digits == 0 { format!("{whole}") } else { format!("{whole}{sep}{frac:0width$}", width = digits as usize) };
    let symbol = match currency {
        "EUR" => "€",
        "USD" => "$",
        "GBP" => "£",
        other => other,
    };
    match lang {
        Lang::De => format!("{sign}{amount} {symbol}"),
        Lang::En if symbol.len() <= 3 && !symbol.chars().all(|c| c.is_ascii_uppercase()) => format!("{sign}{symbol}{amount}"),
        Lang::En => format!("{sign}{amount} {symbol}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_from_page_then_browser() {
        assert_eq!(Lang::pick("de-AT", "en-US"), Lang::De);
        assert_eq!(Lang::pick("en", "de-DE"), Lang::En);
        assert_eq!(Lang::pick("", "de-DE"), Lang::De);
        assert_eq!(Lang::pick("", "fr-FR"), Lang::En);
    }

    #[test]
    fn one_placeholder_is_filled() {
        assert_eq!(fill(EN.email_saved, "ana@example.com"), "We'll email you at ana@example.com.");
        assert_eq!(fill(DE.away_until, "Montag 09:00"), "Wir sind bis Montag 09:00 nicht da – wir schicken dir die Antwort per E-Mail.");
        assert_eq!(fill("no placeholder", "x"), "no placeholder");
    }

    #[test]
    fn refusals_in_the_panels_language() {
        let too_long = pigeon_protocol::validate::body(&"x".repeat(4001)).unwrap_err();
        assert_eq!(DE.invalid(too_long.code), DE.too_long);
        let empty = pigeon_protocol::validate::body(" ").unwrap_err();
        assert_eq!(DE.invalid(empty.code), DE.empty);
        let email = pigeon_protocol::validate::email("nope").unwrap_err();
        assert_eq!(DE.invalid(email.code), DE.bad_email);
        assert_eq!(EN.invalid(email.code), EN.bad_email);
    }

    #[test]
    fn money_in_minor_units() {
        assert_eq!(money(Lang::En, 5998, "EUR"), "€59.98");
        assert_eq!(money(Lang::De, 5998, "EUR"), "59,98 €");
        assert_eq!(money(Lang::En, 1200, "JPY"), "1200 JPY");
        assert_eq!(money(Lang::En, 5, "USD"), "$0.05");
    }
}

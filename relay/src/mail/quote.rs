//! What a person wrote in an email reply, without the quoted history under it and without
//! their signature. Mail clients mark the quote differently: Gmail and Apple Mail write an
//! attribution line ("On <date>, <name> wrote:", which Gmail may wrap onto two lines),
//! Outlook a header block ("From: … Sent: …") or an "Original Message" rule; all of them may
//! prefix quoted lines with `>`. Our own notifications carry a marker line as a backstop.

/// Printed at the top of every notification; everything from it down is history.
pub const REPLY_MARKER: &str = "Reply above this line";

/// Attribution verbs in the languages shoppers and merchants most often use; the
/// attribution ends with a colon after the verb ("… wrote:", "… schrieb Anna <a@b.c>:").
const WROTE: [&str; 7] = ["wrote", "schrieb", "a écrit", "escribió", "ha scritto", "schreef", "skrev"];
const ATTRIBUTION_START: [&str; 8] = ["On ", "Am ", "Le ", "El ", "Il ", "Op ", "Den ", "På "];
/// First lines of a client's own quoted-header block; the block needs a second header line.
const HEADER_FIRST: [&str; 4] = ["From:", "Von:", "De :", "De:"];
const HEADER_NEXT: [&str; 8] = ["Sent:", "Date:", "To:", "Subject:", "Gesendet:", "An:", "Betreff:", "Envoyé :"];
/// Lines mobile clients append.
const SENT_FROM: [&str; 6] = [
    "Sent from my ",
    "Sent from Mail for ",
    "Sent from Outlook",
    "Get Outlook for ",
    "Von meinem ",
    "Envoyé de mon ",
];

fn strip_quote_prefix(line: &str) -> &str {
    line.trim_start_matches(|c: char| c == '>' || c == ' ').trim()
}

/// Where the history starts, as a line index.
fn history_start(lines: &[&str]) -> Option<usize> {
    for (i, raw) in lines.iter().enumerate() {
        let line = raw.trim();
        if line.contains(REPLY_MARKER) {
            // The marker may sit under an attribution line the client added just above it.
            return Some(attribution_above(lines, i).unwrap_or(i));
        }
        if is_rule(line) {
            return Some(i);
        }
        if HEADER_FIRST.iter().any(|h| strip_quote_prefix(line).starts_with(h))
            && lines[i + 1..].iter().take(4).any(|next| HEADER_NEXT.iter().any(|h| strip_quote_prefix(next).starts_with(h)))
        {
            return Some(i);
        }
        if ATTRIBUTION_START.iter().any(|s| line.starts_with(s)) && is_attribution(&lines[i..lines.len().min(i + 3)]) {
            return Some(i);
        }
        // A block of `>` lines that runs to the end (blank lines aside) is the quote.
        if line.starts_with('>') && lines[i..].iter().all(|l| l.trim().is_empty() || l.trim_start().starts_with('>')) {
            return Some(i);
        }
    }
    None
}

/// An attribution, possibly wrapped onto up to three lines: a verb, and a line ending in a
/// colon at or after it.
fn is_attribution(lines: &[&str]) -> bool {
    let mut joined = String::new();
    for line in lines {
        let line = strip_quote_prefix(line);
        joined.push_str(line);
        joined.push(' ');
        if joined.len() > 400 {
            return false;
        }
        if line.ends_with(':') && WROTE.iter().any(|w| joined.contains(w)) {
            return true;
        }
    }
    false
}

fn attribution_above(lines: &[&str], marker: usize) -> Option<usize> {
    (marker.saturating_sub(3)..marker).find(|&j| {
        let l = strip_quote_prefix(lines[j]);
        ATTRIBUTION_START.iter().any(|s| l.starts_with(s)) && is_attribution(&lines[j..marker])
    })
}

/// `-----Original Message-----`, Outlook's underscore rule, and the like.
fn is_rule(line: &str) -> bool {
    let lower = line.to_lowercase();
    (lower.starts_with("-----") && (lower.contains("original message") || lower.contains("ursprüngliche nachricht")))
        || (line.len() >= 20 && line.chars().all(|c| c == '_'))
        || lower == "-----original message-----"
}

/// The signature starts at `-- ` (RFC 3676) or a "Sent from my …" line.
fn signature_start(lines: &[&str]) -> Option<usize> {
    lines.iter().position(|l| {
        let t = l.trim_end();
        t == "--" || t == "-- " || l == &"-- " || SENT_FROM.iter().any(|s| t.trim_start().starts_with(s))
    })
}

/// The reply itself: history and signature removed, trailing blank lines and surrounding
/// whitespace trimmed, CRLF turned into LF. May be empty.
pub fn strip(text: &str) -> String {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let end = history_start(&lines).unwrap_or(lines.len());
    let kept = &lines[..end];
    let end = signature_start(kept).unwrap_or(kept.len());
    let reply: Vec<&str> = kept[..end].iter().map(|l| l.trim_end()).collect();
    reply.join("\n").trim().to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gmail() {
        let mail = "Yes, the blue one ships tomorrow.\r\n\r\nAnna\r\n\r\n\
            On Sat, Nov 21, 2026 at 10:02 AM Pigeon Outfitters <notify@mail.pigeon.test> wrote:\r\n\
            > Reply above this line to answer.\r\n> \r\n> Shopper: Is the blue jacket in stock?\r\n";
        assert_eq!(strip(mail), "Yes, the blue one ships tomorrow.\n\nAnna");
    }

    #[test]
    fn gmail_wrapped_attribution() {
        let mail = "Thanks, refund is on its way.\n\nOn Sat, 21 Nov 2026 at 10:02, Pigeon Outfitters via Pigeon <\n\
            notify@mail.pigeon.test> wrote:\n\n> Where is my refund?\n";
        assert_eq!(strip(mail), "Thanks, refund is on its way.");
    }

    #[test]
    fn apple_mail() {
        let mail = "Sure, size M is fine.\n\nSent from my iPhone\n\n\
            > On 21. Nov 2026, at 10:02, Pigeon Outfitters <notify@mail.pigeon.test> wrote:\n>\n> Is M big enough?\n";
        assert_eq!(strip(mail), "Sure, size M is fine.");
        let desktop = "Sure.\n\nOn Nov 21, 2026, at 10:02 AM, Pigeon <notify@mail.pigeon.test> wrote:\n\n> Hi\n";
        assert_eq!(strip(desktop), "Sure.");
    }

    #[test]
    fn outlook_desktop_and_web() {
        let desktop = "We can exchange it.\r\n\r\nBest,\r\nJo\r\n\r\n\
            ________________________________\r\nFrom: Pigeon Outfitters <notify@mail.pigeon.test>\r\n\
            Sent: Saturday, November 21, 2026 10:02 AM\r\nTo: owner@shop.test\r\nSubject: New chat\r\n\r\nCan I exchange it?\r\n";
        assert_eq!(strip(desktop), "We can exchange it.\n\nBest,\nJo");
        let web = "Done.\n\nFrom: Pigeon Outfitters <notify@mail.pigeon.test>\nSent: Saturday, 21 November 2026 10:02\n\
            To: owner@shop.test\nSubject: New chat\n\nQuestion?";
        assert_eq!(strip(web), "Done.");
        let rule = "Yes.\n\n-----Original Message-----\nFrom: x\nQuestion?";
        assert_eq!(strip(rule), "Yes.");
        let german = "Gern.\n\nVon: Pigeon Outfitters <notify@mail.pigeon.test>\nGesendet: Samstag, 21. November 2026 10:02\n\
            An: owner@shop.test\nBetreff: Neue Nachricht\n\nFrage?";
        assert_eq!(strip(german), "Gern.");
    }

    #[test]
    fn german_gmail_and_signature_delimiter() {
        let mail = "Ist unterwegs.\n-- \nJo Beispiel\nShop GmbH\n\nAm Sa., 21. Nov. 2026 um 10:02 Uhr schrieb Pigeon <n@m.test>:\n> Wo ist mein Paket?";
        assert_eq!(strip(mail), "Ist unterwegs.");
    }

    #[test]
    fn our_marker_catches_unknown_clients() {
        let mail = "Answer here.\n\n=== Some Client ===\n" .to_owned() + REPLY_MARKER + " to answer.\nold stuff";
        assert_eq!(strip(&mail), "Answer here.\n\n=== Some Client ===");
    }

    #[test]
    fn text_that_only_looks_like_history_stays() {
        // "On" at a line start without "wrote:" is just a sentence; ">" inside the reply
        // followed by more reply text is kept.
        let mail = "On Monday we ship.\n> 50 orders today\nmeans a delay.\nFrom: the warehouse team";
        assert_eq!(strip(mail), mail);
    }

    #[test]
    fn only_history_leaves_nothing() {
        assert_eq!(strip("\n\nOn Sat, Nov 21, 2026 Pigeon <a@b.c> wrote:\n> hi\n"), "");
        assert_eq!(strip("> just a quote\n>\n"), "");
    }
}

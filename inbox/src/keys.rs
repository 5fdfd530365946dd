//! The inbox's keyboard shortcuts: which key does what, decided without a browser
//! (host-tested); `view` listens for keys and acts.

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shortcut {
    /// The next conversation in the list (focus moves; Enter opens it).
    Next,
    Previous,
    /// Into the open conversation's reply box.
    Reply,
    /// Into it, writing an internal note.
    Note,
    /// Close the open conversation.
    Close,
    /// Into the search field.
    Search,
    /// Show or hide the list of shortcuts.
    Help,
    /// Hide the list; out of the field being typed in.
    Dismiss,
}

/// The shortcuts, as the `?` list shows them.
pub const LIST: &[(&str, &str)] = &[
    ("j", "Next conversation"),
    ("k", "Previous conversation"),
    ("Enter", "Open it"),
    ("r", "Reply to the open conversation"),
    ("n", "Write an internal note"),
    ("e", "Close the open conversation"),
    ("/", "Search messages and shopper emails"),
    ("?", "Show or hide these shortcuts"),
    ("Esc", "Hide them, leave the reply box, or end the search"),
];

/// What `key` (a `KeyboardEvent.key`) does, if anything. Nothing fires while typing in a
/// field except Escape (out of the field), and nothing with Ctrl, Alt or Meta held (the
/// browser's own shortcuts).
pub fn shortcut(key: &str, in_field: bool, modified: bool) -> Option<Shortcut> {
    if modified {
        return None;
    }
    if in_field {
        return (key == "Escape").then_some(Shortcut::Dismiss);
    }
    match key {
        "j" => Some(Shortcut::Next),
        "k" => Some(Shortcut::Previous),
        "r" => Some(Shortcut::Reply),
        "n" => Some(Shortcut::Note),
        "e" => Some(Shortcut::Close),
        "/" => Some(Shortcut::Search),
        "?" => Some(Shortcut::Help),
        "Escape" => Some(Shortcut::Dismiss),
        _ => None,
    }
}

/// The row to move to from `current` (the focused or open row's place, if any) among `rows`.
pub fn step(current: Option<usize>, rows: usize, forward: bool) -> Option<usize> {
    let last = rows.checked_sub(1)?;
    Some(match (current, forward) {
        (None, true) => 0,
        (None, false) => last,
        (Some(i), true) => (i + 1).min(last),
        (Some(i), false) => i.saturating_sub(1),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_fire_outside_fields_only_and_never_with_modifiers() {
        assert_eq!(shortcut("j", false, false), Some(Shortcut::Next));
        assert_eq!(shortcut("k", false, false), Some(Shortcut::Previous));
        assert_eq!(shortcut("?", false, false), Some(Shortcut::Help));
        assert_eq!(shortcut("n", false, false), Some(Shortcut::Note));
        assert_eq!(shortcut("/", false, false), Some(Shortcut::Search));
        for key in ["j", "k", "r", "n", "e", "?", "/"] {
            assert_eq!(shortcut(key, true, false), None, "{key} typed in a field");
            assert_eq!(shortcut(key, false, true), None, "{key} with a modifier");
        }
        assert_eq!(shortcut("Escape", true, false), Some(Shortcut::Dismiss));
        assert_eq!(shortcut("x", false, false), None);
        assert_eq!(shortcut("J", false, false), None, "Shift+j is not j");
    }

    #[test]
    fn moving_stops_at_the_ends() {
        assert_eq!(step(None, 3, true), Some(0));
        assert_eq!(step(None, 3, false), Some(2));
        assert_eq!(step(Some(2), 3, true), Some(2));
        assert_eq!(step(Some(0), 3, false), Some(0));
        assert_eq!(step(Some(1), 3, true), Some(2));
        assert_eq!(step(None, 0, true), None);
    }
}

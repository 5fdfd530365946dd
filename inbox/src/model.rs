//! The inbox's state that needs no browser: the list's order, a thread without gaps or
//! duplicates, replies waiting to be stored, cart changes, money. Host-tested.

use pigeon_protocol::{Cart, InboxConversation, Message, Status};
use serde::{Deserialize, Serialize};

/// When a row was last active: its last message, or its creation.
pub fn activity(c: &InboxConversation) -> &str {
    c.summary.last_message_at.as_deref().unwrap_or(&c.summary.created_at)
}

/// Puts `row` into `list` (the `status` tab), replacing its older version: a row of another
/// status leaves this tab. Newest activity first.
pub fn merge_row(list: &mut Vec<InboxConversation>, row: InboxConversation, status: Status) {
    list.retain(|c| c.summary.id != row.summary.id);
    if row.summary.status == status {
        list.push(row);
    }
    list.sort_by(|a, b| activity(b).cmp(activity(a)));
}

/// One conversation's messages as the inbox holds them: stored ones by `seq`, no
/// duplicates.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Thread {
    pub id: String,
    pub messages: Vec<Message>,
}

impl Thread {
    pub fn new(id: &str) -> Self {
        Self { id: id.to_owned(), messages: vec![] }
    }

    /// Adds stored messages (a page, a live frame, a reply's answer); returns whether any was new.
    pub fn insert(&mut self, messages: impl IntoIterator<Item = Message>) -> bool {
        let mut changed = false;
        for m in messages {
            match self.messages.binary_search_by_key(&m.seq, |x| x.seq) {
                Ok(_) => {}
                Err(at) => {
                    self.messages.insert(at, m);
                    changed = true;
                }
            }
        }
        changed
    }

    /// The highest `seq` held with nothing missing before it.
    pub fn through(&self) -> u64 {
        let mut through = 0;
        for m in &self.messages {
            if m.seq == through + 1 {
                through = m.seq;
            } else if m.seq > through + 1 {
                break;
            }
        }
        through
    }

    pub fn last_seq(&self) -> u64 {
        self.messages.last().map_or(0, |m| m.seq)
    }

    /// The carts the shopper shared, in order, each only when it changed.
    pub fn cart_changes(&self) -> Vec<(String, Cart)> {
        let mut out: Vec<(String, Cart)> = Vec::new();
        for m in &self.messages {
            if let Some(cart) = m.context.as_ref().and_then(|c| c.cart.as_ref())
                && out.last().is_none_or(|(_, last)| last != cart)
            {
                out.push((m.created_at.clone(), cart.clone()));
            }
        }
        out
    }
}

/// A reply not stored yet: kept (in `localStorage`) and sent until the relay stores it or
/// refuses it. The `client_id` makes a retry safe: stored once whatever happens.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub conversation: String,
    pub client_id: String,
    pub body: String,
    pub notify_shopper: bool,
    /// Why the relay refused it, if it did (then it waits for the teammate).
    #[serde(default)]
    pub refused: Option<String>,
}

/// Minor units as a price, e.g. `59.98 EUR` (currencies without minor units have none).
pub fn money(minor: i64, currency: &str) -> String {
    let digits = match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" | "HUF" => 0,
        "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
        _ => 2,
    };
    let sign = if minor < 0 { "-" } else { "" };
    let n = minor.unsigned_abs();
    if digits == 0 {
        return format!("{sign}{n} {currency}");
    }
    let unit = 10u64.pow(digits);
    format!("{sign}{}.{:0width$} {currency}", n / unit, n % unit, width = digits as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use pigeon_protocol::{Author, ConversationSummary};

    fn msg(seq: u64) -> Message {
        Message { id: format!("m{seq}"), seq, client_id: format!("c{seq}"), author: Author::Shopper, author_name: None, body: format!("b{seq}"), created_at: format!("2026-11-23T10:00:{seq:02}Z"), context: None }
    }

    fn row(id: &str, at: &str, status: Status) -> InboxConversation {
        InboxConversation {
            summary: ConversationSummary { id: id.into(), status, created_at: "2026-11-01T00:00:00Z".into(), last_seq: 1, last_message_at: Some(at.into()), last_message_preview: None, last_author: None, unread_count: 0, context: None },
            contact_email: None,
        }
    }

    #[test]
    fn rows_are_newest_first_and_leave_a_tab_when_their_status_changes() {
        let mut list = vec![];
        merge_row(&mut list, row("a", "2026-11-23T10:00:00Z", Status::Open), Status::Open);
        merge_row(&mut list, row("b", "2026-11-23T11:00:00Z", Status::Open), Status::Open);
        merge_row(&mut list, row("a", "2026-11-23T12:00:00Z", Status::Open), Status::Open);
        assert_eq!(list.iter().map(|c| c.summary.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        merge_row(&mut list, row("a", "2026-11-23T12:00:00Z", Status::Closed), Status::Open);
        assert_eq!(list.len(), 1);
    }

    #[test]
    fn a_thread_keeps_order_drops_duplicates_and_knows_its_gaps() {
        let mut t = Thread::new("x");
        assert!(t.insert([msg(3), msg(1)]));
        assert!(!t.insert([msg(1)]));
        assert_eq!(t.through(), 1);
        t.insert([msg(2)]);
        assert_eq!(t.through(), 3);
        assert_eq!(t.messages.iter().map(|m| m.seq).collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn cart_changes_are_listed_once_each() {
        let cart = |total| Cart { currency: "EUR".into(), total, items: vec![] };
        let mut t = Thread::new("x");
        let with = |seq, total| {
            let mut m = msg(seq);
            m.context = Some(pigeon_protocol::Context { cart: Some(cart(total)), ..Default::default() });
            m
        };
        t.insert([with(1, 100), with(2, 100), msg(3), with(4, 250)]);
        assert_eq!(t.cart_changes().iter().map(|(_, c)| c.total).collect::<Vec<_>>(), [100, 250]);
    }

    #[test]
    fn money_has_the_currencys_digits() {
        assert_eq!(money(5998, "EUR"), "59.98 EUR");
        assert_eq!(money(5, "EUR"), "0.05 EUR");
        assert_eq!(money(1200, "JPY"), "1200 JPY");
        assert_eq!(money(-1500, "USD"), "-15.00 USD");
        assert_eq!(money(1234, "KWD"), "1.234 KWD");
    }
}

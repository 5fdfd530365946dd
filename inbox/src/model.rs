//! The inbox's state that needs no browser: the list's order, a thread without gaps or
//! duplicates, replies waiting to be stored, cart changes seen live, money. Host-tested.

use pigeon_protocol::{Cart, CartStep, ConversationDetails, InboxConversation, Message, Note, Status};
use serde::{Deserialize, Serialize};

/// When a row was last active: its last message, or its creation.
pub fn activity(c: &InboxConversation) -> &str {
    c.summary.last_message_at.as_deref().unwrap_or(&c.summary.created_at)
}

/// Whose conversations a tab shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assigned {
    Anyone,
    Me,
    Nobody,
}

impl Assigned {
    /// The list route's `assignee` query value.
    pub fn as_query(self) -> &'static str {
        match self {
            Assigned::Anyone => "anyone",
            Assigned::Me => "me",
            Assigned::Nobody => "nobody",
        }
    }
}

/// The list a teammate is looking at: Open or Closed, and All, Mine or Unassigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tab {
    pub status: Status,
    pub assigned: Assigned,
}

impl Default for Tab {
    fn default() -> Self {
        Self { status: Status::Open, assigned: Assigned::Anyone }
    }
}

impl Tab {
    /// Whether `row` belongs in this tab for the teammate `me` (their address).
    pub fn admits(&self, row: &InboxConversation, me: &str) -> bool {
        row.summary.status == self.status
            && match self.assigned {
                Assigned::Anyone => true,
                Assigned::Me => row.assignee.as_deref().is_some_and(|a| a.eq_ignore_ascii_case(me)),
                Assigned::Nobody => row.assignee.is_none(),
            }
    }

    /// A name for this browser's copy of the tab's list.
    pub fn key(&self) -> String {
        format!("{}:{}", self.status.as_str(), self.assigned.as_query())
    }
}

/// Puts `row` into `list` (the teammate `me`'s `tab`), replacing its older version: a row
/// the tab no longer admits (closed, assigned elsewhere) leaves it. Newest activity first,
/// then by id, as the relay lists them.
pub fn merge_row(list: &mut Vec<InboxConversation>, row: InboxConversation, tab: Tab, me: &str) {
    list.retain(|c| c.summary.id != row.summary.id);
    if tab.admits(&row, me) {
        list.push(row);
    }
    // As the relay orders them: by last activity, then by id.
    list.sort_by(|a, b| activity(b).cmp(activity(a)).then_with(|| b.summary.id.cmp(&a.summary.id)));
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

    /// The highest `seq` held with nothing missing between it and the first one held (a
    /// thread may hold only its newest messages).
    pub fn through(&self) -> u64 {
        let Some(first) = self.messages.first() else { return 0 };
        let mut through = first.seq;
        for m in &self.messages[1..] {
            if m.seq != through + 1 {
                break;
            }
            through = m.seq;
        }
        through
    }

    /// The oldest `seq` held (0 for none).
    pub fn first_seq(&self) -> u64 {
        self.messages.first().map_or(0, |m| m.seq)
    }

    /// Whether the relay has older messages than those held (`seq` starts at 1, gap-free).
    pub fn has_earlier(&self) -> bool {
        self.first_seq() > 1
    }

    /// Adds the conversation's newest page. What this thread held before is kept only where
    /// it joins the page without a gap (a copy from an earlier visit may be far behind).
    pub fn insert_newest(&mut self, page: Vec<Message>) {
        let Some(first) = page.first().map(|m| m.seq) else { return };
        if self.first_seq() < first && self.through() + 1 < first {
            self.messages.retain(|m| m.seq >= first);
        }
        self.insert(page);
    }
}

/// A message's or row's time, short: `14:05` today, `23 Nov, 14:05` before (24-hour, local;
/// no `Intl`, whose first use costs ~90 ms on a slow phone). Each is `[year, month 0-11, day,
/// hour, minute]`.
pub fn short_time(at: [u32; 5], now: [u32; 5]) -> String {
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let [year, month, day, hour, minute] = at;
    if at[..3] == now[..3] {
        format!("{hour:02}:{minute:02}")
    } else if year == now[0] {
        format!("{day} {}, {hour:02}:{minute:02}", MONTHS[month as usize % 12])
    } else {
        format!("{day} {} {year}, {hour:02}:{minute:02}", MONTHS[month as usize % 12])
    }
}

/// The shopper shared `now` (at `at`) while the conversation was open: a step of the cart's
/// history when it differs from the cart they had shared before.
pub fn cart_shared(history: &mut Vec<CartStep>, before: Option<&Cart>, now: &Cart, at: &str) {
    if before != Some(now) {
        history.extend(CartStep::history([(at.to_owned(), now.clone())]));
    }
}

/// The open conversation's details after the socket told of a change to it (`c`, its newest
/// state): status, contact, assignee, and the context with its cart's history.
pub fn changed(d: &mut ConversationDetails, c: &InboxConversation) {
    d.status = c.summary.status;
    d.contact_email.clone_from(&c.contact_email);
    d.assignee.clone_from(&c.assignee);
    if let Some(context) = &c.summary.context {
        if let Some(cart) = &context.cart {
            cart_shared(&mut d.cart_history, d.context.as_ref().and_then(|c| c.cart.as_ref()), cart, activity(c));
        }
        d.context = Some(context.clone());
    }
}

/// Puts `note` into `notes` once (by id), oldest first.
pub fn insert_note(notes: &mut Vec<Note>, note: Note) {
    if !notes.iter().any(|n| n.id == note.id) {
        notes.push(note);
        notes.sort_by(|a, b| a.created_at.cmp(&b.created_at).then_with(|| a.id.cmp(&b.id)));
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
    /// An internal note rather than a reply (the same outbox, the same guarantees).
    #[serde(default)]
    pub note: bool,
    /// Why the relay refused it, if it did (then it waits for the teammate).
    #[serde(default)]
    pub refused: Option<String>,
}

/// Minor units as a price, e.g. `59.98 EUR` (currencies without minor units have none).
pub fn money(minor: i64, currency: &str) -> String {
    let digits = pigeon_protocol::currency_digits(currency);
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
        Message { id: format!("m{seq}"), seq, client_id: format!("c{seq}"), author: Author::Shopper, author_name: None, body: format!("b{seq}"), created_at: format!("2026-11-23T10:00:{seq:02}Z"), context: None, attachments: vec![] }
    }

    fn row(id: &str, at: &str, status: Status) -> InboxConversation {
        InboxConversation {
            summary: ConversationSummary { id: id.into(), status, created_at: "2026-11-01T00:00:00Z".into(), last_seq: 1, last_message_at: Some(at.into()), last_message_preview: None, last_author: None, unread_count: 0, context: None },
            contact_email: None,
            assignee: None,
        }
    }

    #[test]
    fn rows_are_newest_first_and_leave_a_tab_when_their_status_changes() {
        let open = Tab::default();
        let mut list = vec![];
        merge_row(&mut list, row("a", "2026-11-23T10:00:00Z", Status::Open), open, "me@x.test");
        merge_row(&mut list, row("b", "2026-11-23T11:00:00Z", Status::Open), open, "me@x.test");
        merge_row(&mut list, row("a", "2026-11-23T12:00:00Z", Status::Open), open, "me@x.test");
        assert_eq!(list.iter().map(|c| c.summary.id.as_str()).collect::<Vec<_>>(), ["a", "b"]);
        merge_row(&mut list, row("a", "2026-11-23T12:00:00Z", Status::Closed), open, "me@x.test");
        assert_eq!(list.len(), 1);
    }

    #[test]
    fn mine_and_unassigned_follow_the_assignee() {
        let mine = Tab { status: Status::Open, assigned: Assigned::Me };
        let nobody = Tab { status: Status::Open, assigned: Assigned::Nobody };
        let assigned = |to: Option<&str>| InboxConversation { assignee: to.map(str::to_owned), ..row("a", "2026-11-23T10:00:00Z", Status::Open) };
        let (mut m, mut n) = (vec![], vec![]);
        for (r, in_mine, in_nobody) in [(assigned(None), 0, 1), (assigned(Some("Me@X.test")), 1, 0), (assigned(Some("sam@x.test")), 0, 0)] {
            merge_row(&mut m, r.clone(), mine, "me@x.test");
            merge_row(&mut n, r, nobody, "me@x.test");
            assert_eq!((m.len(), n.len()), (in_mine, in_nobody));
        }
        assert_ne!(mine.key(), nobody.key());
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
    fn the_newest_page_joins_what_was_held_or_replaces_it() {
        let seqs = |t: &Thread| t.messages.iter().map(|m| m.seq).collect::<Vec<_>>();
        // A copy that reaches the page: kept, the page joins it.
        let mut t = Thread::new("x");
        t.insert((1..=5).map(msg));
        t.insert_newest((5..=8).map(msg).collect());
        assert_eq!(seqs(&t), (1..=8).collect::<Vec<_>>());
        assert!(!t.has_earlier());
        // A copy far behind the page: dropped (a gap would never be filled), a live frame newer
        // than the page kept.
        let mut t = Thread::new("x");
        t.insert((1..=3).map(msg).chain([msg(12)]));
        t.insert_newest((9..=11).map(msg).collect());
        assert_eq!(seqs(&t), [9, 10, 11, 12]);
        assert_eq!((t.first_seq(), t.through()), (9, 12));
        assert!(t.has_earlier());
        // Earlier pages go in front.
        t.insert((6..=8).map(msg));
        assert_eq!((t.first_seq(), t.through()), (6, 12));
        t.insert_newest(vec![]);
        assert_eq!(t.messages.len(), 7);
    }

    #[test]
    fn a_cart_shared_live_is_a_step_when_it_changed() {
        let cart = |total| Cart { currency: "EUR".into(), total, items: vec![] };
        let mut history = CartStep::history([("t1".to_owned(), cart(100))]);
        cart_shared(&mut history, Some(&cart(100)), &cart(100), "t2");
        cart_shared(&mut history, Some(&cart(100)), &cart(250), "t3");
        cart_shared(&mut history, None, &cart(300), "t4");
        assert_eq!(history.iter().map(|s| (s.at.as_str(), s.total)).collect::<Vec<_>>(), [("t1", 100), ("t3", 250), ("t4", 300)]);
    }

    #[test]
    fn a_change_heard_applies_to_details_old_or_new() {
        let cart = |total| Cart { currency: "EUR".into(), total, items: vec![] };
        let details = |assignee: Option<&str>, total| ConversationDetails {
            id: "a".into(),
            site: "s".into(),
            status: Status::Open,
            created_at: "2026-11-01T00:00:00Z".into(),
            context: Some(pigeon_protocol::Context { cart: Some(cart(total)), ..Default::default() }),
            contact_email: None,
            customer: None,
            assignee: assignee.map(str::to_owned),
            agent_read_seq: 0,
            shopper_read_seq: 0,
            cart_history: CartStep::history([("t0".to_owned(), cart(total))]),
            earlier: vec![],
            rating: Default::default(),
        };
        let mut heard = row("a", "2026-11-23T10:00:00Z", Status::Open);
        heard.assignee = Some("olivia@x.test".into());
        heard.contact_email = Some("ann@y.test".into());
        heard.summary.context = Some(pigeon_protocol::Context { cart: Some(cart(250)), ..Default::default() });
        // Details from before the change catch up with it, the cart's step included.
        let mut old = details(None, 100);
        changed(&mut old, &heard);
        assert_eq!((old.assignee.as_deref(), old.contact_email.as_deref()), (Some("olivia@x.test"), Some("ann@y.test")));
        assert_eq!(old.cart_history.iter().map(|s| s.total).collect::<Vec<_>>(), [100, 250]);
        // Details that already had it stay as they were.
        let mut new = details(Some("olivia@x.test"), 250);
        changed(&mut new, &heard);
        assert_eq!(new.cart_history.len(), 1);
        assert_eq!(new.assignee.as_deref(), Some("olivia@x.test"));
    }

    #[test]
    fn times_are_short_today_and_dated_before() {
        let now = [2026, 10, 24, 9, 30];
        assert_eq!(short_time([2026, 10, 24, 7, 5], now), "07:05");
        assert_eq!(short_time([2026, 10, 23, 23, 59], now), "23 Nov, 23:59");
        assert_eq!(short_time([2025, 11, 31, 0, 0], now), "31 Dec 2025, 00:00");
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

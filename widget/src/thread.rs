//! The shopper's view of the thread: stored messages in `seq` order, then their own messages
//! still on the way. Pure logic, unit-tested on the host.

use pigeon_protocol::Author;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// In the outbox, being sent.
    Sending,
    /// The last attempt failed; another follows after a backoff.
    Retrying,
    /// Stored by the relay (has a `seq`).
    Sent,
    /// The relay refused it for good (e.g. too long); kept on screen, not resent.
    Failed,
}

impl Delivery {
    /// For `data-delivery` and styles.
    pub fn as_str(self) -> &'static str {
        match self {
            Delivery::Sending => "sending",
            Delivery::Retrying => "retrying",
            Delivery::Sent => "sent",
            Delivery::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub client_id: String,
    pub seq: Option<u64>,
    pub author: Author,
    pub author_name: Option<String>,
    pub body: String,
    pub delivery: Delivery,
}

impl Entry {
    pub fn pending(client_id: String, body: String) -> Self {
        Self { client_id, seq: None, author: Author::Shopper, author_name: None, body, delivery: Delivery::Sending }
    }

    /// A message the relay stored (it has a `seq`).
    pub fn stored(seq: u64, client_id: String, author: Author, author_name: Option<String>, body: String) -> Self {
        Self { client_id, seq: Some(seq), author, author_name, body, delivery: Delivery::Sent }
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Thread {
    pub entries: Vec<Entry>,
    /// The shopper has seen everything up to this `seq` (in any tab or device).
    pub read_seq: u64,
    /// Every message up to this `seq` is held (or the relay said there are no others): the
    /// live socket asks for what follows, and nothing past it is ever marked read. Not the
    /// highest `seq` held, which may sit behind a gap (the shopper's own message acknowledged
    /// while the socket was down and a shop reply just before it not yet fetched).
    pub through: u64,
    /// How many of the oldest entries are collapsed (not rendered) until the shopper asks.
    pub hidden: usize,
}

/// One change to the thread. The engine makes every change through [`Thread::edit`] and reads
/// through [`Thread::marks`]: the widget then carries one copy of the signal's update and read
/// code, not one per closure.
#[derive(Debug, Clone)]
pub enum Edit {
    /// A stored message (POST answer, live socket, another tab, catch-up).
    Apply(Entry),
    /// The shopper's own message, not stored yet.
    Push(Entry),
    Delivery(String, Delivery),
    /// The shopper has read up to here (never moves back).
    Read(u64),
    /// The conversation is gone or replaced: only unsent messages stay.
    KeepPending,
    ShowEarlier,
}

/// Where the thread stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marks {
    pub through: u64,
    pub newest: u64,
    pub read: u64,
}

impl Marks {
    /// Something is missing: a message past `through` is held, or the relay has one.
    pub fn gap(&self, relay_newest: u64) -> bool {
        self.newest.max(relay_newest) > self.through
    }
}

/// Entries rendered when a thread is restored, and added per "Show earlier messages": a
/// long thread opens as fast as a short one.
pub const PAGE: usize = 50;

impl Thread {
    pub fn edit(&mut self, edit: Edit) {
        match edit {
            Edit::Apply(entry) => self.apply(entry),
            Edit::Push(entry) => self.push_pending(entry),
            Edit::Delivery(client_id, delivery) => self.set_delivery(&client_id, delivery),
            Edit::Read(seq) => self.read_seq = self.read_seq.max(seq),
            Edit::KeepPending => self.keep_pending(),
            Edit::ShowEarlier => self.show_earlier(),
        }
    }

    pub fn marks(&self) -> Marks {
        Marks { through: self.through, newest: self.newest_seq(), read: self.read_seq }
    }

    /// How many entries are stored ones: they come first, in `seq` order; the shopper's
    /// pending messages follow.
    fn stored_len(&self) -> usize {
        self.entries.partition_point(|e| e.seq.is_some())
    }

    /// The highest `seq` held, gaps or not.
    pub fn newest_seq(&self) -> u64 {
        self.entries[..self.stored_len()].last().and_then(|e| e.seq).unwrap_or(0)
    }

    /// Moves `through` over every held `seq` that continues it.
    fn advance(&mut self) {
        let stored = &self.entries[..self.stored_len()];
        let mut i = stored.partition_point(|e| e.seq.unwrap_or(0) <= self.through);
        while let Some(seq) = stored.get(i).and_then(|e| e.seq)
            && seq == self.through + 1
        {
            self.through = seq;
            i += 1;
        }
    }

    /// The entries on screen: all but the collapsed oldest ones.
    pub fn shown(&self) -> &[Entry] {
        &self.entries[self.hidden.min(self.entries.len())..]
    }

    /// Collapses all but the newest `PAGE` entries (after a restore).
    pub fn collapse(&mut self) {
        self.hidden = self.entries.len().saturating_sub(PAGE);
    }

    pub fn show_earlier(&mut self) {
        self.hidden = self.hidden.saturating_sub(PAGE);
    }

    /// Messages from the shop after the read position: the launcher's badge.
    pub fn unread(&self) -> usize {
        self.entries.iter().filter(|e| e.author != Author::Shopper && e.seq.is_some_and(|s| s > self.read_seq)).count()
    }

    pub fn push_pending(&mut self, entry: Entry) {
        self.entries.push(entry);
    }

    pub fn set_delivery(&mut self, client_id: &str, delivery: Delivery) {
        for e in &mut self.entries {
            if e.author == Author::Shopper && e.client_id == client_id && e.seq.is_none() {
                e.delivery = delivery;
            }
        }
    }

    /// Applies a stored message, from a POST answer or the live socket, whichever comes
    /// first: never shown twice, always in `seq` order, own pending messages last.
    /// A binary search and at most one scan of the (few) pending ones: restoring a long
    /// thread is linear, not quadratic.
    pub fn apply(&mut self, entry: Entry) {
        let Some(seq) = entry.seq else { return };
        let stored = self.stored_len();
        let Err(at) = self.entries[..stored].binary_search_by_key(&seq, |e| e.seq.unwrap_or(0)) else { return };
        // The shopper's own message, shown as pending until now.
        if let Some(i) = self.entries[stored..].iter().position(|e| e.author == entry.author && e.client_id == entry.client_id) {
            self.entries.remove(stored + i);
        }
        if at < self.hidden {
            self.hidden += 1; // older than the window: it joins the collapsed part
        }
        self.entries.insert(at, entry);
        if seq == self.through + 1 {
            self.advance();
        }
    }

    /// The conversation is gone: its messages go, the shopper's unsent ones stay.
    pub fn keep_pending(&mut self) {
        let pending = self.entries.split_off(self.stored_len());
        *self = Thread { entries: pending, ..Thread::default() };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(seq: u64, client_id: &str, author: Author, body: &str) -> Entry {
        Entry::stored(seq, client_id.into(), author, None, body.into())
    }

    #[test]
    fn pending_becomes_sent_once_whichever_path_is_first() {
        let mut t = Thread::default();
        t.push_pending(Entry::pending("c1".into(), "hi".into()));
        t.apply(stored(1, "c1", Author::Shopper, "hi"));
        t.apply(stored(1, "c1", Author::Shopper, "hi"));
        assert_eq!(t.entries.len(), 1);
        assert_eq!(t.entries[0].delivery, Delivery::Sent);
        assert_eq!(t.through, 1);
    }

    #[test]
    fn stored_messages_stay_in_seq_order_before_pending_ones() {
        let mut t = Thread::default();
        t.push_pending(Entry::pending("c9".into(), "later".into()));
        t.apply(stored(2, "a2", Author::Agent, "second"));
        t.apply(stored(1, "a1", Author::Agent, "first"));
        let order: Vec<_> = t.entries.iter().map(|e| e.body.as_str()).collect();
        assert_eq!(order, ["first", "second", "later"]);
    }

    #[test]
    fn unread_counts_only_the_shops_messages_after_the_read_position() {
        let mut t = Thread::default();
        t.apply(stored(1, "s1", Author::Shopper, "question"));
        t.apply(stored(2, "a1", Author::Agent, "answer"));
        t.apply(stored(3, "a2", Author::System, "closed"));
        assert_eq!(t.unread(), 2);
        t.read_seq = 2;
        assert_eq!(t.unread(), 1);
        t.read_seq = 3;
        assert_eq!(t.unread(), 0);
    }

    #[test]
    fn a_long_thread_in_any_order_is_held_once_in_seq_order() {
        let mut t = Thread::default();
        t.push_pending(Entry::pending("p".into(), "typed".into()));
        let mut seqs: Vec<u64> = (1..=2000).collect();
        shuffle(&mut seqs);
        for &s in seqs.iter().chain(seqs.iter().take(500)) {
            t.apply(stored(s, &format!("c{s}"), Author::Agent, "x"));
        }
        let held: Vec<u64> = t.entries.iter().filter_map(|e| e.seq).collect();
        assert_eq!(held, (1..=2000).collect::<Vec<_>>());
        assert_eq!(t.entries.last().unwrap().client_id, "p", "the pending message stays last");
        assert_eq!(t.through, 2000);
    }

    #[test]
    fn through_stops_at_a_gap_and_moves_when_it_is_filled() {
        let mut t = Thread::default();
        t.apply(stored(1, "s1", Author::Shopper, "question"));
        // The socket is down: the shop's reply (2) is stored on the relay, not here, and the
        // shopper's next message comes back acknowledged as 3.
        t.push_pending(Entry::pending("s2".into(), "anyone there?".into()));
        t.apply(stored(3, "s2", Author::Shopper, "anyone there?"));
        assert_eq!(t.newest_seq(), 3);
        assert_eq!(t.through, 1, "what to ask for next is after 1, not after 3");
        assert!(t.marks().gap(0));
        t.apply(stored(2, "a1", Author::Agent, "answer"));
        assert_eq!(t.through, 3);
        assert!(!t.marks().gap(3));
        assert!(t.marks().gap(4), "the relay holds more than this thread");
    }

    #[test]
    fn a_gone_conversation_keeps_only_unsent_messages() {
        let mut t = Thread::default();
        t.apply(stored(1, "s1", Author::Shopper, "a"));
        t.read_seq = 1;
        t.push_pending(Entry::pending("p".into(), "unsent".into()));
        t.keep_pending();
        assert_eq!((t.entries.len(), t.through, t.read_seq), (1, 0, 0));
        assert_eq!(t.entries[0].client_id, "p");
    }

    #[test]
    fn a_restored_thread_shows_the_newest_page_and_earlier_ones_on_request() {
        let mut t = Thread::default();
        for s in 1..=120 {
            t.apply(stored(s, &format!("c{s}"), Author::Agent, "x"));
        }
        t.collapse();
        let seqs = |t: &Thread| t.shown().iter().filter_map(|e| e.seq).collect::<Vec<_>>();
        assert_eq!(seqs(&t), (71..=120).collect::<Vec<_>>());
        // New messages and the shopper's own join the window; nothing shifts out of it.
        t.apply(stored(121, "c121", Author::Agent, "new"));
        t.push_pending(Entry::pending("p".into(), "mine".into()));
        assert_eq!(t.shown().len(), PAGE + 2);
        assert_eq!(t.shown()[0].seq, Some(71));
        t.show_earlier();
        assert_eq!(t.shown()[0].seq, Some(21));
        t.show_earlier();
        assert_eq!(t.shown().len(), t.entries.len());
        assert_eq!(t.hidden, 0);
    }

    /// A fixed permutation (no randomness needed to mix the order).
    fn shuffle(v: &mut [u64]) {
        let n = v.len();
        for i in 0..n {
            v.swap(i, (i * 7919 + 13) % n);
        }
    }

    #[test]
    fn an_agent_client_id_never_replaces_a_shopper_message() {
        let mut t = Thread::default();
        t.push_pending(Entry::pending("same".into(), "mine".into()));
        t.apply(stored(1, "same", Author::Agent, "theirs"));
        assert_eq!(t.entries.len(), 2);
        t.set_delivery("same", Delivery::Retrying);
        assert_eq!(t.entries.iter().find(|e| e.author == Author::Shopper).unwrap().delivery, Delivery::Retrying);
    }
}

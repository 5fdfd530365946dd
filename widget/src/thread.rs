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

    /// A key that stays the same from sending to stored.
    pub fn key(&self) -> String {
        format!("{}:{}", self.author.as_str(), self.client_id)
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Thread {
    pub entries: Vec<Entry>,
    /// The shopper has seen everything up to this `seq` (in any tab or device).
    pub read_seq: u64,
}

impl Thread {
    /// The highest `seq` held: what to ask the relay for next.
    pub fn last_seq(&self) -> u64 {
        self.entries.iter().filter_map(|e| e.seq).max().unwrap_or(0)
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
    pub fn apply(&mut self, entry: Entry) {
        if entry.seq.is_none() || self.entries.iter().any(|e| e.seq == entry.seq) {
            return;
        }
        self.entries.retain(|e| e.key() != entry.key());
        let at = self
            .entries
            .iter()
            .position(|e| e.seq.is_none_or(|s| s > entry.seq.unwrap_or(0)))
            .unwrap_or(self.entries.len());
        self.entries.insert(at, entry);
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
        assert_eq!(t.last_seq(), 1);
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
    fn an_agent_client_id_never_replaces_a_shopper_message() {
        let mut t = Thread::default();
        t.push_pending(Entry::pending("same".into(), "mine".into()));
        t.apply(stored(1, "same", Author::Agent, "theirs"));
        assert_eq!(t.entries.len(), 2);
        t.set_delivery("same", Delivery::Retrying);
        assert_eq!(t.entries.iter().find(|e| e.author == Author::Shopper).unwrap().delivery, Delivery::Retrying);
    }
}

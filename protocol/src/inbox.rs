//! The merchant's inbox (`/v1/inbox/...`): sign-in, who is signed in, the conversation list
//! with the shopper's address, a conversation's details, replies, and the live frames of a
//! site's inbox socket. Authenticated by the session cookie, never by a token in the body.

use serde::{Deserialize, Serialize};

use crate::{Cart, Context, ConversationSummary, Message, Status};

/// `POST /v1/inbox/signin`: send a sign-in link to this address (if it is a teammate's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignIn {
    pub email: String,
}

/// `POST /v1/inbox/session`: the token from the sign-in link, exchanged for the session
/// cookie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenSession {
    pub token: String,
}

/// A teammate's role on one site: owners manage the site, agents answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TeamRole {
    Owner,
    Agent,
}

impl TeamRole {
    pub fn as_str(self) -> &'static str {
        match self {
            TeamRole::Owner => "owner",
            TeamRole::Agent => "agent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(TeamRole::Owner),
            "agent" => Some(TeamRole::Agent),
            _ => None,
        }
    }
}

/// One site the signed-in person answers for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub site: String,
    pub site_name: String,
    /// Their name on this site: signs their replies.
    pub name: String,
    pub role: TeamRole,
    /// Whether closing asks the shopper for a rating here (the close button says so).
    #[serde(default)]
    pub ratings: crate::Ratings,
}

/// `GET /v1/inbox/me` (and the answer to [`OpenSession`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Me {
    pub email: String,
    pub sites: Vec<Membership>,
}

/// A row of the inbox's list: the merchant's summary plus the shopper's address.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxConversation {
    #[serde(flatten)]
    pub summary: ConversationSummary,
    pub contact_email: Option<String>,
    /// The teammate (email) who answers it; `None`: nobody yet.
    #[serde(default)]
    pub assignee: Option<String>,
}

/// `PUT /v1/inbox/conversations/{id}/assignee`: a teammate of the site (email), or nobody.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assign {
    pub assignee: Option<String>,
}

/// `GET /v1/inbox/sites/{site}/conversations?status=open|closed`, newest activity first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxList {
    pub conversations: Vec<InboxConversation>,
}

/// `GET /v1/inbox/conversations/{id}`: what the merchant sees beside the thread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationDetails {
    pub id: String,
    pub site: String,
    pub status: Status,
    pub created_at: String,
    /// The latest context the shopper shared (page, referrer, cart, language, time zone).
    pub context: Option<Context>,
    pub contact_email: Option<String>,
    /// The shop's signed-in customer, when the page proved who they are (signed identity).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<crate::CustomerInfo>,
    /// The teammate (email) who answers it.
    #[serde(default)]
    pub assignee: Option<String>,
    pub agent_read_seq: u64,
    pub shopper_read_seq: u64,
    /// How the cart changed over the whole conversation, oldest first.
    #[serde(default)]
    pub cart_history: Vec<CartStep>,
    /// The shopper's other conversations on this site (same address or same verified
    /// customer), newest first.
    pub earlier: Vec<ConversationSummary>,
    /// Whether a rating is awaited, and the shopper's latest.
    #[serde(default)]
    pub rating: crate::RatingState,
}

/// A cart the shopper shared that differed from the one before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartStep {
    /// When the message that carried it was stored.
    pub at: String,
    pub currency: String,
    /// Minor units.
    pub total: i64,
    /// Lines, counting quantities.
    pub items: u32,
}

impl CartStep {
    /// The carts shared in order (time, cart), each kept only when it differs from the one
    /// before (in any line, not only the total).
    pub fn history(carts: impl IntoIterator<Item = (String, Cart)>) -> Vec<CartStep> {
        let mut last: Option<Cart> = None;
        let mut steps = Vec::new();
        for (at, cart) in carts {
            if last.as_ref() != Some(&cart) {
                steps.push(CartStep { at, currency: cart.currency.clone(), total: cart.total, items: cart.items.iter().fold(0u32, |n, i| n.saturating_add(i.quantity)) });
                last = Some(cart);
            }
        }
        steps
    }
}

/// `POST /v1/inbox/conversations/{id}/messages`: a teammate's reply, signed with their name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxReply {
    pub client_id: String,
    pub body: String,
    /// `false`: do not email the shopper about this reply (they see it in the chat).
    #[serde(default = "yes")]
    pub notify_shopper: bool,
}

fn yes() -> bool {
    true
}

/// Frames on `GET /v1/inbox/sites/{site}/live` (WebSocket, JSON text frames, server to
/// client): every change of the site's conversations as it happens. A tab's `reply` is
/// answered with the stored message's `message` frame, sent to that tab at once (and, when
/// new, to every tab), or with an [`InboxRefused`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboxFrame {
    /// A conversation's row changed (new, new message, read, closed, reopened, contact).
    Conversation { conversation: InboxConversation },
    /// A message was stored in a conversation.
    Message { conversation: String, message: Message },
    /// A conversation was deleted by the shopper or erased.
    Gone { conversation: String },
    /// A teammate wrote an internal note in a conversation.
    Note { conversation: String, note: Note },
}

/// To the tab that sent a `reply` the relay did not store: the code and sentence the POST
/// would answer (`{"type":"refused","client_id","code","message"}`). The socket stays open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "refused")]
pub struct InboxRefused {
    pub client_id: String,
    pub code: String,
    pub message: String,
}

/// An internal note: written by a teammate in a conversation's thread, seen only by the
/// site's teammates. Kept apart from the messages (its own ids, no `seq`), so nothing that
/// serves the shopper (pages, live frames, emails, export) can carry one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    pub id: String,
    pub client_id: String,
    pub author_email: String,
    pub author_name: String,
    pub body: String,
    pub created_at: String,
}

/// `POST /v1/inbox/conversations/{id}/notes`: stored once per `client_id`, like a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostNote {
    pub client_id: String,
    pub body: String,
}

/// `GET /v1/inbox/conversations/{id}/notes`, oldest first; the answer to a POST is one `Note`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notes {
    pub notes: Vec<Note>,
}

/// One teammate of a site, as the Team settings list them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeammateInfo {
    pub email: String,
    pub name: String,
    pub role: TeamRole,
}

/// `GET /v1/inbox/sites/{site}/teammates`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub teammates: Vec<TeammateInfo>,
}

/// `POST /v1/inbox/sites/{site}/teammates` (owners): add someone; they get a sign-in link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Invite {
    pub email: String,
    pub name: String,
    pub role: TeamRole,
}

/// `PUT /v1/inbox/sites/{site}/teammates/{email}` (owners): a new role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeRole {
    pub role: TeamRole,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CartItem;

    fn cart(total: i64, lines: &[(&str, u32)]) -> Cart {
        let items = lines.iter().map(|(name, quantity)| CartItem { id: None, name: (*name).into(), quantity: *quantity, unit_price: 100, url: None, image_url: None }).collect();
        Cart { currency: "EUR".into(), total, items }
    }

    #[test]
    fn a_reply_on_the_socket_and_its_refusal_have_their_documented_shapes() {
        let reply: InboxClientFrame = serde_json::from_str(r#"{"type":"reply","conversation":"c1","client_id":"i-1","body":"Hi"}"#).unwrap();
        assert_eq!(reply, InboxClientFrame::Reply { conversation: "c1".into(), client_id: "i-1".into(), body: "Hi".into(), notify_shopper: true });
        let refused = InboxRefused { client_id: "i-1".into(), code: "empty_message".into(), message: "Write something.".into() };
        let text = serde_json::to_string(&refused).unwrap();
        // The inbox recognises a refusal by this beginning alone.
        assert!(text.starts_with(r#"{"type":"refused","client_id":"i-1""#), "{text}");
        assert_eq!(serde_json::from_str::<InboxRefused>(&text).unwrap(), refused);
    }

    #[test]
    fn a_cart_is_a_step_only_when_it_changed() {
        let carts = [
            ("t1", cart(100, &[("Cap", 1)])),
            ("t2", cart(100, &[("Cap", 1)])),
            ("t3", cart(100, &[("Hat", 1)])), // same total, other line
            ("t4", cart(250, &[("Hat", 1), ("Sock", 3)])),
            ("t5", cart(250, &[("Hat", 1), ("Sock", 3)])),
        ];
        let steps = CartStep::history(carts.into_iter().map(|(at, c)| (at.to_owned(), c)));
        assert_eq!(steps.iter().map(|s| (s.at.as_str(), s.total, s.items)).collect::<Vec<_>>(), [("t1", 100, 1), ("t3", 100, 1), ("t4", 250, 4)]);
        assert!(CartStep::history([]).is_empty());
    }
}

/// What an inbox tab sends on the site's live socket (besides `ping`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum InboxClientFrame {
    /// The conversation this tab shows while it is visible; `None`: none, or the tab is hidden.
    /// Teammates looking at a conversation are not notified about it.
    Viewing { conversation: Option<String> },
    /// A reply, as `POST /v1/inbox/conversations/{id}/messages` takes it, with the same rules
    /// (one message per `client_id` whichever path carried it). Answered `ack` or `refused`.
    Reply {
        conversation: String,
        client_id: String,
        body: String,
        #[serde(default = "yes")]
        notify_shopper: bool,
    },
}

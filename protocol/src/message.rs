use serde::{Deserialize, Serialize};

use crate::Context;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Author {
    Shopper,
    Agent,
    System,
}

impl Author {
    pub fn as_str(self) -> &'static str {
        match self {
            Author::Shopper => "shopper",
            Author::Agent => "agent",
            Author::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "shopper" => Some(Author::Shopper),
            "agent" => Some(Author::Agent),
            "system" => Some(Author::System),
            _ => None,
        }
    }
}

/// A stored message. `seq` is assigned by the conversation's Durable Object: 1, 2, 3 ...
/// without gaps; `client_id` is the sender's idempotency key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: String,
    pub seq: u64,
    pub client_id: String,
    pub author: Author,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conversation {
    pub id: String,
    pub site: String,
    pub created_at: String,
}

/// `POST /v1/sites/{site}/conversations`
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CreateConversation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
    /// The conversation this browser held before ("Start a new conversation"), proven by its
    /// token: erasing the new one erases it too (and whatever it followed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follows: Option<crate::identity::Held>,
}

/// 201 answer to [`CreateConversation`]; `token` is shown once and stored only hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedConversation {
    pub conversation: Conversation,
    pub token: String,
}

/// `POST /v1/conversations/{id}/messages`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostMessage {
    pub client_id: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<Context>,
}

/// `POST /v1/agent/conversations/{id}/messages`
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostAgentMessage {
    pub client_id: String,
    pub body: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
}

/// `GET .../messages?after={seq}&limit={n}`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesPage {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

/// `201`/`200` answer to [`PostMessage`] and [`PostAgentMessage`]: the message as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredMessage {
    pub message: Message,
}

/// `POST .../read`: everything up to `seq` has been seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct MarkRead {
    pub seq: u64,
}

/// `PUT /v1/conversations/{id}/contact`: where to send the answer when the shopper has left.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetContact {
    pub email: String,
}

/// `POST /v1/resume`: the token from the link in the shopper's email.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resume {
    pub resume_token: String,
}

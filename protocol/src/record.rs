//! What is stored about a conversation, as the API shows it: its status, the merchant's
//! list row, and the shopper's export.

use serde::{Deserialize, Serialize};

use crate::{Author, Context, Message};

/// Open until an agent closes it; the shopper writing again reopens it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[default]
    Open,
    Closed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Closed => "closed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "open" => Some(Status::Open),
            "closed" => Some(Status::Closed),
            _ => None,
        }
    }
}

/// One row of `GET /v1/agent/sites/{site}/conversations`: what the merchant's list shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub id: String,
    pub status: Status,
    pub created_at: String,
    /// 0 before the first message.
    pub last_seq: u64,
    pub last_message_at: Option<String>,
    /// The last message's first 140 characters.
    pub last_message_preview: Option<String>,
    pub last_author: Option<Author>,
    /// Shopper messages after the agent's read position.
    pub unread_count: u64,
    /// The latest context the shopper shared.
    pub context: Option<Context>,
}

/// `GET /v1/agent/sites/{site}/conversations`, most recent first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationList {
    pub conversations: Vec<ConversationSummary>,
}

/// `GET /v1/conversations/{id}/export`: everything stored about one conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Export {
    pub conversation: ExportedConversation,
    pub messages: Vec<Message>,
    /// The ratings the shopper gave, oldest first.
    #[serde(default)]
    pub ratings: Vec<crate::Rating>,
    pub exported_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportedConversation {
    pub id: String,
    pub site: String,
    pub created_at: String,
    pub status: Status,
    pub context: Option<Context>,
    pub contact_email: Option<String>,
    pub shopper_read_seq: u64,
    pub agent_read_seq: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_round_trip() {
        for s in [Status::Open, Status::Closed] {
            assert_eq!(Status::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_string(&s).unwrap(), format!("\"{}\"", s.as_str()));
        }
        assert_eq!(Status::parse("Closed"), None);
    }
}

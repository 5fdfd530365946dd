//! Search across a site's conversations (`GET /v1/inbox/sites/{site}/search?q=`): message
//! text and the shopper's address, newest first, with the matching words marked.

use serde::{Deserialize, Serialize};

use crate::{Author, Status};

/// The answer: at most `limit` hits (default 50), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
}

/// One place the words were found: a message, or a conversation's shopper address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchHit {
    pub conversation: String,
    pub status: Status,
    pub contact_email: Option<String>,
    /// The message found (`None` when the address matched).
    pub seq: Option<u64>,
    pub author: Option<Author>,
    /// When the message was written, or the conversation's last activity.
    pub at: String,
    /// The words around the match (the message's or the address), hits marked.
    pub snippet: Vec<Span>,
}

/// A run of text in a snippet; `hit` marks the searched words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub text: String,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hit: bool,
}

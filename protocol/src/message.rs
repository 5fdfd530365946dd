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
    /// Photos and files sent with the message (a shopper's or a teammate's upload is a message
    /// of its own with an empty `body`; an emailed reply carries its text and its files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

/// A file stored with a message. `content_type` is what the relay found in the bytes (never
/// the name or the upload's header): one of [`FileType`]. Fetched from
/// `GET .../conversations/{id}/files/{id}` by the conversation's token holder or its teammates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// Random, unguessable; names the file under its conversation.
    pub id: String,
    /// The sender's file name, cleaned (no folders, no control characters, at most 120 characters).
    pub name: String,
    pub content_type: String,
    /// Bytes.
    pub size: u64,
    /// Pixels, for images.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
}

impl Attachment {
    /// Shown inline (a picture) rather than offered as a download.
    pub fn is_image(&self) -> bool {
        self.content_type.starts_with("image/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_of_files_is_previewed_by_their_names() {
        let file = |name: &str, content_type: &str| Attachment { id: "f".into(), name: name.into(), content_type: content_type.into(), size: 1, width: None, height: None };
        let mut m = Message { id: "m".into(), seq: 1, client_id: "c".into(), author: Author::Shopper, author_name: None, body: String::new(), created_at: String::new(), context: None, attachments: vec![file("box.jpg", "image/jpeg")] };
        assert_eq!(m.preview(), "Photo: box.jpg");
        m.attachments = vec![file("a.pdf", "application/pdf")];
        assert_eq!(m.preview(), "File: a.pdf");
        m.attachments.push(file("b.png", "image/png"));
        assert_eq!(m.preview(), "2 files: a.pdf, b.png");
        m.body = "Hi".into();
        assert_eq!(m.preview(), "Hi");
    }

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!([human_size(900), human_size(51_200), human_size(2_400_000), human_size(10_485_760)], ["900 B", "51 KB", "2.4 MB", "10.4 MB"]);
    }
}

/// The file types the relay stores, recognised from their first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    Jpeg,
    Png,
    Gif,
    Webp,
    Pdf,
}

impl FileType {
    pub fn content_type(self) -> &'static str {
        match self {
            FileType::Jpeg => "image/jpeg",
            FileType::Png => "image/png",
            FileType::Gif => "image/gif",
            FileType::Webp => "image/webp",
            FileType::Pdf => "application/pdf",
        }
    }
}

/// A file's size for people: `2.4 MB`, `512 KB`, `900 B` (integers only: float formatting
/// costs the widget's extras kilobytes).
pub fn human_size(bytes: u64) -> String {
    match bytes {
        0..1_000 => format!("{bytes} B"),
        1_000..1_000_000 => format!("{} KB", bytes / 1_000),
        _ => format!("{}.{} MB", bytes / 1_000_000, bytes / 100_000 % 10),
    }
}

/// Largest file the relay stores: 10 MiB.
pub const MAX_FILE_BYTES: u64 = 10 * 1024 * 1024;

impl Message {
    /// One line for previews (the inbox list, notifications' subjects): the text, or for a
    /// message that is only files, their names.
    pub fn preview(&self) -> String {
        if !self.body.trim().is_empty() || self.attachments.is_empty() {
            return self.body.clone();
        }
        let names: Vec<&str> = self.attachments.iter().map(|a| a.name.as_str()).collect();
        match self.attachments.as_slice() {
            [one] if one.is_image() => format!("Photo: {}", one.name),
            [one] => format!("File: {}", one.name),
            _ => format!("{} files: {}", names.len(), names.join(", ")),
        }
    }
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

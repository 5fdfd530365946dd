//! Pigeon's v1 wire contract: the JSON shapes the widget and the relay exchange.
//!
//! One definition for both sides, so the wire format cannot drift. Timestamps are RFC 3339
//! UTC strings, money is integer minor units plus an ISO 4217 code. Validation that needs no
//! runtime lives here too, so it is unit-tested on the host and shared by both ends.

pub mod api_tokens;
mod context;
pub mod identity;
pub mod metrics;
mod inbox;
mod live;
mod message;
mod record;
pub mod rating;
pub mod replies;
mod search;
pub mod settings;
mod site;
pub mod validate;
pub mod webhooks;

pub use api_tokens::{ApiToken, ApiTokenMade, ApiTokens, PostApiToken};
pub use context::{Cart, CartItem, Context, Page, currency_digits};
pub use metrics::Metrics;
pub use identity::{Customer, CustomerInfo, Held, Identified, Identify, IdentitySettings};
pub use inbox::{
    Assign, CartStep, ChangeRole, InboxClientFrame, ConversationDetails, InboxConversation, InboxFrame, InboxList, InboxRefused, InboxReply, Invite, Me, Membership, Note, Notes, OpenSession, PostNote, SignIn, Team,
    TeamRole, TeammateInfo,
};
pub use live::{ClientFrame, ServerFrame};
pub use message::{
    Attachment, Author, Conversation, CreateConversation, FileType, MAX_FILE_BYTES, human_size, CreatedConversation, MarkRead, Message, MessagesPage,
    PostAgentMessage, PostMessage, Resume, SetContact, StoredMessage,
};
pub use record::{ConversationList, ConversationSummary, Export, ExportedConversation, Status};
pub use rating::{CloseConversation, Rating, RatingInput, RatingState};
pub use replies::{PutSavedReply, SavedReplies, SavedReply};
pub use search::{SearchHit, SearchResults, Span};
pub use settings::{NotifyBy, Profile, Ratings, ReplyTime, PushEndpoint, PushInfo, PushKeys, PushPayload, PushSubscription, SettingsView, SiteSettings};
pub use site::{BusinessHours, DayHours, SiteConfig};
pub use webhooks::{DeliveryState, PatchWebhook, PostWebhook, WebhookDeliveries, WebhookDelivery, WebhookEndpoint, WebhookEndpoints, WebhookPayload, WebhookSaved, WebhookTest};

use serde::{Deserialize, Serialize};

/// The body of every 4xx/5xx answer: `{"error": {"code": "snake_case", "message": "..."}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// Stable, machine-readable, snake_case.
    pub code: String,
    /// For a human; never contains internal error text.
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self { error: ErrorDetail { code: code.into(), message: message.into() } }
    }
}

//! Ratings (issue 17): a close may ask the shopper how it went. The shopper answers once per
//! close, in the widget (`POST /v1/conversations/{id}/rating` with their token) or through the
//! signed links of the closing email; the inbox shows the answer.

use serde::{Deserialize, Serialize};

use crate::validate::{Checked, Invalid};

pub const MAX_COMMENT_CHARS: usize = 1000;

/// `POST /v1/inbox/conversations/{id}/close` and `POST /v1/agent/conversations/{id}/close`
/// (both bodies optional).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CloseConversation {
    /// "Close and ask for a rating": for sites whose ratings are `ask` (with `on` every close
    /// asks; with `off` this is refused, `ratings_off`).
    #[serde(default)]
    pub ask_rating: bool,
}

/// `POST /v1/conversations/{id}/rating`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingInput {
    /// How satisfied: 1 (very unhappy) to 5 (very happy).
    pub satisfaction: u8,
    /// "How easy was it to get help?": 1 (very easy) to 5 (very hard); may be skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effort: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A rating as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub satisfaction: u8,
    pub effort: Option<u8>,
    pub comment: Option<String>,
    pub rated_at: String,
}

/// `GET /v1/conversations/{id}/rating`, and the inbox's details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RatingState {
    /// The last close asked for a rating and none was given yet.
    pub asked: bool,
    /// The latest rating given, if any.
    pub rated: Option<Rating>,
    /// Whether the conversation is open or closed now (the widget's closed state). Older
    /// relays did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<crate::Status>,
}

fn score(n: u8, what: &str) -> Checked<u8> {
    if (1..=5).contains(&n) { Ok(n) } else { Err(Invalid::new("invalid_rating", format!("{what} is a whole number from 1 to 5."))) }
}

/// Scores from 1 to 5; the comment trimmed, at most [`MAX_COMMENT_CHARS`] (empty: none).
pub fn rating(r: &RatingInput) -> Checked<RatingInput> {
    let comment = r.comment.as_deref().map(str::trim).filter(|c| !c.is_empty());
    if let Some(c) = comment
        && (c.chars().count() > MAX_COMMENT_CHARS || c.contains('\0'))
    {
        return Err(Invalid::new("invalid_rating", format!("The comment is at most {MAX_COMMENT_CHARS} characters.")));
    }
    Ok(RatingInput {
        satisfaction: score(r.satisfaction, "Satisfaction")?,
        effort: r.effort.map(|e| score(e, "Effort")).transpose()?,
        comment: comment.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_are_one_to_five_and_comments_tidied() {
        let ok = rating(&RatingInput { satisfaction: 5, effort: Some(1), comment: Some("  Quick and kind.  ".into()) }).unwrap();
        assert_eq!(ok, RatingInput { satisfaction: 5, effort: Some(1), comment: Some("Quick and kind.".into()) });
        assert_eq!(rating(&RatingInput { satisfaction: 3, effort: None, comment: Some("   ".into()) }).unwrap().comment, None);
        for (s, e) in [(0, None), (6, None), (3, Some(0)), (3, Some(6))] {
            assert_eq!(rating(&RatingInput { satisfaction: s, effort: e, comment: None }).unwrap_err().code, "invalid_rating");
        }
        let long = "x".repeat(MAX_COMMENT_CHARS + 1);
        assert!(rating(&RatingInput { satisfaction: 4, effort: None, comment: Some(long) }).unwrap_err().message.contains("1000"));
        let parsed: RatingInput = serde_json::from_str(r#"{"satisfaction":4}"#).unwrap();
        assert_eq!((parsed.effort, parsed.comment), (None, None));
        assert!(serde_json::from_str::<RatingInput>(r#"{"satisfaction":400}"#).is_err(), "not a u8");
        assert_eq!(serde_json::from_str::<CloseConversation>("{}").unwrap(), CloseConversation::default());
    }
}

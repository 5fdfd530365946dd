//! Personal API tokens: a teammate's own key to the agent API for one site, made and revoked
//! in the inbox. The token is shown once when made; the relay keeps only its SHA-256. What a
//! token does is signed with the teammate's name, and it stops working when they leave the
//! site's team.

use serde::{Deserialize, Serialize};

use crate::validate::{Checked, Invalid};

/// Every token starts so (secret scanners and people can tell it from a site's agent key).
pub const TOKEN_PREFIX: &str = "pgn_pat_";
/// Tokens per teammate per site.
pub const MAX_TOKENS: usize = 10;
pub const MAX_TOKEN_NAME: usize = 80;

/// A token as listed: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: String,
    /// What the teammate called it ("Zapier", "order sync").
    pub name: String,
    pub created_at: String,
    /// To the hour: when it was last used, if ever.
    pub last_used_at: Option<String>,
}

/// `GET /v1/inbox/sites/{site}/tokens`: the signed-in teammate's tokens for the site, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokens {
    pub tokens: Vec<ApiToken>,
}

/// `POST /v1/inbox/sites/{site}/tokens`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostApiToken {
    pub name: String,
}

/// The answer to `POST .../tokens`: the token, and its secret this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiTokenMade {
    pub token: ApiToken,
    pub secret: String,
}

/// A token's name, trimmed: 1 to [`MAX_TOKEN_NAME`] characters on one line.
pub fn token_name(raw: &str) -> Checked<String> {
    let name = raw.trim();
    if name.is_empty() || name.chars().count() > MAX_TOKEN_NAME || name.chars().any(char::is_control) {
        return Err(Invalid::new("invalid_token_name", format!("Give the token a name of 1 to {MAX_TOKEN_NAME} characters, saying what uses it.")));
    }
    Ok(name.to_owned())
}

/// Could `bearer` be a personal token (rather than a site's agent key)?
pub fn is_token(bearer: &str) -> bool {
    bearer.starts_with(TOKEN_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(token_name("  Zapier ").unwrap(), "Zapier");
        assert_eq!(token_name(&"é".repeat(MAX_TOKEN_NAME)).unwrap().chars().count(), MAX_TOKEN_NAME);
        assert_eq!(token_name(&"x".repeat(MAX_TOKEN_NAME + 1)).unwrap_err().code, "invalid_token_name");
        assert_eq!(token_name(" \n ").unwrap_err().code, "invalid_token_name");
        assert_eq!(token_name("two\nlines").unwrap_err().code, "invalid_token_name");
    }

    #[test]
    fn tokens_are_told_from_keys_by_their_prefix() {
        assert!(is_token("pgn_pat_0123"));
        assert!(!is_token("demo-agent-key"));
        assert!(!is_token("PGN_PAT_0123"));
    }
}

//! Email: the notifications the relay sends, and the replies it takes back.
//!
//! Sending goes through the [`Mailer`] trait; [`CloudflareEmail`] implements it with the
//! `send_email` binding, and an HTTP email API could implement it the same way. Everything
//! that needs no runtime (MIME, signatures, quote stripping, the notification texts, parsing
//! inbound mail) lives in the submodules and is tested on the host.

pub mod compose;
pub mod inbound;
pub mod notice;
pub mod quote;
pub mod sign;
pub mod writer;

use std::time::Duration;

use worker::{EmailMessage, Env, SendEmail};

pub use compose::{Email, Mailbox};

/// Where mail comes from and goes to, read from the Worker's environment.
#[derive(Clone)]
pub struct MailConfig {
    /// Signs reply addresses and resume tokens (`MAIL_SECRET`, a Worker secret).
    pub secret: Vec<u8>,
    /// `MAIL_DOMAIN`: notifications come from `notify@` it, replies go to `reply+…@` it.
    pub domain: String,
    /// Quiet time after the shopper's last message before the merchant is emailed.
    pub merchant_delay: Duration,
    /// Time the shopper has to read a reply in the widget before it is emailed.
    pub shopper_delay: Duration,
    /// How long a resume link works.
    pub resume_valid: Duration,
}

fn seconds(env: &Env, name: &str, default: f64) -> Duration {
    let secs = env.var(name).ok().and_then(|v| v.to_string().trim().parse::<f64>().ok()).filter(|s| s.is_finite() && *s >= 0.0);
    Duration::from_secs_f64(secs.unwrap_or(default))
}

impl MailConfig {
    /// `None` when email is not configured (no secret of at least 32 characters, or no
    /// domain): then nothing is sent and inbound mail is refused, and the log says so.
    pub fn from_env(env: &Env) -> Option<Self> {
        let secret = env.secret("MAIL_SECRET").or_else(|_| env.var("MAIL_SECRET")).ok()?.to_string();
        let domain = env.var("MAIL_DOMAIN").ok()?.to_string().trim().to_ascii_lowercase();
        if secret.len() < 32 || !compose::address_ok(&format!("notify@{domain}")) {
            worker::console_error!("email is off: MAIL_SECRET must have 32+ characters and MAIL_DOMAIN be a domain");
            return None;
        }
        Some(Self {
            secret: secret.into_bytes(),
            domain,
            merchant_delay: seconds(env, "MERCHANT_NOTIFY_DELAY_SECONDS", 120.0),
            shopper_delay: seconds(env, "SHOPPER_NOTIFY_DELAY_SECONDS", 300.0),
            resume_valid: seconds(env, "RESUME_LINK_DAYS", 30.0) * 86_400,
        })
    }

    pub fn sender(&self, name: &str) -> Mailbox {
        Mailbox::new(format!("{name} via Pigeon"), format!("notify@{}", self.domain))
    }

    pub fn reply_to(&self, name: &str, conversation: &str, role: sign::Role) -> Mailbox {
        Mailbox::new(name, sign::reply_address(&self.secret, conversation, role, &self.domain))
    }

    /// Our Message-IDs: `pigeon.<conversation>.<tag>@<domain>`.
    pub fn message_id(&self, conversation: &str, tag: &str) -> String {
        format!("pigeon.{conversation}.{tag}@{}", self.domain)
    }
}

/// A failed send, and whether trying again can help.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    pub permanent: bool,
    pub message: String,
}

/// Something that delivers an [`Email`].
#[allow(async_fn_in_trait)] // Used with concrete types only; Workers are single-threaded.
pub trait Mailer {
    async fn send(&self, email: &Email) -> Result<(), SendError>;
}

/// Cloudflare Email Service through the `send_email` binding named `EMAIL`.
pub struct CloudflareEmail(SendEmail);

impl CloudflareEmail {
    pub fn from_env(env: &Env) -> Result<Self, SendError> {
        env.send_email("EMAIL").map(Self).map_err(|e| SendError { permanent: true, message: format!("no EMAIL binding: {e}") })
    }
}

impl Mailer for CloudflareEmail {
    async fn send(&self, email: &Email) -> Result<(), SendError> {
        let raw = compose::to_mime(email).map_err(|e| SendError { permanent: true, message: e.to_string() })?;
        let message = EmailMessage::new(&email.from.address, &email.to.address, &raw)
            .map_err(|e| SendError { permanent: true, message: format!("{e:?}") })?;
        self.0.send(&message).await.map(|_| ()).map_err(|e| SendError { permanent: false, message: format!("{e:?}") })
    }
}

/// Sends a one-off notice (sign-in link, mention, webhook switched off) from Pigeon's
/// `notify@` address to `to`: a mail of its own, `id` naming it in its Message-ID; `what`
/// names it in the error.
pub async fn send_notice(env: &Env, config: &MailConfig, to: Mailbox, words: notice::Words, id: &str, what: &str) -> crate::Result<()> {
    let mail = Email {
        from: Mailbox::new("Pigeon", format!("notify@{}", config.domain)),
        to,
        reply_to: None,
        subject: words.subject,
        message_id: format!("pigeon.{id}@{}", config.domain),
        in_reply_to: None,
        references: vec![],
        date: String::from(js_sys::Date::new_0().to_utc_string()),
        text: words.text,
        html: words.html,
    };
    let mailer = CloudflareEmail::from_env(env).map_err(|e| crate::Error::Internal(e.to_string()))?;
    mailer.send(&mail).await.map_err(|e| crate::Error::Internal(format!("{what} mail: {e}")))
}

/// When to try a failed send again: 30 s, 2 min, 8 min, 32 min, then give up.
pub fn retry_delay(attempts: u32) -> Option<Duration> {
    (attempts < 5).then(|| Duration::from_secs(30 * 4u64.pow(attempts.saturating_sub(1).min(4))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_then_stop() {
        let delays: Vec<_> = (1..=6).map(retry_delay).collect();
        assert_eq!(delays[0], Some(Duration::from_secs(30)));
        assert_eq!(delays[1], Some(Duration::from_secs(120)));
        assert_eq!(delays[3], Some(Duration::from_secs(1920)));
        assert_eq!(delays[4], None);
        assert_eq!(delays[5], None);
    }
}

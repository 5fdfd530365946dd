//! A site's settings as its owners edit them in the inbox (`/v1/inbox/sites/{site}/settings`),
//! and each teammate's own notification profile (`/v1/inbox/me/profile`). The rules are here,
//! so the inbox says what is wrong before it asks and the relay refuses the same things.

use serde::{Deserialize, Serialize};

use crate::validate::{Checked, Invalid};
use crate::{BusinessHours, DayHours, SiteConfig};

pub const MAX_NAME_CHARS: usize = 80;
pub const MAX_GREETING_CHARS: usize = 500;
pub const MAX_EXPECTED_REPLY_CHARS: usize = 200;
pub const MAX_ORIGINS: usize = 20;
pub const MAX_HOLIDAYS: usize = 100;
pub const MAX_INTERVALS_PER_DAY: usize = 4;
pub const MAX_RETENTION_DAYS: u32 = 3650;
/// Push after this many seconds unseen at most (the default is 10).
pub const MAX_PUSH_DELAY_SECONDS: u32 = 3600;
/// Email after this many seconds unseen at most (a day).
pub const MAX_EMAIL_DELAY_SECONDS: u32 = 86_400;
/// Idle conversations are closed after this many days at most (0: never).
pub const MAX_AUTO_CLOSE_DAYS: u32 = 365;

/// What the widget says about the reply time while the shop is open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyTime {
    /// The site's own `expected_reply`.
    #[default]
    Text,
    /// "Typically replies in about 2 hours": the median first response in business hours over
    /// the last 7 days; the site's text while fewer than
    /// [`MIN_MEASURED_CONVERSATIONS`] conversations were answered.
    Measured,
}

/// Answered conversations in the last 7 days needed for a measured reply time.
pub const MIN_MEASURED_CONVERSATIONS: u64 = 5;

/// Whether closing a conversation asks the shopper how it went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ratings {
    #[default]
    Off,
    /// Every close by a teammate asks (the idle sweep's never does).
    On,
    /// Only "Close and ask for a rating" asks.
    Ask,
}

macro_rules! words {
    ($ty:ty { $($variant:ident = $word:literal),+ }) => {
        impl $ty {
            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $word),+ }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($word => Some(Self::$variant),)+ _ => None }
            }
        }
    };
}
words!(ReplyTime { Text = "text", Measured = "measured" });
words!(Ratings { Off = "off", On = "on", Ask = "ask" });

/// `GET`/`PUT /v1/inbox/sites/{site}/settings`: what `scripts/site.mjs` sets, minus the
/// merchant address and the agent key (secrets and the first owner stay with the script).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteSettings {
    pub name: String,
    pub greeting: String,
    pub expected_reply: String,
    /// `#rrggbb`.
    pub brand_color: String,
    pub business_hours: BusinessHours,
    /// Pages that may embed the widget, `scheme://host[:port]`.
    pub origins: Vec<String>,
    /// Conversations idle longer than this many days are erased. Whole days (no float code
    /// in the inbox); a fractional value stored by `scripts/site.mjs` is shown rounded up.
    pub retention_days: u32,
    /// A shopper's message nobody has seen is pushed to the teammates' devices after this.
    pub push_delay_seconds: u32,
    /// ... and emailed after this, if still unseen.
    pub email_delay_seconds: u32,
    #[serde(default)]
    pub reply_time: ReplyTime,
    /// Open conversations with no message for this many days are closed (no rating is asked
    /// then); 0: never.
    #[serde(default)]
    pub auto_close_days: u32,
    #[serde(default)]
    pub ratings: Ratings,
}

/// The answer to the settings routes: the settings, and what the widget shows with them now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsView {
    pub settings: SiteSettings,
    /// `GET /v1/sites/{site}` as it answers with these settings at this moment.
    pub widget: SiteConfig,
    /// Only owners may change them.
    pub editable: bool,
}

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid::new("invalid_settings", message)
}

fn text(raw: &str, what: &str, min: usize, max: usize) -> Checked<String> {
    let t = raw.trim();
    let n = t.chars().count();
    if n < min || n > max || t.contains('\0') {
        let least = if min > 0 { format!("{min} to ") } else { "at most ".into() };
        return Err(invalid(format!("{what} is {least}{max} characters.")));
    }
    Ok(t.to_owned())
}

/// `HH:MM` from 00:00 to 24:00: minutes since midnight.
pub fn hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    if h.len() != 2 || m.len() != 2 {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
}

/// `YYYY-MM-DD`, a real calendar date.
pub fn date(s: &str) -> Option<(i32, u8, u8)> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d): (i32, u8, u8) = (s[..4].parse().ok()?, s[5..7].parse().ok()?, s[8..].parse().ok()?);
    ((1970..=9999).contains(&y) && (1..=12).contains(&m) && d >= 1 && d <= days_in_month(y, m)).then_some((y, m, d))
}

fn days_in_month(y: i32, m: u8) -> u8 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// An IANA zone name's shape (`Europe/Berlin`, `America/Argentina/Buenos_Aires`, `UTC`,
/// `Etc/GMT+2`); whether the zone exists is asked of the runtime by the relay.
pub fn time_zone_shape(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"/_+-".contains(&b)) && !s.starts_with('/') && !s.contains("//")
}

/// Weekly hours: none at all (always open) or seven days, Monday first, each with up to four
/// intervals that open before they close and do not overlap; holidays as dates, kept sorted.
pub fn business_hours(h: &BusinessHours) -> Checked<BusinessHours> {
    let zone = h.time_zone.trim();
    if !time_zone_shape(zone) {
        return Err(invalid("The time zone is an IANA name such as Europe/Berlin."));
    }
    if !h.days.is_empty() && h.days.len() != 7 {
        return Err(invalid("Business hours list seven days, Monday first (or none: always open)."));
    }
    const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
    let mut days = Vec::with_capacity(h.days.len());
    for (i, day) in h.days.iter().enumerate() {
        if day.len() > MAX_INTERVALS_PER_DAY {
            return Err(invalid(format!("{}: at most {MAX_INTERVALS_PER_DAY} opening times a day.", DAYS[i])));
        }
        let mut spans = Vec::with_capacity(day.len());
        for d in day {
            let (open, close) = (d.open.trim(), d.close.trim());
            match (hhmm(open), hhmm(close)) {
                (Some(o), Some(c)) if o < c => spans.push((o, c, open.to_owned(), close.to_owned())),
                (Some(_), Some(_)) => return Err(invalid(format!("{}: {open}–{close} closes before it opens.", DAYS[i]))),
                _ => return Err(invalid(format!("{}: times are HH:MM, from 00:00 to 24:00.", DAYS[i]))),
            }
        }
        spans.sort();
        if spans.windows(2).any(|w| w[1].0 < w[0].1) {
            return Err(invalid(format!("{}: opening times overlap.", DAYS[i])));
        }
        days.push(spans.into_iter().map(|(_, _, open, close)| DayHours { open, close }).collect());
    }
    if h.holidays.len() > MAX_HOLIDAYS {
        return Err(invalid(format!("At most {MAX_HOLIDAYS} holidays.")));
    }
    let mut holidays = Vec::with_capacity(h.holidays.len());
    for d in &h.holidays {
        let d = d.trim();
        if date(d).is_none() {
            return Err(invalid(format!("Holiday “{}” is not a date like 2026-12-24.", d.chars().take(20).collect::<String>())));
        }
        holidays.push(d.to_owned());
    }
    holidays.sort();
    holidays.dedup();
    Ok(BusinessHours { time_zone: zone.to_owned(), days, holidays })
}

/// Everything but the origins' form (the relay normalises those with its one origin parser).
pub fn site_settings(s: &SiteSettings) -> Checked<SiteSettings> {
    let color = s.brand_color.trim().to_ascii_lowercase();
    if !(color.len() == 7 && color.starts_with('#') && color[1..].bytes().all(|b| b.is_ascii_hexdigit())) {
        return Err(invalid("The brand color is #rrggbb, like #2f6fed."));
    }
    if s.origins.is_empty() || s.origins.len() > MAX_ORIGINS {
        return Err(invalid(format!("List 1 to {MAX_ORIGINS} origins where the widget is embedded.")));
    }
    if !(1..=MAX_RETENTION_DAYS).contains(&s.retention_days) {
        return Err(invalid(format!("Conversations are kept 1 to {MAX_RETENTION_DAYS} days.")));
    }
    if s.push_delay_seconds > MAX_PUSH_DELAY_SECONDS {
        return Err(invalid(format!("Push waits at most {MAX_PUSH_DELAY_SECONDS} seconds.")));
    }
    if s.email_delay_seconds > MAX_EMAIL_DELAY_SECONDS {
        return Err(invalid(format!("Email waits at most {MAX_EMAIL_DELAY_SECONDS} seconds.")));
    }
    if s.auto_close_days > MAX_AUTO_CLOSE_DAYS {
        return Err(invalid(format!("Idle conversations are closed after at most {MAX_AUTO_CLOSE_DAYS} days (0: never).")));
    }
    Ok(SiteSettings {
        name: text(&s.name, "The shop's name", 1, MAX_NAME_CHARS)?,
        greeting: text(&s.greeting, "The greeting", 0, MAX_GREETING_CHARS)?,
        expected_reply: text(&s.expected_reply, "The expected reply text", 0, MAX_EXPECTED_REPLY_CHARS)?,
        brand_color: color,
        business_hours: business_hours(&s.business_hours)?,
        origins: s.origins.iter().map(|o| o.trim().to_owned()).collect(),
        retention_days: s.retention_days,
        push_delay_seconds: s.push_delay_seconds,
        email_delay_seconds: s.email_delay_seconds,
        reply_time: s.reply_time,
        auto_close_days: s.auto_close_days,
        ratings: s.ratings,
    })
}

/// How a teammate wants to hear about messages nobody has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyBy {
    Push,
    Email,
    #[default]
    Both,
}

impl NotifyBy {
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyBy::Push => "push",
            NotifyBy::Email => "email",
            NotifyBy::Both => "both",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [NotifyBy::Push, NotifyBy::Email, NotifyBy::Both].into_iter().find(|n| n.as_str() == s)
    }

    pub fn push(self) -> bool {
        self != NotifyBy::Email
    }

    /// Email too; a teammate who chose push alone but has no device gets email, so that a
    /// choice made before enabling push never silences them.
    pub fn email(self, has_device: bool) -> bool {
        self != NotifyBy::Push || !has_device
    }
}

/// `GET`/`PUT /v1/inbox/me/profile`: the signed-in person's notification choices (for every
/// site they are on).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub notify: NotifyBy,
    /// Push notifications carry the message's text (else only "New message from a shopper",
    /// for lock screens).
    pub push_preview: bool,
}

impl Default for Profile {
    fn default() -> Self {
        Profile { notify: NotifyBy::Both, push_preview: false }
    }
}

/// The answer to `GET /v1/inbox/push`: the relay's VAPID public key (for
/// `pushManager.subscribe`) and how many devices the person has enabled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushInfo {
    /// `None` when the relay has no VAPID keys (push is off).
    pub public_key: Option<String>,
    pub devices: u32,
}

/// `POST /v1/inbox/push/subscriptions`: `PushSubscription.toJSON()` from the browser.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushSubscription {
    pub endpoint: String,
    pub keys: PushKeys,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushKeys {
    pub p256dh: String,
    pub auth: String,
}

/// `DELETE /v1/inbox/push/subscriptions`: this device no longer wants pushes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushEndpoint {
    pub endpoint: String,
}

/// What a push carries (encrypted for the device): the service worker shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushPayload {
    pub title: String,
    pub body: String,
    pub site: String,
    pub conversation: String,
    /// Opens the conversation in the inbox.
    pub url: String,
    /// Shopper messages it tells of.
    pub count: u32,
}

fn b64url_len(s: &str, bytes: usize) -> bool {
    let n = s.trim_end_matches('=').len();
    n == (bytes * 4).div_ceil(3) && s.trim_end_matches('=').bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// A subscription's shape: an http(s) endpoint of sane length, a 65-byte P-256 key and a
/// 16-byte auth secret in base64url. Whether the endpoint may be called is the relay's rule.
pub fn push_subscription(s: &PushSubscription) -> Checked<PushSubscription> {
    let endpoint = s.endpoint.trim();
    if endpoint.len() > 1024 || !(endpoint.starts_with("https://") || endpoint.starts_with("http://")) || endpoint.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Invalid::new("invalid_subscription", "The push endpoint is an http(s) URL of at most 1,024 characters."));
    }
    if !b64url_len(&s.keys.p256dh, 65) || !b64url_len(&s.keys.auth, 16) {
        return Err(Invalid::new("invalid_subscription", "The subscription's keys are a P-256 public key (p256dh) and a 16-byte secret (auth), base64url."));
    }
    Ok(PushSubscription {
        endpoint: endpoint.to_owned(),
        keys: PushKeys { p256dh: s.keys.p256dh.trim_end_matches('=').to_owned(), auth: s.keys.auth.trim_end_matches('=').to_owned() },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> SiteSettings {
        let day = vec![DayHours { open: "09:00".into(), close: "17:00".into() }];
        SiteSettings {
            name: " Shop ".into(),
            greeting: "Hi".into(),
            expected_reply: "Soon".into(),
            brand_color: "#2F6FED".into(),
            business_hours: BusinessHours { time_zone: "Europe/Berlin".into(), days: vec![day; 7], holidays: vec!["2026-12-25".into(), "2026-12-24".into(), "2026-12-24".into()] },
            origins: vec!["https://shop.example".into()],
            retention_days: 365,
            push_delay_seconds: 10,
            email_delay_seconds: 120,
            reply_time: ReplyTime::Measured,
            auto_close_days: 14,
            ratings: Ratings::Ask,
        }
    }

    #[test]
    fn lifecycle_settings_default_when_left_out_and_have_limits() {
        let mut json = serde_json::to_value(settings()).unwrap();
        for k in ["reply_time", "auto_close_days", "ratings"] {
            json.as_object_mut().unwrap().remove(k);
        }
        let old: SiteSettings = serde_json::from_value(json).unwrap();
        assert_eq!((old.reply_time, old.auto_close_days, old.ratings), (ReplyTime::Text, 0, Ratings::Off));
        let s = site_settings(&settings()).unwrap();
        assert_eq!((s.reply_time, s.auto_close_days, s.ratings), (ReplyTime::Measured, 14, Ratings::Ask));
        let e = site_settings(&SiteSettings { auto_close_days: MAX_AUTO_CLOSE_DAYS + 1, ..settings() }).unwrap_err();
        assert!(e.message.contains("365"), "{}", e.message);
        for r in [Ratings::Off, Ratings::On, Ratings::Ask] {
            assert_eq!(Ratings::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert_eq!(ReplyTime::parse("measured"), Some(ReplyTime::Measured));
        assert_eq!(ReplyTime::parse("Measured"), None);
    }

    #[test]
    fn good_settings_come_back_tidied() {
        let s = site_settings(&settings()).unwrap();
        assert_eq!(s.name, "Shop");
        assert_eq!(s.brand_color, "#2f6fed");
        assert_eq!(s.business_hours.holidays, ["2026-12-24", "2026-12-25"]);
    }

    #[test]
    fn each_bad_field_is_refused_with_a_sentence_naming_it() {
        let cases: Vec<(Box<dyn Fn(&mut SiteSettings)>, &str)> = vec![
            (Box::new(|s| s.name = "  ".into()), "name"),
            (Box::new(|s| s.brand_color = "blue".into()), "color"),
            (Box::new(|s| s.origins.clear()), "origins"),
            (Box::new(|s| s.retention_days = 0), "kept"),
            (Box::new(|s| s.retention_days = 3651), "kept"),
            (Box::new(|s| s.push_delay_seconds = 4000), "Push"),
            (Box::new(|s| s.email_delay_seconds = 100_000), "Email"),
            (Box::new(|s| s.business_hours.time_zone = "Europe Berlin".into()), "time zone"),
            (Box::new(|s| s.business_hours.days.pop().map(drop).unwrap_or(())), "seven days"),
            (Box::new(|s| s.business_hours.days[0] = vec![DayHours { open: "17:00".into(), close: "09:00".into() }]), "Monday"),
            (Box::new(|s| s.business_hours.days[1] = vec![DayHours { open: "9:00".into(), close: "25:00".into() }]), "Tuesday"),
            (
                Box::new(|s| s.business_hours.days[2] = vec![DayHours { open: "09:00".into(), close: "12:00".into() }, DayHours { open: "11:00".into(), close: "13:00".into() }]),
                "overlap",
            ),
            (Box::new(|s| s.business_hours.holidays = vec!["2026-02-30".into()]), "Holiday"),
            (Box::new(|s| s.greeting = "x".repeat(501)), "greeting"),
        ];
        for (change, word) in cases {
            let mut s = settings();
            change(&mut s);
            let e = site_settings(&s).unwrap_err();
            assert_eq!(e.code, "invalid_settings");
            assert!(e.message.contains(word), "{word}: {}", e.message);
        }
    }

    #[test]
    fn dates_and_times_at_their_edges() {
        assert_eq!(date("2028-02-29"), Some((2028, 2, 29)));
        assert_eq!(date("2100-02-29"), None);
        assert_eq!(date("2026-13-01"), None);
        assert_eq!(hhmm("24:00"), Some(1440));
        assert_eq!(hhmm("24:01"), None);
        assert!(time_zone_shape("America/Argentina/Buenos_Aires") && time_zone_shape("Etc/GMT+2") && !time_zone_shape("../x y"));
    }

    #[test]
    fn push_only_without_a_device_still_emails() {
        assert!(NotifyBy::Push.email(false));
        assert!(!NotifyBy::Push.email(true));
        assert!(NotifyBy::Both.email(true) && NotifyBy::Both.push() && !NotifyBy::Email.push());
    }

    #[test]
    fn subscriptions_need_real_key_lengths() {
        let good = PushSubscription {
            endpoint: "https://push.example/x".into(),
            keys: PushKeys { p256dh: "B".repeat(87), auth: "A".repeat(22) },
        };
        assert!(push_subscription(&good).is_ok());
        let mut short = good.clone();
        short.keys.auth = "A".repeat(21);
        assert_eq!(push_subscription(&short).unwrap_err().code, "invalid_subscription");
        let mut ftp = good;
        ftp.endpoint = "ftp://push.example/x".into();
        assert!(push_subscription(&ftp).is_err());
    }
}

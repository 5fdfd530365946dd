//! Reports: how well a shop answers, over a range of its local dates
//! (`GET /v1/agent/sites/{site}/metrics?from=YYYY-MM-DD&to=YYYY-MM-DD`, and the same under
//! `/v1/inbox/sites/{site}/metrics` for teammates). Counted over the conversations created in
//! the range; times are whole minutes, on the wall clock and within the site's business hours.

use serde::{Deserialize, Serialize};

use crate::validate::{Checked, Invalid};

/// The longest range one report covers, in days.
pub const MAX_RANGE_DAYS: i64 = 366;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// The first and last local date counted (`YYYY-MM-DD`), in `time_zone` (the site's).
    pub from: String,
    pub to: String,
    pub time_zone: String,
    /// Conversations created in the range.
    pub conversations: u64,
    /// Each date of the range, empty ones included.
    pub per_day: Vec<DayCount>,
    /// From a conversation's start to the first reply (answered ones only).
    pub first_response: Durations,
    /// From a conversation's start to its close (closed ones only).
    pub resolution: Durations,
    /// Closed by a teammate at least once (the idle sweep's closes are [`Self::auto_closed`],
    /// never resolutions).
    pub closed: u64,
    /// Of those, reopened within 7 days of a close.
    pub reopened: u64,
    /// `reopened / closed`; none without closed conversations.
    pub reopen_rate: Option<f64>,
    /// Of the conversations closed now, the share closed after one reply and never reopened.
    pub first_contact_resolution: Option<f64>,
    pub replies_by_channel: ChannelCounts,
    /// Teammates who replied, by address.
    pub teammates: Vec<TeammateLoad>,
    /// Of the closes, those made by the idle sweep (the site's `auto_close_days`).
    #[serde(default)]
    pub auto_closed: u64,
    #[serde(default)]
    pub ratings: RatingSummary,
}

/// What shoppers said when a close asked them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RatingSummary {
    /// Closes that asked for a rating.
    pub asked: u64,
    /// Ratings given.
    pub rated: u64,
    /// `rated / asked`; none when none was asked.
    pub response_rate: Option<f64>,
    /// Satisfaction, 1 (very unhappy) to 5 (very happy): the average, and how many gave each
    /// score (index 0 is 1).
    pub satisfaction_average: Option<f64>,
    pub satisfaction_counts: [u64; 5],
    /// "How easy was it to get help?", 1 (very easy) to 5 (very hard; aim below 2): the
    /// average over those who answered it.
    pub effort_average: Option<f64>,
    pub effort_answers: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayCount {
    pub date: String,
    pub conversations: u64,
}

/// Median and 90th percentile (nearest rank), in minutes; none when `count` is 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durations {
    pub count: u64,
    pub median_minutes: Option<u64>,
    pub p90_minutes: Option<u64>,
    /// Counting only the site's opening hours (holidays closed).
    pub business_median_minutes: Option<u64>,
    pub business_p90_minutes: Option<u64>,
}

/// Replies by how they came: the inbox, email, or the agent API (scripts, integrations).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChannelCounts {
    pub inbox: u64,
    pub email: u64,
    pub api: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeammateLoad {
    pub email: String,
    /// Their name on the team, if they are on it still.
    pub name: Option<String>,
    /// Conversations they replied in.
    pub conversations: u64,
    pub replies: u64,
}

/// A `YYYY-MM-DD` date as (year, month, day).
fn date(s: &str) -> Checked<(i32, u8, u8)> {
    crate::settings::date(s).ok_or_else(|| Invalid::new("invalid_query", "`from` and `to` are dates, YYYY-MM-DD."))
}

/// Checks a range given as `from` and `to` (both included); `days` turns a date into days
/// since 1970-01-01. Answers the two day numbers.
pub fn range(from: Option<&str>, to: Option<&str>, days: impl Fn(i32, u8, u8) -> i64) -> Checked<(i64, i64)> {
    let (Some(from), Some(to)) = (from, to) else {
        return Err(Invalid::new("invalid_query", "`from` and `to` are required, YYYY-MM-DD."));
    };
    let ((fy, fm, fd), (ty, tm, td)) = (date(from)?, date(to)?);
    let (a, b) = (days(fy, fm, fd), days(ty, tm, td));
    if b < a {
        return Err(Invalid::new("invalid_query", "`to` is on or after `from`."));
    }
    if b - a + 1 > MAX_RANGE_DAYS {
        return Err(Invalid::new("invalid_query", format!("A report covers at most {MAX_RANGE_DAYS} days.")));
    }
    Ok((a, b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn days(y: i32, m: u8, d: u8) -> i64 {
        i64::from(y) * 372 + i64::from(m) * 31 + i64::from(d)
    }

    #[test]
    fn ranges_are_checked() {
        assert!(range(Some("2026-11-01"), Some("2026-11-30"), days).is_ok());
        assert!(range(Some("2026-11-01"), Some("2026-11-01"), days).is_ok());
        for (from, to) in [(None, Some("2026-11-01")), (Some("2026-11-02"), Some("2026-11-01")), (Some("2026-11"), Some("2026-11-30")), (Some("2024-01-01"), Some("2026-01-01"))] {
            assert_eq!(range(from, to, days).unwrap_err().code, "invalid_query", "{from:?} {to:?}");
        }
    }
}

//! The numbers of a Reports page, from what D1 keeps of each conversation in the range: pure
//! logic, host-tested against histories worked out by hand. Days and business hours are the
//! site's local ones; the only runtime part is the zone's UTC offset at an instant (`Intl` in
//! the Worker, a hand-written rule in tests), asked through [`Zone`].

use std::collections::BTreeMap;

use pigeon_protocol::metrics::{ChannelCounts, DayCount, Durations, Metrics, RatingSummary, TeammateLoad};
use pigeon_protocol::BusinessHours;

use crate::conversation::op::Via;
use crate::sites::hours::{days_from_civil, parse_hhmm};

pub const MINUTE_MS: i64 = 60_000;
pub const DAY_MS: i64 = 86_400_000;
/// A reopen counts against a close only within this long after it.
pub const REOPEN_WINDOW_MS: i64 = 7 * DAY_MS;
/// Business time is counted over at most this many local days per interval (a question left a
/// year unanswered is a year, whatever its business hours).
const MAX_DAYS: i64 = 400;

/// A time zone: minutes to add to UTC for local wall-clock time at an instant.
pub trait Zone {
    fn offset_minutes(&self, utc_ms: i64) -> i32;
}

/// UTC itself.
#[cfg(test)]
pub struct Utc;

#[cfg(test)]
impl Zone for Utc {
    fn offset_minutes(&self, _: i64) -> i32 {
        0
    }
}

/// Milliseconds since the epoch of an RFC 3339 UTC time (`2026-11-23T10:00:00.123Z`).
pub fn epoch_ms(iso: &str) -> Option<i64> {
    let b = iso.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || !iso.ends_with('Z') {
        return None;
    }
    let n = |r: std::ops::Range<usize>| iso.get(r)?.parse::<i64>().ok();
    let (y, mo, d, h, mi, s) = (n(0..4)?, n(5..7)?, n(8..10)?, n(11..13)?, n(14..16)?, n(17..19)?);
    let frac = iso.get(19..iso.len() - 1).unwrap_or("");
    let ms = match frac.strip_prefix('.') {
        Some(digits) if !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit()) => format!("{digits:0<3}")[..3].parse::<i64>().ok()?,
        None if frac.is_empty() => 0,
        _ => return None,
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let days = days_from_civil(y as i32, mo as u8, d as u8);
    Some(((days * 24 + h) * 60 + mi) * MINUTE_MS + s * 1000 + ms)
}

/// The local date (days since 1970-01-01) of an instant.
pub fn local_day(zone: &dyn Zone, utc_ms: i64) -> i64 {
    (utc_ms + i64::from(zone.offset_minutes(utc_ms)) * MINUTE_MS).div_euclid(DAY_MS)
}

/// The instant of local wall-clock time `local_ms` (milliseconds since the local epoch): the
/// offset is asked twice, so times next to a change of offset land right; a time that does
/// not exist (skipped by a spring change) lands after it.
fn utc_of_local(zone: &dyn Zone, local_ms: i64) -> i64 {
    let guess = local_ms - i64::from(zone.offset_minutes(local_ms)) * MINUTE_MS;
    local_ms - i64::from(zone.offset_minutes(guess)) * MINUTE_MS
}

/// `YYYY-MM-DD` of days since 1970-01-01 (H. Hinnant's `civil_from_days`).
pub fn date_of(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The open intervals of each weekday (Monday first) and the holidays, as minutes.
pub struct Hours {
    days: Vec<Vec<(u16, u16)>>,
    holidays: Vec<i64>,
}

impl Hours {
    pub fn new(hours: &BusinessHours) -> Hours {
        let days = (0..7)
            .map(|d| hours.days.get(d).map(|v| v.iter().filter_map(|h| Some((parse_hhmm(&h.open)?, parse_hhmm(&h.close)?))).filter(|(o, c)| o < c).collect()).unwrap_or_default())
            .collect();
        let holidays = hours.holidays.iter().filter_map(|d| pigeon_protocol::settings::date(d)).map(|(y, m, d)| days_from_civil(y, m, d)).collect();
        Hours { days, holidays }
    }

    /// No hours set: always open.
    fn always(&self) -> bool {
        self.days.iter().all(Vec::is_empty)
    }

    /// Milliseconds of opening time between two instants.
    pub fn business_ms(&self, zone: &dyn Zone, from: i64, to: i64) -> i64 {
        if to <= from {
            return 0;
        }
        if self.always() {
            return to - from;
        }
        let first = local_day(zone, from);
        let last = local_day(zone, to).min(first + MAX_DAYS);
        let mut total = 0;
        for day in first..=last {
            if self.holidays.contains(&day) {
                continue;
            }
            // 1970-01-01 was a Thursday (3, Monday first).
            let weekday = (day + 3).rem_euclid(7) as usize;
            for &(open, close) in &self.days[weekday] {
                let start = utc_of_local(zone, day * DAY_MS + i64::from(open) * MINUTE_MS);
                let end = utc_of_local(zone, day * DAY_MS + i64::from(close) * MINUTE_MS);
                total += (end.min(to) - start.max(from)).max(0);
            }
        }
        total
    }
}

/// What happened to a conversation, as D1 keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Happened {
    /// A teammate's (or a script's) reply: how it came, and who wrote it if a teammate.
    Reply { at: i64, channel: Via, teammate: Option<String> },
    /// `asked`: the close asked the shopper for a rating; `auto`: the idle sweep closed it.
    Closed { at: i64, asked: bool, auto: bool },
    Reopened { at: i64 },
    Rated { satisfaction: u8, effort: Option<u8> },
}

/// One conversation of the range: when it began, and its events oldest first.
#[derive(Debug, Clone)]
pub struct History {
    pub created: i64,
    pub events: Vec<Happened>,
}

/// The median and the 90th percentile, nearest rank, in whole minutes (rounded).
fn percentiles(mut ms: Vec<i64>) -> (Option<u64>, Option<u64>) {
    if ms.is_empty() {
        return (None, None);
    }
    ms.sort_unstable();
    let rank = |p: f64| ms[((p * ms.len() as f64).ceil() as usize).clamp(1, ms.len()) - 1];
    let minutes = |v: i64| Some(((v.max(0) + MINUTE_MS / 2) / MINUTE_MS) as u64);
    (minutes(rank(0.5)), minutes(rank(0.9)))
}

fn durations(pairs: &[(i64, i64)], hours: &Hours, zone: &dyn Zone) -> Durations {
    let (median, p90) = percentiles(pairs.iter().map(|(a, b)| b - a).collect());
    let (business_median, business_p90) = percentiles(pairs.iter().map(|&(a, b)| hours.business_ms(zone, a, b)).collect());
    Durations { count: pairs.len() as u64, median_minutes: median, p90_minutes: p90, business_median_minutes: business_median, business_p90_minutes: business_p90 }
}

/// The report for local dates `from..=to` (days since 1970-01-01) over the conversations
/// created in them. `names` gives teammates' names by address.
pub fn report(histories: &[History], from_day: i64, to_day: i64, hours: &BusinessHours, zone: &dyn Zone, names: &BTreeMap<String, String>) -> Metrics {
    let business = Hours::new(hours);
    let mut per_day: BTreeMap<i64, u64> = (from_day..=to_day).map(|d| (d, 0)).collect();
    let (mut first_response, mut resolution) = (vec![], vec![]);
    let (mut closed, mut reopened, mut first_contact) = (0u64, 0u64, 0u64);
    let mut channels = ChannelCounts::default();
    let mut teammates: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    let mut counted = 0u64;
    let mut auto_closed = 0u64;
    let mut ratings = RatingSummary::default();
    let (mut satisfaction_sum, mut effort_sum) = (0u64, 0u64);
    for h in histories {
        let day = local_day(zone, h.created);
        let Some(n) = per_day.get_mut(&day) else { continue };
        *n += 1;
        counted += 1;
        let mut replies = 0u64;
        let mut last_close = None;
        let mut was_closed = false;
        let mut reopened_soon = false;
        let mut ever_reopened = false;
        let mut repliers = Vec::new();
        for e in &h.events {
            match e {
                Happened::Reply { at, channel, teammate } => {
                    if replies == 0 {
                        first_response.push((h.created, *at));
                    }
                    replies += 1;
                    match channel {
                        Via::Inbox => channels.inbox += 1,
                        Via::Email => channels.email += 1,
                        Via::Api => channels.api += 1,
                    }
                    if let Some(t) = teammate {
                        let entry = teammates.entry(t.clone()).or_default();
                        entry.1 += 1;
                        if !repliers.contains(t) {
                            repliers.push(t.clone());
                            entry.0 += 1;
                        }
                    }
                }
                // The idle sweep's close is not a resolution: nobody solved anything then.
                Happened::Closed { auto: true, .. } => auto_closed += 1,
                Happened::Closed { at, asked, .. } => {
                    was_closed = true;
                    last_close = Some(*at);
                    ratings.asked += u64::from(*asked);
                }
                Happened::Rated { satisfaction, effort } => {
                    ratings.rated += 1;
                    satisfaction_sum += u64::from(*satisfaction);
                    ratings.satisfaction_counts[usize::from(satisfaction.clamp(&1, &5) - 1)] += 1;
                    if let Some(e) = effort {
                        ratings.effort_answers += 1;
                        effort_sum += u64::from(*e);
                    }
                }
                Happened::Reopened { at } => {
                    ever_reopened = true;
                    if last_close.is_some_and(|c| at - c <= REOPEN_WINDOW_MS) {
                        reopened_soon = true;
                    }
                    last_close = None;
                }
            }
        }
        if was_closed {
            closed += 1;
            reopened += u64::from(reopened_soon);
        }
        // Resolved: closed now. First contact: with one reply, never reopened.
        if let Some(at) = last_close {
            resolution.push((h.created, at));
            if replies == 1 && !ever_reopened {
                first_contact += 1;
            }
        }
    }
    let resolved = resolution.len() as u64;
    let ratio = |n: u64, of: u64| (of > 0).then(|| n as f64 / of as f64);
    ratings.response_rate = ratio(ratings.rated, ratings.asked);
    ratings.satisfaction_average = ratio(satisfaction_sum, ratings.rated);
    ratings.effort_average = ratio(effort_sum, ratings.effort_answers);
    Metrics {
        from: date_of(from_day),
        to: date_of(to_day),
        time_zone: hours.time_zone.clone(),
        conversations: counted,
        per_day: per_day.into_iter().map(|(d, n)| DayCount { date: date_of(d), conversations: n }).collect(),
        first_response: durations(&first_response, &business, zone),
        resolution: durations(&resolution, &business, zone),
        closed,
        reopened,
        reopen_rate: ratio(reopened, closed),
        first_contact_resolution: ratio(first_contact, resolved),
        replies_by_channel: channels,
        teammates: teammates
            .into_iter()
            .map(|(email, (conversations, replies))| TeammateLoad { name: names.get(&email).cloned(), email, conversations, replies })
            .collect(),
        auto_closed,
        ratings,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pigeon_protocol::DayHours;

    /// Europe/Berlin by its rule since 1996: UTC+1, and UTC+2 from the last Sunday of March
    /// 01:00 UTC to the last Sunday of October 01:00 UTC.
    struct Berlin;

    fn last_sunday(year: i32, month: u8) -> i64 {
        let last = days_from_civil(year, month, 31);
        last - (last + 3 - 6).rem_euclid(7)
    }

    impl Zone for Berlin {
        fn offset_minutes(&self, utc_ms: i64) -> i32 {
            let year = date_of(utc_ms.div_euclid(DAY_MS))[..4].parse().unwrap();
            let start = last_sunday(year, 3) * DAY_MS + 60 * MINUTE_MS;
            let end = last_sunday(year, 10) * DAY_MS + 60 * MINUTE_MS;
            if (start..end).contains(&utc_ms) { 120 } else { 60 }
        }
    }

    fn at(iso: &str) -> i64 {
        epoch_ms(iso).unwrap_or_else(|| panic!("{iso}"))
    }

    /// Monday to Friday, 09:00 to 17:00, in Berlin.
    fn office(holidays: &[&str]) -> BusinessHours {
        let day = vec![DayHours { open: "09:00".into(), close: "17:00".into() }];
        let mut days = vec![day; 5];
        days.extend([vec![], vec![]]);
        BusinessHours { time_zone: "Europe/Berlin".into(), days, holidays: holidays.iter().map(|h| (*h).to_owned()).collect() }
    }

    #[test]
    fn times_parse_to_the_millisecond() {
        assert_eq!(epoch_ms("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(epoch_ms("1970-01-02T00:00:01.5Z"), Some(DAY_MS + 1500));
        assert_eq!(epoch_ms("2026-03-29T01:00:00.000Z"), Some(days_from_civil(2026, 3, 29) * DAY_MS + 3_600_000));
        for bad in ["", "2026-03-29", "2026-03-29T01:00:00", "2026-13-01T00:00:00Z", "2026-03-29T01:00:00.Z", "2026-03-29 01:00:00Z"] {
            assert_eq!(epoch_ms(bad), None, "{bad}");
        }
        assert_eq!(date_of(days_from_civil(2026, 2, 28) + 1), "2026-03-01");
        assert_eq!(date_of(-1), "1969-12-31");
    }

    #[test]
    fn the_berlin_rule_changes_on_the_right_sundays() {
        assert_eq!(date_of(last_sunday(2026, 3)), "2026-03-29");
        assert_eq!(date_of(last_sunday(2026, 10)), "2026-10-25");
        assert_eq!(Berlin.offset_minutes(at("2026-03-29T00:59:59Z")), 60);
        assert_eq!(Berlin.offset_minutes(at("2026-03-29T01:00:00Z")), 120);
        assert_eq!(Berlin.offset_minutes(at("2026-10-25T00:59:59Z")), 120);
        assert_eq!(Berlin.offset_minutes(at("2026-10-25T01:00:00Z")), 60);
    }

    #[test]
    fn business_time_skips_the_weekend_across_the_spring_change() {
        let hours = Hours::new(&office(&[]));
        // Friday 27 March 16:00 CET (15:00Z) to Monday 30 March 10:30 CEST (08:30Z): Friday
        // 16:00-17:00 and Monday 09:00-10:30 are open, 60 + 90 minutes; the wall clock says
        // 2 days 17 h 30 min (3,930 minutes), the clocks having gone forward on Sunday.
        let (from, to) = (at("2026-03-27T15:00:00Z"), at("2026-03-30T08:30:00Z"));
        assert_eq!(hours.business_ms(&Berlin, from, to), 150 * MINUTE_MS);
        assert_eq!((to - from) / MINUTE_MS, 3930);
        // The same local hours a week later (all CEST) and in UTC's view of them.
        assert_eq!(hours.business_ms(&Berlin, at("2026-04-03T14:00:00Z"), at("2026-04-06T08:30:00Z")), 150 * MINUTE_MS);
        // In UTC the same instants are Friday 15:00-17:00 and Monday before 09:00: 120.
        assert_eq!(hours.business_ms(&Utc, from, to), 120 * MINUTE_MS);
    }

    #[test]
    fn business_time_in_the_autumn_change_and_on_holidays() {
        let hours = Hours::new(&office(&[]));
        // Friday 23 October 16:30 CEST (14:30Z) to Monday 26 October 09:15 CET (08:15Z): 30 + 15.
        assert_eq!(hours.business_ms(&Berlin, at("2026-10-23T14:30:00Z"), at("2026-10-26T08:15:00Z")), 45 * MINUTE_MS);
        // A holiday on the Monday moves the answer to Tuesday: 30 minutes on Friday, all of
        // Tuesday until 09:15 = 15.
        let with_holiday = Hours::new(&office(&["2026-10-26"]));
        assert_eq!(with_holiday.business_ms(&Berlin, at("2026-10-23T14:30:00Z"), at("2026-10-27T08:15:00Z")), 45 * MINUTE_MS);
        // Inside one opening, and outside all of them.
        assert_eq!(hours.business_ms(&Berlin, at("2026-11-02T09:00:00Z"), at("2026-11-02T09:20:00Z")), 20 * MINUTE_MS);
        assert_eq!(hours.business_ms(&Berlin, at("2026-11-07T09:00:00Z"), at("2026-11-08T20:00:00Z")), 0, "a weekend");
        // No hours set: always open.
        let always = Hours::new(&BusinessHours { time_zone: "UTC".into(), days: vec![], holidays: vec![] });
        assert_eq!(always.business_ms(&Berlin, 0, 90 * MINUTE_MS), 90 * MINUTE_MS);
    }

    fn reply(iso: &str, channel: Via, who: Option<&str>) -> Happened {
        Happened::Reply { at: at(iso), channel, teammate: who.map(str::to_owned) }
    }

    /// A close by a teammate asking for a rating.
    fn closed_asking(iso: &str) -> Happened {
        Happened::Closed { at: at(iso), asked: true, auto: false }
    }

    #[test]
    fn a_history_worked_out_by_hand() {
        use Happened::{Rated, Reopened};
        let olivia = Some("olivia@shop.test");
        let sam = Some("sam@shop.test");
        let histories = vec![
            // A: Friday 27 March 16:00 CET, answered Monday 10:30 CEST (150 business minutes,
            // 3,930 wall), closed Monday 11:00 after that one reply: first contact resolution.
            History { created: at("2026-03-27T15:00:00Z"), events: vec![reply("2026-03-30T08:30:00Z", Via::Inbox, olivia), closed_asking("2026-03-30T09:00:00Z"), Rated { satisfaction: 5, effort: Some(1) }] },
            // B: Monday 30 March 09:00 CEST, answered 09:20 by email (20 minutes), closed 10:00,
            // reopened 3 days later, answered twice more (Sam by API, Olivia in the inbox), closed.
            // Both closes asked for a rating; only the second was answered (3, effort skipped).
            History {
                created: at("2026-03-30T07:00:00Z"),
                events: vec![
                    reply("2026-03-30T07:20:00Z", Via::Email, olivia),
                    closed_asking("2026-03-30T08:00:00Z"),
                    Reopened { at: at("2026-04-02T08:00:00Z") },
                    reply("2026-04-02T08:10:00Z", Via::Api, sam),
                    reply("2026-04-02T08:30:00Z", Via::Inbox, olivia),
                    closed_asking("2026-04-02T09:00:00Z"),
                    Rated { satisfaction: 3, effort: None },
                ],
            },
            // C: Tuesday 31 March 12:00 CEST, unanswered, still open.
            History { created: at("2026-03-31T10:00:00Z"), events: vec![] },
            // D: Wednesday 1 April 09:00, answered by a script (no teammate) 09:05, closed,
            // reopened 8 days later (outside the 7-day window), still open.
            History {
                created: at("2026-04-01T07:00:00Z"),
                events: vec![
                    reply("2026-04-01T07:05:00Z", Via::Api, None),
                    Happened::Closed { at: at("2026-04-01T07:30:00Z"), asked: false, auto: false },
                    Reopened { at: at("2026-04-09T07:30:00Z") },
                ],
            },
            // F: Thursday 2 April 09:00, answered at 09:30, closed by the idle sweep: counted as
            // an automatic close, not as closed, resolved or solved at first reply.
            History {
                created: at("2026-04-02T07:00:00Z"),
                events: vec![reply("2026-04-02T07:30:00Z", Via::Inbox, sam), Happened::Closed { at: at("2026-04-02T09:00:00Z"), asked: false, auto: true }],
            },
            // E: created the day after the range: not counted.
            History { created: at("2026-04-03T07:00:00Z"), events: vec![reply("2026-04-03T07:01:00Z", Via::Inbox, sam)] },
        ];
        let names = BTreeMap::from([("olivia@shop.test".to_owned(), "Olivia".to_owned())]);
        let from = days_from_civil(2026, 3, 27);
        let to = days_from_civil(2026, 4, 2);
        let m = report(&histories, from, to, &office(&[]), &Berlin, &names);
        assert_eq!((m.from.as_str(), m.to.as_str(), m.conversations), ("2026-03-27", "2026-04-02", 5));
        let days: Vec<(&str, u64)> = m.per_day.iter().map(|d| (d.date.as_str(), d.conversations)).collect();
        assert_eq!(days, [("2026-03-27", 1), ("2026-03-28", 0), ("2026-03-29", 0), ("2026-03-30", 1), ("2026-03-31", 1), ("2026-04-01", 1), ("2026-04-02", 1)]);
        // First responses: A 3,930 wall / 150 business, B 20 / 20, D 5 / 5, F 30 / 30. Sorted
        // walls 5, 20, 30, 3930: median (rank 2) 20, p90 (rank 4) 3,930; business 5, 20, 30, 150.
        let fr = &m.first_response;
        assert_eq!((fr.count, fr.median_minutes, fr.p90_minutes, fr.business_median_minutes, fr.business_p90_minutes), (4, Some(20), Some(3930), Some(20), Some(150)));
        // Resolutions (closed now): A Fri 15:00Z to Mon 09:00Z = 3,960 wall, business 60 + 120
        // = 180; B Mon 07:00Z to Thu 09:00Z = 4,440 wall, business Mon 09:00-17:00 (480) +
        // Tue + Wed (960) + Thu 09:00-11:00 (120) = 1,560. Median (rank 1 of 2) is the smaller.
        let r = &m.resolution;
        assert_eq!((r.count, r.median_minutes, r.p90_minutes, r.business_median_minutes, r.business_p90_minutes), (2, Some(3960), Some(4440), Some(180), Some(1560)));
        // Closed at some point: A, B, D (F only by the sweep). Reopened within 7 days: B only (D
        // after 8 days).
        assert_eq!((m.closed, m.reopened, m.reopen_rate), (3, 1, Some(1.0 / 3.0)));
        // Resolved now: A and B (not F); first contact: A only (B had three replies and a reopen).
        assert_eq!(m.first_contact_resolution, Some(0.5));
        assert_eq!((m.replies_by_channel.inbox, m.replies_by_channel.email, m.replies_by_channel.api), (3, 1, 2));
        let load: Vec<(&str, Option<&str>, u64, u64)> = m.teammates.iter().map(|t| (t.email.as_str(), t.name.as_deref(), t.conversations, t.replies)).collect();
        assert_eq!(load, [("olivia@shop.test", Some("Olivia"), 2, 3), ("sam@shop.test", None, 2, 2)]);
        // Three closes asked (A, B twice), two answered: 5 with effort 1, and 3.
        let r = &m.ratings;
        assert_eq!((r.asked, r.rated, r.response_rate), (3, 2, Some(2.0 / 3.0)));
        assert_eq!((r.satisfaction_average, r.satisfaction_counts), (Some(4.0), [0, 0, 1, 0, 1]));
        assert_eq!((r.effort_average, r.effort_answers), (Some(1.0), 1));
        assert_eq!(m.auto_closed, 1);
    }

    #[test]
    fn an_empty_range_has_no_percentiles_or_rates() {
        let m = report(&[], 0, 0, &office(&[]), &Utc, &BTreeMap::new());
        assert_eq!((m.conversations, m.first_response.median_minutes, m.reopen_rate, m.first_contact_resolution), (0, None, None, None));
        assert_eq!((m.ratings.response_rate, m.ratings.satisfaction_average, m.ratings.effort_average), (None, None, None));
        assert_eq!(m.per_day.len(), 1);
    }
}

//! Business hours: is the merchant open now, and if not, when? Pure logic on local wall-clock
//! time; the only runtime part is asking `Intl` what the local time is in the site's zone.

use pigeon_protocol::BusinessHours;

/// Local wall-clock time in the site's zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// 0 = Monday .. 6 = Sunday.
    pub weekday: u8,
    /// Minutes since local midnight.
    pub minute: u16,
    /// The local date as days since 1970-01-01 (for holidays).
    pub day: i64,
}

/// How far ahead the next opening is looked for (holidays can close a shop for weeks).
const LOOK_AHEAD_DAYS: u32 = 31;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
pub fn days_from_civil(y: i32, m: u8, d: u8) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Open,
    OpensIn { minutes: u32 },
    /// No opening hours at all.
    Closed,
}

pub fn parse_hhmm(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    (h <= 24 && m < 60 && h * 60 + m <= 1440).then_some(h * 60 + m)
}

/// An empty `days` list means "always open" (the merchant set no hours).
pub fn availability(hours: &BusinessHours, now: LocalTime) -> Availability {
    if hours.days.is_empty() {
        return Availability::Open;
    }
    let intervals = |day: usize| -> Vec<(u16, u16)> {
        hours
            .days
            .get(day)
            .map(|v| v.iter().filter_map(|h| Some((parse_hhmm(&h.open)?, parse_hhmm(&h.close)?))).collect())
            .unwrap_or_default()
    };
    let holidays: Vec<i64> = hours.holidays.iter().filter_map(|d| pigeon_protocol::settings::date(d)).map(|(y, m, d)| days_from_civil(y, m, d)).collect();
    let closed = |ahead: u32| holidays.contains(&(now.day + i64::from(ahead)));
    let today = usize::from(now.weekday);
    if !closed(0) && intervals(today).iter().any(|&(o, c)| o <= now.minute && now.minute < c) {
        return Availability::Open;
    }
    // Look ahead for the next opening that is not on a holiday.
    for ahead in (0..=LOOK_AHEAD_DAYS).filter(|a| !closed(*a)) {
        let day = (today + ahead as usize) % 7;
        let next = intervals(day)
            .into_iter()
            .filter(|&(o, c)| o < c && (ahead > 0 || o > now.minute))
            .map(|(o, _)| o)
            .min();
        if let Some(open) = next {
            let minutes = ahead * 1440 + u32::from(open) - u32::from(now.minute);
            return Availability::OpensIn { minutes };
        }
    }
    Availability::Closed
}

/// The local time in `time_zone` at `epoch_ms`, from `Intl.DateTimeFormat`.
#[cfg(target_arch = "wasm32")]
pub fn local_now(time_zone: &str, epoch_ms: f64) -> Option<LocalTime> {
    use js_sys::{Array, Intl, Object, Reflect};
    use wasm_bindgen::JsValue;

    let opts = Object::new();
    for (k, v) in [("timeZone", time_zone), ("weekday", "short"), ("year", "numeric"), ("month", "2-digit"), ("day", "2-digit"), ("hour", "2-digit"), ("minute", "2-digit"), ("hourCycle", "h23")] {
        Reflect::set(&opts, &k.into(), &v.into()).ok()?;
    }
    let locales = Array::of1(&JsValue::from_str("en-US"));
    let fmt = Intl::DateTimeFormat::new(&locales, &opts);
    let date = js_sys::Date::new(&epoch_ms.into());
    let parts = fmt.format_to_parts(&date);
    let (mut weekday, mut hour, mut minute, mut year, mut month, mut day) = (None, None, None, None, None, None);
    for part in parts.iter() {
        let kind = Reflect::get(&part, &"type".into()).ok()?.as_string()?;
        let value = Reflect::get(&part, &"value".into()).ok()?.as_string()?;
        match kind.as_str() {
            "weekday" => weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].iter().position(|d| *d == value),
            "hour" => hour = value.parse::<u16>().ok(),
            "minute" => minute = value.parse::<u16>().ok(),
            "year" => year = value.parse::<i32>().ok(),
            "month" => month = value.parse::<u8>().ok(),
            "day" => day = value.parse::<u8>().ok(),
            _ => {}
        }
    }
    Some(LocalTime { weekday: weekday? as u8, minute: hour? % 24 * 60 + minute?, day: days_from_civil(year?, month?, day?) })
}

/// Does the runtime know `time_zone`? `Intl.DateTimeFormat` throws for an unknown one, and a
/// throw must not reach Rust as a panic, so it is constructed through `Reflect`.
#[cfg(target_arch = "wasm32")]
pub fn zone_exists(time_zone: &str) -> bool {
    use js_sys::{Array, Object, Reflect};
    let opts = Object::new();
    if Reflect::set(&opts, &"timeZone".into(), &time_zone.into()).is_err() {
        return false;
    }
    let ctor = js_sys::Intl::DateTimeFormat::new(&Array::new(), &Object::new()).constructor();
    Reflect::construct(&ctor, &Array::of2(&"en-US".into(), &opts)).is_ok()
}

#[cfg(not(target_arch = "wasm32"))]
pub fn zone_exists(time_zone: &str) -> bool {
    pigeon_protocol::settings::time_zone_shape(time_zone)
}

#[cfg(not(target_arch = "wasm32"))]
pub fn local_now(_time_zone: &str, _epoch_ms: f64) -> Option<LocalTime> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use pigeon_protocol::DayHours;

    fn weekdays_9_to_17() -> BusinessHours {
        let day = vec![DayHours { open: "09:00".into(), close: "17:00".into() }];
        BusinessHours {
            time_zone: "Europe/Berlin".into(),
            days: vec![day.clone(), day.clone(), day.clone(), day.clone(), day, vec![], vec![]],
            holidays: vec![],
        }
    }

    /// 2026-11-23 is a Monday.
    fn at(weekday: u8, minute: u16) -> LocalTime {
        LocalTime { weekday, minute, day: days_from_civil(2026, 11, 23) + i64::from(weekday) }
    }

    #[test]
    fn civil_days_match_known_dates() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(days_from_civil(2026, 11, 23), 20_780);
    }

    #[test]
    fn holidays_close_the_day_and_push_the_next_opening() {
        let mut h = weekdays_9_to_17();
        h.holidays = vec!["2026-11-24".into(), "2026-11-25".into()];
        // Tuesday 10:00 is a holiday: next opening Thursday 09:00 = 47 hours.
        assert_eq!(availability(&h, at(1, 600)), Availability::OpensIn { minutes: 47 * 60 });
        // Monday 17:00: Tuesday and Wednesday are skipped too.
        assert_eq!(availability(&h, at(0, 17 * 60)), Availability::OpensIn { minutes: (24 * 2 + 16) * 60 });
        // Christmas fortnight: three weeks closed still finds the opening after.
        h.holidays = (0..21).map(|i| { let d = 24 + i; if d <= 30 { format!("2026-11-{d:02}") } else { format!("2026-12-{:02}", d - 30) } }).collect();
        // Monday 17:00 -> Tuesday 2026-12-15 09:00.
        assert_eq!(availability(&h, at(0, 17 * 60)), Availability::OpensIn { minutes: (22 * 24 - 8) * 60 });
    }

    #[test]
    fn open_inside_hours() {
        let h = weekdays_9_to_17();
        assert_eq!(availability(&h, at(0, 9 * 60)), Availability::Open);
        assert_eq!(availability(&h, at(4, 16 * 60 + 59)), Availability::Open);
    }

    #[test]
    fn closed_until_next_opening() {
        let h = weekdays_9_to_17();
        // Monday 08:00 -> opens in 60 minutes.
        assert_eq!(availability(&h, at(0, 480)), Availability::OpensIn { minutes: 60 });
        // Friday 17:00 -> Monday 09:00: 64 hours.
        assert_eq!(
            availability(&h, at(4, 17 * 60)),
            Availability::OpensIn { minutes: 64 * 60 }
        );
        // Saturday noon -> Monday 09:00: 45 hours.
        assert_eq!(
            availability(&h, at(5, 12 * 60)),
            Availability::OpensIn { minutes: 45 * 60 }
        );
    }

    #[test]
    fn no_hours_means_always_open_and_empty_week_means_closed() {
        let mut h = weekdays_9_to_17();
        h.days.clear();
        assert_eq!(availability(&h, at(2, 0)), Availability::Open);
        h.days = vec![vec![]; 7];
        assert_eq!(availability(&h, at(2, 0)), Availability::Closed);
    }
}

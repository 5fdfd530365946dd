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
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Availability {
    Open,
    OpensIn { minutes: u32 },
    /// No opening hours at all.
    Closed,
}

fn parse_hhmm(s: &str) -> Option<u16> {
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
    let today = usize::from(now.weekday);
    if intervals(today).iter().any(|&(o, c)| o <= now.minute && now.minute < c) {
        return Availability::Open;
    }
    // Look ahead up to a week for the next opening.
    for ahead in 0..=7u32 {
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
    for (k, v) in [("timeZone", time_zone), ("weekday", "short"), ("hour", "2-digit"), ("minute", "2-digit"), ("hourCycle", "h23")] {
        Reflect::set(&opts, &k.into(), &v.into()).ok()?;
    }
    let locales = Array::of1(&JsValue::from_str("en-US"));
    let fmt = Intl::DateTimeFormat::new(&locales, &opts);
    let date = js_sys::Date::new(&epoch_ms.into());
    let parts = fmt.format_to_parts(&date);
    let (mut weekday, mut hour, mut minute) = (None, None, None);
    for part in parts.iter() {
        let kind = Reflect::get(&part, &"type".into()).ok()?.as_string()?;
        let value = Reflect::get(&part, &"value".into()).ok()?.as_string()?;
        match kind.as_str() {
            "weekday" => weekday = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"].iter().position(|d| *d == value),
            "hour" => hour = value.parse::<u16>().ok(),
            "minute" => minute = value.parse::<u16>().ok(),
            _ => {}
        }
    }
    Some(LocalTime { weekday: weekday? as u8, minute: hour? % 24 * 60 + minute? })
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
        }
    }

    #[test]
    fn open_inside_hours() {
        let h = weekdays_9_to_17();
        assert_eq!(availability(&h, LocalTime { weekday: 0, minute: 9 * 60 }), Availability::Open);
        assert_eq!(availability(&h, LocalTime { weekday: 4, minute: 16 * 60 + 59 }), Availability::Open);
    }

    #[test]
    fn closed_until_next_opening() {
        let h = weekdays_9_to_17();
        // Monday 08:00 -> opens in 60 minutes.
        assert_eq!(availability(&h, LocalTime { weekday: 0, minute: 480 }), Availability::OpensIn { minutes: 60 });
        // Friday 17:00 -> Monday 09:00: 64 hours.
        assert_eq!(
            availability(&h, LocalTime { weekday: 4, minute: 17 * 60 }),
            Availability::OpensIn { minutes: 64 * 60 }
        );
        // Saturday noon -> Monday 09:00: 45 hours.
        assert_eq!(
            availability(&h, LocalTime { weekday: 5, minute: 12 * 60 }),
            Availability::OpensIn { minutes: 45 * 60 }
        );
    }

    #[test]
    fn no_hours_means_always_open_and_empty_week_means_closed() {
        let mut h = weekdays_9_to_17();
        h.days.clear();
        assert_eq!(availability(&h, LocalTime { weekday: 2, minute: 0 }), Availability::Open);
        h.days = vec![vec![]; 7];
        assert_eq!(availability(&h, LocalTime { weekday: 2, minute: 0 }), Availability::Closed);
    }
}

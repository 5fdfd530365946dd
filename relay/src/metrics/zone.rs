//! A site's time zone in the Worker: UTC offsets from `Intl.DateTimeFormat` (one formatter per
//! report), asked at most twice per day of time touched: a day whose two ends have the same
//! offset has it throughout (no zone changes its clocks twice in a day); only a day with a
//! change is asked hour by hour (offsets change on the hour).

use std::cell::RefCell;
use std::collections::HashMap;

use super::compute::{DAY_MS, MINUTE_MS, Zone};

const HOUR_MS: i64 = 3_600_000;

pub struct IntlZone {
    format: Option<js_sys::Intl::DateTimeFormat>,
    /// Offsets by UTC day: one for the day, or one per hour.
    days: RefCell<HashMap<i64, Vec<i32>>>,
}

impl IntlZone {
    /// A zone the runtime does not know (checked when it was saved) counts as UTC.
    pub fn new(name: &str) -> IntlZone {
        use js_sys::{Array, Object, Reflect};
        let opts = Object::new();
        for (k, v) in [("timeZone", name), ("year", "numeric"), ("month", "2-digit"), ("day", "2-digit"), ("hour", "2-digit"), ("minute", "2-digit"), ("hourCycle", "h23")] {
            let _ = Reflect::set(&opts, &k.into(), &v.into());
        }
        let format = crate::sites::hours::zone_exists(name).then(|| js_sys::Intl::DateTimeFormat::new(&Array::of1(&"en-US".into()), &opts));
        IntlZone { format, days: RefCell::default() }
    }

    /// The offset at `at` (a whole minute), from the formatter's local wall-clock time.
    fn ask(&self, at: i64) -> i32 {
        let Some(format) = &self.format else { return 0 };
        let parts = format.format_to_parts(&js_sys::Date::new(&(at as f64).into()));
        let (mut y, mut mo, mut d, mut h, mut mi) = (0i32, 0u8, 0u8, 0i64, 0i64);
        for part in parts.iter() {
            let get = |k: &str| js_sys::Reflect::get(&part, &k.into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
            let value = get("value");
            match get("type").as_str() {
                "year" => y = value.parse().unwrap_or(0),
                "month" => mo = value.parse().unwrap_or(0),
                "day" => d = value.parse().unwrap_or(0),
                "hour" => h = value.parse::<i64>().unwrap_or(0) % 24,
                "minute" => mi = value.parse().unwrap_or(0),
                _ => {}
            }
        }
        let local_minutes = crate::sites::hours::days_from_civil(y, mo, d) * 1440 + h * 60 + mi;
        (local_minutes - at / MINUTE_MS) as i32
    }
}

impl Zone for IntlZone {
    fn offset_minutes(&self, utc_ms: i64) -> i32 {
        let day = utc_ms.div_euclid(DAY_MS);
        let mut days = self.days.borrow_mut();
        let offsets = days.entry(day).or_insert_with(|| {
            let (start, end) = (self.ask(day * DAY_MS), self.ask((day + 1) * DAY_MS - MINUTE_MS));
            if start == end { vec![start] } else { (0..24).map(|h| self.ask(day * DAY_MS + h * HOUR_MS)).collect() }
        });
        let hour = (utc_ms - day * DAY_MS) / HOUR_MS;
        offsets.get(hour as usize).or(offsets.first()).copied().unwrap_or(0)
    }
}

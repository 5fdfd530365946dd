//! A site's time zone in the Worker: UTC offsets from `Intl` (see `sites::hours::local_now`),
//! asked once per hour of time touched (offsets change on the hour), so a report over
//! thousands of conversations asks `Intl` a few thousand times at most.

use std::cell::RefCell;
use std::collections::HashMap;

use super::compute::{MINUTE_MS, Zone};
use crate::sites::hours::local_now;

const HOUR_MS: i64 = 3_600_000;

pub struct IntlZone {
    name: String,
    hours: RefCell<HashMap<i64, i32>>,
}

impl IntlZone {
    pub fn new(name: &str) -> IntlZone {
        IntlZone { name: name.to_owned(), hours: RefCell::default() }
    }
}

impl Zone for IntlZone {
    /// UTC's offset for a zone the runtime does not know (checked when it was saved).
    fn offset_minutes(&self, utc_ms: i64) -> i32 {
        let hour = utc_ms.div_euclid(HOUR_MS);
        *self.hours.borrow_mut().entry(hour).or_insert_with(|| {
            let at = hour * HOUR_MS;
            local_now(&self.name, at as f64).map_or(0, |local| (local.day * 1440 + i64::from(local.minute) - at / MINUTE_MS) as i32)
        })
    }
}

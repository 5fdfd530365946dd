//! Times as the relay writes them: RFC 3339 in UTC with milliseconds, exactly as JavaScript's
//! `Date.prototype.toISOString` (what rows, answers and the D1 index have always carried),
//! made here rather than by a `Date` object per message.

/// `ms` since the epoch as `YYYY-MM-DDTHH:MM:SS.sssZ` (years 0 to 9999).
pub fn iso(ms: f64) -> String {
    let ms = ms.floor() as i64;
    let (days, in_day) = (ms.div_euclid(86_400_000), ms.rem_euclid(86_400_000));
    let (year, month, day) = civil_from_days(days);
    let (h, m, s, milli) = (in_day / 3_600_000, in_day / 60_000 % 60, in_day / 1000 % 60, in_day % 1000);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// Now, as [`iso`].
pub fn now_iso() -> String {
    iso(js_sys::Date::now())
}

/// The proleptic Gregorian date `days` after 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_text_as_javascripts_to_iso_string() {
        // Each expected text is what Node's `new Date(ms).toISOString()` printed.
        for (ms, expected) in [
            (0.0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_000.0, "2000-02-29T00:00:00.000Z"),
            (1_798_980_421_123.0, "2027-01-03T12:47:01.123Z"),
            (4_102_444_799_999.0, "2099-12-31T23:59:59.999Z"),
            (1_709_251_199_999.0, "2024-02-29T23:59:59.999Z"),
            (1_709_251_200_000.0, "2024-03-01T00:00:00.000Z"),
            // Date.now() can carry a fraction of a millisecond: toISOString drops it.
            (1_709_251_200_000.9, "2024-03-01T00:00:00.000Z"),
        ] {
            assert_eq!(iso(ms), expected, "{ms}");
        }
    }

    #[test]
    fn every_day_follows_the_one_before() {
        // 1970 to 2100, day by day: the date moves on by one day each time, months and leap
        // years included.
        let mut last = civil_from_days(-1);
        for days in 0..47_482 {
            let (y, m, d) = civil_from_days(days);
            let next_day = (y, m, d) == (last.0, last.1, last.2 + 1);
            let next_month = (y, m, d) == (last.0, last.1 + 1, 1) && last.2 >= 28;
            let next_year = (y, m, d) == (last.0 + 1, 1, 1) && (last.1, last.2) == (12, 31);
            assert!(next_day || next_month || next_year, "{last:?} then {:?}", (y, m, d));
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
            assert!(d <= month_days[m as usize - 1], "{y}-{m}-{d}");
            last = (y, m, d);
        }
    }
}

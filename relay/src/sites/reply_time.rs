//! The widget's honest reply time (issue 17): a site that chose `measured` shows "Typically
//! replies in about 2 hours", the median first response in business hours over its last 7
//! local days, in the language asked (`?lang=`, else the browser's `Accept-Language`: the
//! widget sends none, which costs it no bytes); with fewer than
//! [`MIN_MEASURED_CONVERSATIONS`] answered conversations it shows its own text. The number is
//! measured at most once an hour per site and kept on the site's row, so the widget's hot
//! route reads it with the site.

use pigeon_protocol::ReplyTime;
use pigeon_protocol::settings::MIN_MEASURED_CONVERSATIONS;
use wasm_bindgen::JsValue;
use worker::Env;

use super::Site;
use crate::Result;

/// A measurement is kept this long.
const FRESH_MS: f64 = 3_600_000.0;

/// The languages the widget speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    De,
}

impl Lang {
    /// `?lang=` if the caller sent one, else the browser's first language the widget speaks,
    /// else English.
    pub fn pick(asked: Option<&str>, accept_language: Option<&str>) -> Lang {
        let of = |tag: &str| {
            let primary = tag.trim().split([';', '-', '_']).next().unwrap_or("").to_ascii_lowercase();
            match primary.as_str() {
                "de" => Some(Lang::De),
                "en" => Some(Lang::En),
                _ => None,
            }
        };
        if let Some(lang) = asked.and_then(of) {
            return lang;
        }
        accept_language.and_then(|h| h.split(',').find_map(of)).unwrap_or(Lang::En)
    }
}

/// "Typically replies in about 2 hours": rounded as a person would say it.
pub fn phrase(minutes: u32, lang: Lang) -> String {
    let (en, de) = match minutes {
        0..=10 => ("in a few minutes".to_owned(), "in wenigen Minuten".to_owned()),
        11..=44 => {
            let m = if minutes <= 20 { minutes.div_ceil(5) * 5 } else { minutes.div_ceil(15) * 15 };
            (format!("in about {m} minutes"), format!("in etwa {m} Minuten"))
        }
        45..=89 => ("in about an hour".to_owned(), "in etwa einer Stunde".to_owned()),
        90..=1259 => {
            let h = (minutes + 30) / 60;
            (format!("in about {h} hours"), format!("in etwa {h} Stunden"))
        }
        1260..=2159 => ("in about a day".to_owned(), "in etwa einem Tag".to_owned()),
        _ => {
            let d = (minutes + 720) / 1440;
            (format!("in about {d} days"), format!("in etwa {d} Tagen"))
        }
    };
    match lang {
        Lang::En => format!("Typically replies {en}"),
        Lang::De => format!("Antwortet meist {de}"),
    }
}

/// What the widget's availability line says while the shop is open.
pub fn expected_reply(site: &Site, lang: Lang) -> String {
    match (site.reply_time, site.measured_reply_minutes) {
        (ReplyTime::Measured, Some(minutes)) => phrase(minutes, lang),
        _ => site.expected_reply.clone(),
    }
}

/// Whether a measurement is kept on the site's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// The widget's route and saved settings: measured at most hourly, stored.
    Store,
    /// The settings preview: measured now with the settings as typed, stored nowhere.
    Preview,
}

/// The site with its reply time measured again, when it chose `measured` and (for
/// [`Keep::Store`]) the last measurement is over an hour old. A failed measurement keeps the
/// old number and is not tried again for an hour either, so a failing D1 read cannot turn the
/// widget's public route into a report query per request.
pub async fn refresh(env: &Env, site: &Site, keep: Keep) -> Site {
    let now = js_sys::Date::now();
    if site.reply_time != ReplyTime::Measured || (keep == Keep::Store && now - site.measured_reply_at < FRESH_MS) {
        return site.clone();
    }
    let minutes = match measure(env, site).await {
        Ok(minutes) => minutes,
        Err(e) => {
            worker::console_error!("reply time of site {}: {e}", site.id);
            site.measured_reply_minutes
        }
    };
    if keep == Keep::Store
        && let Err(e) = store(env, &site.id, minutes, now).await
    {
        worker::console_error!("reply time of site {} not stored: {e}", site.id);
    }
    Site { measured_reply_minutes: minutes, measured_reply_at: now, ..site.clone() }
}

async fn measure(env: &Env, site: &Site) -> Result<Option<u32>> {
    let today = crate::metrics::today(site);
    let report = crate::metrics::report(env, site, today - 6, today).await?;
    let first = &report.first_response;
    Ok(if first.count >= MIN_MEASURED_CONVERSATIONS { first.business_median_minutes.map(|m| m.min(u64::from(u32::MAX)) as u32) } else { None })
}

async fn store(env: &Env, site: &str, minutes: Option<u32>, now: f64) -> Result<()> {
    env.d1("DB")?
        .prepare("UPDATE sites SET measured_reply_minutes = ?2, measured_reply_at = ?3 WHERE id = ?1")
        .bind(&[site.into(), minutes.map_or(JsValue::NULL, JsValue::from), JsValue::from(now)])?
        .run()
        .await?;
    super::forget(site);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn said_as_a_person_would() {
        let en = |m| phrase(m, Lang::En);
        assert_eq!(en(0), "Typically replies in a few minutes");
        assert_eq!(en(10), "Typically replies in a few minutes");
        assert_eq!(en(11), "Typically replies in about 15 minutes");
        assert_eq!(en(17), "Typically replies in about 20 minutes");
        assert_eq!(en(21), "Typically replies in about 30 minutes");
        assert_eq!(en(44), "Typically replies in about 45 minutes");
        assert_eq!(en(45), "Typically replies in about an hour");
        assert_eq!(en(89), "Typically replies in about an hour");
        assert_eq!(en(90), "Typically replies in about 2 hours");
        assert_eq!(en(149), "Typically replies in about 2 hours");
        assert_eq!(en(150), "Typically replies in about 3 hours");
        assert_eq!(en(1259), "Typically replies in about 21 hours");
        assert_eq!(en(1260), "Typically replies in about a day");
        assert_eq!(en(2160), "Typically replies in about 2 days");
        assert_eq!(phrase(125, Lang::De), "Antwortet meist in etwa 2 Stunden");
        assert_eq!(phrase(5, Lang::De), "Antwortet meist in wenigen Minuten");
        assert_eq!(phrase(60, Lang::De), "Antwortet meist in etwa einer Stunde");
    }

    #[test]
    fn the_widgets_language_first_then_the_browsers() {
        assert_eq!(Lang::pick(Some("de"), Some("en-US,en;q=0.9")), Lang::De);
        assert_eq!(Lang::pick(Some("fr"), Some("fr-FR, de-DE;q=0.8")), Lang::De);
        assert_eq!(Lang::pick(None, Some("de-AT")), Lang::De);
        assert_eq!(Lang::pick(None, Some("fr, es;q=0.5")), Lang::En);
        assert_eq!(Lang::pick(None, None), Lang::En);
        assert_eq!(Lang::pick(Some(""), Some("*")), Lang::En);
    }
}

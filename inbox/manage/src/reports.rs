//! Reports (every teammate): how well the shop answers over the last 7, 30 or 90 days, or
//! any range: conversations per day as a bar chart, first response and resolution times
//! (median and 90th percentile, wall clock and business hours), reopen rate, first contact
//! resolution, replies by channel and by teammate. The numbers come from
//! `GET /v1/inbox/sites/{site}/metrics`; what each means is said next to it.

use leptos::prelude::*;
use pigeon_protocol::Metrics;
use pigeon_protocol::metrics::{DayCount, Durations};
use wasm_bindgen_futures::spawn_local;

use pigeon_inbox::api;

/// A whole number of minutes as people say it: "45 min", "3 h 5 min", "2 d 4 h".
pub fn span(minutes: u64) -> String {
    let (d, h, m) = (minutes / 1440, minutes % 1440 / 60, minutes % 60);
    match (d, h, m) {
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

/// "20 min (90 % within 2 h 10 min)", or a dash when nothing was measured.
pub fn typical(median: Option<u64>, p90: Option<u64>) -> String {
    match (median, p90) {
        (Some(m), Some(p)) => format!("{} (90 % within {})", span(m), span(p)),
        _ => "—".to_owned(),
    }
}

/// A share as whole percent (integers only: float formatting would double this module's size).
pub fn percent(ratio: Option<f64>) -> String {
    ratio.map_or_else(|| "—".to_owned(), |r| format!("{} %", (r * 100.0).round() as u64))
}

/// An average on a 1-5 scale to one decimal, "4.3 / 5" (integers only, as [`percent`]).
pub fn score(average: Option<f64>) -> String {
    average.map_or_else(|| "—".to_owned(), |a| {
        let tenths = (a * 10.0).round() as u64;
        format!("{}.{} / 5", tenths / 10, tenths % 10)
    })
}

/// What a screen reader hears for the chart: the total and the busiest day.
pub fn chart_label(days: &[DayCount]) -> String {
    let total: u64 = days.iter().map(|d| d.conversations).sum();
    match days.iter().max_by_key(|d| (d.conversations, std::cmp::Reverse(d.date.clone()))) {
        Some(busiest) if busiest.conversations > 0 => format!("Conversations per day: {total} in all, most on {} ({}).", busiest.date, busiest.conversations),
        _ => "Conversations per day: none in this range.".to_owned(),
    }
}

/// `YYYY-MM-DD` of the local date `days_back` days before today (counted from today's noon,
/// so a change of clocks cannot move it a day).
fn local_date(days_back: u32) -> String {
    let now = js_sys::Date::new_0();
    let noon = js_sys::Date::new_with_year_month_day_hr_min_sec(now.get_full_year(), now.get_month() as i32, now.get_date() as i32, 12, 0, 0);
    let d = js_sys::Date::new(&(noon.get_time() - f64::from(days_back) * 86_400_000.0).into());
    format!("{:04}-{:02}-{:02}", d.get_full_year(), d.get_month() + 1, d.get_date())
}

/// Conversations per day, one bar each, the scale's top labelled. Whole units throughout: the
/// view box is as wide as the days need, and the browser scales it.
fn chart(days: Vec<DayCount>) -> impl IntoView {
    const HEIGHT: u64 = 160;
    const SLOT: u64 = 10;
    let top = days.iter().map(|d| d.conversations).max().unwrap_or(0).max(1);
    let width = SLOT * days.len().max(1) as u64;
    let label = chart_label(&days);
    let bars = days
        .into_iter()
        .enumerate()
        .map(|(i, d)| {
            let h = if d.conversations == 0 { 0 } else { (d.conversations * (HEIGHT - 20) / top).max(2) };
            view! {
                <rect class="bar" x=(i as u64 * SLOT + 2).to_string() y=(HEIGHT - h).to_string() width=(SLOT - 4).to_string() height=h.to_string()>
                    <title>{format!("{}: {}", d.date, d.conversations)}</title>
                </rect>
            }
        })
        .collect_view();
    view! {
        <svg class="chart" viewBox=format!("0 0 {width} {HEIGHT}") preserveAspectRatio="none" role="img" aria-label=label data-testid="reports-chart">
            <line class="axis" x1="0" y1=HEIGHT.to_string() x2=width.to_string() y2=HEIGHT.to_string() />
            {bars}
        </svg>
        <p class="muted chart-scale">{format!("Highest bar: {top}")}</p>
    }
}

fn times(title: &'static str, what: &'static str, d: Durations, testid: &'static str) -> impl IntoView {
    view! {
        <div class="kpi" data-testid=testid>
            <h3>{title}</h3>
            <p class="value">{typical(d.median_minutes, d.p90_minutes)}</p>
            <p class="muted">{format!("In business hours: {}. {what} ({} measured).", typical(d.business_median_minutes, d.business_p90_minutes), d.count)}</p>
        </div>
    }
}

fn report(m: Metrics) -> impl IntoView {
    let channels = m.replies_by_channel.clone();
    let most = channels.inbox.max(channels.email).max(channels.api).max(1);
    let channel = move |name: &'static str, n: u64| {
        view! {
            <li>
                <span class="name">{name}</span>
                <svg class="meter" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true"><rect class="bar" width=(n * 100 / most).to_string() height="8" /></svg>
                <span class="n">{n}</span>
            </li>
        }
    };
    let r = m.ratings.clone();
    let most_rated = r.satisfaction_counts.iter().copied().max().unwrap_or(0).max(1);
    let ratings = (1..=5u8)
        .rev()
        .map(|n| {
            let count = r.satisfaction_counts[usize::from(n - 1)];
            view! {
                <li>
                    <span class="name">{format!("{n} of 5")}</span>
                    <svg class="meter" viewBox="0 0 100 8" preserveAspectRatio="none" aria-hidden="true"><rect class="bar" width=(count * 100 / most_rated).to_string() height="8" /></svg>
                    <span class="n">{count}</span>
                </li>
            }
        })
        .collect_view();
    let teammates = m
        .teammates
        .iter()
        .map(|t| {
            view! { <tr><th scope="row">{t.name.clone().unwrap_or_else(|| t.email.clone())}</th><td>{t.conversations}</td><td>{t.replies}</td></tr> }
        })
        .collect_view();
    view! {
        <p class="muted">{format!("{} to {}, days in {}. Counted over the conversations that began in these days.", m.from, m.to, m.time_zone)}</p>
        <div class="kpis">
            <div class="kpi" data-testid="reports-conversations"><h3>"Conversations"</h3><p class="value">{m.conversations}</p></div>
            {times("First response", "From the first message to the first reply", m.first_response.clone(), "reports-first-response")}
            {times("Resolution", "From the first message to closing", m.resolution.clone(), "reports-resolution")}
            <div class="kpi" data-testid="reports-reopen">
                <h3>"Reopened"</h3><p class="value">{percent(m.reopen_rate)}</p>
                <p class="muted">{format!("{} of {} closed conversations came back within 7 days (aim: under 10 %).", m.reopened, m.closed)}</p>
            </div>
            <div class="kpi" data-testid="reports-fcr">
                <h3>"Solved at first reply"</h3><p class="value">{percent(m.first_contact_resolution)}</p>
                <p class="muted">"Closed after one reply and never reopened, of those closed now."</p>
            </div>
            <div class="kpi" data-testid="reports-satisfaction">
                <h3>"Satisfaction"</h3><p class="value">{score(r.satisfaction_average)}</p>
                <p class="muted">{format!("{} ratings from {} closes that asked ({} answered).", r.rated, r.asked, percent(r.response_rate))}</p>
            </div>
            <div class="kpi" data-testid="reports-effort">
                <h3>"Effort"</h3><p class="value">{score(r.effort_average)}</p>
                <p class="muted">{format!("“How easy was it to get help?”, 1 very easy to 5 very hard (aim: under 2); {} answered.", r.effort_answers)}</p>
            </div>
        </div>
        <h3>"Conversations per day"</h3>
        {chart(m.per_day)}
        <h3>"Replies by channel"</h3>
        <ul class="plain channels" data-testid="reports-channels">
            {channel("Inbox", channels.inbox)}
            {channel("Email", channels.email)}
            {channel("API", channels.api)}
        </ul>
        <h3>"Ratings"</h3>
        <ul class="plain channels" data-testid="reports-ratings">{ratings}</ul>
        <p class="muted" data-testid="reports-auto-closed">{format!("Closed for being idle: {} (never asked for a rating).", m.auto_closed)}</p>
        <h3>"Replies by teammate"</h3>
        {if m.teammates.is_empty() {
            view! { <p class="muted">"No teammate replied in these conversations."</p> }.into_any()
        } else {
            view! {
                <table class="load" data-testid="reports-teammates">
                    <thead><tr><th scope="col">"Teammate"</th><th scope="col">"Conversations"</th><th scope="col">"Replies"</th></tr></thead>
                    <tbody>{teammates}</tbody>
                </table>
            }
            .into_any()
        }}
    }
}

#[component]
pub fn Reports(site: String) -> impl IntoView {
    let site = StoredValue::new(site);
    let from = RwSignal::new(local_date(29));
    let to = RwSignal::new(local_date(0));
    let metrics = RwSignal::new(None::<Metrics>);
    let error = RwSignal::new(None::<String>);
    let load = move || {
        let (f, t) = (from.get_untracked(), to.get_untracked());
        spawn_local(async move {
            match api::metrics(&site.get_value(), &f, &t).await {
                Ok(m) => {
                    metrics.set(Some(m));
                    error.set(None);
                }
                Err(e) => error.set(Some(e.sentence())),
            }
        });
    };
    load();
    let last = move |days: u32| {
        view! {
            <button type="button" aria-pressed=move || (from.get() == local_date(days - 1) && to.get() == local_date(0)).to_string()
                on:click=move |_| { from.set(local_date(days - 1)); to.set(local_date(0)); load(); }>{format!("Last {days} days")}</button>
        }
    };
    view! {
        <div class="reports">
            <div class="ranges" role="group" aria-label="Range">
                {last(7)}{last(30)}{last(90)}
                <form on:submit=move |ev| { ev.prevent_default(); load(); }>
                    <label>"From"<input type="date" data-testid="reports-from" prop:value=from on:input=move |ev| from.set(event_target_value(&ev)) /></label>
                    <label>"To"<input type="date" data-testid="reports-to" prop:value=to on:input=move |ev| to.set(event_target_value(&ev)) /></label>
                    <button type="submit" data-testid="reports-show">"Show"</button>
                </form>
            </div>
            <p class="error" role="alert" data-testid="reports-error">{move || error.get()}</p>
            {move || metrics.get().map(report)}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_read_as_people_say_them() {
        assert_eq!(span(0), "0 min");
        assert_eq!(span(45), "45 min");
        assert_eq!(span(120), "2 h");
        assert_eq!(span(185), "3 h 5 min");
        assert_eq!(span(1440), "1 d");
        assert_eq!(span(3930), "2 d 17 h");
        assert_eq!(typical(Some(20), Some(3930)), "20 min (90 % within 2 d 17 h)");
        assert_eq!(typical(None, None), "—");
        assert_eq!(percent(Some(1.0 / 3.0)), "33 %");
        assert_eq!(percent(None), "—");
    }

    #[test]
    fn averages_read_to_one_decimal() {
        assert_eq!(score(None), "—");
        assert_eq!(score(Some(4.0)), "4.0 / 5");
        assert_eq!(score(Some(13.0 / 3.0)), "4.3 / 5");
        assert_eq!(score(Some(1.96)), "2.0 / 5");
    }

    #[test]
    fn the_chart_is_told_in_words() {
        let day = |date: &str, n| DayCount { date: date.into(), conversations: n };
        assert_eq!(chart_label(&[day("2026-03-27", 1), day("2026-03-28", 3), day("2026-03-29", 3)]), "Conversations per day: 7 in all, most on 2026-03-28 (3).");
        assert_eq!(chart_label(&[day("2026-03-27", 0)]), "Conversations per day: none in this range.");
    }
}

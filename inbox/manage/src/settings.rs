//! Settings: the teammate's own notifications (push on this device, email, text in pushes),
//! and the site's settings (owners change them; agents read them), with the widget's
//! availability line previewed as the shopper would read it.

use leptos::prelude::*;
use pigeon_protocol::{BusinessHours, DayHours, NotifyBy, Profile, Ratings, ReplyTime, SiteConfig, SiteSettings};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::{JsFuture, spawn_local};

use pigeon_inbox::api;

pub const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

/// A day's hours as typed: `09:00-12:00, 13:00-17:00`; empty is closed.
pub fn day_text(day: &[DayHours]) -> String {
    day.iter().map(|d| format!("{}–{}", d.open, d.close)).collect::<Vec<_>>().join(", ")
}

/// The intervals of a typed day; `Err` names what is not `HH:MM–HH:MM`.
pub fn parse_day(text: &str) -> Result<Vec<DayHours>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once(['-', '–']) {
            Some((open, close)) => Ok(DayHours { open: open.trim().to_owned(), close: close.trim().to_owned() }),
            None => Err(format!("“{p}” is not like 09:00–17:00.")),
        })
        .collect()
}

/// Lines or commas to a list, blanks dropped.
pub fn parse_list(text: &str) -> Vec<String> {
    text.split([',', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// The widget's line under the shop's name, in its English words.
pub fn availability_line(widget: &SiteConfig) -> String {
    if widget.available_now {
        return widget.expected_reply.clone();
    }
    match &widget.next_open_at {
        Some(at) => {
            let opts = js_sys::Object::new();
            for (k, v) in [("weekday", "long"), ("hour", "numeric"), ("minute", "2-digit"), ("timeZone", widget.business_hours.time_zone.as_str())] {
                let _ = js_sys::Reflect::set(&opts, &k.into(), &v.into());
            }
            let when: String = js_sys::Date::new(&JsValue::from_str(at)).to_locale_string("en", &opts).into();
            format!("We're away until {when} – we'll email you the answer.")
        }
        None => "We're away right now – leave a message and we'll get back to you.".into(),
    }
}

/// The form's fields as text, so that what an owner typed stays while it is wrong.
#[derive(Clone, Copy)]
struct Form {
    name: RwSignal<String>,
    greeting: RwSignal<String>,
    expected_reply: RwSignal<String>,
    brand_color: RwSignal<String>,
    time_zone: RwSignal<String>,
    always_open: RwSignal<bool>,
    days: [RwSignal<String>; 7],
    holidays: RwSignal<String>,
    origins: RwSignal<String>,
    retention_days: RwSignal<String>,
    push_delay: RwSignal<String>,
    email_delay: RwSignal<String>,
    reply_time: RwSignal<ReplyTime>,
    auto_close_days: RwSignal<String>,
    ratings: RwSignal<Ratings>,
}

impl Form {
    fn new() -> Self {
        let t = || RwSignal::new(String::new());
        Form {
            name: t(),
            greeting: t(),
            expected_reply: t(),
            brand_color: t(),
            time_zone: t(),
            always_open: RwSignal::new(true),
            days: [t(), t(), t(), t(), t(), t(), t()],
            holidays: t(),
            origins: t(),
            retention_days: t(),
            push_delay: t(),
            email_delay: t(),
            reply_time: RwSignal::new(ReplyTime::Text),
            auto_close_days: t(),
            ratings: RwSignal::new(Ratings::Off),
        }
    }

    fn fill(&self, s: &SiteSettings) {
        self.name.set(s.name.clone());
        self.greeting.set(s.greeting.clone());
        self.expected_reply.set(s.expected_reply.clone());
        self.brand_color.set(s.brand_color.clone());
        self.time_zone.set(s.business_hours.time_zone.clone());
        self.always_open.set(s.business_hours.days.is_empty());
        for (i, day) in self.days.iter().enumerate() {
            day.set(s.business_hours.days.get(i).map(|d| day_text(d)).unwrap_or_else(|| if i < 5 { "09:00–17:00".into() } else { String::new() }));
        }
        self.holidays.set(s.business_hours.holidays.join("\n"));
        self.origins.set(s.origins.join("\n"));
        self.retention_days.set(s.retention_days.to_string());
        self.push_delay.set(s.push_delay_seconds.to_string());
        self.email_delay.set(s.email_delay_seconds.to_string());
        self.reply_time.set(s.reply_time);
        self.auto_close_days.set(s.auto_close_days.to_string());
        self.ratings.set(s.ratings);
    }

    /// The settings as typed; `Err` is the sentence to show. The relay checks the rest (the
    /// preview shows its sentence as the owner types).
    fn read(&self) -> Result<SiteSettings, String> {
        let number = |s: RwSignal<String>, what: &str| s.get_untracked().trim().parse::<u32>().map_err(|_| format!("{what} is a whole number of seconds."));
        let days = if self.always_open.get_untracked() {
            vec![]
        } else {
            self.days.iter().enumerate().map(|(i, d)| parse_day(&d.get_untracked()).map_err(|e| format!("{}: {e}", DAYS[i]))).collect::<Result<Vec<_>, _>>()?
        };
        Ok(SiteSettings {
            name: self.name.get_untracked(),
            greeting: self.greeting.get_untracked(),
            expected_reply: self.expected_reply.get_untracked(),
            brand_color: self.brand_color.get_untracked(),
            business_hours: BusinessHours { time_zone: self.time_zone.get_untracked(), days, holidays: parse_list(&self.holidays.get_untracked()) },
            origins: parse_list(&self.origins.get_untracked()),
            retention_days: self.retention_days.get_untracked().trim().parse::<u32>().map_err(|_| "Keep conversations for a whole number of days.".to_owned())?,
            push_delay_seconds: number(self.push_delay, "The push delay")?,
            email_delay_seconds: number(self.email_delay, "The email delay")?,
            reply_time: self.reply_time.get_untracked(),
            auto_close_days: self.auto_close_days.get_untracked().trim().parse::<u32>().map_err(|_| "Close idle conversations after a whole number of days (0: never).".to_owned())?,
            ratings: self.ratings.get_untracked(),
        })
    }
}

/// `window.pigeonPush` (boot.js): the browser's Push API, which needs the service worker.
fn push_call(name: &str, arg: Option<&str>) -> Option<js_sys::Promise> {
    let window = web_sys::window()?;
    let push = js_sys::Reflect::get(&window, &"pigeonPush".into()).ok()?;
    let f: js_sys::Function = js_sys::Reflect::get(&push, &name.into()).ok()?.dyn_into().ok()?;
    let out = match arg {
        Some(a) => f.call1(&push, &a.into()),
        None => f.call0(&push),
    };
    out.ok()?.dyn_into().ok()
}

async fn push_await(name: &str, arg: Option<&str>) -> Result<Option<String>, String> {
    let promise = push_call(name, arg).ok_or("This browser cannot receive push notifications.")?;
    match JsFuture::from(promise).await {
        Ok(v) => Ok(v.as_string()),
        Err(e) => Err(js_sys::Reflect::get(&e, &"message".into()).ok().and_then(|m| m.as_string()).unwrap_or_else(|| "Push could not be enabled.".into())),
    }
}

/// The teammate's own notification choices, and push on this device.
#[component]
fn YourNotifications() -> impl IntoView {
    let profile = RwSignal::new(None::<Profile>);
    let devices = RwSignal::new(0u32);
    let key = RwSignal::new(None::<String>);
    let here = RwSignal::new(None::<String>);
    let note = RwSignal::new(None::<String>);
    spawn_local(async move {
        if let Ok(p) = api::profile().await {
            profile.set(Some(p));
        }
        if let Ok(info) = api::push_info().await {
            devices.set(info.devices);
            key.set(info.public_key);
        }
        here.set(push_await("current", None).await.ok().flatten());
    });
    let save = move |p: Profile| {
        spawn_local(async move {
            match api::save_profile(&p).await {
                Ok(p) => {
                    profile.set(Some(p));
                    note.set(Some("Saved.".into()));
                }
                Err(f) => note.set(Some(f.sentence())),
            }
        })
    };
    let choose = move |n: NotifyBy| {
        if let Some(mut p) = profile.get_untracked() {
            p.notify = n;
            save(p);
        }
    };
    let enable = move || {
        spawn_local(async move {
            // Clicked before the info came: ask for it now.
            let known = match key.get_untracked() {
                Some(k) => Some(k),
                None => api::push_info().await.ok().and_then(|info| info.public_key),
            };
            let Some(public_key) = known else { return note.set(Some("This relay has no push keys (VAPID); see the README.".into())) };
            let json = match push_await("enable", Some(&public_key)).await {
                Ok(Some(json)) => json,
                Ok(None) => return note.set(Some("Push could not be enabled.".into())),
                Err(e) => return note.set(Some(format!("Push is not on: {e}"))),
            };
            let endpoint = js_sys::JSON::parse(&json).ok().and_then(|s| js_sys::Reflect::get(&s, &"endpoint".into()).ok()).and_then(|e| e.as_string());
            match api::add_device(json).await {
                Ok(info) => {
                    devices.set(info.devices);
                    here.set(endpoint);
                    note.set(Some("Push is on for this device.".into()));
                }
                Err(f) => note.set(Some(f.sentence())),
            }
        })
    };
    let disable = move || {
        spawn_local(async move {
            let endpoint = push_await("disable", None).await.ok().flatten().or_else(|| here.get_untracked());
            if let Some(endpoint) = endpoint
                && let Ok(info) = api::remove_device(&endpoint).await
            {
                devices.set(info.devices);
            }
            here.set(None);
            note.set(Some("Push is off for this device.".into()));
        })
    };
    let option = move |n: NotifyBy, label: &'static str| {
        view! {
            <label class="choice"><input type="radio" name="notify-by" data-testid=format!("notify-{}", n.as_str())
                prop:checked=move || profile.with(|p| p.as_ref().is_some_and(|p| p.notify == n))
                on:change=move |_| choose(n) />{label}</label>
        }
    };
    view! {
        <section aria-labelledby="you-title" data-testid="your-notifications">
            <h3 id="you-title">"Your notifications"</h3>
            <p class="muted">"About messages nobody has seen: yours when assigned to you, everyone's when nobody's. Never about the conversation you are looking at."</p>
            <fieldset>
                <legend>"Tell me by"</legend>
                {option(NotifyBy::Both, "Push, then email if still unseen")}
                {option(NotifyBy::Push, "Push only")}
                {option(NotifyBy::Email, "Email only")}
            </fieldset>
            <label class="choice"><input type="checkbox" data-testid="push-preview"
                prop:checked=move || profile.with(|p| p.as_ref().is_some_and(|p| p.push_preview))
                on:change=move |ev| if let Some(mut p) = profile.get_untracked() { p.push_preview = event_target_checked(&ev); save(p) } />
                "Show the message's text in push notifications (lock screens show it too)"</label>
            <p data-testid="push-devices">{move || match (here.get().is_some(), devices.get()) {
                (true, n) => format!("Push is on for this device ({n} in all)."),
                (false, 0) => "Push is off on all your devices.".to_owned(),
                (false, n) => format!("Push is off here, on for {n} other device{}.", if n == 1 { "" } else { "s" }),
            }}</p>
            <button type="button" data-testid="push-enable" hidden=move || here.with(Option::is_some) on:click=move |_| enable()>"Enable push on this device"</button>
            <button type="button" class="link" data-testid="push-disable" hidden=move || here.with(Option::is_none) on:click=move |_| disable()>"Turn push off here"</button>
            <p role="status" data-testid="profile-note">{move || note.get()}</p>
        </section>
    }
}

/// Everything under Settings' title bar (which the inbox draws).
#[component]
pub fn SettingsBody(site: String, renamed: impl Fn(String) + 'static) -> impl IntoView {
    let site = StoredValue::new(site);
    let renamed = StoredValue::new_local(renamed);
    let form = Form::new();
    let editable = RwSignal::new(false);
    let widget = RwSignal::new(None::<SiteConfig>);
    let error = RwSignal::new(None::<String>);
    let saved = RwSignal::new(None::<String>);
    spawn_local(async move {
        match api::settings(&site.get_value()).await {
            Ok(v) => {
                form.fill(&v.settings);
                editable.set(v.editable);
                widget.set(Some(v.widget));
            }
            Err(f) => error.set(Some(f.sentence())),
        }
    });
    // The preview follows what is typed (the relay works out whether the shop is open).
    // Answers can arrive out of order (one measures the reply time); only the answer to
    // the latest question is shown.
    let asked = StoredValue::new(0u64);
    let preview = move || {
        // Every question counts, a refused one too: an older answer never replaces its error.
        asked.update_value(|n| *n += 1);
        let this = asked.get_value();
        match form.read() {
            Ok(s) => spawn_local(async move {
                let answer = api::preview_settings(&site.get_value(), &s).await;
                // The view may have closed meanwhile (its values are gone then).
                if asked.try_get_value() != Some(this) {
                    return;
                }
                match answer {
                    Ok(v) => {
                        widget.set(Some(v.widget));
                        error.set(None);
                    }
                    Err(f) => error.set(Some(f.sentence())),
                }
            }),
            Err(e) => error.set(Some(e)),
        }
    };
    let save = move || match form.read() {
        Ok(s) => spawn_local(async move {
            match api::save_settings(&site.get_value(), &s).await {
                Ok(v) => {
                    form.fill(&v.settings);
                    widget.set(Some(v.widget));
                    error.set(None);
                    saved.set(Some("Saved. The widget shows it within 30 seconds.".into()));
                    // The header shows the site's name.
                    renamed.with_value(|tell| tell(v.settings.name.clone()));
                }
                Err(f) => error.set(Some(f.sentence())),
            }
        }),
        Err(e) => {
            saved.set(None);
            error.set(Some(e));
        }
    };
    let text = move |label: &'static str, testid: &'static str, value: RwSignal<String>| {
        view! {
            <label>{label}<input type="text" data-testid=testid prop:value=value
                on:input=move |ev| value.set(event_target_value(&ev)) on:change=move |_| preview() /></label>
        }
    };
    let zones: Vec<String> = js_sys::Reflect::get(&js_sys::global(), &"Intl".into())
        .and_then(|intl| js_sys::Reflect::get(&intl, &"supportedValuesOf".into()))
        .ok()
        .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
        .and_then(|f| f.call1(&JsValue::NULL, &"timeZone".into()).ok())
        .map(|list| js_sys::Array::from(&list).iter().filter_map(|z| z.as_string()).collect())
        .unwrap_or_default();
    let days = DAYS
        .iter()
        .enumerate()
        .map(|(i, day)| {
            let value = form.days[i];
            view! {
                <label class="day">{*day}<input type="text" data-testid=format!("hours-{i}") placeholder="closed" prop:value=value
                    on:input=move |ev| value.set(event_target_value(&ev)) on:change=move |_| preview() /></label>
            }
        })
        .collect_view();
    view! {
            <YourNotifications />
            <form on:submit=move |ev| { ev.prevent_default(); save(); }>
                // Disabled as a whole for agents: every field inside is read-only.
                <fieldset class="plain" disabled=move || !editable.get()>
                <h3>"The shop"</h3>
                <p class="muted" hidden=move || editable.get() data-testid="settings-readonly">"Only owners can change the shop's settings."</p>
                {text("Shop name", "settings-name", form.name)}
                {text("Greeting", "settings-greeting", form.greeting)}
                {text("Expected reply (shown while open)", "settings-expected", form.expected_reply)}
                <label>"The widget's reply time"<select data-testid="settings-reply-time"
                    prop:value=move || form.reply_time.get().as_str()
                    on:change=move |ev| { form.reply_time.set(ReplyTime::parse(&event_target_value(&ev)).unwrap_or_default()); preview() }>
                    <option value="text">"Our words above"</option>
                    <option value="measured">"Measured: “Typically replies in about …” (our words until 5 conversations a week are answered)"</option>
                </select></label>
                <label>"Brand color"<input type="color" data-testid="settings-color" prop:value=form.brand_color
                    on:input=move |ev| form.brand_color.set(event_target_value(&ev)) on:change=move |_| preview() /></label>
                <fieldset>
                    <legend>"Business hours"</legend>
                    <label>"Time zone"<input type="text" list="zones" data-testid="settings-zone" prop:value=form.time_zone
                        on:input=move |ev| form.time_zone.set(event_target_value(&ev)) on:change=move |_| preview() /></label>
                    <datalist id="zones">{zones.into_iter().map(|z| view! { <option value=z /> }).collect_view()}</datalist>
                    <label class="choice"><input type="checkbox" data-testid="settings-always" prop:checked=form.always_open
                        on:change=move |ev| { form.always_open.set(event_target_checked(&ev)); preview() } />"Always open"</label>
                    <p class="muted">"Each day as 09:00–17:00; several with commas; empty is closed."</p>
                    <fieldset class="plain" disabled=move || form.always_open.get()>{days}</fieldset>
                    <label>"Holidays (closed all day), one date per line"<textarea rows="3" data-testid="settings-holidays" placeholder="2026-12-24" prop:value=form.holidays
                        on:input=move |ev| form.holidays.set(event_target_value(&ev)) on:change=move |_| preview()></textarea></label>
                </fieldset>
                <p class="preview" data-testid="settings-preview" aria-live="polite">
                    <span class="muted">"The widget says now: "</span>
                    {move || widget.get().map(|w| availability_line(&w))}
                </p>
                <label>"Pages that may show the widget (origins), one per line"<textarea rows="3" data-testid="settings-origins" prop:value=form.origins
                    on:input=move |ev| form.origins.set(event_target_value(&ev))></textarea></label>
                <label>"Keep conversations (days after the last message)"<input type="number" min="1" max="3650" data-testid="settings-retention" prop:value=form.retention_days
                    on:input=move |ev| form.retention_days.set(event_target_value(&ev)) /></label>
                <label>"Close conversations idle for (days; 0: never)"<input type="number" min="0" max="365" data-testid="settings-auto-close" prop:value=form.auto_close_days
                    on:input=move |ev| form.auto_close_days.set(event_target_value(&ev)) /></label>
                <label>"Ask shoppers for a rating when a conversation is closed"<select data-testid="settings-ratings"
                    prop:value=move || form.ratings.get().as_str()
                    on:change=move |ev| form.ratings.set(Ratings::parse(&event_target_value(&ev)).unwrap_or_default())>
                    <option value="off">"Never"</option>
                    <option value="on">"Always (not when closed for being idle)"</option>
                    <option value="ask">"Only with “Close and ask for a rating”"</option>
                </select></label>
                <label>"Push after (seconds unseen)"<input type="number" min="0" max="3600" data-testid="settings-push-delay" prop:value=form.push_delay
                    on:input=move |ev| form.push_delay.set(event_target_value(&ev)) /></label>
                <label>"Email after (seconds unseen)"<input type="number" min="0" max="86400" data-testid="settings-email-delay" prop:value=form.email_delay
                    on:input=move |ev| form.email_delay.set(event_target_value(&ev)) /></label>
                <button type="submit" data-testid="settings-save" hidden=move || !editable.get()>"Save settings"</button>
                <p role="status" data-testid="settings-saved">{move || saved.get()}</p>
                </fieldset>
            </form>
            <p class="error" role="alert" data-testid="settings-error">{move || error.get()}</p>
            <crate::api_tokens::ApiTokens site=site.get_value() />
            <Show when=move || editable.get()>
                <crate::identity::Identity site=site.get_value() />
                <crate::webhooks::Webhooks site=site.get_value() />
            </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_days_round_trip_and_bad_ones_are_named() {
        let day = parse_day("09:00-12:00, 13:00–17:30").unwrap();
        assert_eq!(day, vec![DayHours { open: "09:00".into(), close: "12:00".into() }, DayHours { open: "13:00".into(), close: "17:30".into() }]);
        assert_eq!(day_text(&day), "09:00–12:00, 13:00–17:30");
        assert!(parse_day("  ").unwrap().is_empty());
        assert!(parse_day("nine to five").unwrap_err().contains("nine to five"));
        assert_eq!(parse_list("https://a.example\n, https://b.example,\n\n"), ["https://a.example", "https://b.example"]);
    }
}

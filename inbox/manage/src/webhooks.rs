//! Settings → Webhooks (owners): the site's endpoints, a new one with its signing secret
//! shown once, on/off, delete, and each endpoint's delivery log with "Send again".

use leptos::prelude::*;
use pigeon_protocol::webhooks::EVENT_TYPES;
use pigeon_protocol::{DeliveryState, PatchWebhook, PostWebhook, WebhookDelivery, WebhookEndpoint, WebhookTest};
use wasm_bindgen_futures::spawn_local;

use pigeon_inbox::api;
use pigeon_inbox::view::when;

/// What an endpoint's line says about its state.
pub fn state_line(e: &WebhookEndpoint) -> String {
    match (e.enabled, &e.disabled_reason, &e.failing_since) {
        (false, Some(why), _) => format!("Off. {why}"),
        (false, None, _) => "Off.".into(),
        (true, _, Some(since)) => format!("On, failing since {}.", when(since)),
        (true, _, None) => "On.".into(),
    }
}

/// A delivery's outcome in a few words.
pub fn delivery_line(d: &WebhookDelivery) -> String {
    let tries = if d.attempts == 1 { "1 try".to_owned() } else { format!("{} tries", d.attempts) };
    let last = match (d.last_status, &d.last_error) {
        (_, Some(e)) => format!(" — {e}"),
        (Some(s), None) => format!(" — {s}"),
        _ => String::new(),
    };
    match d.state {
        DeliveryState::Delivered => format!("Delivered ({tries}){last}"),
        DeliveryState::Failed => format!("Failed ({tries}){last}"),
        DeliveryState::Pending if d.attempts == 0 => "Waiting".into(),
        DeliveryState::Pending => format!("Trying again ({tries}){last}"),
    }
}

/// How the endpoint answered a test event, in a sentence.
pub fn test_line(t: &WebhookTest) -> String {
    match (t.delivered, t.status, &t.error) {
        (true, Some(status), _) => format!("Test event delivered: the endpoint answered {status} in {} ms.", t.duration_ms),
        (_, _, Some(error)) => format!("Test event not delivered. {error}"),
        _ => "Test event not delivered.".into(),
    }
}

/// Asks before something that cannot be undone.
pub fn confirm(question: &str) -> bool {
    web_sys::window().and_then(|w| w.confirm_with_message(question).ok()).unwrap_or(false)
}

#[component]
pub fn Webhooks(site: String) -> impl IntoView {
    let site = StoredValue::new(site);
    let endpoints = RwSignal::new(Vec::<WebhookEndpoint>::new());
    let error = RwSignal::new(None::<String>);
    // The secret of the endpoint just made or rotated: shown this once.
    let secret = RwSignal::new(None::<(String, String)>);
    let log = RwSignal::new(None::<(String, Vec<WebhookDelivery>)>);
    // The last test event's answer, by endpoint.
    let tested = RwSignal::new(None::<(String, String)>);
    let url = RwSignal::new(String::new());
    let description = RwSignal::new(String::new());
    let chosen = RwSignal::new(Vec::<String>::new());
    let reload = move || {
        spawn_local(async move {
            match api::webhooks(&site.get_value()).await {
                Ok(list) => endpoints.set(list.endpoints),
                Err(f) => error.set(Some(f.sentence())),
            }
        })
    };
    reload();
    let add = move || {
        let hook = PostWebhook { url: url.get_untracked(), events: chosen.get_untracked(), description: description.get_untracked() };
        spawn_local(async move {
            match api::add_webhook(&site.get_value(), &hook).await {
                Ok(saved) => {
                    secret.set(saved.secret.map(|s| (saved.endpoint.url.clone(), s)));
                    url.set(String::new());
                    description.set(String::new());
                    chosen.set(vec![]);
                    error.set(None);
                    reload();
                }
                Err(f) => error.set(Some(f.sentence())),
            }
        });
    };
    let change = move |id: String, patch: PatchWebhook| {
        spawn_local(async move {
            match api::change_webhook(&site.get_value(), &id, &patch).await {
                Ok(saved) => {
                    if let Some(s) = saved.secret {
                        secret.set(Some((saved.endpoint.url.clone(), s)));
                    }
                    error.set(None);
                    reload();
                }
                Err(f) => error.set(Some(f.sentence())),
            }
        });
    };
    let open_log = move |id: String| {
        spawn_local(async move {
            match api::deliveries(&site.get_value(), &id).await {
                Ok(d) => log.set(Some((id, d.deliveries))),
                Err(f) => error.set(Some(f.sentence())),
            }
        });
    };
    let resend = move |id: String, delivery: u64| {
        spawn_local(async move {
            match api::resend(&site.get_value(), &id, delivery).await {
                Ok(_) => open_log(id),
                Err(f) => error.set(Some(f.sentence())),
            }
        });
    };
    let send_test = move |id: String| {
        tested.set(Some((id.clone(), "Sending a test event…".into())));
        spawn_local(async move {
            match api::test_webhook(&site.get_value(), &id).await {
                Ok(t) => tested.set(Some((id, test_line(&t)))),
                Err(f) => {
                    tested.set(None);
                    error.set(Some(f.sentence()));
                }
            }
        });
    };
    let remove = move |id: String| {
        if !confirm("Delete this endpoint? Its log goes too, and events stop at once.") {
            return;
        }
        spawn_local(async move {
            match api::delete_webhook(&site.get_value(), &id).await {
                Ok(()) => {
                    log.update(|l| l.take_if(|(open, _)| *open == id).map(drop).unwrap_or_default());
                    reload();
                }
                Err(f) => error.set(Some(f.sentence())),
            }
        });
    };
    let row = move |e: WebhookEndpoint| {
        let (on, id) = (e.enabled, e.id.clone());
        let (id2, id3, id4, id5, id6, data_id) = (id.clone(), id.clone(), id.clone(), id.clone(), id.clone(), id.clone());
        let events = if e.events.is_empty() { "All events".to_owned() } else { e.events.join(", ") };
        view! {
            <li data-testid="webhook" data-id=data_id>
                <p><strong class="url">{e.url.clone()}</strong>" "<span class="muted">{e.description.clone()}</span></p>
                <p class="muted">{events}</p>
                <p data-testid="webhook-state" class=if e.failing_since.is_some() || !on { "warn" } else { "" }>{state_line(&e)}</p>
                <p role="status" data-testid="webhook-tested">{move || tested.get().filter(|(of, _)| *of == id6).map(|(_, line)| line)}</p>
                <div class="actions">
                    <button type="button" data-testid="webhook-toggle" on:click=move |_| change(id.clone(), PatchWebhook { enabled: Some(!on), ..Default::default() })>
                        {if on { "Switch off" } else { "Switch on" }}
                    </button>
                    <button type="button" data-testid="webhook-log" on:click=move |_| open_log(id2.clone())>"Deliveries"</button>
                    <button type="button" data-testid="webhook-test" on:click=move |_| send_test(id5.clone())>"Send test event"</button>
                    <button type="button" on:click=move |_| {
                        if confirm("Make a new signing secret? Deliveries are signed with it at once: update your endpoint's secret right after.") {
                            change(id3.clone(), PatchWebhook { rotate_secret: true, ..Default::default() })
                        }
                    }>"New secret"</button>
                    <button type="button" class="danger" data-testid="webhook-delete" on:click=move |_| remove(id4.clone())>"Delete"</button>
                </div>
            </li>
        }
        .into_any()
    };
    let checks = EVENT_TYPES
        .iter()
        .map(|t| {
            let name = *t;
            let (t, t2) = (name.to_owned(), name.to_owned());
            view! {
                <label class="choice"><input type="checkbox" prop:checked=move || chosen.get().contains(&t)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        chosen.update(|c| { c.retain(|x| *x != t2); if on { c.push(t2.clone()); } });
                    } />{name}</label>
            }
            .into_any()
        })
        .collect_view();
    view! {
        <section class="webhooks" aria-labelledby="webhooks-title" data-testid="webhooks">
            <h3 id="webhooks-title">"Webhooks"</h3>
            <p class="muted">"Pigeon sends each conversation's events, in order and signed (Standard Webhooks), to these addresses, and tries again for over a day when one fails."</p>
            <ul class="plain">{move || endpoints.get().into_iter().map(row).collect_view()}</ul>
            <Show when=move || secret.get().is_some()>
                <div class="secret" role="status" data-testid="webhook-secret">
                    <p>"Signing secret for " {move || secret.get().map(|s| s.0)} ". Copy it now: it is not shown again."</p>
                    <code>{move || secret.get().map(|s| s.1)}</code>
                    <button type="button" class="link" on:click=move |_| secret.set(None)>"Done"</button>
                </div>
            </Show>
            <form on:submit=move |ev| { ev.prevent_default(); add(); }>
                <label>"Endpoint URL"<input type="url" required data-testid="webhook-url" placeholder="https://example.com/pigeon" prop:value=url
                    on:input=move |ev| url.set(event_target_value(&ev)) /></label>
                <label>"Description (optional)"<input type="text" data-testid="webhook-description" prop:value=description
                    on:input=move |ev| description.set(event_target_value(&ev)) /></label>
                <fieldset><legend>"Events (none ticked: all)"</legend>{checks}</fieldset>
                <button type="submit" data-testid="webhook-add">"Add endpoint"</button>
            </form>
            <Show when=move || log.get().is_some()>
                <div class="log" data-testid="webhook-deliveries">
                    <h4>"Deliveries to " {move || log.get().and_then(|(id, _)| endpoints.get().into_iter().find(|e| e.id == id)).map(|e| e.url)}</h4>
                    <p class="muted" hidden=move || log.get().is_some_and(|(_, d)| !d.is_empty())>"Nothing sent yet."</p>
                    <ul class="plain">
                        {move || log.get().map(|(id, list)| list.into_iter().map(|d| {
                            let (id, n) = (id.clone(), d.id);
                            let again = d.state != DeliveryState::Pending;
                            view! {
                                <li data-testid="delivery">
                                    <span>{d.kind.clone()}</span>" "<span class="muted">{when(&d.created_at)}</span>" "
                                    <span data-testid="delivery-state">{delivery_line(&d)}</span>" "
                                    <button type="button" class="link" hidden=!again data-testid="delivery-resend" on:click=move |_| resend(id.clone(), n)>"Send again"</button>
                                </li>
                            }
                            .into_any()
                        }).collect_view())}
                    </ul>
                    <button type="button" class="link" on:click=move |_| log.set(None)>"Close the log"</button>
                </div>
            </Show>
            <p class="error" role="alert" data-testid="webhooks-error">{move || error.get()}</p>
        </section>
    }
    .into_any()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(state: DeliveryState, attempts: u32, status: Option<u16>, error: Option<&str>) -> WebhookDelivery {
        WebhookDelivery {
            id: 1,
            event_id: "evt_c_m1".into(),
            kind: "message.created".into(),
            conversation: "c".into(),
            state,
            attempts,
            last_status: status,
            last_error: error.map(str::to_owned),
            created_at: "2026-12-03T10:00:00Z".into(),
            delivered_at: None,
            next_attempt_at: None,
        }
    }

    #[test]
    fn test_events_say_how_the_endpoint_answered() {
        let t = |delivered, status, error: Option<&str>| WebhookTest { event_id: "evt_test_1".into(), delivered, status, error: error.map(str::to_owned), duration_ms: 42 };
        assert_eq!(test_line(&t(true, Some(204), None)), "Test event delivered: the endpoint answered 204 in 42 ms.");
        assert_eq!(test_line(&t(false, Some(500), Some("The endpoint answered 500."))), "Test event not delivered. The endpoint answered 500.");
        assert_eq!(test_line(&t(false, None, None)), "Test event not delivered.");
    }

    #[test]
    fn deliveries_say_how_they_went() {
        assert_eq!(delivery_line(&delivery(DeliveryState::Delivered, 1, Some(204), None)), "Delivered (1 try) — 204");
        assert_eq!(delivery_line(&delivery(DeliveryState::Pending, 0, None, None)), "Waiting");
        assert_eq!(delivery_line(&delivery(DeliveryState::Pending, 2, Some(503), Some("The endpoint answered 503."))), "Trying again (2 tries) — The endpoint answered 503.");
        assert_eq!(delivery_line(&delivery(DeliveryState::Failed, 12, None, Some("No answer"))), "Failed (12 tries) — No answer");
    }
}

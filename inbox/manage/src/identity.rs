//! Settings → Signed identity (owners): the secret the shop's server signs its customers'
//! ids with, made (shown once), made anew (the old one stops at once) or removed (off).

use leptos::prelude::*;
use pigeon_protocol::IdentitySettings;
use wasm_bindgen_futures::spawn_local;

use pigeon_inbox::api;
use pigeon_inbox::view::when;

/// What the section says about the current state.
pub fn state_line(s: &IdentitySettings) -> String {
    match (&s.enabled, &s.created_at) {
        (true, Some(at)) => format!("On: the secret in use was made {}.", when(at)),
        (true, None) => "On.".to_owned(),
        (false, _) => "Off: the widget treats every shopper as anonymous.".to_owned(),
    }
}

#[component]
pub fn Identity(site: String) -> impl IntoView {
    let site = StoredValue::new(site);
    let state = RwSignal::new(None::<IdentitySettings>);
    let secret = RwSignal::new(None::<String>);
    let error = RwSignal::new(None::<String>);
    spawn_local(async move {
        match api::identity(&site.get_value()).await {
            Ok(s) => state.set(Some(s)),
            Err(f) => error.set(Some(f.sentence())),
        }
    });
    let make = move || {
        let again = state.get_untracked().is_some_and(|s| s.enabled);
        if again && !crate::webhooks::confirm("Make a new secret? Signatures made with the current one stop working at once: update your shop's server right after.") {
            return;
        }
        spawn_local(async move {
            match api::make_identity_secret(&site.get_value()).await {
                Ok(mut made) => {
                    secret.set(made.secret.take());
                    state.set(Some(made));
                    error.set(None);
                }
                Err(f) => error.set(Some(f.sentence())),
            }
        });
    };
    let off = move || {
        if !crate::webhooks::confirm("Turn signed identity off? Signed-in customers are then treated as anonymous shoppers; their conversations stay theirs.") {
            return;
        }
        spawn_local(async move {
            match api::identity_off(&site.get_value()).await {
                Ok(()) => {
                    state.set(Some(IdentitySettings { enabled: false, created_at: None, secret: None }));
                    secret.set(None);
                    error.set(None);
                }
                Err(f) => error.set(Some(f.sentence())),
            }
        });
    };
    let enabled = move || state.get().is_some_and(|s| s.enabled);
    view! {
        <section class="webhooks" aria-labelledby="identity-title" data-testid="identity">
            <h3 id="identity-title">"Signed identity"</h3>
            <p class="muted">"For shops with customer accounts: your server signs the signed-in customer's id with this secret, the page passes it to "<code>"Pigeon('identify', …)"</code>", and the customer finds their conversation on any device (README, “Signed-in customers”)."</p>
            <p data-testid="identity-state">{move || state.get().map(|s| state_line(&s))}</p>
            <Show when=move || secret.get().is_some()>
                <div class="secret" role="status" data-testid="identity-secret">
                    <p>"Your identity secret. Copy it to your shop's server now: it is not shown again. Keep it there, never in a page."</p>
                    <code>{move || secret.get()}</code>
                    <button type="button" class="link" on:click=move |_| secret.set(None)>"Done"</button>
                </div>
            </Show>
            <p>
                <button type="button" data-testid="identity-make" on:click=move |_| make()>{move || if enabled() { "Make a new secret" } else { "Turn on (make a secret)" }}</button>
                " "
                <button type="button" class="danger" data-testid="identity-off" hidden=move || !enabled() on:click=move |_| off()>"Turn off"</button>
            </p>
            <p class="error" role="alert" data-testid="identity-error">{move || error.get()}</p>
        </section>
    }
}

//! Settings → API tokens (every teammate): their own personal tokens for the site's agent
//! API, a new one with its secret shown once, and "Revoke".

use leptos::prelude::*;
use pigeon_protocol::{ApiToken, PostApiToken};
use wasm_bindgen_futures::spawn_local;

use pigeon_inbox::api;
use pigeon_inbox::view::when;

/// What a token's line says about its use.
pub fn used_line(t: &ApiToken) -> String {
    match &t.last_used_at {
        Some(at) => format!("Made {}, last used {}.", when(&t.created_at), when(at)),
        None => format!("Made {}, never used.", when(&t.created_at)),
    }
}

#[component]
pub fn ApiTokens(site: String) -> impl IntoView {
    let site = StoredValue::new(site);
    let tokens = RwSignal::new(Vec::<ApiToken>::new());
    let error = RwSignal::new(None::<String>);
    // The token just made: its name and secret, shown this once.
    let secret = RwSignal::new(None::<(String, String)>);
    let name = RwSignal::new(String::new());
    let reload = move || {
        spawn_local(async move {
            match api::api_tokens(&site.get_value()).await {
                Ok(list) => tokens.set(list.tokens),
                Err(f) => error.set(Some(f.sentence())),
            }
        })
    };
    reload();
    let add = move || {
        let body = PostApiToken { name: name.get_untracked() };
        spawn_local(async move {
            match api::add_api_token(&site.get_value(), &body).await {
                Ok(made) => {
                    secret.set(Some((made.token.name, made.secret)));
                    name.set(String::new());
                    error.set(None);
                    reload();
                }
                Err(f) => error.set(Some(f.sentence())),
            }
        });
    };
    let revoke = move |id: String, label: String| {
        if !crate::webhooks::confirm(&format!("Revoke “{label}”? Anything using it stops working at once.")) {
            return;
        }
        spawn_local(async move {
            match api::revoke_api_token(&site.get_value(), &id).await {
                Ok(()) => reload(),
                Err(f) => error.set(Some(f.sentence())),
            }
        });
    };
    let row = move |t: ApiToken| {
        let (id, label) = (t.id.clone(), t.name.clone());
        view! {
            <li data-testid="api-token">
                <p><strong>{t.name.clone()}</strong></p>
                <p class="muted">{used_line(&t)}</p>
                <button type="button" class="danger" data-testid="api-token-revoke" on:click=move |_| revoke(id.clone(), label.clone())>"Revoke"</button>
            </li>
        }
        .into_any()
    };
    view! {
        <section class="webhooks" aria-labelledby="tokens-title" data-testid="api-tokens">
            <h3 id="tokens-title">"API tokens"</h3>
            <p class="muted">"Your own keys to Pigeon's agent API for this shop ("<a href="/v1/openapi.json">"OpenAPI"</a>"). A script using one replies as you. Revoke one you no longer use."</p>
            <ul class="plain">{move || tokens.get().into_iter().map(row).collect_view()}</ul>
            <Show when=move || secret.get().is_some()>
                <div class="secret" role="status" data-testid="api-token-secret">
                    <p>"Token “" {move || secret.get().map(|s| s.0)} "”. Copy it now: it is not shown again."</p>
                    <code>{move || secret.get().map(|s| s.1)}</code>
                    <button type="button" class="link" on:click=move |_| secret.set(None)>"Done"</button>
                </div>
            </Show>
            <form on:submit=move |ev| { ev.prevent_default(); add(); }>
                <label>"What will use it"<input type="text" required maxlength="80" data-testid="api-token-name" placeholder="Order sync" prop:value=name
                    on:input=move |ev| name.set(event_target_value(&ev)) /></label>
                <button type="submit" data-testid="api-token-add">"Make a token"</button>
            </form>
            <p class="error" role="alert" data-testid="api-tokens-error">{move || error.get()}</p>
        </section>
    }
    .into_any()
}

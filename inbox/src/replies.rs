//! Saved replies in the inbox: picked in the composer by typing `/` and a shortcut (arrows
//! move, Enter or Tab takes one, Esc closes the list), filled from the open conversation; a
//! value the conversation does not have stays as a visible marker that blocks sending until
//! replaced. Owners manage them in the Saved replies view; agents read them there.

use leptos::prelude::*;
use pigeon_protocol::replies::{self, Variable};
use pigeon_protocol::{Context, PutSavedReply, SavedReply, TeamRole};
use wasm_bindgen_futures::spawn_local;

use crate::api::{self, Failure};
use crate::model::money;
use crate::state::Inbox;

/// Options the picker shows at most.
const SHOWN: usize = 8;

/// The saved replies a composer text asks for: it is `/` and the start of a shortcut (no
/// spaces yet). Shortcuts that begin with it come first, then those with it elsewhere in the
/// shortcut or the text.
pub fn matches<'a>(saved: &'a [SavedReply], text: &str) -> Vec<&'a SavedReply> {
    let Some(typed) = text.strip_prefix('/') else { return vec![] };
    if typed.chars().any(char::is_whitespace) {
        return vec![];
    }
    let typed = typed.to_lowercase();
    let mut first: Vec<&SavedReply> = saved.iter().filter(|r| r.shortcut.starts_with(&typed)).collect();
    let rest = saved.iter().filter(|r| !r.shortcut.starts_with(&typed) && (r.shortcut.contains(&typed) || r.body.to_lowercase().contains(&typed)));
    first.extend(rest);
    first.truncate(SHOWN);
    first
}

/// What the open conversation knows for each variable: its shared context and address.
pub fn value(v: Variable, ctx: Option<&Context>, email: Option<&str>, agent_name: &str, site_name: &str) -> Option<String> {
    match v {
        // Shoppers do not give a name yet (signed identity will).
        Variable::ShopperName => None,
        Variable::ShopperEmail => email.map(str::to_owned),
        Variable::PageTitle => ctx.map(|c| c.page.title.clone()),
        Variable::PageUrl => ctx.map(|c| c.page.url.clone()),
        Variable::CartTotal => ctx.and_then(|c| c.cart.as_ref()).map(|c| money(c.total, &c.currency)),
        Variable::AgentName => Some(agent_name.to_owned()),
        Variable::SiteName => Some(site_name.to_owned()),
    }
}

/// The markers of `missing` still in `text`: what must be replaced before sending.
pub fn unfilled(text: &str, missing: &[Variable]) -> Vec<Variable> {
    missing.iter().copied().filter(|v| text.contains(&v.marker())).collect()
}

/// A sentence asking for the unfilled values, or `None` when there are none.
pub fn unfilled_sentence(unfilled: &[Variable]) -> Option<String> {
    let markers: Vec<String> = unfilled.iter().map(|v| v.marker()).collect();
    (!markers.is_empty()).then(|| format!("Replace {} before sending.", markers.join(", ")))
}

/// The composer's picker: which option is active, and whether Esc closed the list.
#[derive(Clone, Copy)]
pub struct Picker {
    pub active: RwSignal<usize>,
    pub closed: RwSignal<bool>,
    /// Variables the last picked reply could not fill.
    pub missing: RwSignal<Vec<Variable>>,
}

/// What a key in the composer did to the picker.
pub enum Key {
    /// Not the picker's: the composer handles it.
    Pass,
    /// Handled (moved, closed).
    Used,
    /// A reply was taken: the composer's new text.
    Took(String),
}

impl Picker {
    pub fn new() -> Self {
        Self { active: RwSignal::new(0), closed: RwSignal::new(false), missing: RwSignal::new(vec![]) }
    }

    /// The options for `text`, unless Esc closed the list.
    pub fn options(&self, inbox: Inbox, text: &str) -> Vec<SavedReply> {
        if self.closed.get() {
            return vec![];
        }
        inbox.saved_replies.with(|saved| matches(saved, text).into_iter().cloned().collect())
    }

    /// The composer's text changed: the list opens again from its first option.
    pub fn typed(&self) {
        self.active.set(0);
        self.closed.set(false);
    }

    /// `reply` filled for the open conversation; its missing values remembered.
    pub fn take(&self, inbox: Inbox, reply: &SavedReply) -> String {
        let site = inbox.site.get_untracked();
        let (agent, site_name) = inbox.me.with_untracked(|m| {
            m.sites.iter().find(|s| s.site == site).map(|s| (s.name.clone(), s.site_name.clone())).unwrap_or_default()
        });
        // The conversation's details, or its list row while they are on their way.
        let open = inbox.selected.get_untracked().unwrap_or_default();
        let (ctx, email) = inbox.details.with_untracked(|d| d.as_ref().filter(|d| d.id == open).map(|d| (d.context.clone(), d.contact_email.clone()))).unwrap_or_else(|| {
            inbox.list.with_untracked(|l| l.iter().find(|c| c.summary.id == open).map(|c| (c.summary.context.clone(), c.contact_email.clone())).unwrap_or_default())
        });
        let filled = replies::fill(&reply.body, |v| value(v, ctx.as_ref(), email.as_deref(), &agent, &site_name));
        self.missing.set(filled.missing);
        self.active.set(0);
        filled.text
    }

    pub fn key(&self, inbox: Inbox, ev: &web_sys::KeyboardEvent, text: &str) -> Key {
        let options = self.options(inbox, text);
        if options.is_empty() || ev.is_composing() {
            return Key::Pass;
        }
        let last = options.len() - 1;
        match ev.key().as_str() {
            "ArrowDown" => self.active.update(|a| *a = (*a + 1).min(last)),
            "ArrowUp" => self.active.update(|a| *a = a.saturating_sub(1)),
            "Escape" => self.closed.set(true),
            "Enter" | "Tab" if !ev.shift_key() => {
                ev.prevent_default();
                let chosen = &options[self.active.get_untracked().min(last)];
                return Key::Took(self.take(inbox, chosen));
            }
            _ => return Key::Pass,
        }
        ev.prevent_default();
        ev.stop_propagation();
        Key::Used
    }
}

/// The options under the composer while its text is `/…`.
#[component]
pub fn PickerList(inbox: Inbox, picker: Picker, text: RwSignal<String>, on_take: impl Fn(String) + Copy + Send + Sync + 'static) -> impl IntoView {
    let options = move || picker.options(inbox, &text.get());
    view! {
        <ul class="picker" role="listbox" id="saved-reply-options" aria-label="Saved replies" data-testid="saved-replies-picker"
            hidden=move || options().is_empty()>
            {move || {
                let active = picker.active.get();
                options()
                    .into_iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let chosen = r.clone();
                        view! {
                            <li role="option" id=format!("saved-reply-{i}") aria-selected=(i == active).to_string() data-testid="saved-reply-option"
                                on:mousedown=move |ev| { ev.prevent_default(); on_take(picker.take(inbox, &chosen)); }>
                                <strong>{format!("/{}", r.shortcut)}</strong>
                                <span dir="auto">{r.body.clone()}</span>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
    }
}

/// The Saved replies view: everyone sees them; owners add, change and delete.
#[component]
pub fn SavedRepliesView(inbox: Inbox, on_close: impl Fn() + Copy + 'static) -> impl IntoView {
    let site = StoredValue::new(inbox.site.get_untracked());
    let owner = inbox.me.with_untracked(|m| m.sites.iter().any(|s| s.site == site.get_value() && s.role == TeamRole::Owner));
    let error = RwSignal::new(None::<String>);
    let editing = RwSignal::new(None::<String>);
    let (shortcut, body) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let done = move |r: Result<pigeon_protocol::SavedReplies, Failure>| match r {
        Ok(list) => {
            inbox.saved_replies.set(list.replies);
            error.set(None);
            editing.set(None);
            shortcut.set(String::new());
            body.set(String::new());
        }
        Err(f) => error.set(Some(f.sentence())),
    };
    spawn_local(async move {
        match api::saved_replies(&site.get_value()).await {
            Ok(list) => inbox.saved_replies.set(list.replies),
            Err(f) => error.set(Some(f.sentence())),
        }
    });
    let save = move || {
        let reply = PutSavedReply { shortcut: shortcut.get_untracked(), body: body.get_untracked() };
        // The relay's rules, said before asking.
        if let Err(e) = replies::saved_reply(&reply) {
            return error.set(Some(e.message));
        }
        let id = editing.get_untracked();
        spawn_local(async move { done(api::save_reply(&site.get_value(), id.as_deref(), &reply).await) });
    };
    let rows = move || {
        inbox.saved_replies.with(|list| {
            list.iter()
                .map(|r| {
                    let (edit, id) = (r.clone(), r.id.clone());
                    let controls = owner.then(|| {
                        view! {
                            <button type="button" class="link" data-testid="saved-reply-edit" on:click=move |_| {
                                editing.set(Some(edit.id.clone()));
                                shortcut.set(edit.shortcut.clone());
                                body.set(edit.body.clone());
                            }>"Edit"</button>
                            <button type="button" class="link" data-testid="saved-reply-delete" on:click=move |_| {
                                let id = id.clone();
                                spawn_local(async move { done(api::delete_reply(&site.get_value(), &id).await) });
                            }>"Delete"</button>
                        }
                    });
                    view! {
                        <li data-testid="saved-reply">
                            <strong>{format!("/{}", r.shortcut)}</strong>
                            {controls}
                            <p dir="auto">{r.body.clone()}</p>
                        </li>
                    }
                })
                .collect_view()
        })
    };
    let variables = Variable::ALL.iter().map(|v| view! { <li><code>{format!("{{{{{}}}}}", v.name())}</code>{format!(" — {}", v.label())}</li> }).collect_view();
    view! {
        <section class="team replies" aria-labelledby="replies-title" data-testid="saved-replies">
            <div class="bar">
                <h2 id="replies-title">"Saved replies"</h2>
                <button type="button" class="link" on:click=move |_| on_close()>"Close"</button>
            </div>
            <p class="muted">"Type / and a shortcut in the reply box to use one."</p>
            <ul>{rows}</ul>
            <p class="muted" hidden=move || inbox.saved_replies.with(|l| !l.is_empty())>"No saved replies yet."</p>
            <form hidden=!owner on:submit=move |ev| { ev.prevent_default(); save(); }>
                <h3>{move || if editing.with(Option::is_some) { "Change the saved reply" } else { "Add a saved reply" }}</h3>
                <label>"Shortcut"<input type="text" data-testid="saved-reply-shortcut" maxlength="32" autocomplete="off" prop:value=shortcut
                    on:input=move |ev| shortcut.set(event_target_value(&ev)) /></label>
                <label>"Text"<textarea data-testid="saved-reply-body" rows="4" dir="auto" prop:value=body
                    on:input=move |ev| body.set(event_target_value(&ev))></textarea></label>
                <details>
                    <summary>"Variables"</summary>
                    <ul class="variables">{variables}</ul>
                </details>
                <button type="submit" data-testid="saved-reply-save">{move || if editing.with(Option::is_some) { "Save changes" } else { "Add" }}</button>
                <button type="button" class="link" hidden=move || editing.with(Option::is_none) on:click=move |_| {
                    editing.set(None);
                    shortcut.set(String::new());
                    body.set(String::new());
                }>"Cancel"</button>
            </form>
            <p class="muted" hidden=owner>"Only owners can change saved replies."</p>
            <p class="error" role="alert">{move || error.get()}</p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn saved(shortcut: &str, body: &str) -> SavedReply {
        SavedReply { id: shortcut.into(), shortcut: shortcut.into(), body: body.into(), updated_by: "o@x".into(), updated_at: "2026-11-24T00:00:00Z".into() }
    }

    #[test]
    fn slash_and_a_shortcut_start_finds_them_beginnings_first() {
        let list = [saved("refund", "Your refund is on its way"), saved("ship", "It ships tomorrow"), saved("eu-shipping", "Shipping to the EU")];
        let ids = |text: &str| matches(&list, text).into_iter().map(|r| r.shortcut.as_str()).collect::<Vec<_>>();
        assert_eq!(ids("/"), ["refund", "ship", "eu-shipping"]);
        assert_eq!(ids("/sh"), ["ship", "eu-shipping"]);
        assert_eq!(ids("/SHIP"), ["ship", "eu-shipping"]);
        assert_eq!(ids("/way"), ["refund"], "words of the text too");
        assert!(ids("/ship it").is_empty(), "a space ends the shortcut");
        assert!(ids("ship").is_empty(), "only after /");
        assert!(ids("/zz").is_empty());
    }

    #[test]
    fn values_come_from_the_conversation_and_unknown_ones_stay_marked() {
        let ctx: Context = serde_json::from_value(serde_json::json!({
            "page": { "url": "https://shop.example/p", "title": "Trail Runner 2" }, "cart": { "currency": "EUR", "total": 5999, "items": [] }
        }))
        .unwrap();
        let f = replies::fill("Hi {{shopper.name}}! {{page.title}} is {{cart.total}}. I'll write to {{shopper.email}}. — {{agent.name}}, {{site.name}}", |v| {
            value(v, Some(&ctx), None, "Olivia", "Pigeon Outfitters")
        });
        assert_eq!(f.text, "Hi [shopper's name?]! Trail Runner 2 is 59.99 EUR. I'll write to [shopper's email?]. — Olivia, Pigeon Outfitters");
        assert_eq!(f.missing, [Variable::ShopperName, Variable::ShopperEmail]);
        assert_eq!(unfilled(&f.text, &f.missing), [Variable::ShopperName, Variable::ShopperEmail]);
        let edited = f.text.replace("[shopper's name?]", "Nina");
        assert_eq!(unfilled(&edited, &f.missing), [Variable::ShopperEmail]);
        assert_eq!(unfilled_sentence(&unfilled(&edited, &f.missing)).unwrap(), "Replace [shopper's email?] before sending.");
        assert_eq!(unfilled_sentence(&[]), None);
    }
}

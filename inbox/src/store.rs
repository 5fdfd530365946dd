//! What the inbox keeps in this browser (`localStorage`): the last list and threads it saw
//! (shown when offline), drafts, and replies not stored yet. Nothing here is a secret: the
//! session is an `HttpOnly` cookie scripts cannot read.

use serde::Serialize;
use serde::de::DeserializeOwned;

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

const PREFIX: &str = "pigeon-inbox:";

pub fn get<T: DeserializeOwned>(key: &str) -> Option<T> {
    let text = storage()?.get_item(&format!("{PREFIX}{key}")).ok().flatten()?;
    serde_json::from_str(&text).ok()
}

pub fn set<T: Serialize>(key: &str, value: &T) {
    if let (Some(s), Ok(text)) = (storage(), serde_json::to_string(value)) {
        // Full storage only costs the offline copy.
        let _ = s.set_item(&format!("{PREFIX}{key}"), &text);
    }
}

pub fn remove(key: &str) {
    if let Some(s) = storage() {
        let _ = s.remove_item(&format!("{PREFIX}{key}"));
    }
}

/// Everything this inbox kept: on sign-out.
pub fn clear() {
    let Some(s) = storage() else { return };
    let keys: Vec<String> = (0..s.length().unwrap_or(0)).filter_map(|i| s.key(i).ok().flatten()).filter(|k| k.starts_with(PREFIX)).collect();
    for k in keys {
        let _ = s.remove_item(&k);
    }
}

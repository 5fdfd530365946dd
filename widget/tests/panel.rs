//! The panel in a real browser (wasm-bindgen-test in headless Chromium): typing, Enter to
//! send, text-only rendering, and the retry state when the relay cannot be reached.
#![cfg(target_arch = "wasm32")]

use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{HtmlElement, HtmlTextAreaElement, KeyboardEvent, KeyboardEventInit};

wasm_bindgen_test_configure!(run_in_browser);

async fn sleep(ms: i32) {
    let p = js_sys::Promise::new(&mut |resolve, _| {
        web_sys::window().unwrap().set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms).unwrap();
    });
    wasm_bindgen_futures::JsFuture::from(p).await.unwrap();
}

async fn mount_panel(site: &str) -> HtmlElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let container: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&container).unwrap();
    // Port 9 (discard) refuses connections: the relay is unreachable.
    let _widget = pigeon_widget::mount(container.clone(), "http://127.0.0.1:9".into(), site.into(), wasm_bindgen::JsValue::NULL).await;
    container
}

async fn wait_for(container: &HtmlElement, selector: &str) -> web_sys::Element {
    for _ in 0..100 {
        if let Ok(Some(el)) = container.query_selector(selector) {
            return el;
        }
        sleep(50).await;
    }
    panic!("{selector} never appeared");
}

#[wasm_bindgen_test]
async fn hostile_text_is_shown_as_text_and_kept_for_retry_when_offline() {
    let container = mount_panel("wasm-test-hostile").await;
    let textarea: HtmlTextAreaElement = wait_for(&container, "textarea").await.unchecked_into();
    let hostile = "<img src=x onerror=\"window.__pwned=1\"> <script>window.__pwned=2</script>";
    textarea.set_value(hostile);
    textarea.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    let init = KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_bubbles(true);
    init.set_cancelable(true);
    textarea.dispatch_event(&KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()).unwrap();

    let message = wait_for(&container, "[data-testid=message]").await;
    assert_eq!(message.query_selector(".pg-body").unwrap().unwrap().text_content().unwrap(), hostile);
    assert!(container.query_selector("img").unwrap().is_none(), "no element was created from the text");
    assert!(js_sys::Reflect::get(&web_sys::window().unwrap(), &"__pwned".into()).unwrap().is_undefined());
    assert_eq!(textarea.value(), "", "the composer is cleared after sending");

    // The relay is unreachable: the message stays on screen, marked as retrying, and waits
    // in the IndexedDB outbox, so a reload cannot lose it.
    wait_for(&container, "[data-testid=message][data-delivery=retrying]").await;
    let store = pigeon_widget::store::Store::open("wasm-test-hostile").await.unwrap();
    let (_, _, outbox) = store.load(&[]).await.unwrap();
    assert_eq!(outbox.len(), 1);
    assert_eq!(outbox[0].body, hostile.trim());
}

#[wasm_bindgen_test]
async fn a_remounted_panel_shows_the_stored_outbox_before_any_network_call() {
    let first = mount_panel("wasm-test-restore").await;
    let textarea: HtmlTextAreaElement = wait_for(&first, "textarea").await.unchecked_into();
    textarea.set_value("typed while offline");
    textarea.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    let send: HtmlElement = first.query_selector("[data-testid=send]").unwrap().unwrap().unchecked_into();
    send.click();
    wait_for(&first, "[data-testid=message]").await;
    sleep(200).await;
    // A second mount (a reload) restores it from IndexedDB as soon as mount resolves.
    let second = mount_panel("wasm-test-restore").await;
    let restored = second.query_selector("[data-testid=message] .pg-body").unwrap().expect("restored at mount");
    assert_eq!(restored.text_content().unwrap(), "typed while offline");
}

#[wasm_bindgen_test]
async fn shift_enter_does_not_send_and_empty_messages_are_refused() {
    let container = mount_panel("wasm-test-keys").await;
    let textarea: HtmlTextAreaElement = wait_for(&container, "textarea").await.unchecked_into();
    let init = KeyboardEventInit::new();
    init.set_key("Enter");
    init.set_shift_key(true);
    init.set_bubbles(true);
    textarea.set_value("line one");
    textarea.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    textarea.dispatch_event(&KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap()).unwrap();
    sleep(100).await;
    assert!(container.query_selector("[data-testid=message]").unwrap().is_none());

    textarea.set_value("   ");
    textarea.dispatch_event(&web_sys::Event::new("input").unwrap()).unwrap();
    let send: HtmlElement = container.query_selector("[data-testid=send]").unwrap().unwrap().unchecked_into();
    send.click();
    sleep(100).await;
    assert!(container.query_selector("[data-testid=message]").unwrap().is_none());
    let error = container.query_selector("[data-testid=error]").unwrap().unwrap().text_content().unwrap();
    assert!(error.contains("empty"), "{error}");
}

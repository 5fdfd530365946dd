//! Plain JavaScript objects, read and built field by field. The widget lets the browser do
//! all JSON (`JSON.parse`/`JSON.stringify`) and IndexedDB keeps the parsed objects as they
//! are, so no serialisation code is compiled into the wasm: that is most of its size saved.

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

/// `obj[key]`, `undefined` when `obj` is not an object.
pub fn get(obj: &JsValue, key: &str) -> JsValue {
    get_key(obj, &JsValue::from_str(key))
}

/// [`get`] with the key already a JS string (for many objects of one shape).
pub fn get_key(obj: &JsValue, key: &JsValue) -> JsValue {
    if obj.is_object() { Reflect::get(obj, key).unwrap_or(JsValue::UNDEFINED) } else { JsValue::UNDEFINED }
}

pub fn string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

/// A whole number within ±2^53 (what JSON can carry exactly).
pub fn integer(obj: &JsValue, key: &str) -> Option<i64> {
    whole(&get(obj, key))
}

pub fn whole(v: &JsValue) -> Option<i64> {
    v.as_f64().filter(|n| n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_991.0).map(|n| n as i64)
}

/// A new object with the given fields; `undefined` values are left out.
pub fn object(fields: &[(&str, JsValue)]) -> JsValue {
    let obj = Object::new();
    for (key, value) in fields {
        if !value.is_undefined() {
            let _ = Reflect::set(&obj, &JsValue::from_str(key), value);
        }
    }
    obj.into()
}

/// `Some(text)` as a JS string, `None` as `undefined` (left out of [`object`]).
pub fn opt(value: Option<&str>) -> JsValue {
    value.map_or(JsValue::UNDEFINED, JsValue::from_str)
}

pub fn parse(text: &str) -> Option<JsValue> {
    js_sys::JSON::parse(text).ok()
}

pub fn stringify(value: &JsValue) -> String {
    js_sys::JSON::stringify(value).map(String::from).unwrap_or_default()
}

/// The items of a JS array (nothing if it is not one).
pub fn items(value: &JsValue) -> Vec<JsValue> {
    if js_sys::Array::is_array(value) { js_sys::Array::from(value).to_vec() } else { Vec::new() }
}

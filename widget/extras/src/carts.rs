//! Shop systems' carts as Pigeon's cart (integer minor units of one ISO 4217 currency): pure
//! conversions, tested on the host against the documented JSON shapes.
//!
//! - **Shopify**, the AJAX API's `GET /cart.js`
//!   (<https://shopify.dev/docs/api/ajax/reference/cart>): amounts are integers in hundredths
//!   of the cart's `currency` whatever its minor unit (a 3,500 KRW item is `350000`), so they
//!   are scaled to the currency's own digits.
//! - **WooCommerce**, the Store API's `GET /wp-json/wc/store/v1/cart`
//!   (<https://developer.woocommerce.com/docs/apis/store-api/resources-endpoints/cart>):
//!   amounts are strings of integers in `currency_minor_unit` digits (the store's setting,
//!   which may differ from the currency's), names are HTML-escaped.
//!
//! Odd values are made sane, not refused: a line with no quantity is left out, a price that
//! is not a number counts as 0, names are cut to what Pigeon shows, at most 100 lines are
//! kept (the total stays the cart's). Only a cart with no usable currency is refused.

use pigeon_protocol::validate::MAX_CART_ITEMS;
use pigeon_protocol::{Cart, CartItem, currency_digits};
use serde_json::Value;

/// The shop systems Pigeon reads carts from (`data-platform` on the script tag).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    Shopify,
    WooCommerce,
}

/// Longest item name Pigeon keeps (the protocol's limit).
const MAX_NAME: usize = 200;
const MAX_URL: usize = pigeon_protocol::validate::MAX_CONTEXT_TEXT_CHARS;

impl Platform {
    pub fn parse(name: &str) -> Option<Platform> {
        match name.trim().to_ascii_lowercase().as_str() {
            "shopify" => Some(Platform::Shopify),
            "woocommerce" | "woo" => Some(Platform::WooCommerce),
            _ => None,
        }
    }

    /// Where the cart is read, on the shop's own origin; `root` is Shopify's
    /// `Shopify.routes.root` (`/` or a market's `/en-ca/`).
    pub fn cart_path(self, root: Option<&str>) -> String {
        match self {
            Platform::Shopify => format!("{}cart.js", root.filter(|r| r.starts_with('/') && !r.starts_with("//") && r.ends_with('/')).unwrap_or("/")),
            Platform::WooCommerce => "/wp-json/wc/store/v1/cart".into(),
        }
    }

    /// Does a request to `url` (a resource the page fetched) change the cart? Then it is read
    /// again. Reading it never matches.
    pub fn changes_cart(self, url: &str) -> bool {
        let path = url.split('#').next().unwrap_or(url);
        match self {
            Platform::Shopify => ["/cart/add", "/cart/change", "/cart/update", "/cart/clear"].iter().any(|p| path.contains(p)),
            Platform::WooCommerce => {
                path.contains("/wc/store/v1/cart/")
                    || path.contains("/wc/store/v1/batch")
                    || ["add_to_cart", "remove_from_cart", "update_cart", "apply_coupon", "remove_coupon"].iter().any(|a| path.contains(&format!("wc-ajax={a}")))
            }
        }
    }

    /// The cart in `json` as Pigeon's; `origin` makes relative links absolute. `Ok(None)` for
    /// an empty cart.
    pub fn convert(self, json: &str, origin: &str) -> Result<Option<Cart>, String> {
        let v: Value = serde_json::from_str(json).map_err(|e| format!("the cart is not JSON ({e})"))?;
        let cart = match self {
            Platform::Shopify => shopify(&v, origin)?,
            Platform::WooCommerce => woocommerce(&v, origin)?,
        };
        Ok((!cart.items.is_empty()).then_some(cart))
    }
}

/// Is `url` (a request the page made, as the browser reports it) our own read of the cart at
/// `path` on `origin`? The whole address counts, query included: with
/// `data-cart-url="/shop/?rest_route=/wc/store/v1/cart"`, the page's
/// `?rest_route=/wc/store/v1/cart/add-item` is a change, not our read.
pub fn own_read(url: &str, origin: &str, path: &str) -> bool {
    url.split('#').next().unwrap_or(url) == format!("{origin}{path}")
}

/// An integer from a JSON number or a string of digits (Store API amounts are strings).
fn int(v: &Value) -> Option<i128> {
    match v {
        Value::Number(n) => n.as_i64().map(i128::from).or_else(|| n.as_f64().filter(|f| f.is_finite() && f.abs() < 1e30).map(|f| f.round() as i128)),
        Value::String(s) => s.trim().parse::<i128>().ok(),
        _ => None,
    }
}

/// `amount` given in `from` digits, in `to` digits (rounded half away from zero), kept in range.
fn scale(amount: i128, from: u32, to: u32) -> i64 {
    let scaled = if to >= from {
        amount.saturating_mul(10i128.pow((to - from).min(18)))
    } else {
        let d = 10i128.pow((from - to).min(18));
        (amount + amount.signum() * d / 2) / d
    };
    scaled.clamp(0, i128::from(u32::MAX) * 1_000) as i64
}

fn currency(v: &Value) -> Result<String, String> {
    let code = v.as_str().unwrap_or_default().trim().to_ascii_uppercase();
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) { Ok(code) } else { Err(format!("the cart has no currency code ({v})")) }
}

fn text(v: &Value) -> Option<&str> {
    v.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// A name as people read it, at most [`MAX_NAME`] characters.
fn name(raw: &str) -> String {
    let clean: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if clean.chars().count() <= MAX_NAME {
        return clean;
    }
    let mut cut: String = clean.chars().take(MAX_NAME - 1).collect();
    cut.push('…');
    cut
}

/// An absolute http(s) link, or none: relative paths are on `origin`, `//host/...` is https.
fn link(v: &Value, origin: &str) -> Option<String> {
    let s = text(v)?;
    let abs = if s.starts_with("https://") || s.starts_with("http://") {
        s.to_owned()
    } else if let Some(rest) = s.strip_prefix("//") {
        format!("https://{rest}")
    } else if s.starts_with('/') {
        format!("{}{s}", origin.trim_end_matches('/'))
    } else {
        return None;
    };
    (abs.chars().count() <= MAX_URL).then_some(abs)
}

fn quantity(v: &Value) -> Option<u32> {
    int(v).filter(|q| *q > 0).map(|q| q.min(i128::from(u32::MAX)) as u32)
}

/// The cart's `items` as Pigeon's lines: those `line` makes sense of, at most
/// [`MAX_CART_ITEMS`].
fn lines(v: &Value, line: impl Fn(&Value) -> Option<CartItem>) -> Vec<CartItem> {
    v["items"].as_array().map(Vec::as_slice).unwrap_or_default().iter().filter_map(line).take(MAX_CART_ITEMS).collect()
}

fn shopify(v: &Value, origin: &str) -> Result<Cart, String> {
    let currency = currency(&v["currency"])?;
    let digits = currency_digits(&currency);
    let money = |x: &Value| scale(int(x).unwrap_or(0), 2, digits);
    let items = lines(v, |i| {
        let quantity = quantity(&i["quantity"])?;
        let title = text(&i["title"]).or_else(|| text(&i["product_title"])).unwrap_or("Item");
        let price = if i["final_price"].is_null() { &i["price"] } else { &i["final_price"] };
        Some(CartItem {
            id: int(&i["id"]).map(|n| n.to_string()).or_else(|| text(&i["key"]).map(str::to_owned)),
            name: name(title),
            quantity,
            unit_price: money(price),
            url: link(&i["url"], origin),
            image_url: link(&i["image"], origin).or_else(|| link(&i["featured_image"]["url"], origin)),
        })
    });
    Ok(Cart { currency, total: money(&v["total_price"]), items })
}

/// `&amp;`, `&#8211;`, `&#x2013;` and the other escapes WordPress writes, as characters;
/// markup dropped.
fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find(['&', '<']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        if rest.starts_with('<') {
            rest = rest.find('>').map_or("", |end| &rest[end + 1..]);
            continue;
        }
        let entity = rest[1..].find(';').filter(|n| *n <= 10).map(|n| &rest[1..=n]);
        let ch = entity.and_then(|e| match e {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some(' '),
            _ => e
                .strip_prefix("#x")
                .or_else(|| e.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| e.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32)
                .filter(|c| !c.is_control()),
        });
        match (ch, entity) {
            (Some(c), Some(e)) => {
                out.push(c);
                rest = &rest[e.len() + 2..];
            }
            _ => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn woocommerce(v: &Value, origin: &str) -> Result<Cart, String> {
    let totals = &v["totals"];
    let currency = currency(&totals["currency_code"]).or_else(|_| currency(&v["items"][0]["prices"]["currency_code"]))?;
    let digits = currency_digits(&currency);
    let minor = |x: &Value| int(x).filter(|d| (0..=8).contains(d)).map_or(digits, |d| d as u32);
    let cart_minor = minor(&totals["currency_minor_unit"]);
    let items = lines(v, |i| {
        let quantity = quantity(&i["quantity"])?;
        let prices = &i["prices"];
        let from = if prices["currency_minor_unit"].is_null() { cart_minor } else { minor(&prices["currency_minor_unit"]) };
        Some(CartItem {
            id: int(&i["id"]).map(|n| n.to_string()).or_else(|| text(&i["key"]).map(str::to_owned)),
            name: name(&unescape(text(&i["name"]).unwrap_or("Item"))),
            quantity,
            unit_price: scale(int(&prices["price"]).unwrap_or(0), from, digits),
            url: link(&i["permalink"], origin),
            image_url: link(&i["images"][0]["thumbnail"], origin).or_else(|| link(&i["images"][0]["src"], origin)),
        })
    });
    Ok(Cart { currency, total: scale(int(&totals["total_price"]).unwrap_or(0), cart_minor, digits), items })
}

#[cfg(test)]
mod tests {
    use pigeon_protocol::validate;
    use pigeon_protocol::{Context, Page};
    use serde_json::json;

    use super::*;

    const ORIGIN: &str = "https://shop.example";

    fn convert(p: Platform, v: Value) -> Cart {
        let cart = p.convert(&v.to_string(), ORIGIN).unwrap().expect("a cart");
        // Whatever the shop sent, the widget accepts what comes out.
        validate::context(&Context { page: Page::default(), cart: Some(cart.clone()), ..Default::default() }).unwrap();
        cart
    }

    /// `GET /cart.js` as Shopify's AJAX API reference shows it (fields trimmed to those read
    /// plus a few that are not).
    fn shopify_cart(currency: &str, price: i64, total: i64) -> Value {
        json!({
            "token": "c1-7a2b", "note": null, "attributes": {}, "original_total_price": total, "total_price": total,
            "total_discount": 0, "total_weight": 1000, "item_count": 2, "requires_shipping": true, "currency": currency,
            "items": [{
                "id": 39897499729985_i64, "properties": {}, "quantity": 2, "variant_id": 39897499729985_i64,
                "key": "39897499729985:4ec9e4f8", "title": "Red Rain Coat - Small", "price": price,
                "original_price": price, "discounted_price": price, "line_price": price * 2, "final_price": price,
                "final_line_price": price * 2, "sku": "RC-S", "vendor": "Pigeon Outfitters", "product_id": 6786188247105_i64,
                "url": "/products/red-rain-coat?variant=39897499729985",
                "featured_image": { "url": "https://cdn.shopify.com/s/files/1/coat.jpg", "alt": "Red Rain Coat" },
                "image": "https://cdn.shopify.com/s/files/1/coat.jpg", "handle": "red-rain-coat", "product_title": "Red Rain Coat",
                "variant_title": "Small"
            }]
        })
    }

    #[test]
    fn shopify_amounts_are_hundredths_of_any_currency() {
        let usd = convert(Platform::Shopify, shopify_cart("USD", 12900, 25800));
        assert_eq!((usd.currency.as_str(), usd.total), ("USD", 25800));
        let coat = &usd.items[0];
        assert_eq!((coat.name.as_str(), coat.quantity, coat.unit_price), ("Red Rain Coat - Small", 2, 12900));
        assert_eq!(coat.id.as_deref(), Some("39897499729985"));
        assert_eq!(coat.url.as_deref(), Some("https://shop.example/products/red-rain-coat?variant=39897499729985"));
        assert_eq!(coat.image_url.as_deref(), Some("https://cdn.shopify.com/s/files/1/coat.jpg"));
        // 3,500 KRW comes as 350000; 1.250 KWD as 125.
        let krw = convert(Platform::Shopify, shopify_cart("KRW", 350000, 700000));
        assert_eq!((krw.items[0].unit_price, krw.total), (3500, 7000));
        let kwd = convert(Platform::Shopify, shopify_cart("kwd", 125, 250));
        assert_eq!((kwd.currency.as_str(), kwd.items[0].unit_price, kwd.total), ("KWD", 1250, 2500));
    }

    #[test]
    fn shopify_odd_values_are_made_sane() {
        let mut v = shopify_cart("EUR", 999, 999);
        let item = v["items"][0].clone();
        let mut odd = item.clone();
        odd["quantity"] = json!(0);
        let mut no_image = item.clone();
        no_image["image"] = Value::Null;
        no_image["featured_image"] = Value::Null;
        no_image["final_price"] = Value::Null;
        no_image["price"] = json!("oops");
        no_image["title"] = json!("  A  very\nlong ".to_owned() + &"name ".repeat(60));
        no_image["url"] = json!("javascript:alert(1)");
        let mut protocol_relative = item.clone();
        protocol_relative["image"] = json!("//cdn.shopify.com/x.png");
        protocol_relative["final_price"] = json!(-500);
        v["items"] = json!([odd, no_image, protocol_relative]);
        let cart = convert(Platform::Shopify, v);
        assert_eq!(cart.items.len(), 2, "the line with no quantity is left out");
        let long = &cart.items[0];
        assert_eq!(long.name.chars().count(), MAX_NAME);
        assert!(long.name.starts_with("A very long name") && long.name.ends_with('…'));
        assert_eq!((long.unit_price, long.image_url.as_deref(), long.url.as_deref()), (0, None, None));
        assert_eq!(cart.items[1].image_url.as_deref(), Some("https://cdn.shopify.com/x.png"));
        assert_eq!(cart.items[1].unit_price, 0, "never negative");
        // 150 lines: 100 kept, the total is still the cart's.
        let mut many = shopify_cart("EUR", 100, 15000);
        many["items"] = Value::Array(vec![item; 150]);
        let cart = convert(Platform::Shopify, many);
        assert_eq!((cart.items.len(), cart.total), (MAX_CART_ITEMS, 15000));
    }

    #[test]
    fn empty_carts_and_broken_answers() {
        let mut empty = shopify_cart("EUR", 0, 0);
        empty["items"] = json!([]);
        assert_eq!(Platform::Shopify.convert(&empty.to_string(), ORIGIN), Ok(None));
        assert!(Platform::Shopify.convert("<html>Log in</html>", ORIGIN).unwrap_err().contains("not JSON"));
        let mut no_currency = shopify_cart("EUR", 1, 1);
        no_currency["currency"] = json!("€");
        assert!(Platform::Shopify.convert(&no_currency.to_string(), ORIGIN).unwrap_err().contains("currency"));
        assert!(Platform::WooCommerce.convert("{}", ORIGIN).is_err());
    }

    /// `GET /wp-json/wc/store/v1/cart` as the Store API's cart reference shows it (trimmed).
    fn woo_cart(minor: u32, price: &str, total: &str) -> Value {
        json!({
            "items": [{
                "key": "c9f0f895fb98ab9159f51fd0297e236d", "id": 14, "quantity": 2, "quantity_limits": { "minimum": 1, "maximum": 9999 },
                "name": "Beanie &amp; Scarf &#8211; Blue", "short_description": "<p>Warm.</p>", "sku": "woo-beanie",
                "permalink": "https://shop.example/product/beanie/",
                "images": [{ "id": 44, "src": "https://shop.example/wp-content/uploads/beanie.jpg",
                              "thumbnail": "https://shop.example/wp-content/uploads/beanie-324x324.jpg", "name": "beanie.jpg", "alt": "" }],
                "variation": [{ "attribute": "Color", "value": "Blue" }],
                "prices": { "price": price, "regular_price": price, "sale_price": price, "currency_code": "USD",
                            "currency_symbol": "$", "currency_minor_unit": minor, "currency_decimal_separator": ".",
                            "currency_thousand_separator": ",", "currency_prefix": "$", "currency_suffix": "" },
                "totals": { "line_subtotal": "3600", "line_total": "3600", "currency_code": "USD", "currency_minor_unit": minor }
            }],
            "coupons": [], "items_count": 2, "needs_payment": true, "needs_shipping": true,
            "totals": { "total_items": "3600", "total_shipping": "400", "total_discount": "0", "total_tax": "0",
                        "total_price": total, "currency_code": "USD", "currency_symbol": "$", "currency_minor_unit": minor }
        })
    }

    #[test]
    fn woocommerce_amounts_are_in_the_stores_own_digits() {
        let cart = convert(Platform::WooCommerce, woo_cart(2, "1800", "4000"));
        assert_eq!((cart.currency.as_str(), cart.total), ("USD", 4000));
        let beanie = &cart.items[0];
        assert_eq!((beanie.name.as_str(), beanie.quantity, beanie.unit_price), ("Beanie & Scarf – Blue", 2, 1800));
        assert_eq!(beanie.id.as_deref(), Some("14"));
        assert_eq!(beanie.url.as_deref(), Some("https://shop.example/product/beanie/"));
        assert_eq!(beanie.image_url.as_deref(), Some("https://shop.example/wp-content/uploads/beanie-324x324.jpg"));
        // A store set to show no decimals for USD sends whole dollars; one with 3 sends mills.
        let whole = convert(Platform::WooCommerce, woo_cart(0, "18", "40"));
        assert_eq!((whole.items[0].unit_price, whole.total), (1800, 4000));
        let mills = convert(Platform::WooCommerce, woo_cart(3, "18005", "40000"));
        assert_eq!((mills.items[0].unit_price, mills.total), (1801, 4000));
    }

    #[test]
    fn woocommerce_names_are_unescaped_and_stripped() {
        assert_eq!(unescape("T&#x2011;Shirt <b>new</b> &amp;&amp; &unknown; & done"), "T\u{2011}Shirt new && &unknown; & done");
        assert_eq!(unescape("&#0; &#xD800; &#9999999999;"), "&#0; &#xD800; &#9999999999;");
        let mut v = woo_cart(2, " 250 ", "500");
        v["items"][0]["name"] = json!("<script>x</script>Sock");
        v["items"][0]["images"] = json!([]);
        v["items"][0]["permalink"] = json!(null);
        let cart = convert(Platform::WooCommerce, v);
        assert_eq!((cart.items[0].name.as_str(), cart.items[0].unit_price), ("xSock", 250));
        assert_eq!((cart.items[0].image_url.as_deref(), cart.items[0].url.as_deref()), (None, None));
    }

    #[test]
    fn platforms_paths_and_what_changes_a_cart() {
        assert_eq!(Platform::parse(" Shopify "), Some(Platform::Shopify));
        assert_eq!(Platform::parse("woocommerce"), Some(Platform::WooCommerce));
        assert_eq!(Platform::parse("magento"), None);
        assert_eq!(Platform::Shopify.cart_path(Some("/en-ca/")), "/en-ca/cart.js");
        assert_eq!(Platform::Shopify.cart_path(Some("https://evil.example/")), "/cart.js");
        assert_eq!(Platform::Shopify.cart_path(Some("//evil.example/")), "/cart.js");
        assert_eq!(Platform::Shopify.cart_path(None), "/cart.js");
        assert!(Platform::Shopify.changes_cart("https://shop.example/cart/add.js"));
        assert!(Platform::Shopify.changes_cart("https://shop.example/en-ca/cart/change"));
        assert!(!Platform::Shopify.changes_cart("https://shop.example/cart.js"));
        assert!(Platform::WooCommerce.changes_cart("https://shop.example/wp-json/wc/store/v1/cart/add-item"));
        assert!(Platform::WooCommerce.changes_cart("https://shop.example/wp-json/wc/store/v1/batch?_locale=user"));
        assert!(Platform::WooCommerce.changes_cart("https://shop.example/?wc-ajax=add_to_cart"));
        assert!(!Platform::WooCommerce.changes_cart("https://shop.example/wp-json/wc/store/v1/cart"));
        // Our own reads are never a change, whatever the path looks like; the page's are.
        let folder = "/shop/?rest_route=/wc/store/v1/cart";
        assert!(own_read("https://shop.example/shop/?rest_route=/wc/store/v1/cart", ORIGIN, folder));
        assert!(!own_read("https://shop.example/shop/?rest_route=/wc/store/v1/cart/add-item", ORIGIN, folder));
        assert!(own_read("https://shop.example/wp-json/wc/store/v1/cart/#x", ORIGIN, "/wp-json/wc/store/v1/cart/"));
        assert!(!own_read("https://shop.example/cart/add.js", ORIGIN, "/cart.js"));
    }
}

use serde::{Deserialize, Serialize};

/// What the shopper is looking at when they write: shown to them before sending and to the
/// merchant next to the message.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Context {
    pub page: Page,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cart: Option<Cart>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Page {
    pub url: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
}

/// How many digits a currency's minor unit has (ISO 4217): 2 for most, 0 or 3 for these. For
/// the inbox, emails and cart readers (the widget keeps a shorter table, for its size).
pub fn currency_digits(code: &str) -> u32 {
    match code {
        "BIF" | "CLP" | "DJF" | "GNF" | "ISK" | "JPY" | "KMF" | "KRW" | "PYG" | "RWF" | "UGX" | "VND" | "VUV" | "XAF" | "XOF" | "XPF" => 0,
        "BHD" | "IQD" | "JOD" | "KWD" | "LYD" | "OMR" | "TND" => 3,
        _ => 2,
    }
}

/// A cart in integer minor units of one ISO 4217 currency.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    pub currency: String,
    pub total: i64,
    pub items: Vec<CartItem>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartItem {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub quantity: u32,
    pub unit_price: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_have_their_iso_4217_digits() {
        for (code, digits) in [("EUR", 2), ("USD", 2), ("HUF", 2), ("JPY", 0), ("KRW", 0), ("XPF", 0), ("BIF", 0), ("KWD", 3), ("TND", 3), ("IQD", 3)] {
            assert_eq!(currency_digits(code), digits, "{code}");
        }
        // Only whole codes count.
        for odd in ["JP", "JPYX", "", "jpy", "PY", "Y C"] {
            assert_eq!(currency_digits(odd), 2, "{odd}");
        }
    }
}

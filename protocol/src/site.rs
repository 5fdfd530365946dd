use serde::{Deserialize, Serialize};

/// `GET /v1/sites/{site}`: what the widget needs to draw itself and set expectations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SiteConfig {
    pub id: String,
    pub name: String,
    pub brand_color: String,
    pub greeting: String,
    pub expected_reply: String,
    pub business_hours: BusinessHours,
    pub available_now: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_open_at: Option<String>,
}

/// Weekly opening hours in one IANA time zone. `days[0]` is Monday. `holidays` are local
/// dates (`YYYY-MM-DD`) closed all day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BusinessHours {
    pub time_zone: String,
    pub days: Vec<Vec<DayHours>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<String>,
}

/// One opening interval, local wall-clock time "HH:MM".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayHours {
    pub open: String,
    pub close: String,
}

pub mod crypto;
pub mod vapid;
mod send;

pub use send::{Device, PushConfig, Sent, endpoint_allowed, forget_devices, send};

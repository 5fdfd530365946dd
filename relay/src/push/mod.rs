pub mod crypto;
pub mod vapid;
mod send;

pub use send::{Device, PushConfig, Sent, forget_devices, send};

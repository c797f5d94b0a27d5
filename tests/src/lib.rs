//! Shared helpers for the integration tests.

pub mod faults;
pub mod proxy;
pub mod session;

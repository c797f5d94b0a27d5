//! Not a library. This crate has no code: it only depends on a few third-party crates with
//! the features the workspace's test build resolves, so that `cargo build -p slack-rtm-cli`
//! (and `cargo run -p slack-rtm-cli -- demo`, the README's first command) resolves the same
//! features and reuses what `cargo test --workspace` compiled. Only the CLI depends on it:
//! the libraries users depend on keep their own, smaller graphs. See `Cargo.toml` and
//! `docs/architecture.md`.
#![deny(missing_docs)]
#![no_std]

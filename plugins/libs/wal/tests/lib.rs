//! Integration tests of mimir-wal, one binary (see STYLE.md): the public API only.

// All of this crate is test code; clippy's `allow-unwrap-in-tests` only covers `#[test]` fns themselves.
#![allow(clippy::unwrap_used)]

mod basics;
mod checkpoints;
mod corruption;
mod durability;
mod group_commit;
mod properties;
mod support;

//! The integration tests, one binary (it links once on a small machine) with a module per
//! area. They run the real program on real SQLite files and real archives; `support` holds
//! what they share.

// Test code: a panic is how a test reports, and nothing here is anyone's public interface.
#![allow(unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

mod support;

mod assets;
mod concurrency;
mod crash;
mod export;
mod fuzz;
mod history;
mod hostile;
mod import;
mod list;
mod postgres;
mod properties;
mod prune;
mod safekeeping;
mod surface;

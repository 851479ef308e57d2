//! The integration tests, one binary (it links once on a small machine) with a module per
//! area. They run the real program on real SQLite files and real archives; `support` holds
//! what they share.

mod support;

mod assets;
mod concurrency;
mod crash;
mod export;
mod fuzz;
mod history;
mod hostile;
mod import;
mod properties;
mod prune;
mod surface;

//! The archive: its record types and its two containers, zip and json.

pub mod records;
pub mod writer;

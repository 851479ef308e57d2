//! The archive: its record types and its two containers, zip and json.

pub mod reader;
pub mod records;
pub mod split;
pub mod validate;
pub mod writer;

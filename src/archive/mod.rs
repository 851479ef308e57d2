//! The archive: its record types, its two containers (zip and json), the age envelope that
//! may wrap them, and the file it is written to and its name.

pub mod digest;
pub mod envelope;
pub mod name;
pub mod output;
pub mod reader;
pub mod records;
pub mod split;
pub mod validate;
pub mod writer;

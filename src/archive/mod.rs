//! The archive: its record types, its two containers (zip and json), the age envelope that
//! may wrap them, and the file it is written to and its name.

pub(crate) mod digest;
pub mod envelope;
pub(crate) mod name;
pub(crate) mod output;
pub mod reader;
pub mod records;
pub(crate) mod split;
pub mod validate;
pub(crate) mod writer;

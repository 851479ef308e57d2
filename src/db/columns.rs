//! Reading a column the same way from a SQLite row and a PostgreSQL row, so that a row
//! becomes a record through one function for both backends (monomorphized: no dispatch per
//! row on either).

use anyhow::Result;

/// A Rust type both drivers read a column as (`String`, `bool`, `i64` and their options).
pub(crate) trait Column:
    rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a>
{
}

impl<T> Column for T where T: rusqlite::types::FromSql + for<'a> postgres::types::FromSql<'a> {}

/// A result row of either backend.
pub(crate) trait RowRead {
    /// The value of column `index`, as `T`.
    fn get<T: Column>(&self, index: usize) -> Result<T>;
    /// The column's name, for messages.
    fn column_name(&self, index: usize) -> &str;
}

impl RowRead for rusqlite::Row<'_> {
    fn get<T: Column>(&self, index: usize) -> Result<T> {
        Ok(rusqlite::Row::get(self, index)?)
    }

    fn column_name(&self, index: usize) -> &str {
        self.as_ref().column_name(index).unwrap_or("?")
    }
}

impl RowRead for postgres::Row {
    fn get<T: Column>(&self, index: usize) -> Result<T> {
        Ok(self.try_get(index)?)
    }

    fn column_name(&self, index: usize) -> &str {
        self.columns().get(index).map_or("?", |c| c.name())
    }
}

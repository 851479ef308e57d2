//! Reading a column the same way from a SQLite row and a PostgreSQL row, so that a row
//! becomes a record through one function for both backends (monomorphized: no dispatch per
//! row on either).

use anyhow::Result;

use crate::archive::records::Text;

/// A Rust type both drivers read a column as.
pub(crate) trait Column: Sized {
    fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Self>;
    fn from_postgres(row: &postgres::Row, index: usize) -> Result<Self, postgres::Error>;
}

/// `Column` for types both drivers read themselves.
macro_rules! read_by_drivers {
    ($($t:ty),*) => {$(
        impl Column for $t {
            fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Self> {
                row.get(index)
            }
            fn from_postgres(row: &postgres::Row, index: usize) -> Result<Self, postgres::Error> {
                row.try_get(index)
            }
        }
    )*};
}

read_by_drivers!(String, Option<String>, bool, Option<bool>, i64, Option<i64>);

/// A record's text, copied from the row's own bytes (no `String` first: inline when short).
impl Column for Text {
    fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Self> {
        row.get::<_, SqliteText>(index).map(|text| text.0)
    }
    fn from_postgres(row: &postgres::Row, index: usize) -> Result<Self, postgres::Error> {
        row.try_get::<_, &str>(index).map(Text::new)
    }
}

impl Column for Option<Text> {
    fn from_sqlite(row: &rusqlite::Row<'_>, index: usize) -> rusqlite::Result<Self> {
        row.get::<_, Option<SqliteText>>(index)
            .map(|text| text.map(|text| text.0))
    }
    fn from_postgres(row: &postgres::Row, index: usize) -> Result<Self, postgres::Error> {
        row.try_get::<_, Option<&str>>(index)
            .map(|text| text.map(Text::new))
    }
}

/// `Text` as rusqlite reads it: through `Row::get`, so that a value of another type is
/// refused naming its column, as with `String`.
struct SqliteText(Text);

impl rusqlite::types::FromSql for SqliteText {
    fn column_result(value: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
        value.as_str().map(|text| SqliteText(Text::new(text)))
    }
}

/// A result row of either backend.
pub(crate) trait RowRead {
    /// The value of column `index`, as `T`.
    fn get<T: Column>(&self, index: usize) -> Result<T>;
    /// The column's name, for messages.
    fn column_name(&self, index: usize) -> &str;
}

impl RowRead for rusqlite::Row<'_> {
    fn get<T: Column>(&self, index: usize) -> Result<T> {
        Ok(T::from_sqlite(self, index)?)
    }

    fn column_name(&self, index: usize) -> &str {
        self.as_ref().column_name(index).unwrap_or("?")
    }
}

impl RowRead for postgres::Row {
    fn get<T: Column>(&self, index: usize) -> Result<T> {
        Ok(T::from_postgres(self, index)?)
    }

    fn column_name(&self, index: usize) -> &str {
        self.columns().get(index).map_or("?", |c| c.name())
    }
}

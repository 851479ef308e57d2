//! `tenant::Directory` on PostgreSQL: the same lookups in its dialect. Email and name
//! comparisons fold ASCII only, as SQLite's NOCASE does: `lower()` under `COLLATE "C"`.

use anyhow::Result;

use super::Server;
use crate::db::tenant::{Company, Directory, Member, Which};

impl Directory for Server {
    fn companies(&self, which: Which<'_>) -> Result<Vec<Company>> {
        let (sql, param) = match which {
            Which::Id(id) => ("SELECT id, name FROM companies WHERE id = $1", Some(id)),
            Which::Named(name) => (
                "SELECT id, name FROM companies WHERE name = $1 ORDER BY id",
                Some(name),
            ),
            Which::NamedAnyCase(name) => (
                "SELECT id, name FROM companies
                 WHERE lower(name) = lower($1::text COLLATE \"C\") ORDER BY id",
                Some(name),
            ),
            Which::All => ("SELECT id, name FROM companies ORDER BY name, id", None),
        };
        let rows = match param {
            Some(param) => self.client().query(sql, &[&param])?,
            None => self.client().query(sql, &[])?,
        };
        rows.iter()
            .map(|row| {
                Ok(Company {
                    id: row.try_get(0)?,
                    name: row.try_get(1)?,
                })
            })
            .collect()
    }

    fn member(&self, email: &str, company_id: &str) -> Result<Option<Member>> {
        let row = self.client().query_opt(
            "SELECT u.id, u.email, u.role, u.is_active, a.role
             FROM users u
             LEFT JOIN user_company_associations a
               ON a.user_id = u.id AND a.company_id = $2
             WHERE lower(u.email) = lower($1::text COLLATE \"C\")",
            &[&email, &company_id],
        )?;
        row.map(|row| {
            Ok(Member {
                id: row.try_get(0)?,
                email: row.try_get(1)?,
                user_role: row.try_get(2)?,
                active: row.try_get(3)?,
                membership: row.try_get(4)?,
            })
        })
        .transpose()
    }

    fn user_id(&self, email: &str) -> Result<Option<String>> {
        let row = self.client().query_opt(
            "SELECT id FROM users WHERE lower(email) = lower($1::text COLLATE \"C\")",
            &[&email],
        )?;
        Ok(row.map(|row| row.try_get(0)).transpose()?)
    }
}

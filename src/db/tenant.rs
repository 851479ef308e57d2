//! Who and for whom: resolving the company a command works on and checking that the actor
//! may act for it.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension};

use super::Database;
use crate::error::Failure;

/// Which companies a lookup wants.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Which<'a> {
    Id(&'a str),
    Named(&'a str),
    /// By name, ignoring ASCII case.
    NamedAnyCase(&'a str),
    All,
}

/// A user found by email, with their membership of one company.
#[derive(Debug)]
pub(crate) struct Member {
    pub id: String,
    pub email: String,
    pub user_role: String,
    pub active: bool,
    /// The membership's role; `None` when not a member.
    pub membership: Option<String>,
}

/// The lookups `tenant` needs, one implementation per backend (PostgreSQL's in
/// `pg::tenant`); the decisions are this module's.
pub(crate) trait Directory {
    /// The companies `which` names, by name then id.
    fn companies(&self, which: Which<'_>) -> Result<Vec<Company>>;
    /// The user with this email (ASCII case aside), with their membership of the company.
    fn member(&self, email: &str, company_id: &str) -> Result<Option<Member>>;
    /// The id of the user with this email (ASCII case aside).
    fn user_id(&self, email: &str) -> Result<Option<String>>;
}

impl Directory for Connection {
    fn companies(&self, which: Which<'_>) -> Result<Vec<Company>> {
        let (sql, param) = match which {
            Which::Id(id) => ("SELECT id, name FROM companies WHERE id = ?1", Some(id)),
            Which::Named(name) => (
                "SELECT id, name FROM companies WHERE name = ?1 ORDER BY id",
                Some(name),
            ),
            Which::NamedAnyCase(name) => (
                "SELECT id, name FROM companies WHERE name = ?1 COLLATE NOCASE ORDER BY id",
                Some(name),
            ),
            Which::All => ("SELECT id, name FROM companies ORDER BY name, id", None),
        };
        let mut stmt = self.prepare(sql)?;
        let rows = match param {
            Some(param) => stmt.query_map([param], company_from_row)?,
            None => stmt.query_map([], company_from_row)?,
        };
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn member(&self, email: &str, company_id: &str) -> Result<Option<Member>> {
        Ok(self
            .query_row(
                "SELECT u.id, u.email, u.role, u.is_active, a.role
                 FROM users u
                 LEFT JOIN user_company_associations a
                   ON a.user_id = u.id AND a.company_id = ?2
                 WHERE u.email = ?1 COLLATE NOCASE",
                [email, company_id],
                |row| {
                    Ok(Member {
                        id: row.get(0)?,
                        email: row.get(1)?,
                        user_role: row.get(2)?,
                        active: row.get(3)?,
                        membership: row.get(4)?,
                    })
                },
            )
            .optional()?)
    }

    fn user_id(&self, email: &str) -> Result<Option<String>> {
        Ok(self
            .query_row(
                "SELECT id FROM users WHERE email = ?1 COLLATE NOCASE",
                [email],
                |row| row.get(0),
            )
            .optional()?)
    }
}

impl Directory for Database {
    fn companies(&self, which: Which<'_>) -> Result<Vec<Company>> {
        match self {
            Database::Sqlite(conn) => conn.companies(which),
            Database::Postgres(server) => server.companies(which),
        }
    }

    fn member(&self, email: &str, company_id: &str) -> Result<Option<Member>> {
        match self {
            Database::Sqlite(conn) => conn.member(email, company_id),
            Database::Postgres(server) => server.member(email, company_id),
        }
    }

    fn user_id(&self, email: &str) -> Result<Option<String>> {
        match self {
            Database::Sqlite(conn) => conn.user_id(email),
            Database::Postgres(server) => server.user_id(email),
        }
    }
}

/// A company of the database.
#[derive(Debug, Clone)]
pub(crate) struct Company {
    pub id: String,
    pub name: String,
}

/// The user running the command, checked to be an active admin of the company.
#[derive(Debug, Clone)]
pub(crate) struct Actor {
    pub id: String,
    pub email: String,
}

/// Finds the company by id, then by exact name, then by name ignoring case. With no
/// selector the database must hold exactly one company.
pub(crate) fn resolve_company(conn: &impl Directory, selector: Option<&str>) -> Result<Company> {
    let Some(selector) = selector else {
        let all = list_companies(conn)?;
        return match all.as_slice() {
            [only] => Ok(only.clone()),
            [] => Err(Failure::NotFound("the database holds no company".into()).into()),
            _ => Err(Failure::Usage(format!(
                "several companies in the database; choose one with --company: {}",
                describe(&all)
            ))
            .into()),
        };
    };
    if let Some(company) = conn.companies(Which::Id(selector))?.pop() {
        return Ok(company);
    }
    for which in [Which::Named(selector), Which::NamedAnyCase(selector)] {
        let mut found = conn.companies(which)?;
        match found.len() {
            0 => continue,
            1 => return Ok(found.remove(0)),
            _ => {
                return Err(Failure::Usage(format!(
                    "several companies are named {selector:?}; choose one by id: {}",
                    describe(&found)
                ))
                .into());
            }
        }
    }
    let all = list_companies(conn)?;
    Err(Failure::NotFound(format!(
        "company not found: {selector:?} (companies: {})",
        describe(&all)
    ))
    .into())
}

pub(crate) fn list_companies(conn: &impl Directory) -> Result<Vec<Company>> {
    conn.companies(Which::All)
}

fn company_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Company> {
    Ok(Company {
        id: row.get(0)?,
        name: row.get(1)?,
    })
}

pub(crate) fn describe(companies: &[Company]) -> String {
    if companies.is_empty() {
        return "none".into();
    }
    companies
        .iter()
        .map(|c| format!("{} ({})", c.name, c.id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks that `email` names an active user who is an admin of `company`: a member whose
/// user role or membership role is `admin`.
pub(crate) fn authorize_actor(
    conn: &impl Directory,
    email: Option<&str>,
    company: &Company,
) -> Result<Actor> {
    let Some(email) = email else {
        return Err(Failure::Usage(
            "no actor: pass --actor EMAIL (or set BOMIZZEL_ACTOR) naming an admin of the company"
                .into(),
        )
        .into());
    };
    let found = conn.member(email, &company.id)?;
    let Some(Member {
        id,
        email,
        user_role,
        active,
        membership,
    }) = found
    else {
        return Err(Failure::PermissionDenied(format!("unknown actor {email}")).into());
    };
    if !active {
        return Err(Failure::PermissionDenied(format!("{email} is not an active user")).into());
    }
    match membership.as_deref() {
        None => Err(Failure::PermissionDenied(format!(
            "{email} is not a member of {}",
            company.name
        ))
        .into()),
        Some(role) if role == "admin" || user_role == "admin" => Ok(Actor { id, email }),
        Some(_) => Err(Failure::PermissionDenied(format!(
            "{email} is not an admin of {}",
            company.name
        ))
        .into()),
    }
}

/// The name of the company with this id, if the database has it.
pub(crate) fn company_name(conn: &impl Directory, id: &str) -> Result<Option<String>> {
    Ok(conn.companies(Which::Id(id))?.pop().map(|c| c.name))
}

/// The id of the user with this email, if any.
pub(crate) fn find_user_id(conn: &impl Directory, email: &str) -> Result<Option<String>> {
    conn.user_id(email)
}

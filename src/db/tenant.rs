//! Who and for whom: resolving the company a command works on and checking that the actor
//! may act for it.

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension};

use crate::error::Failure;

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
pub(crate) fn resolve_company(conn: &Connection, selector: Option<&str>) -> Result<Company> {
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
    let by_id = conn
        .query_row(
            "SELECT id, name FROM companies WHERE id = ?1",
            [selector],
            company_from_row,
        )
        .optional()?;
    if let Some(company) = by_id {
        return Ok(company);
    }
    for sql in [
        "SELECT id, name FROM companies WHERE name = ?1 ORDER BY id",
        "SELECT id, name FROM companies WHERE name = ?1 COLLATE NOCASE ORDER BY id",
    ] {
        let mut found: Vec<Company> = conn
            .prepare(sql)?
            .query_map([selector], company_from_row)?
            .collect::<rusqlite::Result<_>>()?;
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

pub(crate) fn list_companies(conn: &Connection) -> Result<Vec<Company>> {
    Ok(conn
        .prepare("SELECT id, name FROM companies ORDER BY name, id")?
        .query_map([], company_from_row)?
        .collect::<rusqlite::Result<_>>()?)
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
    conn: &Connection,
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
    let found = conn
        .query_row(
            "SELECT u.id, u.email, u.role, u.is_active, a.role
             FROM users u
             LEFT JOIN user_company_associations a
               ON a.user_id = u.id AND a.company_id = ?2
             WHERE u.email = ?1 COLLATE NOCASE",
            [email, company.id.as_str()],
            |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, bool>(3)?,
                    row.get::<_, Option<String>>(4)?,
                ))
            },
        )
        .optional()?;
    let Some((id, email, user_role, active, membership)) = found else {
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
pub(crate) fn company_name(conn: &Connection, id: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row("SELECT name FROM companies WHERE id = ?1", [id], |row| {
            row.get(0)
        })
        .optional()?)
}

/// The id of the user with this email, if any.
pub(crate) fn find_user_id(conn: &Connection, email: &str) -> Result<Option<String>> {
    Ok(conn
        .query_row(
            "SELECT id FROM users WHERE email = ?1 COLLATE NOCASE",
            [email],
            |row| row.get(0),
        )
        .optional()?)
}

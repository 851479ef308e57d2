//! PostgreSQL: connecting to a server named by a `postgresql://` URL, and `init`'s schema.
//!
//! Messages name the server (`host:port`) and show the URL masked (`PgUrl`'s `Display`):
//! the password never reaches a message, a log row or `--json`. What the exit status needs
//! told apart becomes a `Failure`: a database that does not exist is not found (6); a
//! server that cannot be reached, or refuses the login, is a failure (1), as any database
//! error is.

mod bulk;
mod export_rows;
mod import_rows;
mod logs;
mod passfile;
mod schema;
mod server;
mod service;
mod tenant;
mod tls;
mod url;

pub(crate) use server::Server;
pub use url::{APPLICATION_NAME, PgUrl, SCHEMES};

use anyhow::Result;
use postgres::Client;
use postgres::error::SqlState;

use crate::error::Failure;

/// What every session does first, as `pg_dump` and `pg_restore` do: a statement,
/// idle-in-transaction or (PostgreSQL 17) transaction timeout that a role or database
/// carries, as managed servers often set them, would otherwise cancel a long export or
/// import part-way. Statements, not startup options, so that connection poolers that refuse
/// unknown startup parameters (PgBouncer) let it through; one round trip.
const NO_TIMEOUTS: &str = "SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0;
     SELECT set_config(name, '0', false) FROM pg_catalog.pg_settings
     WHERE name = 'transaction_timeout'";

/// A connection to the URL's database: its hosts tried in order (by `postgres` itself, or
/// here when the password file gives them different passwords), the last one's failure
/// reported.
pub fn connect(url: &PgUrl) -> Result<Client> {
    let tls = tls::connector(url.tls())?;
    let mut failure = None;
    for config in url.configs() {
        match config.connect(tls.clone()) {
            Ok(mut client) => {
                client.batch_execute(NO_TIMEOUTS).map_err(|err| {
                    anyhow::anyhow!("cannot set up the session on {url}: {}", describe(&err))
                })?;
                return Ok(client);
            }
            Err(err) => failure = Some(err),
        }
    }
    Err(failure.map_or_else(
        || anyhow::anyhow!("{url} names no PostgreSQL server"),
        |err| connect_failure(url, &err),
    ))
}

/// `init`: the application's schema and the tool's tables, in one transaction, in a database
/// that exists and holds none of them. It never creates the database: one that is missing
/// is not found, and one that has any of the tables is refused (as `init` refuses an
/// existing SQLite file) without a change.
pub fn init(url: &PgUrl) -> Result<()> {
    let failed = |doing: &'static str| {
        move |err: postgres::Error| anyhow::anyhow!("cannot {doing} {url}: {}", describe(&err))
    };
    let mut client = connect(url)?;
    // Archives hold any text (SQLite's is UTF-8); a database in another encoding would
    // refuse some of it part-way through an import.
    let encoding: String = client
        .query_one(
            "SELECT pg_catalog.pg_encoding_to_char(encoding)::text
             FROM pg_catalog.pg_database WHERE datname = current_database()",
            &[],
        )
        .map_err(failed("read the encoding of"))?
        .get(0);
    if encoding != "UTF8" {
        return Err(Failure::Usage(format!(
            "{url} is in the {encoding} encoding, which cannot hold every text an archive may \
             have; init needs a UTF8 database: createdb --encoding UTF8 --template template0 \
             NAME"
        ))
        .into());
    }
    let mut tx = client
        .transaction()
        .map_err(failed("start a transaction in"))?;
    let existing: Vec<String> = tx
        .query(
            "SELECT c.relname::text FROM pg_catalog.pg_class c
             JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname = current_schema() AND c.relname = ANY($1)
             ORDER BY 1",
            &[&schema::table_names()],
        )
        .map_err(failed("list the tables of"))?
        .iter()
        .map(|row| row.get(0))
        .collect();
    if !existing.is_empty() {
        return Err(already_initialized(url, &existing.join(", ")).into());
    }
    tx.batch_execute(&schema::full_schema())
        .map_err(|err| match err.code() {
            // Another init got there between the check and the CREATE.
            Some(&SqlState::DUPLICATE_TABLE) => already_initialized(url, "its tables").into(),
            _ => failed("write the schema to")(err),
        })?;
    tx.commit().map_err(failed("write the schema to"))
}

fn already_initialized(url: &PgUrl, tables: &str) -> Failure {
    Failure::Usage(format!(
        "{url} already has Bomizzel tables ({tables}); init only creates the schema in a \
         database without them"
    ))
}

/// A failed connection, said with the server, the masked URL and what to do.
fn connect_failure(url: &PgUrl, err: &postgres::Error) -> anyhow::Error {
    let servers = url.servers();
    let Some(db) = err.as_db_error() else {
        let cause = describe(err);
        let mut message =
            format!("cannot connect to the PostgreSQL server at {servers} ({url}): {cause}");
        if unreachable(err) {
            message.push_str("; check that the server is running there and takes connections");
        } else if let Some(hint) = certificate_hint(url, err) {
            message.push_str("; ");
            message.push_str(&hint);
        } else if !url.has_password() && cause.ends_with("password missing") {
            // tokio-postgres's words when the server asks for a password and none was given.
            message.push_str("; give the password ");
            message.push_str(&url.password_source());
        }
        return anyhow::Error::msg(message);
    };
    match *db.code() {
        SqlState::INVALID_CATALOG_NAME => Failure::NotFound(match url.database() {
            Some(name) => format!(
                "database not found: {name:?} on the PostgreSQL server at {servers} ({url}); \
                 create it first (createdb {name})"
            ),
            // Named after the OS user, which only the server's message names.
            None => format!(
                "database not found on the PostgreSQL server at {servers} ({url}): {}; name \
                 one in the URL, or create it first",
                db.message()
            ),
        })
        .into(),
        SqlState::INVALID_PASSWORD | SqlState::INVALID_AUTHORIZATION_SPECIFICATION => {
            let user = url
                .user()
                .map_or_else(|| "the current user".to_owned(), |u| format!("{u:?}"));
            let cause = describe(err);
            let check = match cause.contains("client certificate") {
                true => "give a client certificate it accepts in sslcert and sslkey (else \
                         ~/.postgresql/postgresql.crt and postgresql.key)"
                    .to_owned(),
                false => format!(
                    "check the user name and the password {}",
                    url.password_source()
                ),
            };
            anyhow::anyhow!(
                "the PostgreSQL server at {servers} refused to log in {user} ({url}): {cause}; \
                 {check}"
            )
        }
        _ => anyhow::anyhow!(
            "cannot connect to the PostgreSQL server at {servers} ({url}): {}",
            describe(err)
        ),
    }
}

/// What to do about a server certificate that failed the check, where rustls says why.
fn certificate_hint(url: &PgUrl, err: &postgres::Error) -> Option<String> {
    use rustls::CertificateError::{NotValidForName, NotValidForNameContext, UnknownIssuer};
    // rustls's error, inside the I/O error tokio-postgres-rustls wraps it in.
    let chain = std::iter::successors(Some(err as &(dyn std::error::Error + 'static)), |e| {
        e.source()
    });
    let refused = chain
        .filter_map(|error| {
            let inner = (error.downcast_ref::<std::io::Error>())
                .and_then(std::io::Error::get_ref)
                .and_then(|inner| inner.downcast_ref::<rustls::Error>());
            error.downcast_ref::<rustls::Error>().or(inner)
        })
        .next()?;
    let rustls::Error::InvalidCertificate(why) = refused else {
        return None;
    };
    let roots = url.tls().roots.as_ref()?;
    match why {
        UnknownIssuer => Some(format!(
            "its certificate was checked against {roots}, and none of them signed it: set \
             sslrootcert to the authority that did"
        )),
        NotValidForName | NotValidForNameContext { .. } => Some(
            "its certificate does not name the host among its subject alternative names (the \
             common name is not read): connect by a name it holds, or use sslmode=verify-ca \
             to check the authority only"
                .to_owned(),
        ),
        // webpki's reason, which rustls passes on as another error (its name is all
        // there is to go by).
        rustls::CertificateError::Other(other)
            if format!("{other:?}").contains("CaUsedAsEndEntity") =>
        {
            Some(format!(
                "its certificate is an authority's (self-signed, as `openssl req -x509` makes \
                 them), and {roots} do not hold it: put that very certificate in sslrootcert \
                 to trust the server by it"
            ))
        }
        _ => None,
    }
}

/// The server's own message for a database error (its `DETAIL` too), else the error and
/// its causes (`postgres::Error` shows only its kind: "error connecting to server").
pub(crate) fn describe(err: &postgres::Error) -> String {
    if let Some(db) = err.as_db_error() {
        return match db.detail() {
            Some(detail) => format!("{} ({detail})", db.message()),
            None => db.message().to_owned(),
        };
    }
    let mut text = err.to_string();
    let mut cause = std::error::Error::source(err);
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    text
}

/// Whether nothing answered: refused, no such host or socket, no route, timed out. The
/// crate's error kinds are private; these are its words for connecting and for
/// `connect_timeout`.
fn unreachable(err: &postgres::Error) -> bool {
    let text = err.to_string();
    text.starts_with("error connecting to server") || text.starts_with("timeout waiting for server")
}

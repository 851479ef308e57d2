//! Writes a benchmark database for `bench/run.sh`:
//! `cargo run --release --example bench-db -- PATH --tickets 100000`.
//!
//! One big company, "Bench Corp" (N tickets with 5 notes and 3 history entries each, 40% with
//! an attachment, 2,000 members, 6 custom fields), and a small one, "Other Co" (1% of the
//! tickets, 50 members of whom 10 also belong to Bench Corp), so that an export or import has
//! to pick one company's rows out of tables it shares with another. The same N and seed always
//! give the same file contents: every value comes from a fixed-seed PRNG written here. Rows go
//! in in time order, as the web app would have written them over three years, so a ticket's
//! notes are spread through the tables rather than stored next to each other.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use rusqlite::{Connection, Statement, params};

/// The admin the benchmark script runs as (`--actor`).
const BENCH_ADMIN: &str = "admin@bench.example";
const OTHER_ADMIN: &str = "admin@other.example";
const BENCH_MEMBERS: usize = 2_000;
const OTHER_MEMBERS: usize = 50;
const SHARED_MEMBERS: usize = 10;
const NOTES_PER_TICKET: usize = 5;
/// 2022-03-01T00:00:00Z and three years on: when the tickets were created.
const FIRST_TICKET_MS: i64 = 1_646_092_800_000;
const TICKET_SPAN_MS: i64 = 3 * 365 * DAY_MS;
const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Parser)]
#[command(about = "Write a deterministic benchmark database for bench/run.sh")]
struct Args {
    /// The database to create; it must not exist
    path: PathBuf,

    /// How many tickets Bench Corp gets (Other Co gets 1% of that)
    #[arg(long, default_value_t = 10_000)]
    tickets: usize,

    /// The PRNG seed; the same seed and size give the same data
    #[arg(long, default_value_t = 0x5EED_B0B1_22E1)]
    seed: u64,

    /// Only the schema (with --indexes), no rows: an empty database to import into
    #[arg(long)]
    empty: bool,

    /// Whose indexes the database has: `init`'s, or only the web app's (and none of the
    /// tool's tables, as in a database the web app made)
    #[arg(long, value_enum, default_value_t = Indexes::Init)]
    indexes: Indexes,

    /// The texts: `unicode` (long, many scripts and emoji) or `helpdesk` (short titles and
    /// plain ASCII notes, as a typical helpdesk's)
    #[arg(long, value_enum, default_value_t = Texts::Unicode)]
    texts: Texts,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Indexes {
    Init,
    Webapp,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Texts {
    Unicode,
    Helpdesk,
}

/// The lengths (in bytes, ranges) and words of one text profile.
struct TextProfile {
    words: Vec<&'static str>,
    title: (i64, i64),
    description: (i64, i64),
    note: (i64, i64),
}

impl Texts {
    fn profile(self) -> TextProfile {
        match self {
            Texts::Unicode => TextProfile {
                words: WORDS.to_vec(),
                title: (25, 55),
                description: (50, 300),
                note: (50, 300),
            },
            // Measured on a real deployment: titles ~18 bytes, descriptions ~28, notes ~140.
            Texts::Helpdesk => TextProfile {
                // Plain ASCII, as most real tickets are: no accents, scripts, emoji or quotes.
                words: WORDS
                    .iter()
                    .copied()
                    .filter(|word| word.is_ascii() && !word.contains('"'))
                    .chain(HELPDESK_WORDS.iter().copied())
                    .collect(),
                title: (10, 26),
                description: (14, 42),
                note: (60, 220),
            },
        }
    }
}

fn main() -> Result<()> {
    let args = Args::parse();
    if args.path.exists() {
        bail!("{} already exists; remove it first", args.path.display());
    }
    let started = Instant::now();
    let options = bomizzel_backup::db::OpenOptions {
        busy_timeout: Duration::from_secs(5),
    };
    let mut conn = bomizzel_backup::db::create(&args.path, options)?;
    if let Indexes::Webapp = args.indexes {
        as_web_app_made(&conn)?;
    }
    if args.empty {
        conn.close().map_err(|(_, err)| err)?;
        return Ok(());
    }
    // Only while generating, on a file nobody else uses yet: no journal, no fsync.
    conn.execute_batch(
        "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144;",
    )?;
    let tx = conn.transaction()?;
    Generator::new(args.seed, args.texts.profile(), &tx)?.fill(args.tickets)?;
    tx.commit()?;
    // Back to SQLite's defaults, which the web app and the tool expect to find.
    let mode: String = conn.query_row("PRAGMA journal_mode = DELETE", [], |row| row.get(0))?;
    conn.execute_batch("PRAGMA synchronous = FULL;")?;
    if !mode.eq_ignore_ascii_case("delete") {
        bail!("could not restore journal_mode=DELETE (got {mode})");
    }
    print_counts(&conn, &args.path)?;
    conn.close().map_err(|(_, err)| err)?;
    eprintln!("generated in {:.1}s", started.elapsed().as_secs_f64());
    Ok(())
}

/// Makes a database `init` wrote look as the web app makes it, before any row goes in (so
/// its indexes grow as the web app's do): none of the tool's tables, only the web app's
/// indexes.
fn as_web_app_made(conn: &Connection) -> Result<()> {
    let mut drop = String::new();
    let mut stmt = conn.prepare(
        "SELECT type, name FROM sqlite_master
         WHERE (type = 'index' AND sql IS NOT NULL)
            OR (type = 'table' AND name LIKE 'bomizzel_backup_%')",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let (kind, name): (String, String) = (row.get(0)?, row.get(1)?);
        drop.push_str(&format!("DROP {kind} IF EXISTS \"{name}\";\n"));
    }
    conn.execute_batch(&format!(
        "{drop}{}",
        include_str!("../fixtures/webapp-indexes.sql")
    ))
    .context("cannot give the database the web app's indexes")
}

/// Prints how many rows each company holds in each table.
fn print_counts(conn: &Connection, path: &std::path::Path) -> Result<()> {
    let size = std::fs::metadata(path)?.len();
    println!("{}: {:.1} MiB", path.display(), size as f64 / 1048576.0);
    let queries = [
        (
            "users (members)",
            "SELECT count(*) FROM user_company_associations WHERE company_id = ?1",
        ),
        (
            "custom_fields",
            "SELECT count(*) FROM custom_fields WHERE company_id = ?1",
        ),
        (
            "tickets",
            "SELECT count(*) FROM tickets WHERE company_id = ?1",
        ),
        (
            "ticket_notes",
            "SELECT count(*) FROM ticket_notes n JOIN tickets t ON t.id = n.ticket_id
             WHERE t.company_id = ?1",
        ),
        (
            "ticket_history",
            "SELECT count(*) FROM ticket_history h JOIN tickets t ON t.id = h.ticket_id
             WHERE t.company_id = ?1",
        ),
        (
            "file_attachments",
            "SELECT count(*) FROM file_attachments a JOIN tickets t ON t.id = a.ticket_id
             WHERE t.company_id = ?1",
        ),
    ];
    let companies: Vec<(String, String)> = conn
        .prepare("SELECT id, name FROM companies ORDER BY rowid")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    println!(
        "{:<18} {:>12} {:>12}",
        "table", companies[0].1, companies[1].1
    );
    for (label, sql) in queries {
        let mut counts = Vec::new();
        for (id, _) in &companies {
            let n: i64 = conn.query_row(sql, [id], |row| row.get(0))?;
            counts.push(n);
        }
        println!("{label:<18} {:>12} {:>12}", counts[0], counts[1]);
    }
    let users: i64 = conn.query_row("SELECT count(*) FROM users", [], |row| row.get(0))?;
    println!("{:<18} {users:>12} (all companies)", "users");
    Ok(())
}

/// splitmix64: tiny, fast, and good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n`: the top 32 random bits scaled to `n`. The product needs 96 bits
    /// once `n` passes 2^32 (a span of milliseconds does); below that the result is the same
    /// as it always was, so a given seed still gives the same tickets.
    fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next() >> 32) * u128::from(n)) >> 32) as u64
    }

    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low + 1) as u64) as i64
    }

    /// True with probability `percent`/100.
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A UUID-shaped id (version 4 layout) from the PRNG.
    fn uuid(&mut self) -> String {
        let hi = self.next();
        let lo = self.next();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:x}{:03x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xffff,
            hi & 0xfff,
            8 + (lo >> 62),
            (lo >> 48) & 0xfff,
            lo & 0xffff_ffff_ffff
        )
    }

    fn hex(&mut self, len: usize) -> String {
        let mut out = String::with_capacity(len);
        while out.len() < len {
            out.push_str(&format!("{:016x}", self.next()));
        }
        out.truncate(len);
        out
    }
}

/// Milliseconds since the epoch as `2024-03-05T12:34:56.789Z`.
fn rfc3339(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let in_day = ms.rem_euclid(DAY_MS);
    // Howard Hinnant's days-to-civil.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000
    )
}

const FIRST_NAMES: &[(&str, &str)] = &[
    ("Ada", "ada"),
    ("Bob", "bob"),
    ("Carol", "carol"),
    ("Dmitri", "dmitri"),
    ("Emma", "emma"),
    ("François", "francois"),
    ("Gülşen", "gulsen"),
    ("Hiroshi", "hiroshi"),
    ("Ingrid", "ingrid"),
    ("José", "jose"),
    ("Kwame", "kwame"),
    ("Łukasz", "lukasz"),
    ("Maria", "maria"),
    ("Nguyễn", "nguyen"),
    ("Olivia", "olivia"),
    ("Priya", "priya"),
    ("Quentin", "quentin"),
    ("Renée", "renee"),
    ("Søren", "soren"),
    ("Tomás", "tomas"),
    ("美咲", "misaki"),
    ("Zoë", "zoe"),
];

const LAST_NAMES: &[&str] = &[
    "Lovelace",
    "O'Brien",
    "Ñúñez",
    "Smith",
    "Müller",
    "García",
    "Kowalski",
    "Okafor",
    "Johansson",
    "Dubois",
    "Rossi",
    "Tanaka",
    "Van der Berg",
    "Патель",
    "李",
    "Andersen",
];

const WORDS: &[&str] = &[
    "printer",
    "login",
    "invoice",
    "password",
    "reset",
    "the",
    "cannot",
    "after",
    "update",
    "error",
    "screen",
    "slow",
    "network",
    "VPN",
    "email",
    "sync",
    "failed",
    "since",
    "Monday",
    "customer",
    "report",
    "export",
    "café",
    "Zürich",
    "naïve",
    "déjà vu",
    "timeout",
    "server",
    "billing",
    "seats",
    "licence",
    "renewal",
    "please",
    "urgent",
    "again",
    "\"quoted\"",
    "it's",
    "—",
    "✅",
    "日本語",
    "🎉",
    "dashboard",
    "mobile",
    "app",
    "crashes",
    "when",
    "opening",
    "attachment",
    "PDF",
    "upload",
];

/// The helpdesk profile's words besides the plain ones of `WORDS`.
const HELPDESK_WORDS: &[&str] = &[
    "thanks", "for", "your", "help", "we", "are", "looking", "into", "it", "and", "will", "get",
    "back", "to", "you", "soon",
];

const STATUSES: &[(&str, u64)] = &[
    ("open", 20),
    ("in_progress", 15),
    ("waiting", 10),
    ("resolved", 25),
    ("closed", 30),
];
const PRIORITIES: &[(&str, u64)] = &[("low", 30), ("medium", 40), ("high", 22), ("urgent", 8)];
const CATEGORIES: &[&str] = &[
    "hardware", "software", "billing", "network", "account", "feature", "bug",
];
const FILES: &[(&str, &str)] = &[
    ("jpg", "image/jpeg"),
    ("png", "image/png"),
    ("pdf", "application/pdf"),
    ("txt", "text/plain"),
    ("log", "text/plain"),
    (
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("zip", "application/zip"),
];

fn weighted<'a>(rng: &mut Rng, items: &[(&'a str, u64)]) -> &'a str {
    let total: u64 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.below(total);
    for (item, weight) in items {
        if roll < *weight {
            return item;
        }
        roll -= weight;
    }
    items[items.len() - 1].0
}

/// Words up to about `target` bytes.
fn text(rng: &mut Rng, words: &[&str], target: usize) -> String {
    let mut out = String::with_capacity(target + 16);
    while out.len() < target {
        if !out.is_empty() {
            out.push(' ');
        }
        let word = rng.pick(words);
        if out.is_empty() {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                out.extend(first.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push_str(word);
        }
        if rng.chance(8) {
            out.push('.');
        }
    }
    out
}

fn json_string(text: &str) -> String {
    serde_json::Value::from(text).to_string()
}

/// A company's people, split by what they may be given.
struct Company {
    id: String,
    /// Every member's user id.
    members: Vec<String>,
    /// Members who handle tickets (employees, team leads, admins).
    staff: Vec<String>,
    /// Each custom field's id and what its values look like.
    fields: Vec<(String, FieldKind)>,
}

#[derive(Clone)]
enum FieldKind {
    String,
    Integer,
    Decimal,
    Number,
    Picklist(&'static [&'static str]),
}

/// A row that waits in time order until the tickets have caught up with it.
enum Pending {
    Note {
        id: String,
        ticket: String,
        author: String,
        content: String,
        internal: bool,
        email: Option<String>,
        updated_ms: i64,
    },
    History {
        id: String,
        ticket: String,
        user: String,
        action: &'static str,
        field: Option<&'static str>,
        old: Option<String>,
        new: Option<String>,
        metadata: Option<&'static str>,
    },
    Attachment {
        id: String,
        ticket: String,
        note: Option<String>,
        uploader: String,
    },
}

/// Writes the rows with statements prepared once, inside the caller's transaction.
struct Generator<'c> {
    rng: Rng,
    texts: TextProfile,
    user: Statement<'c>,
    member: Statement<'c>,
    field: Statement<'c>,
    ticket: Statement<'c>,
    note: Statement<'c>,
    history: Statement<'c>,
    attachment: Statement<'c>,
    conn: &'c Connection,
    /// Rows keyed by (time, sequence), written once no earlier ticket is left to write.
    pending: BTreeMap<(i64, u64), Pending>,
    sequence: u64,
    user_number: usize,
}

impl<'c> Generator<'c> {
    fn new(seed: u64, texts: TextProfile, conn: &'c Connection) -> Result<Self> {
        Ok(Generator {
            rng: Rng(seed),
            texts,
            user: conn.prepare(
                "INSERT INTO users (id, email, password_hash, first_name, last_name, phone, role,
                 is_active, email_verified, preferences, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?,
            member: conn.prepare(
                "INSERT INTO user_company_associations (user_id, company_id, role, created_at,
                 updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
            )?,
            field: conn.prepare(
                "INSERT INTO custom_fields (id, company_id, name, label, type, is_required,
                 options, validation, display_order, is_active, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1, ?10, ?10)",
            )?,
            ticket: conn.prepare(
                "INSERT INTO tickets (id, company_id, title, description, status, priority,
                 category, submitter_id, assigned_to_id, custom_field_values, created_at,
                 updated_at, resolved_at, closed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            )?,
            note: conn.prepare(
                "INSERT INTO ticket_notes (id, ticket_id, author_id, content, is_internal,
                 is_email_generated, email_metadata, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            history: conn.prepare(
                "INSERT INTO ticket_history (id, ticket_id, user_id, action, field_name,
                 old_value, new_value, metadata, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?,
            attachment: conn.prepare(
                "INSERT INTO file_attachments (id, ticket_id, note_id, file_name, original_name,
                 file_size, mime_type, uploaded_by_id, storage_key, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?,
            conn,
            pending: BTreeMap::new(),
            sequence: 0,
            user_number: 0,
        })
    }

    fn fill(&mut self, tickets: usize) -> Result<()> {
        let mut bench = self.company("Bench Corp", "bench.example", "2021-11-02T09:00:00.000Z")?;
        let mut other = self.company("Other Co", "other.example", "2022-01-17T10:30:00.000Z")?;

        self.add_user(&mut bench, Some(BENCH_ADMIN), "admin", "admin")?;
        for i in 1..BENCH_MEMBERS {
            // A few association admins besides the known one; the rest by a typical mix.
            let (role, company_role) = match i {
                _ if i % 400 == 0 => ("employee", "admin"),
                _ if i % 10 == 0 => ("employee", "member"),
                _ if i % 37 == 0 => ("team_lead", "member"),
                _ => ("customer", "member"),
            };
            self.add_user(&mut bench, None, role, company_role)?;
        }
        self.add_user(&mut other, Some(OTHER_ADMIN), "admin", "admin")?;
        for _ in 1..OTHER_MEMBERS - SHARED_MEMBERS {
            let role = if self.rng.chance(25) {
                "employee"
            } else {
                "customer"
            };
            self.add_user(&mut other, None, role, "member")?;
        }
        // Bench Corp staff who also work for Other Co.
        for i in 0..SHARED_MEMBERS {
            let user = bench.staff[1 + i].clone();
            self.member.execute(params![
                user,
                other.id,
                "member",
                "2022-02-01T08:00:00.000Z"
            ])?;
            other.members.push(user.clone());
            other.staff.push(user);
        }

        let bench_fields: [(&str, &str, FieldKind); 6] = [
            (
                "plan",
                "Plan",
                FieldKind::Picklist(&["free", "pro", "business", "enterprise"]),
            ),
            ("seats", "Seats", FieldKind::Integer),
            ("budget", "Budget (€)", FieldKind::Decimal),
            ("order_ref", "Order \"ref\"", FieldKind::String),
            ("satisfaction", "Satisfaction score", FieldKind::Number),
            (
                "region",
                "Region",
                FieldKind::Picklist(&["EMEA", "APAC", "AMER", "LATAM"]),
            ),
        ];
        self.add_fields(&mut bench, &bench_fields)?;
        let other_fields: [(&str, &str, FieldKind); 2] = [
            ("region", "Region", FieldKind::Picklist(&["North", "South"])),
            ("contract", "Contract", FieldKind::String),
        ];
        self.add_fields(&mut other, &other_fields)?;

        // Both companies' tickets in one time-ordered stream, Other Co's evenly spread.
        let other_tickets = (tickets / 100).max(1);
        let total = tickets + other_tickets;
        for i in 0..total {
            let created = FIRST_TICKET_MS
                + (i as i64 * TICKET_SPAN_MS) / total as i64
                + self.rng.range(0, TICKET_SPAN_MS / total as i64 / 2);
            self.flush_until(created)?;
            let is_other = (i + 1) * other_tickets / total > i * other_tickets / total;
            let company = if is_other { &other } else { &bench };
            self.add_ticket(company, created)?;
        }
        self.flush_until(i64::MAX)
    }

    fn company(&mut self, name: &str, domain: &str, created: &str) -> Result<Company> {
        let id = self.rng.uuid();
        self.conn.execute(
            "INSERT INTO companies (id, name, domain, description, is_active, created_at,
             updated_at) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?5)",
            params![id, name, domain, format!("{name}: benchmark data"), created],
        )?;
        Ok(Company {
            id,
            members: Vec::new(),
            staff: Vec::new(),
            fields: Vec::new(),
        })
    }

    fn add_user(
        &mut self,
        company: &mut Company,
        email: Option<&str>,
        role: &str,
        company_role: &str,
    ) -> Result<()> {
        let rng = &mut self.rng;
        self.user_number += 1;
        let id = rng.uuid();
        let (first, slug) = *rng.pick(FIRST_NAMES);
        let last = *rng.pick(LAST_NAMES);
        let domain = if company.members.is_empty() || role != "customer" {
            "staff.example".to_owned()
        } else {
            format!("customer{}.example", rng.below(300))
        };
        let email = match email {
            Some(email) => email.to_owned(),
            None => format!("{slug}.{}@{domain}", self.user_number),
        };
        // Shaped like bcrypt; 2% have none (they must set a password).
        let hash = (!rng.chance(2)).then(|| format!("$2b$10${}", rng.hex(53)));
        let phone = rng.chance(60).then(|| {
            format!(
                "+{} {} {:07}",
                rng.range(1, 99),
                rng.range(10, 999),
                rng.below(10_000_000)
            )
        });
        let preferences = match rng.below(4) {
            0 => "{}".to_owned(),
            1 => r#"{"theme":"dark","language":"en"}"#.to_owned(),
            2 => format!(
                r#"{{"notifications":{{"email":true,"digest":"daily"}},"signature":{}}}"#,
                json_string(&format!("— {first} {last}"))
            ),
            _ => r#"{"theme":"light","timezone":"Europe/Zürich"}"#.to_owned(),
        };
        let created = FIRST_TICKET_MS - 90 * DAY_MS + rng.range(0, TICKET_SPAN_MS / 2);
        let updated = created + rng.range(0, 400 * DAY_MS);
        let active = email == BENCH_ADMIN || email == OTHER_ADMIN || !rng.chance(3);
        self.user.execute(params![
            id,
            email,
            hash,
            first,
            last,
            phone,
            role,
            active,
            rng.chance(80),
            preferences,
            rfc3339(created),
            rfc3339(updated),
        ])?;
        self.member
            .execute(params![id, company.id, company_role, rfc3339(created)])?;
        if role != "customer" {
            company.staff.push(id.clone());
        }
        company.members.push(id);
        Ok(())
    }

    fn add_fields(
        &mut self,
        company: &mut Company,
        fields: &[(&str, &str, FieldKind)],
    ) -> Result<()> {
        for (order, (name, label, kind)) in fields.iter().enumerate() {
            let id = self.rng.uuid();
            let (type_name, options, validation) = match kind {
                FieldKind::String => ("string", None, Some(r#"{"maxLength":64}"#.to_owned())),
                FieldKind::Integer => {
                    ("integer", None, Some(r#"{"min":1,"max":10000}"#.to_owned()))
                }
                FieldKind::Decimal => ("decimal", None, None),
                FieldKind::Number => ("number", None, Some(r#"{"min":0,"max":10}"#.to_owned())),
                FieldKind::Picklist(choices) => {
                    ("picklist", Some(serde_json::to_string(choices)?), None)
                }
            };
            self.field.execute(params![
                id,
                company.id,
                name,
                label,
                type_name,
                order == 0,
                options,
                validation,
                order as i64 + 1,
                rfc3339(FIRST_TICKET_MS - 30 * DAY_MS + order as i64 * 60_000),
            ])?;
            company.fields.push((id, kind.clone()));
        }
        Ok(())
    }

    fn add_ticket(&mut self, company: &Company, created: i64) -> Result<()> {
        let rng = &mut self.rng;
        let texts = &self.texts;
        let id = rng.uuid();
        let title_len = rng.range(texts.title.0, texts.title.1) as usize;
        let title = text(rng, &texts.words, title_len);
        let description = (!rng.chance(3)).then(|| {
            let len = rng.range(texts.description.0, texts.description.1) as usize;
            text(rng, &texts.words, len)
        });
        let status = weighted(rng, STATUSES);
        let priority = weighted(rng, PRIORITIES);
        let category = (!rng.chance(15)).then(|| *rng.pick(CATEGORIES));
        let submitter = rng.pick(&company.members).clone();
        let assignee = (!rng.chance(20)).then(|| rng.pick(&company.staff).clone());
        let custom_values = field_values(rng, &company.fields);

        // The notes, history and attachment, each with its time after the ticket's.
        let mut last = created;
        let mut notes = Vec::with_capacity(NOTES_PER_TICKET);
        for _ in 0..NOTES_PER_TICKET {
            let at = last + rng.range(60_000, 4 * DAY_MS);
            last = at;
            notes.push((rng.uuid(), at));
        }
        let done = last + rng.range(60_000, DAY_MS);
        let resolved = matches!(status, "resolved" | "closed").then_some(done);
        let closed = (status == "closed").then(|| done + rng.range(0, 3 * DAY_MS));
        let updated = closed.or(resolved).unwrap_or(last);

        self.ticket.execute(params![
            id,
            company.id,
            title,
            description,
            status,
            priority,
            category,
            submitter,
            assignee,
            custom_values,
            rfc3339(created),
            rfc3339(updated),
            resolved.map(rfc3339),
            closed.map(rfc3339),
        ])?;

        let staff_member = |rng: &mut Rng| {
            assignee
                .clone()
                .unwrap_or_else(|| rng.pick(&company.staff).clone())
        };
        let mut pending = Vec::new();
        for (note_id, at) in &notes {
            let rng = &mut self.rng;
            let from_submitter = rng.chance(40);
            let author = if from_submitter {
                submitter.clone()
            } else {
                staff_member(rng)
            };
            let email = (from_submitter && rng.chance(35)).then(|| {
                format!(
                    r#"{{"messageId":"<{}@mail.bench.example>","subject":{}}}"#,
                    rng.hex(24),
                    json_string(&format!("Re: {title}"))
                )
            });
            let len = rng.range(self.texts.note.0, self.texts.note.1) as usize;
            let content = text(rng, &self.texts.words, len);
            let edited = if rng.chance(10) {
                at + rng.range(1000, DAY_MS)
            } else {
                *at
            };
            pending.push((
                *at,
                Pending::Note {
                    id: note_id.clone(),
                    ticket: id.clone(),
                    author,
                    content,
                    internal: !from_submitter && rng.chance(30),
                    email,
                    updated_ms: edited,
                },
            ));
        }

        let rng = &mut self.rng;
        pending.push((
            created,
            Pending::History {
                id: rng.uuid(),
                ticket: id.clone(),
                user: submitter.clone(),
                action: "created",
                field: None,
                old: None,
                new: None,
                metadata: Some(r#"{"via":"web"}"#),
            },
        ));
        let user = staff_member(rng);
        pending.push((
            notes[0].1 + 1000,
            match &assignee {
                Some(assignee) => Pending::History {
                    id: rng.uuid(),
                    ticket: id.clone(),
                    user,
                    action: "assigned",
                    field: Some("assigned_to_id"),
                    old: None,
                    new: Some(assignee.clone()),
                    metadata: None,
                },
                None => Pending::History {
                    id: rng.uuid(),
                    ticket: id.clone(),
                    user,
                    action: "priority_changed",
                    field: Some("priority"),
                    old: Some("medium".into()),
                    new: Some(priority.into()),
                    metadata: None,
                },
            },
        ));
        let user = staff_member(rng);
        pending.push((
            updated,
            Pending::History {
                id: rng.uuid(),
                ticket: id.clone(),
                user,
                action: "status_changed",
                field: Some("status"),
                old: Some("open".into()),
                new: Some(status.into()),
                metadata: rng.chance(50).then_some(r#"{"via":"email"}"#),
            },
        ));

        if rng.chance(40) {
            // Half of the attachments came with a note, the rest with the ticket itself.
            let (note, at) = if rng.chance(50) {
                let (note_id, at) = rng.pick(&notes).clone();
                (Some(note_id), at + 1)
            } else {
                (None, created + 1)
            };
            let uploader = if note.is_some() {
                staff_member(rng)
            } else {
                submitter.clone()
            };
            pending.push((
                at,
                Pending::Attachment {
                    id: rng.uuid(),
                    ticket: id.clone(),
                    note,
                    uploader,
                },
            ));
        }
        for (at, row) in pending {
            self.sequence += 1;
            self.pending.insert((at, self.sequence), row);
        }
        Ok(())
    }

    /// Writes every pending row stamped at or before `until`, oldest first.
    fn flush_until(&mut self, until: i64) -> Result<()> {
        while let Some(entry) = self.pending.first_entry() {
            if entry.key().0 > until {
                break;
            }
            let at = entry.key().0;
            let row = entry.remove();
            self.write_pending(at, row)?;
        }
        Ok(())
    }

    fn write_pending(&mut self, at: i64, row: Pending) -> Result<()> {
        match row {
            Pending::Note {
                id,
                ticket,
                author,
                content,
                internal,
                email,
                updated_ms,
            } => {
                self.note.execute(params![
                    id,
                    ticket,
                    author,
                    content,
                    internal,
                    email.is_some(),
                    email,
                    rfc3339(at),
                    rfc3339(updated_ms),
                ])?;
            }
            Pending::History {
                id,
                ticket,
                user,
                action,
                field,
                old,
                new,
                metadata,
            } => {
                self.history.execute(params![
                    id,
                    ticket,
                    user,
                    action,
                    field,
                    old,
                    new,
                    metadata,
                    rfc3339(at),
                ])?;
            }
            Pending::Attachment {
                id,
                ticket,
                note,
                uploader,
            } => {
                let rng = &mut self.rng;
                let (ext, mime) = *rng.pick(FILES);
                let stored = format!("{}.{ext}", rng.hex(16));
                let original = match rng.below(4) {
                    0 => None,
                    1 => Some(format!("screenshot ×{}.{ext}", rng.range(1, 9))),
                    2 => Some(format!("Rechnung März {}.{ext}", rng.range(1, 999))),
                    _ => Some(format!(
                        "{}.{ext}",
                        text(rng, &self.texts.words, 12).replace(' ', "_")
                    )),
                };
                self.attachment
                    .execute(params![
                        id,
                        ticket,
                        note,
                        stored,
                        original,
                        rng.range(200, 8_000_000),
                        mime,
                        uploader,
                        format!("uploads/{stored}"),
                        rfc3339(at),
                    ])
                    .context("cannot insert an attachment")?;
            }
        }
        Ok(())
    }
}

/// A ticket's `custom_field_values`: a JSON object keyed by field id, about 60% of the
/// fields set, each value of its field's type.
fn field_values(rng: &mut Rng, fields: &[(String, FieldKind)]) -> String {
    let mut out = String::from("{");
    for (id, kind) in fields {
        if !rng.chance(60) {
            continue;
        }
        let value = match kind {
            FieldKind::String => json_string(&format!("ORD-{}", rng.hex(8).to_uppercase())),
            FieldKind::Integer => rng.range(1, 5000).to_string(),
            FieldKind::Decimal => format!("{}.{:02}", rng.range(0, 99_999), rng.below(100)),
            FieldKind::Number => format!("{}.{}", rng.range(0, 9), rng.below(10)),
            FieldKind::Picklist(choices) => json_string(rng.pick::<&str>(choices)),
        };
        if out.len() > 1 {
            out.push(',');
        }
        out.push_str(&format!("\"{id}\":{value}"));
    }
    out.push('}');
    out
}

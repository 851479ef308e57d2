//! Restoring chosen tickets (`import --ticket ID`, `--tickets-from FILE`; pg_restore `-L`,
//! restic `--include`): which tickets were asked for, and what they bring with them.
//!
//! Users and custom fields come before tickets in an archive, so what the chosen tickets
//! refer to is found by a first pass over the archive ([`Selection::survey`]); the import's
//! own pass then takes only the records the selection [`takes`](Selection::takes). Only
//! the chosen tickets' references are held, so memory does not grow with the archive.

use std::collections::HashSet;
use std::io::Read;

use anyhow::{Context, Result};

use crate::archive::reader::Input;
use crate::archive::records::{Counts, PersonRef};
use crate::archive::validate::Record;
use crate::error::{Failure, one_line, shortened};

/// The largest `--tickets-from` list read: 16 MiB, some 400,000 ids. Anything longer is
/// not a list of ticket ids (an archive given by mistake, say).
pub(crate) const MAX_TICKET_LIST_BYTES: u64 = 16 << 20;

/// The tickets an import is asked to restore, by their ids in the archive: each once, in
/// the order first given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ChosenTickets(Vec<String>);

impl ChosenTickets {
    /// The ids of `--ticket` and those listed in `--tickets-from` (a file, or stdin);
    /// `None` when neither is given, which restores the whole archive. A list that names
    /// no id is a usage error: it must not quietly mean every ticket, or none.
    pub(crate) fn from_command_line(ids: &[String], list: Option<&Input>) -> Result<Option<Self>> {
        if ids.is_empty() && list.is_none() {
            return Ok(None);
        }
        let mut chosen = Vec::new();
        for id in ids {
            let id = id.trim();
            if id.is_empty() {
                return Err(Failure::Usage("--ticket needs a ticket id".into()).into());
            }
            chosen.push(id.to_owned());
        }
        if let Some(list) = list {
            let text = read_list(list)?;
            let listed = parse_list(&text, list)?;
            if listed.is_empty() {
                return Err(Failure::Usage(format!(
                    "{list} lists no ticket ids (one a line; # starts a comment)"
                ))
                .into());
            }
            chosen.extend(listed);
        }
        let mut seen = HashSet::new();
        chosen.retain(|id| seen.insert(id.clone()));
        Ok(Some(Self(chosen)))
    }

    /// The ids, in the order given.
    pub(crate) fn ids(&self) -> &[String] {
        &self.0
    }
}

/// The text of a `--tickets-from` list, up to [`MAX_TICKET_LIST_BYTES`].
fn read_list(list: &Input) -> Result<String> {
    let reader: Box<dyn Read> = match list {
        Input::Stdin => Box::new(std::io::stdin().lock()),
        Input::File(path) => match std::fs::File::open(path) {
            Ok(file) => Box::new(file),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(Failure::NotFound(format!(
                    "the ticket list {} does not exist",
                    path.display()
                ))
                .into());
            }
            Err(err) => {
                return Err(err).with_context(|| format!("cannot open the ticket list {list}"));
            }
        },
    };
    let mut text = String::new();
    reader
        .take(MAX_TICKET_LIST_BYTES + 1)
        .read_to_string(&mut text)
        .with_context(|| format!("cannot read the ticket list {list} (one id a line, as text)"))?;
    if text.len() as u64 > MAX_TICKET_LIST_BYTES {
        return Err(Failure::Usage(format!(
            "{list} is larger than {} MiB: not a list of ticket ids",
            MAX_TICKET_LIST_BYTES >> 20
        ))
        .into());
    }
    Ok(text)
}

/// The ids of a list: one a line, surrounding blanks ignored, blank lines skipped, and
/// `#` starting a comment (a whole line, or after the id and a blank).
fn parse_list(text: &str, list: &Input) -> Result<Vec<String>> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut ids = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let id = without_comment(line);
        if id.is_empty() {
            continue;
        }
        if id.contains(char::is_whitespace) {
            return Err(Failure::Usage(format!(
                "{list}, line {}: one ticket id a line, found {:?}",
                index + 1,
                shortened(&one_line(id))
            ))
            .into());
        }
        ids.push(id.to_owned());
    }
    Ok(ids)
}

/// A line of a list without its comment and surrounding blanks.
fn without_comment(line: &str) -> &str {
    let line = line.trim();
    let comment = line
        .char_indices()
        .find(|&(at, c)| c == '#' && (at == 0 || line[..at].ends_with(char::is_whitespace)));
    match comment {
        Some((at, _)) => line[..at].trim_end(),
        None => line,
    }
}

/// What a restore of chosen tickets takes from the archive: those tickets (with their notes
/// and history), their attachments, and the users and custom fields they refer to.
#[derive(Debug)]
pub(crate) struct Selection {
    chosen: ChosenTickets,
    tickets: HashSet<String>,
    /// The chosen tickets found in the archive so far.
    found: HashSet<String>,
    /// The people referred to, by ASCII-lowercase email (as users are matched).
    people: HashSet<String>,
    /// The custom fields the chosen tickets hold values of, by name.
    fields: HashSet<String>,
}

impl Selection {
    pub(crate) fn new(chosen: ChosenTickets) -> Self {
        Self {
            tickets: chosen.ids().iter().cloned().collect(),
            chosen,
            found: HashSet::new(),
            people: HashSet::new(),
            fields: HashSet::new(),
        }
    }

    /// Takes this person's user as well, whether a chosen ticket refers to them or not:
    /// the actor who creates the company must be in it.
    pub(crate) fn include_person(&mut self, email: &str) {
        self.people.insert(email.to_ascii_lowercase());
    }

    /// Notes what a record of the first pass refers to, if it is a chosen ticket or one of
    /// their attachments: submitter, assignee, note authors, history users and uploaders,
    /// and the custom fields named in the ticket's values.
    pub(crate) fn survey(&mut self, record: &Record) {
        match record {
            Record::Ticket(ticket) if self.tickets.contains(ticket.id.as_str()) => {
                self.found.insert(ticket.id.as_str().to_owned());
                self.fields.extend(ticket.custom_fields.keys().cloned());
                let notes = ticket.notes.iter().map(|note| note.author.as_ref());
                let history = ticket.history.iter().map(|entry| entry.user.as_ref());
                let people = [ticket.created_by.as_ref(), ticket.assigned_to.as_ref()]
                    .into_iter()
                    .chain(notes)
                    .chain(history);
                for person in people {
                    self.refer_to(person);
                }
            }
            Record::Attachment(attachment)
                if self.tickets.contains(attachment.ticket_id.as_str()) =>
            {
                self.refer_to(attachment.uploaded_by.as_ref());
            }
            _ => {}
        }
    }

    fn refer_to(&mut self, person: Option<&PersonRef>) {
        if let Some(email) = person.and_then(|p| p.email.as_deref())
            && !email.is_empty()
        {
            self.people.insert(email.to_ascii_lowercase());
        }
    }

    /// After the first pass: every chosen ticket was found in `archive`, or exit status 6
    /// naming each one that was not.
    pub(crate) fn check_found(&self, archive: &str) -> Result<()> {
        let missing: Vec<&str> = self
            .chosen
            .ids()
            .iter()
            .filter(|id| !self.found.contains(*id))
            .map(String::as_str)
            .collect();
        let (noun, verb) = match missing.len() {
            0 => return Ok(()),
            1 => ("ticket", "is"),
            _ => ("tickets", "are"),
        };
        Err(Failure::NotFound(format!(
            "{noun} {} {verb} not in the archive {archive} \
             (`bomizzel-backup list --tickets {archive}` lists its tickets)",
            one_line(&missing.join(", "))
        ))
        .into())
    }

    /// Whether the import takes this record; the others stay in the archive.
    pub(crate) fn takes(&self, record: &Record) -> bool {
        match record {
            Record::User(user) => self.people.contains(&user.email.to_ascii_lowercase()),
            Record::CustomField(field) => self.fields.contains(&field.name),
            Record::Ticket(ticket) => self.tickets.contains(ticket.id.as_str()),
            Record::Attachment(attachment) => self.tickets.contains(attachment.ticket_id.as_str()),
        }
    }
}

/// Counts a record the selection leaves out (a ticket with its notes and history).
pub(crate) fn count_left_out(counts: &mut Counts, record: &Record) {
    match record {
        Record::User(_) => counts.users += 1,
        Record::CustomField(_) => counts.custom_fields += 1,
        Record::Ticket(ticket) => {
            counts.tickets += 1;
            counts.notes += ticket.notes.len() as u64;
            counts.history += ticket.history.len() as u64;
        }
        Record::Attachment(_) => counts.attachments += 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Result<Vec<String>> {
        parse_list(text, &Input::File("ids.txt".into()))
    }

    #[test]
    fn a_list_takes_one_id_a_line_with_comments_and_blanks() {
        let text = "\u{feff}# restore these\n\n  t1  \r\nt2 # the printer\n\t# t3\nt#4\n";
        assert_eq!(parsed(text).unwrap(), ["t1", "t2", "t#4"]);
    }

    #[test]
    fn a_line_with_two_words_is_refused_with_its_number() {
        let err = parsed("t1\nt2 t3\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"ids.txt, line 2: one ticket id a line, found "t2 t3""#
        );
    }

    #[test]
    fn ids_are_kept_once_in_the_order_given() {
        let chosen =
            ChosenTickets::from_command_line(&["b".into(), " a ".into(), "b".into()], None)
                .unwrap()
                .unwrap();
        assert_eq!(chosen.ids(), ["b", "a"]);
        assert_eq!(ChosenTickets::from_command_line(&[], None).unwrap(), None);
    }
}

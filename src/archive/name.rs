//! Archive file names: the default one (`bomizzel-<company>-<UTC time to the millisecond>.zip`),
//! its numbered variants for when that name is taken anyway (`…-2.zip`), and telling such a
//! name when it is met again, so that nothing advises replacing an earlier backup.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::writer::Container;

/// `bomizzel-<company slug>-<UTC yyyymmddThhmmssSSSZ>.<zip|json>`.
pub(crate) fn default_file_name(company: &str, at: DateTime<Utc>, container: Container) -> String {
    format!(
        "bomizzel-{}-{}.{}",
        slug(company),
        at.format("%Y%m%dT%H%M%S%3fZ"),
        container.extension()
    )
}

/// The company's name transliterated to ASCII (`Zürich` → `zurich`), lowercase letters and
/// digits, runs of anything else as one `-`; `company` when nothing is left.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in deunicode::deunicode(name).chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    if trimmed.is_empty() {
        "company".into()
    } else {
        trimmed.into()
    }
}

/// `path` with `-<n>` put before its extensions (`x.zip` → `x-2.zip`); the first of the
/// series, `n` = 1, is `path` itself. A default name has no dot before its extensions.
pub(crate) fn numbered(path: &Path, n: u32) -> PathBuf {
    let Some(name) = path.file_name().and_then(|name| name.to_str()) else {
        return path.to_path_buf();
    };
    if n <= 1 {
        return path.to_path_buf();
    }
    let (stem, extensions) = name.split_once('.').unwrap_or((name, ""));
    let dot = if extensions.is_empty() { "" } else { "." };
    path.with_file_name(format!("{stem}-{n}{dot}{extensions}"))
}

/// True when `path`'s name is one that export gives by default (today's, with milliseconds,
/// or the older one to the second), numbered or not: most likely an earlier backup.
pub(crate) fn is_default_name(path: &Path) -> bool {
    let Some(stem) = path
        .file_name()
        .and_then(|name| name.to_str())
        .and_then(|name| name.strip_prefix("bomizzel-"))
        .and_then(|rest| rest.split_once('.'))
        .map(|(stem, _)| stem)
    else {
        return false;
    };
    let unnumbered = match stem.rsplit_once('-') {
        Some((before, counter)) if is_number(counter) && ends_with_stamp(before) => before,
        _ => stem,
    };
    ends_with_stamp(unnumbered)
}

/// `<slug>-yyyymmddThhmmss[SSS]Z`.
fn ends_with_stamp(stem: &str) -> bool {
    let Some((slug, stamp)) = stem.rsplit_once('-') else {
        return false;
    };
    let Some((day, time)) = stamp.strip_suffix('Z').and_then(|s| s.split_once('T')) else {
        return false;
    };
    !slug.is_empty()
        && day.len() == 8
        && is_number(day)
        && matches!(time.len(), 6 | 9)
        && is_number(time)
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn company_names_are_transliterated() {
        assert_eq!(slug("Acme Corp"), "acme-corp");
        assert_eq!(slug("Globex \"Zürich\" & Co"), "globex-zurich-co");
        assert_eq!(slug("Ærøskøbing Façades"), "aeroskobing-facades");
        assert_eq!(slug("  --  "), "company");
    }

    #[test]
    fn default_names_carry_milliseconds() {
        let at = DateTime::parse_from_rfc3339("2026-12-01T14:22:53.123Z")
            .map(|t| t.with_timezone(&Utc))
            .ok();
        let name = at.map(|at| default_file_name("Acme Corp", at, Container::Zip));
        assert_eq!(
            name.as_deref(),
            Some("bomizzel-acme-corp-20261201T142253123Z.zip")
        );
    }

    #[test]
    fn numbers_go_before_the_extensions() {
        let path = Path::new("/b/bomizzel-acme-20261201T142253123Z.zip");
        assert_eq!(numbered(path, 1), path);
        assert_eq!(
            numbered(path, 2),
            Path::new("/b/bomizzel-acme-20261201T142253123Z-2.zip")
        );
        assert_eq!(
            numbered(Path::new("x.zip.age"), 3),
            Path::new("x-3.zip.age")
        );
    }

    #[test]
    fn default_names_are_told_from_others() {
        for name in [
            "bomizzel-acme-corp-20261201T142253123Z.zip",
            "bomizzel-acme-corp-20261201T142253123Z-2.zip",
            "/backups/bomizzel-acme-corp-20261123T023000Z.json",
            "bomizzel-company-20261123T023000Z-12.zip.age",
        ] {
            assert!(is_default_name(Path::new(name)), "{name}");
        }
        for name in [
            "acme.zip",
            "bomizzel-acme.zip",
            "bomizzel-20261123T023000Z.zip",
            "bomizzel-acme-20261123T0230Z.zip",
            "bomizzel-acme-corp-20261201T142253123Z",
        ] {
            assert!(!is_default_name(Path::new(name)), "{name}");
        }
    }
}

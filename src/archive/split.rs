//! Splitting a JSON array read from a stream into the text of its elements, without parsing
//! them. Each element is then parsed from a slice, which serde_json does several times
//! faster than from a reader, and only one element is held at a time.

use std::io::{self, BufRead};

/// The largest single record accepted, in either container: 16 MiB of JSON text (a user, a
/// custom field, a ticket with all its notes and history, or an attachment's metadata).
/// Anything larger is refused rather than buffered.
pub const MAX_RECORD_BYTES: usize = 16 << 20;

/// The most JSON values one record may hold: one million (a ticket with tens of thousands
/// of notes). Decoded, every value takes dozens of bytes however short its text (`[]`), so
/// this, not the text's size, bounds a record's memory.
pub const MAX_RECORD_VALUES: usize = 1_000_000;

/// Elements of one JSON array, one at a time.
pub(crate) struct ArraySplitter<R> {
    reader: R,
    element: Vec<u8>,
    done: bool,
    /// A comma was read, so an element must follow.
    after_comma: bool,
}

/// Where the scanner stands inside an element.
#[derive(Default)]
struct Scan {
    depth: usize,
    in_string: bool,
    escaped: bool,
    /// Arrays, objects and elements after a comma: about how many values were seen.
    values: usize,
}

/// About how many JSON values `text` (one whole record) holds: its arrays and objects and
/// the elements after each of their commas, strings skipped.
pub(crate) fn count_values(text: &str) -> usize {
    let mut scan = Scan::default();
    scan.advance(text.as_bytes());
    scan.values
}

pub(super) fn too_many_values() -> io::Error {
    malformed(format!(
        "a record holds more than {MAX_RECORD_VALUES} JSON values"
    ))
}

impl<R: BufRead> ArraySplitter<R> {
    /// Reads up to the array's opening `[`.
    pub(crate) fn open(mut reader: R) -> io::Result<Self> {
        match next_non_space(&mut reader)? {
            Some(b'[') => Ok(Self {
                reader,
                element: Vec::with_capacity(64 << 10),
                done: false,
                after_comma: false,
            }),
            Some(other) => Err(malformed(format!(
                "expected an array of records, found {:?}",
                char::from(other)
            ))),
            None => Err(malformed("expected an array of records, found nothing")),
        }
    }

    /// The next element's text, or `None` after the closing `]`.
    pub(crate) fn next_element(&mut self) -> io::Result<Option<&str>> {
        if self.done {
            return Ok(None);
        }
        self.element.clear();
        let mut scan = Scan::default();
        let closing_bracket = loop {
            let chunk = self.reader.fill_buf()?;
            if chunk.is_empty() {
                return Err(malformed("the array ends before its closing `]`"));
            }
            let (used, end) = scan.advance(chunk);
            self.element.extend_from_slice(&chunk[..used]);
            self.reader.consume(used + usize::from(end.is_some()));
            if self.element.len() > MAX_RECORD_BYTES {
                return Err(malformed(format!(
                    "a record is larger than {} MiB",
                    MAX_RECORD_BYTES >> 20
                )));
            }
            if scan.values > MAX_RECORD_VALUES {
                return Err(too_many_values());
            }
            if let Some(closing) = end {
                break closing;
            }
        };
        let text = std::str::from_utf8(trim(&self.element))
            .map_err(|err| malformed(format!("a record is not valid UTF-8 ({err})")))?;
        let after_comma = std::mem::replace(&mut self.after_comma, !closing_bracket);
        if closing_bracket {
            self.done = true;
            if text.is_empty() && !after_comma {
                return Ok(None); // `[]`
            }
        }
        if text.is_empty() {
            return Err(malformed(
                "an empty element (two commas, or a trailing comma)",
            ));
        }
        Ok(Some(text))
    }

    /// After the array: nothing but whitespace may follow.
    pub(crate) fn finish(mut self) -> io::Result<()> {
        match next_non_space(&mut self.reader)? {
            None => Ok(()),
            Some(_) => Err(malformed("unexpected data after the array")),
        }
    }
}

impl Scan {
    /// Scans `chunk` for the end of the element: returns how many bytes belong to it and,
    /// when it ends in this chunk, whether it ended at the array's closing `]` (else `,`).
    fn advance(&mut self, chunk: &[u8]) -> (usize, Option<bool>) {
        let mut i = 0;
        while i < chunk.len() {
            if self.in_string {
                if self.escaped {
                    self.escaped = false;
                    i += 1;
                    continue;
                }
                // Most of a record is string content: jump to the next quote or backslash.
                match memchr::memchr2(b'"', b'\\', &chunk[i..]) {
                    Some(at) => {
                        i += at;
                        if chunk[i] == b'"' {
                            self.in_string = false;
                        } else {
                            self.escaped = true;
                        }
                        i += 1;
                    }
                    None => i = chunk.len(),
                }
                continue;
            }
            let byte = chunk[i];
            i += 1;
            match byte {
                b'"' => self.in_string = true,
                b'{' | b'[' => {
                    self.depth += 1;
                    self.values += 1;
                }
                b'}' | b']' if self.depth > 0 => self.depth -= 1,
                b']' => return (i - 1, Some(true)),
                b',' if self.depth == 0 => return (i - 1, Some(false)),
                b',' => self.values += 1,
                _ => {}
            }
        }
        (chunk.len(), None)
    }
}

fn next_non_space<R: BufRead>(reader: &mut R) -> io::Result<Option<u8>> {
    loop {
        let chunk = reader.fill_buf()?;
        if chunk.is_empty() {
            return Ok(None);
        }
        match chunk.iter().position(|b| !b.is_ascii_whitespace()) {
            Some(at) => {
                let byte = chunk[at];
                reader.consume(at + 1);
                return Ok(Some(byte));
            }
            None => {
                let len = chunk.len();
                reader.consume(len);
            }
        }
    }
}

fn trim(bytes: &[u8]) -> &[u8] {
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(start, |e| e + 1);
    &bytes[start..end.max(start)]
}

fn malformed(message: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str) -> io::Result<Vec<String>> {
        let mut splitter = ArraySplitter::open(text.as_bytes())?;
        let mut out = Vec::new();
        while let Some(element) = splitter.next_element()? {
            out.push(element.to_owned());
        }
        splitter.finish()?;
        Ok(out)
    }

    #[test]
    fn splits_records_with_nesting_strings_and_escapes() {
        let text = r#" [ {"a":[1,{"b":"],}"}]} ,
            {"c":"quote \" and \\ backslash, ] [ {"} , "x" ] "#;
        assert_eq!(
            split(text).unwrap(),
            vec![
                r#"{"a":[1,{"b":"],}"}]}"#.to_owned(),
                r#"{"c":"quote \" and \\ backslash, ] [ {"}"#.to_owned(),
                r#""x""#.to_owned()
            ]
        );
    }

    #[test]
    fn an_empty_array_has_no_elements() {
        assert!(split("[]").unwrap().is_empty());
        assert!(split(" [ \n ] \n").unwrap().is_empty());
    }

    #[test]
    fn malformed_arrays_are_refused() {
        for bad in ["", "{}", "[1,,2]", "[1,]", "[,]", "[1", "[1] x", "[\"open"] {
            assert!(split(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_record_split_across_reads_is_whole() {
        let text = format!("[{{\"s\":\"{}\"}},2]", "y".repeat(100_000));
        let reader = io::BufReader::with_capacity(7, text.as_bytes());
        let mut splitter = ArraySplitter::open(reader).unwrap();
        assert_eq!(splitter.next_element().unwrap().unwrap().len(), 100_008);
        assert_eq!(splitter.next_element().unwrap(), Some("2"));
        assert_eq!(splitter.next_element().unwrap(), None);
    }

    #[test]
    fn invalid_utf8_is_refused() {
        let bytes: &[u8] = b"[\"\xff\"]";
        let mut splitter = ArraySplitter::open(bytes).unwrap();
        assert!(splitter.next_element().is_err());
    }
}

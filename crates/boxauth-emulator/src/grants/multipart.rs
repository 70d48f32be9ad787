//! `multipart/form-data` bodies (RFC 7578), which Box's token endpoint takes beside urlencoded
//! forms (`curl -F grant_type=… -F client_id=…`; reference §10). Only what a form needs: the
//! parts' names and values. Malformed input ends the parse with what was read so far; it never
//! panics, and a missing `grant_type` then gets Box's usual answer.

use std::borrow::Cow;

use axum::http::HeaderValue;

/// The boundary of a `multipart/form-data` content type, if it is one.
pub(crate) fn boundary(content_type: &HeaderValue) -> Option<String> {
    let text = content_type.to_str().ok()?;
    let mut fields = text.split(';');
    let kind = fields.next()?.trim_end();
    if !kind.eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    fields.find_map(|field| {
        let (name, value) = field.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = parameter_value(value)?;
        // RFC 2046: 1 to 70 characters.
        (!value.is_empty() && value.len() <= 70).then(|| value.to_owned())
    })
}

/// Appends the body's `name` / value pairs to `pairs`.
pub(crate) fn parse<'a>(
    body: &'a [u8],
    boundary: &str,
    pairs: &mut Vec<(Cow<'a, str>, Cow<'a, str>)>,
) {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    let Some(mut at) = next_delimiter(body, delimiter, 0) else {
        return;
    };
    loop {
        let rest = &body[at + delimiter.len()..];
        if rest.starts_with(b"--") {
            return; // the close delimiter
        }
        // A delimiter line ends with a line break (checked by `next_delimiter`).
        let Some(line_end) = find(rest, b"\n", 0) else {
            return;
        };
        let part_start = at + delimiter.len() + line_end + 1;
        // The part runs to the next delimiter, less the line break before it.
        let Some(next) = next_delimiter(body, delimiter, part_start) else {
            return;
        };
        let content_end = next
            - if body[..next].ends_with(b"\r\n") {
                2
            } else {
                1
            };
        if let Some(pair) = part(&body[part_start..content_end.max(part_start)]) {
            pairs.push(pair);
        }
        at = next;
    }
}

/// The next delimiter at or after `from`: `--boundary` at the start of the body or of a line,
/// then either `--` (the last) or optional blanks and a line break.
fn next_delimiter(body: &[u8], delimiter: &[u8], from: usize) -> Option<usize> {
    let mut search = from;
    loop {
        let found = find(body, delimiter, search)?;
        search = found + 1;
        if found > 0 && body[found - 1] != b'\n' {
            continue;
        }
        let after = &body[found + delimiter.len()..];
        let blanks = after
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let after_blanks = &after[blanks..];
        if after.starts_with(b"--")
            || after_blanks.starts_with(b"\r\n")
            || after_blanks.starts_with(b"\n")
        {
            return Some(found);
        }
    }
}

/// One part: its headers, a blank line, its content. Its name comes from `Content-Disposition`.
fn part(part: &[u8]) -> Option<(Cow<'_, str>, Cow<'_, str>)> {
    let (headers, content) = match find(part, b"\r\n\r\n", 0) {
        Some(at) => (&part[..at], &part[at + 4..]),
        None => {
            let at = find(part, b"\n\n", 0)?;
            (&part[..at], &part[at + 2..])
        }
    };
    let headers = std::str::from_utf8(headers).ok()?;
    let name = headers.lines().find_map(|line| {
        let (header, value) = line.split_once(':')?;
        if !header.trim().eq_ignore_ascii_case("content-disposition") {
            return None;
        }
        disposition_name(value)
    })?;
    let value = String::from_utf8_lossy(content);
    Some((Cow::Borrowed(name), value))
}

/// `form-data; name="grant_type"` → `grant_type`.
fn disposition_name(value: &str) -> Option<&str> {
    let mut fields = value.split(';');
    if !fields.next()?.trim().eq_ignore_ascii_case("form-data") {
        return None;
    }
    fields.find_map(|field| {
        let (name, value) = field.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("name") {
            return None;
        }
        parameter_value(value)
    })
}

/// A header parameter's value: a quoted string up to its closing quote, or a bare token.
fn parameter_value(value: &str) -> Option<&str> {
    let value = value.trim_start();
    match value.strip_prefix('"') {
        Some(quoted) => quoted.split_once('"').map(|(inside, _)| inside),
        None => value.split_whitespace().next(),
    }
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if needle.is_empty() || from > haystack.len() {
        return None;
    }
    haystack[from..]
        .windows(needle.len())
        .position(|window| window == needle)
        .map(|at| at + from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(body: &[u8], boundary: &str) -> Vec<(String, String)> {
        let mut pairs = Vec::new();
        parse(body, boundary, &mut pairs);
        pairs
            .into_iter()
            .map(|(n, v)| (n.into_owned(), v.into_owned()))
            .collect()
    }

    fn owned(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn the_boundary_comes_from_a_multipart_form_data_type_only() {
        let of = |text: &str| boundary(&HeaderValue::from_str(text).unwrap());
        assert_eq!(
            of("multipart/form-data; boundary=------------------------d74496d66958873e"),
            Some("------------------------d74496d66958873e".to_owned())
        );
        assert_eq!(
            of("Multipart/Form-Data;charset=utf-8; BOUNDARY=\"a b\""),
            Some("a b".to_owned())
        );
        assert_eq!(of("application/x-www-form-urlencoded"), None);
        assert_eq!(of("multipart/mixed; boundary=x"), None);
        assert_eq!(of("multipart/form-data"), None);
        assert_eq!(of("multipart/form-data; boundary="), None);
        assert_eq!(
            of("  multipart/form-data; boundary=x"),
            None,
            "no leading blanks"
        );
        assert_eq!(of("multipart"), None);
        assert_eq!(
            of(&format!("multipart/form-data; boundary={}", "x".repeat(71))),
            None
        );
    }

    #[test]
    fn what_curl_sends_is_read() {
        // `curl -F grant_type=client_credentials -F client_id=abc -F 'note=two<LF>lines'`,
        // as Debian 12's curl 7.88.1 sent it to a listening socket.
        let body = b"--------------------------9c65445400c5ea1d\r\n\
Content-Disposition: form-data; name=\"grant_type\"\r\n\r\n\
client_credentials\r\n\
--------------------------9c65445400c5ea1d\r\n\
Content-Disposition: form-data; name=\"client_id\"\r\n\r\n\
abc\r\n\
--------------------------9c65445400c5ea1d\r\n\
Content-Disposition: form-data; name=\"note\"\r\n\r\n\
two\nlines\r\n\
--------------------------9c65445400c5ea1d--\r\n";
        assert_eq!(
            pairs(body, "------------------------9c65445400c5ea1d"),
            owned(&[
                ("grant_type", "client_credentials"),
                ("client_id", "abc"),
                ("note", "two\nlines"),
            ])
        );
        // A part may carry its own headers, in any case.
        let body = b"--B\r\ncontent-type: text/plain\r\nCONTENT-DISPOSITION: form-data; name=\"k\"\r\n\r\nv\r\n--B--";
        assert_eq!(pairs(body, "B"), owned(&[("k", "v")]));
    }

    #[test]
    fn a_preamble_bare_line_feeds_and_empty_values_are_read() {
        let body = b"ignored preamble\n--B\nContent-Disposition: form-data; name=a\n\n1\n--B\n\
content-disposition: form-data; name=\"empty\"\n\n\n--B--";
        assert_eq!(pairs(body, "B"), owned(&[("a", "1"), ("empty", "")]));
        // A value may contain the boundary's text, if not at the start of a line.
        let body = b"--B\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nx--B\r\n--B--\r\n";
        assert_eq!(pairs(body, "B"), owned(&[("k", "x--B")]));
        let body =
            b"--B\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\nx\r\n--Bx\r\n--B--\r\n";
        assert_eq!(pairs(body, "B"), owned(&[("k", "x\r\n--Bx")]));
    }

    #[test]
    fn malformed_bodies_give_what_was_read_and_never_panic() {
        let whole = b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B\r\n\
Content-Disposition: form-data; name=\"b\"\r\n\r\n2\r\n--B--\r\n";
        assert_eq!(pairs(whole, "B"), owned(&[("a", "1"), ("b", "2")]));
        // Every truncation of a good body, and of a body with bytes changed.
        for cut in 0..whole.len() {
            let read = pairs(&whole[..cut], "B");
            assert!(read.len() <= 2);
            let mut changed = whole.to_vec();
            changed[cut] = [b'-', b'\n', b'\r', b'"', 0xff][cut % 5];
            let _ = pairs(&changed, "B");
        }
        for (body, why) in [
            (
                &b"grant_type=client_credentials"[..],
                "not multipart at all",
            ),
            (
                b"x--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--B--",
                "no line break before the first boundary",
            ),
            (
                b"--B\r\nContent-Disposition: attachment; name=\"a\"\r\n\r\n1\r\n--B--",
                "not form-data",
            ),
            (
                b"--B\r\nContent-Disposition: form-data\r\n\r\n1\r\n--B--",
                "no name",
            ),
            (
                b"--B\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1",
                "never closed",
            ),
            (
                b"--B\r\nContent-Disposition: form-data; name=\"a\"1\r\n--B--",
                "no blank line",
            ),
            (b"--B", "a delimiter and nothing else"),
            (b"", "empty"),
        ] {
            assert_eq!(pairs(body, "B"), owned(&[]), "{why}");
        }
        // Bodies stitched at random (a fixed seed, so a failure repeats): mostly the pieces of a
        // good body in order, with the pieces a parser trips on thrown in. Never a panic, never
        // a name that was not in a header.
        let good: [&[u8]; 4] = [
            b"--B\r\n",
            b"Content-Disposition: form-data; name=\"a\"\r\n\r\n",
            b"x",
            b"\r\n",
        ];
        let noise: [&[u8]; 8] = [
            b"--B", b"--B--", b"--", b"\r\n", b"\n", b"\xff", b" ", b"name=\"",
        ];
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        let (mut bodies_with_a_part, mut parts) = (0, 0);
        for _ in 0..20_000 {
            let mut body = Vec::new();
            let mut next_good = 0;
            for _ in 0..24 {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                if !seed.is_multiple_of(4) {
                    body.extend_from_slice(good[next_good % good.len()]);
                    next_good += 1;
                } else {
                    body.extend_from_slice(noise[(seed >> 32) as usize % noise.len()]);
                }
            }
            let read = pairs(&body, "B");
            bodies_with_a_part += usize::from(!read.is_empty());
            parts += read.len();
            for (name, _) in read {
                assert_eq!(name, "a", "{:?}", String::from_utf8_lossy(&body));
            }
        }
        assert!(
            bodies_with_a_part > 10_000 && parts > 30_000,
            "{bodies_with_a_part} {parts}"
        );
        // A value that is not UTF-8 is kept, with replacement characters, as the urlencoded
        // parser does.
        let body = b"--B\r\nContent-Disposition: form-data; name=\"k\"\r\n\r\n\xff\r\n--B--";
        assert_eq!(pairs(body, "B"), owned(&[("k", "\u{fffd}")]));
    }
}

//! The canonical layout of policy files, applied line by line so that every comment, blank-line
//! grouping and quoting choice the author made survives.
//!
//! Rules: four spaces per block level; no trailing whitespace; at most one blank line in a row,
//! none just inside a block's braces nor at the start or end of the file; one final newline;
//! text inside multi-line strings and block comments is left exactly as it is.

/// Lexer state carried from one line to the next.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Carry {
    /// Ordinary code.
    Code,
    /// Inside a `/* … */` comment, at this nesting.
    BlockComment(usize),
    /// Inside a multi-line string opened with this many `#`s (`"""` or `#"""`).
    MultiLineString(usize),
}

/// Returns `text` in the canonical layout. Call only on text that parses as KDL.
pub fn canonical(text: &str) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut depth = 0usize;
    let mut carry = Carry::Code;
    for raw in text.lines() {
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if carry != Carry::Code {
            // Inside a string or comment: keep the line exactly.
            let (next, delta, _) = scan(raw, carry);
            carry = next;
            depth = apply(depth, delta);
            out.push(raw.to_string());
            continue;
        }
        let line = raw.trim();
        if line.is_empty() {
            let after_open = out.last().is_some_and(|l| l.trim_end().ends_with('{'));
            if !out.is_empty() && !after_open && out.last().is_some_and(|l| !l.is_empty()) {
                out.push(String::new());
            }
            continue;
        }
        let (next, delta, leading_closes) = scan(line, Carry::Code);
        let indent = depth.saturating_sub(leading_closes);
        if line.starts_with('}') && out.last().is_some_and(String::is_empty) {
            out.pop();
        }
        out.push(format!("{}{}", "    ".repeat(indent), line));
        carry = next;
        depth = apply(depth, delta);
    }
    while out.last().is_some_and(String::is_empty) {
        out.pop();
    }
    if out.is_empty() {
        return String::new();
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

fn apply(depth: usize, delta: isize) -> usize {
    depth.saturating_add_signed(delta)
}

/// Scans one line: the state at its end, the change in brace depth, and how many `}` come
/// before anything else on it (they dedent the line itself).
fn scan(line: &str, mut carry: Carry) -> (Carry, isize, usize) {
    let bytes = line.as_bytes();
    let mut i = 0;
    let mut delta = 0isize;
    let mut leading_closes = 0usize;
    let mut seen_other = false;
    while i < bytes.len() {
        match carry {
            Carry::BlockComment(level) => {
                if bytes[i..].starts_with(b"*/") {
                    carry = if level == 1 {
                        Carry::Code
                    } else {
                        Carry::BlockComment(level - 1)
                    };
                    i += 2;
                } else if bytes[i..].starts_with(b"/*") {
                    carry = Carry::BlockComment(level + 1);
                    i += 2;
                } else {
                    i += 1;
                }
                continue;
            }
            Carry::MultiLineString(hashes) => {
                let closing = [b"\"\"\"".as_slice(), &vec![b'#'; hashes]].concat();
                if bytes[i..].starts_with(&closing) {
                    carry = Carry::Code;
                    i += closing.len();
                } else if hashes == 0 && bytes[i] == b'\\' {
                    i += 2;
                } else {
                    i += 1;
                }
                continue;
            }
            Carry::Code => {}
        }
        let b = bytes[i];
        match b {
            b'/' if bytes.get(i + 1) == Some(&b'/') => break,
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                carry = Carry::BlockComment(1);
                i += 2;
                continue;
            }
            b'#' | b'"' => {
                let hashes = bytes[i..].iter().take_while(|c| **c == b'#').count();
                let rest = &bytes[i + hashes..];
                if rest.starts_with(b"\"\"\"") {
                    carry = Carry::MultiLineString(hashes);
                    i += hashes + 3;
                    seen_other = true;
                    continue;
                }
                if rest.first() == Some(&b'"') {
                    i = skip_string(bytes, i + hashes + 1, hashes);
                    seen_other = true;
                    continue;
                }
                i += hashes.max(1);
                seen_other = true;
                continue;
            }
            b'{' => delta += 1,
            b'}' => {
                delta -= 1;
                if !seen_other {
                    leading_closes += 1;
                }
            }
            b' ' | b'\t' => {}
            _ => seen_other = true,
        }
        if b == b'{' {
            seen_other = true;
        }
        i += 1;
    }
    (carry, delta, leading_closes)
}

/// Skips a single-line string starting after its opening quote; returns the index after it.
fn skip_string(bytes: &[u8], mut i: usize, hashes: usize) -> usize {
    while i < bytes.len() {
        if bytes[i] == b'"'
            && bytes[i + 1..]
                .iter()
                .take(hashes)
                .filter(|c| **c == b'#')
                .count()
                == hashes
        {
            return i + 1 + hashes;
        }
        if hashes == 0 && bytes[i] == b'\\' {
            i += 1;
        }
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::canonical;

    #[test]
    fn reindents_blocks_with_four_spaces_and_keeps_comments() {
        let text = "a {\n  b 1 // why b\n      c {\n d \"}\" \n}\n}\n";
        assert_eq!(
            canonical(text),
            "a {\n    b 1 // why b\n    c {\n        d \"}\"\n    }\n}\n"
        );
    }

    #[test]
    fn collapses_blank_lines_but_keeps_one_between_groups() {
        let text = "\n\na 1\n\n\n\nb {\n\n  c 2\n\n}\n\n";
        assert_eq!(canonical(text), "a 1\n\nb {\n    c 2\n}\n");
    }

    #[test]
    fn leaves_multi_line_strings_and_block_comments_untouched() {
        let text = "a {\n/* keep\n   this { */\n  b \"\"\"\n  raw {\n  \"\"\"\n}\n";
        assert_eq!(
            canonical(text),
            "a {\n    /* keep\n   this { */\n    b \"\"\"\n  raw {\n  \"\"\"\n}\n"
        );
    }

    #[test]
    fn is_idempotent() {
        let text = "a {\n\tb { c 1; }\n   }\n";
        let once = canonical(text);
        assert_eq!(canonical(&once), once);
    }
}

//! What a template may hold besides text, and how much rendering it may cost.
//!
//! Templates are written by staff (`notification:admin`) and rendered by the service that
//! delivers every borrower's messages, so a template must not be able to exhaust its memory or
//! its CPU, by mistake or on purpose. The engine alone does not bound either: a loop over
//! `reason_codes * 1000000` inside another runs for days, and `{% set s %}{{ s }}{{ s }}{% endset %}`
//! repeated thirty times doubles a string into gigabytes in a few dozen instructions. So:
//!
//! - [`refuse_costly`], when a template is saved: statements are `if`/`elif`/`else`/`endif`,
//!   `for`/`endfor` and `set name = value` only (no block `set` capturing output, no `filter`,
//!   `with`, …), and expressions use no `*`, `~` or `+` (repetition and concatenation, the ways
//!   to grow a value). What is left grows text at most by what the template itself writes per
//!   loop turn.
//! - [`FUEL`] bounds the instructions of one render (loops over event data), and
//!   [`MAX_OUTPUT`] the text it may write, for templates stored before these rules too.

use super::TemplateError;
use super::error::at;

/// Instructions one part's render may run. The longest default template takes a few hundred;
/// a loop over a borrower's reason codes adds a few per code.
pub(super) const FUEL: u64 = 50_000;

/// Bytes one part may render to before it is stopped. Far above any channel's limit (an email
/// body, the longest, has none of its own), far below what could hurt the service.
pub(super) const MAX_OUTPUT: usize = 64 * 1024;

/// Statements a template may use; `set` only as `set name = value` (see [`refuse_in_block`]).
const STATEMENTS: [&str; 7] = ["if", "elif", "else", "endif", "for", "endfor", "set"];

/// Refuses statements other than [`STATEMENTS`] and the operators that grow values, naming the
/// line. Text outside `{{ }}` and `{% %}` is free (a `+62` phone number is text).
pub(super) fn refuse_costly(part: &'static str, text: &str) -> Result<(), TemplateError> {
    let mut rest = text;
    let mut consumed = 0;
    while let Some(start) = rest.find('{') {
        let opened = &rest[start..];
        let (close, is_statement) = match opened.get(..2) {
            Some("{{") => ("}}", false),
            Some("{%") => ("%}", true),
            Some("{#") => ("#}", false),
            _ => {
                consumed += start + 1;
                rest = &rest[start + 1..];
                continue;
            }
        };
        let inner_start = start + 2;
        let Some(length) = closing(&rest[inner_start..], close) else {
            // Unclosed: the engine's own parse reports it with its line.
            return Ok(());
        };
        let inner = &rest[inner_start..inner_start + length];
        let line = text[..consumed + start].matches('\n').count() + 1;
        if !opened.starts_with("{#") {
            refuse_in_block(part, line, inner, is_statement)?;
        }
        let next = inner_start + length + 2;
        consumed += next;
        rest = &rest[next..];
    }
    Ok(())
}

fn refuse_in_block(
    part: &'static str,
    line: usize,
    inner: &str,
    is_statement: bool,
) -> Result<(), TemplateError> {
    // Whitespace control: `{%-`, `{%+`, `-%}`, `{{-`, `-}}`.
    let inner = inner.strip_prefix(['-', '+']).unwrap_or(inner);
    let inner = inner.strip_suffix(['-', '+']).unwrap_or(inner);
    let not_allowed = |what: String| TemplateError::NotAllowed {
        at: at(part, Some(line)),
        part,
        what,
    };
    if is_statement {
        let keyword = inner.split_whitespace().next().unwrap_or_default();
        // `{% set s %}…{% endset %}` captures output into a value; twice per step doubles it.
        let block_set = keyword == "set" && !inner.contains('=');
        if !STATEMENTS.contains(&keyword) || block_set {
            return Err(not_allowed(format!(
                "`{{% {keyword} %}}`; a template may use {} (`set` as `set name = value`)",
                STATEMENTS.map(|s| format!("`{s}`")).join(", ")
            )));
        }
    }
    match operator_outside_strings(inner) {
        Some(operator) => Err(not_allowed(format!(
            "the `{operator}` operator (it repeats or joins values); write the text out instead"
        ))),
        None => Ok(()),
    }
}

/// Where `close` ends the block, skipping string literals that may contain it.
fn closing(inner: &str, close: &str) -> Option<usize> {
    outside_strings(inner)
        .map(|(index, _)| index)
        .find(|&index| inner[index..].starts_with(close))
}

fn operator_outside_strings(inner: &str) -> Option<char> {
    outside_strings(inner)
        .map(|(_, c)| c)
        .find(|c| matches!(c, '*' | '~' | '+'))
}

/// The characters of an expression outside its string literals (`"…"`, `'…'`, with `\`
/// escapes), with their byte offsets; the quotes themselves are left out too.
fn outside_strings(inner: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    let mut quote = None;
    let mut escaped = false;
    inner.char_indices().filter(move |&(_, c)| match quote {
        Some(q) => {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == q {
                quote = None;
            }
            false
        }
        None if c == '"' || c == '\'' => {
            quote = Some(c);
            false
        }
        None => true,
    })
}

/// A sink for one part's render that refuses to grow past [`MAX_OUTPUT`].
pub(super) struct BoundedOutput(pub(super) Vec<u8>);

impl std::io::Write for BoundedOutput {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        if self.0.len() + bytes.len() > MAX_OUTPUT {
            return Err(std::io::Error::other(format!(
                "renders to more than {} KiB",
                MAX_OUTPUT / 1024
            )));
        }
        self.0.extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> Option<String> {
        refuse_costly("body", text).err().map(|e| e.to_string())
    }

    #[test]
    fn conditions_loops_and_text_pass() {
        for text in [
            "Halo {{ name }}, {% if reason %}Alasan: {{ reason }}{% endif %}",
            "{%- for code in reason_codes -%}{{ code }}{%+ endfor %}",
            "Hubungi +62 21 555 * 1234 ~ kapan saja",
            "{{ name }} {# a comment with * and ~ #}",
            "{% if reason == \"a*b~c+d\" %}x{% elif reason %}y{% else %}z{% endif %}",
            "{% set who = name %}{{ who }}",
            "{{ \"%}\" }} and {{ '}}' }}",
            "unclosed {{ name",
        ] {
            assert_eq!(refused(text), None, "{text}");
        }
    }

    #[test]
    fn growth_and_other_statements_are_refused_with_their_line() {
        for (text, expected) in [
            (
                "x\n{% for a in reason_codes * 1000000 %}y{% endfor %}",
                "body, line 2: not allowed: the `*` operator",
            ),
            ("{{ name ~ name }}", "body, line 1: not allowed: the `~`"),
            ("{{ name + name }}", "body, line 1: not allowed: the `+`"),
            (
                "a\nb\n{% set s %}{{ name }}{{ name }}{% endset %}",
                "body, line 3: not allowed: `{% set %}`",
            ),
            (
                "{% set s = 'x' %}{% endset %}",
                "not allowed: `{% endset %}`",
            ),
            ("{%- filter upper %}x{% endfilter %}", "`{% filter %}`"),
            ("{% with a = name %}{{ a }}{% endwith %}", "`{% with %}`"),
            ("{% raw %}{{ x }}{% endraw %}", "`{% raw %}`"),
        ] {
            let message = refused(text).unwrap_or_else(|| panic!("passed: {text}"));
            assert!(message.contains(expected), "{text}: {message}");
        }
    }
}

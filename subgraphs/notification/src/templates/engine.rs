//! Rendering and checking. The environment is built per render: it is cheap, and the filters
//! close over the borrower's language and zone instead of reading them from template variables
//! a template author could overwrite.

use std::collections::BTreeSet;

use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, ErrorKind, UndefinedBehavior};

use super::error::at;
use super::sandbox::{BoundedOutput, FUEL, MAX_OUTPUT, refuse_costly};
use super::{
    EventEntry, RenderContext, Rendered, TemplateError, TemplateSource, entry, filters,
    length_limits,
};
use crate::domain::{ChannelKind, IndonesianZone};
use tenor_platform::text::{Lines, check_characters};

/// At render time a real value (a long name) may exceed the sample's length: up to this many
/// times the channel's limit is tolerated so one borrower's message is not lost over a few
/// characters; beyond it the output is runaway and refused.
const RENDER_SLACK: usize = 2;

/// Fills `source` in for one borrower. `variables` is the event's data plus `name`
/// ([`variables_with_name`](super::variables_with_name)). A variable the data lacks is an
/// error, never blank text.
pub fn render(
    source: &TemplateSource,
    variables: &serde_json::Value,
    cx: &RenderContext,
) -> Result<Rendered, TemplateError> {
    let env = environment(*cx);
    let rendered = Rendered {
        title: render_part(&env, "title", &source.title, variables)?,
        body: render_part(&env, "body", &source.body, variables)?,
    };
    within_limits(&rendered, source.key.channel, RENDER_SLACK)?;
    Ok(rendered)
}

/// Whether `source` may be saved: the event is one notification sends on that channel, title
/// and body are present and parse, every variable they use is one the event offers, and they
/// render with the catalog's sample data — also with its optional values absent — within the
/// channel's length limits.
pub fn check(source: &TemplateSource) -> Result<(), TemplateError> {
    let key = &source.key;
    let entry = entry(&key.event_type).ok_or_else(|| TemplateError::UnknownEvent {
        event_type: key.event_type.clone(),
    })?;
    if !entry.channels.contains(&key.channel) {
        return Err(TemplateError::ChannelNotUsed {
            event_type: key.event_type.clone(),
            channel: key.channel.as_str(),
            allowed: entry
                .channels
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let env = environment(RenderContext {
        language: key.language,
        zone: IndonesianZone::Wib,
    });
    // The platform's text policy first: a title is one line, a body may span lines; neither
    // may hold control, bidi, invisible or unpaired combining characters (they would reach
    // every borrower's phone, and NUL is refused by the store itself).
    for (part, text, lines) in [
        ("title", &source.title, Lines::Single),
        ("body", &source.body, Lines::Multi),
    ] {
        check_characters(text, part, lines).map_err(|refusal| TemplateError::Text {
            part,
            code: refusal.code(),
            message: refusal.message(),
        })?;
    }
    for (part, text) in [("title", &source.title), ("body", &source.body)] {
        if text.trim().is_empty() {
            return Err(TemplateError::Empty { part });
        }
        only_known_variables(&env, entry, part, text)?;
        refuse_costly(part, text)?;
    }
    let samples = std::iter::once(entry.sample.clone()).chain(entry.sample_without_optionals());
    for sample in samples {
        let rendered = Rendered {
            title: render_part(&env, "title", &source.title, &sample)?,
            body: render_part(&env, "body", &source.body, &sample)?,
        };
        within_limits(&rendered, key.channel, 1)?;
    }
    Ok(())
}

fn environment(cx: RenderContext) -> Environment<'static> {
    // Empty: no builtin filter, test or function; only ours below.
    let mut env = Environment::empty();
    env.set_fuel(Some(FUEL));
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    // Plain text everywhere (SMS, push, text email): escaping would show `&amp;`.
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // `{% if %}` on a line of its own leaves no blank line behind.
    env.set_trim_blocks(true);
    env.set_lstrip_blocks(true);
    // Printing a null would send "Alasan: none": an optional value must be guarded.
    env.set_formatter(|out, state, value| {
        if value.is_none() {
            return Err(Error::new(
                ErrorKind::InvalidOperation,
                "a null value cannot be shown; guard it with {% if … %}",
            ));
        }
        minijinja::escape_formatter(out, state, value)
    });
    env.set_recursion_limit(16);
    env.add_filter("rupiah", filters::rupiah);
    env.add_filter("date", move |value: Value| filters::date(&value, &cx));
    env.add_filter("datetime", move |value: Value| {
        filters::datetime(&value, &cx)
    });
    env
}

fn render_part(
    env: &Environment<'static>,
    part: &'static str,
    text: &str,
    variables: &serde_json::Value,
) -> Result<String, TemplateError> {
    let template = env
        .template_from_named_str(part, text)
        .map_err(|e| syntax(part, &e))?;
    let mut output = BoundedOutput(Vec::new());
    template
        .render_captured_to(variables, &mut output)
        .map_err(|e| match e.kind() {
            ErrorKind::SyntaxError => syntax(part, &e),
            ErrorKind::WriteFailure => TemplateError::RenderFailed {
                at: at(part, e.line()),
                part,
                detail: format!("renders to more than {} KiB", MAX_OUTPUT / 1024),
            },
            ErrorKind::OutOfFuel => TemplateError::RenderFailed {
                at: at(part, e.line()),
                part,
                detail: format!("takes more than {FUEL} steps to render (a loop too long?)"),
            },
            _ => TemplateError::RenderFailed {
                at: at(part, e.line()),
                part,
                detail: detail(&e),
            },
        })?;
    // Every piece written is a `str`, so the bytes are UTF-8.
    let rendered = String::from_utf8_lossy(&output.0);
    Ok(rendered.trim().to_owned())
}

fn only_known_variables(
    env: &Environment<'static>,
    entry: &EventEntry,
    part: &'static str,
    text: &str,
) -> Result<(), TemplateError> {
    let template = env
        .template_from_named_str(part, text)
        .map_err(|e| syntax(part, &e))?;
    // Sorted, so the first unknown one reported is stable.
    let used: BTreeSet<String> = template.undeclared_variables(false).into_iter().collect();
    let unknown = used.into_iter().find(|name| entry.variable(name).is_none());
    match unknown {
        None => Ok(()),
        Some(variable) => Err(TemplateError::UnknownVariable {
            at: at(part, line_of(text, &variable)),
            part,
            known: entry
                .variables
                .iter()
                .map(|v| v.name)
                .collect::<Vec<_>>()
                .join(", "),
            event_type: entry.event_type.to_owned(),
            variable,
        }),
    }
}

fn within_limits(
    rendered: &Rendered,
    channel: ChannelKind,
    slack: usize,
) -> Result<(), TemplateError> {
    let (title_limit, body_limit) = length_limits(channel);
    for (part, text, limit) in [
        ("title", &rendered.title, title_limit),
        ("body", &rendered.body, body_limit),
    ] {
        let length = text.chars().count();
        if let Some(limit) = limit.filter(|limit| length > limit * slack) {
            return Err(TemplateError::TooLong {
                part,
                channel: channel.as_str(),
                length,
                limit: limit * slack,
            });
        }
    }
    Ok(())
}

fn syntax(part: &'static str, error: &Error) -> TemplateError {
    TemplateError::Syntax {
        at: at(part, error.line()),
        part,
        // The message says "syntax error" already; minijinja's kind would say it twice.
        detail: error
            .detail()
            .map_or_else(|| error.kind().to_string(), str::to_owned),
    }
}

fn detail(error: &Error) -> String {
    match error.detail() {
        Some(detail) => format!("{}: {detail}", error.kind()),
        None => error.kind().to_string(),
    }
}

/// The first line where `name` appears as a whole identifier; the analysis that found it does
/// not keep positions.
fn line_of(text: &str, name: &str) -> Option<usize> {
    let is_ident = |c: char| c.is_alphanumeric() || c == '_';
    text.lines()
        .position(|line| {
            line.match_indices(name).any(|(start, _)| {
                let before = line[..start].chars().next_back();
                let after = line[start + name.len()..].chars().next();
                !before.is_some_and(is_ident) && !after.is_some_and(is_ident)
            })
        })
        .map(|index| index + 1)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::Language;
    use crate::templates::TemplateKey;

    fn source(event: &str, channel: ChannelKind, title: &str, body: &str) -> TemplateSource {
        TemplateSource {
            key: TemplateKey::new(event, channel, Language::Id),
            title: title.into(),
            body: body.into(),
        }
    }

    #[test]
    fn renders_in_both_languages_and_zones() {
        let template = source(
            "loan.approved.v1",
            ChannelKind::Push,
            "Halo {{ name }}",
            "{{ amount | rupiah }} disetujui {{ approved_at | datetime }}, {{ approved_at | date }}",
        );
        let variables = json!({
            "name": "Budi", "amount": 1_250_000, "approved_at": "2027-01-15T07:05:00Z",
        });
        let id = render(&template, &variables, &RenderContext::default()).unwrap();
        assert_eq!(id.title, "Halo Budi");
        assert_eq!(
            id.body,
            "Rp1.250.000 disetujui 15 Januari 2027 14.05 WIB, 15 Januari 2027"
        );
        let en = RenderContext {
            language: Language::En,
            zone: IndonesianZone::Wit,
        };
        let en = render(&template, &variables, &en).unwrap();
        assert_eq!(
            en.body,
            "Rp1.250.000 disetujui 15 January 2027 16:05 WIT, 15 January 2027"
        );
    }

    #[test]
    fn a_missing_variable_is_an_error_not_blank_text() {
        let template = source(
            "loan.approved.v1",
            ChannelKind::Push,
            "Halo {{ name }}",
            "Pinjaman\n{{ amount | rupiah }}",
        );
        let error = render(
            &template,
            &json!({"name": "Budi"}),
            &RenderContext::default(),
        )
        .unwrap_err();
        assert_eq!(error.code(), "RENDER_FAILED");
        assert!(error.to_string().starts_with("body, line 2:"), "{error}");
    }

    #[test]
    fn unknown_variable_is_named_with_its_line() {
        let template = source(
            "loan.approved.v1",
            ChannelKind::Email,
            "Pinjaman disetujui",
            "Halo {{ name }},\nsebesar {{ amount | rupiah }}\ncicilan {{ monthly_installment | rupiah }}",
        );
        let error = check(&template).unwrap_err();
        assert_eq!(error.code(), "UNKNOWN_VARIABLE");
        assert_eq!(error.field(), "body");
        let message = error.to_string();
        assert!(
            message.starts_with("body, line 3: unknown variable `monthly_installment`"),
            "{message}"
        );
        assert!(message.contains("amount, tenor_months"), "{message}");
    }

    #[test]
    fn syntax_error_is_refused_with_its_line() {
        let template = source(
            "loan.paid.v1",
            ChannelKind::Sms,
            "Lunas",
            "Halo {{ name }}\n{% if total_paid %}lunas",
        );
        let error = check(&template).unwrap_err();
        assert_eq!(error.code(), "TEMPLATE_SYNTAX");
        assert!(error.to_string().starts_with("body, line 2"), "{error}");
        assert_eq!(
            error.to_string().matches("syntax error").count(),
            1,
            "{error}"
        );
        let unclosed = source("loan.paid.v1", ChannelKind::Sms, "{{ name", "x");
        assert_eq!(check(&unclosed).unwrap_err().field(), "title");
    }

    #[test]
    fn text_the_platform_refuses_is_refused_in_either_part() {
        for (title, body, field) in [
            ("Lunas\u{0}", "Halo {{ name }}", "title"),
            ("Lunas \u{202E}dlrow", "Halo {{ name }}", "title"),
            ("Lunas\nbaris dua", "Halo {{ name }}", "title"),
            ("Lunas", "\u{FEFF}Halo {{ name }}", "body"),
            ("Lunas", "Halo \u{301}{{ name }}", "body"),
        ] {
            let error = check(&source("loan.paid.v1", ChannelKind::Sms, title, body)).unwrap_err();
            assert_eq!(
                error.code(),
                "TEXT_INVALID_CHARACTERS",
                "{title:?} {body:?}"
            );
            assert_eq!(error.field(), field);
        }
        // A body spans lines; tabs and newlines are text, not controls.
        let fine = source(
            "loan.paid.v1",
            ChannelKind::Sms,
            "Lunas",
            "Halo {{ name }},\n\tterima kasih",
        );
        check(&fine).unwrap();
    }

    #[test]
    fn no_code_execution_nor_files() {
        for body in [
            "{% include 'secrets.txt' %}",
            "{% import 'x' as x %}",
            "{% extends 'base' %}",
            "{% macro m() %}x{% endmacro %}",
        ] {
            let template = source("loan.paid.v1", ChannelKind::Sms, "Lunas", body);
            let error = check(&template).unwrap_err();
            assert_eq!(error.code(), "TEMPLATE_SYNTAX", "{body}: {error}");
        }
        for body in ["{% for i in range(10) %}x{% endfor %}", "{{ debug() }}"] {
            let template = source("loan.paid.v1", ChannelKind::Sms, "Lunas", body);
            assert_eq!(
                check(&template).unwrap_err().code(),
                "UNKNOWN_VARIABLE",
                "{body}"
            );
        }
    }

    #[test]
    fn a_wrong_filter_input_fails_the_check() {
        let template = source(
            "loan.activated.v1",
            ChannelKind::Sms,
            "Dana cair",
            "Dana {{ payout_reference | rupiah }}",
        );
        let error = check(&template).unwrap_err();
        assert_eq!(error.code(), "RENDER_FAILED");
        assert!(
            error.to_string().contains("rupiah expects a whole number"),
            "{error}"
        );
    }

    #[test]
    fn an_optional_value_must_be_handled() {
        let careless = source(
            "loan.rejected.v1",
            ChannelKind::Push,
            "Ditolak",
            "Ditolak.\nAlasan: {{ reason }}",
        );
        let error = check(&careless).unwrap_err();
        assert_eq!(error.code(), "RENDER_FAILED");
        assert!(
            error
                .to_string()
                .starts_with("body, line 2: cannot render:")
                && error.to_string().contains("guard it with {% if"),
            "{error}"
        );
        let careful = source(
            "loan.rejected.v1",
            ChannelKind::Push,
            "Ditolak",
            "Ditolak.{% if reason %} Alasan: {{ reason }}{% endif %}",
        );
        check(&careful).unwrap();
    }

    #[test]
    fn length_limits_per_channel() {
        let long = "x".repeat(481);
        let sms = source("loan.paid.v1", ChannelKind::Sms, "Lunas", &long);
        let error = check(&sms).unwrap_err();
        assert_eq!(error.code(), "TOO_LONG");
        assert_eq!(
            error.to_string(),
            "body is 481 characters once rendered; sms allows at most 480"
        );
        check(&source(
            "loan.paid.v1",
            ChannelKind::Sms,
            "Lunas",
            &long[1..],
        ))
        .unwrap();
        let push_title = source("loan.paid.v1", ChannelKind::Push, &"y".repeat(66), "ok");
        assert_eq!(check(&push_title).unwrap_err().field(), "title");
        let push_body = source("loan.paid.v1", ChannelKind::Push, "ok", &"y".repeat(241));
        assert_eq!(check(&push_body).unwrap_err().code(), "TOO_LONG");
        let subject = source("loan.paid.v1", ChannelKind::Email, &"s".repeat(151), "ok");
        assert_eq!(check(&subject).unwrap_err().code(), "TOO_LONG");
        let long_email = source(
            "loan.paid.v1",
            ChannelKind::Email,
            "ok",
            &"e".repeat(10_000),
        );
        check(&long_email).unwrap();
    }

    #[test]
    fn unknown_event_channel_and_empty_parts_are_refused() {
        let unknown = source("loan.submitted.v1", ChannelKind::Sms, "a", "b");
        assert_eq!(check(&unknown).unwrap_err().code(), "UNKNOWN_EVENT");
        let sms_kyc = source("kyc.verified.v1", ChannelKind::Sms, "a", "b");
        let error = check(&sms_kyc).unwrap_err();
        assert_eq!(error.code(), "CHANNEL_NOT_USED");
        assert!(error.to_string().contains("email, push"), "{error}");
        let empty = source("loan.paid.v1", ChannelKind::Sms, "Lunas", "  ");
        assert_eq!(check(&empty).unwrap_err().code(), "EMPTY");
    }

    #[test]
    fn loops_and_local_names_are_not_unknown_variables() {
        let template = source(
            "loan.rejected.v1",
            ChannelKind::Email,
            "Ditolak",
            "{% set who = name %}{{ who }}:\n{% for code in reason_codes %}{{ loop.index }}. {{ code }}\n{% endfor %}",
        );
        check(&template).unwrap();
    }

    /// Real data may run a little past the sample's length, not without bound.
    #[test]
    fn runaway_output_is_refused_at_render_time() {
        let template = source("loan.paid.v1", ChannelKind::Push, "Lunas {{ name }}", "ok");
        let cx = RenderContext::default();
        let long_name = "N".repeat(100);
        render(&template, &json!({ "name": long_name }), &cx).unwrap();
        let huge_name = "N".repeat(200);
        let error = render(&template, &json!({ "name": huge_name }), &cx).unwrap_err();
        assert_eq!(error.code(), "TOO_LONG");
    }

    /// A template stored before the save-time rules, or one that slips past them, still cannot
    /// loop for long: nested loops over the borrower's name (21^4 turns) run out of steps.
    #[test]
    fn a_render_that_takes_too_many_steps_is_stopped() {
        let loops = "{% for a in name %}{% for b in name %}{% for c in name %}{% for d in name %}x\
                     {% endfor %}{% endfor %}{% endfor %}{% endfor %}";
        let template = source("loan.paid.v1", ChannelKind::Email, "Lunas", loops);
        let error = render(
            &template,
            &json!({ "name": "Siti Rahayu Wulandari" }),
            &RenderContext::default(),
        )
        .unwrap_err();
        assert_eq!(error.code(), "RENDER_FAILED");
        assert!(error.to_string().contains("steps to render"), "{error}");
    }

    /// An email body has no length limit of its own, but a render stops at 64 KiB, before the
    /// text can grow to hurt the service.
    #[test]
    fn a_render_that_writes_too_much_is_stopped() {
        let each_turn = "{{ name }}".repeat(10);
        let body = format!(
            "{{% for a in name %}}{{% for b in name %}}{each_turn}{{% endfor %}}{{% endfor %}}"
        );
        let template = source("loan.paid.v1", ChannelKind::Email, "Lunas", &body);
        let error = render(
            &template,
            &json!({ "name": "N".repeat(200) }),
            &RenderContext::default(),
        )
        .unwrap_err();
        assert_eq!(error.code(), "RENDER_FAILED");
        assert!(error.to_string().contains("more than 64 KiB"), "{error}");
    }

    /// minijinja's builtin filters are not ours to offer: several grow text without bound when
    /// chained (`replace("", …)`, `join`) or allocate what their argument says (`center`).
    #[test]
    fn only_our_filters_exist() {
        for body in [
            "{{ name | replace('', name) }}",
            "{{ name | center(1000000000) }}",
            "{{ name | join(name) }}",
            "{{ name | upper }}",
        ] {
            let template = source("loan.paid.v1", ChannelKind::Email, "Lunas", body);
            let error = check(&template).unwrap_err();
            assert!(
                error.to_string().contains("unknown filter"),
                "{body}: {error}"
            );
        }
    }

    /// Repetition and block capture are refused when saved, naming the line.
    #[test]
    fn growth_is_refused_when_saved() {
        let body = "Halo\n{% for a in reason_codes * 1000000 %}{% for b in reason_codes * 1000000 %}x{% endfor %}{% endfor %}";
        let template = source("loan.rejected.v1", ChannelKind::Email, "Ditolak", body);
        let error = check(&template).unwrap_err();
        assert_eq!(error.code(), "TEMPLATE_NOT_ALLOWED");
        assert_eq!(error.field(), "body");
        assert!(error.to_string().starts_with("body, line 2"), "{error}");
    }

    #[test]
    fn lines_are_found_for_whole_identifiers_only() {
        assert_eq!(line_of("a\nxamount\n{{ amount }}", "amount"), Some(3));
        assert_eq!(line_of("nothing", "amount"), None);
    }
}

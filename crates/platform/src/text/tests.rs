//! The text policy, case by case.

use super::*;

fn single(raw: &str) -> Result<String, TextRefusal> {
    clean_text(raw, "name", 20)
}

fn code(raw: &str) -> &'static str {
    single(raw).unwrap_err().code()
}

#[test]
fn ordinary_text_is_trimmed_collapsed_and_kept() {
    assert_eq!(single("  Siti \t  Rahayu ").unwrap(), "Siti Rahayu");
    assert_eq!(single("Ni Luh Putu").unwrap(), "Ni Luh Putu");
    assert_eq!(single("Nguyễn Thị Minh").unwrap(), "Nguyễn Thị Minh");
    assert_eq!(single("O'Brien-Smith, Jr.").unwrap(), "O'Brien-Smith, Jr.");
    assert_eq!(single("Modal usaha 🏪").unwrap(), "Modal usaha 🏪");
    assert_eq!(single("山田 太郎").unwrap(), "山田 太郎");
    // A no-break space is whitespace: collapsed like any other.
    assert_eq!(single("Siti\u{a0}Rahayu").unwrap(), "Siti Rahayu");
}

#[test]
fn text_is_nfc_normalised_and_measured_in_characters_after_it() {
    // e + combining acute (NFD) becomes é (NFC).
    let cleaned = single("Jose\u{301}").unwrap();
    assert_eq!(cleaned, "José");
    assert_eq!(cleaned.chars().count(), 4);
    // 20 decomposed letters are 40 code points but 20 characters after NFC.
    assert!(single(&"e\u{301}".repeat(20)).is_ok());
    assert_eq!(single(&"é".repeat(21)).unwrap_err().code(), TEXT_TOO_LONG);
    // Hangul jamo compose into syllables.
    assert_eq!(single("\u{1100}\u{1161}").unwrap(), "가");
}

#[test]
fn every_control_character_is_refused() {
    for c in (0u32..0x20).chain(0x7F..0xA0).filter_map(char::from_u32) {
        if c == '\t' {
            continue;
        }
        let refusal = single(&format!("Si{c}ti")).unwrap_err();
        assert_eq!(
            refusal.code(),
            TEXT_INVALID_CHARACTERS,
            "U+{:04X}",
            c as u32
        );
        assert_eq!(
            refusal.problem,
            TextProblem::InvalidCharacter {
                position: 2,
                code_point: c as u32
            }
        );
    }
    assert_eq!(code("\0"), TEXT_INVALID_CHARACTERS);
    assert_eq!(code("Siti\u{85}"), TEXT_INVALID_CHARACTERS);
    assert_eq!(code("Siti\nRahayu"), TEXT_INVALID_CHARACTERS);
    assert_eq!(code("Siti\rRahayu"), TEXT_INVALID_CHARACTERS);
}

#[test]
fn bidi_zero_width_tag_and_noncharacters_are_refused() {
    for cp in [
        0x061C, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E,
        0x2060, 0x2066, 0x2067, 0x2068, 0x2069, 0xFEFF, 0xE0001, 0xE0041, 0xE007F, 0xFDD0, 0xFDEF,
        0xFFFE, 0xFFFF, 0x1FFFF, 0x10FFFF, 0x2028, 0x2029, 0x00AD, 0x180E, 0x3164, 0xFFF9, 0x2800,
    ] {
        let c = char::from_u32(cp).unwrap();
        assert_eq!(
            code(&format!("ab{c}cd")),
            TEXT_INVALID_CHARACTERS,
            "U+{cp:04X}"
        );
        assert!(is_forbidden_character(c), "U+{cp:04X}");
    }
    // Private use and the replacement character are not refused, nor are braille patterns
    // with dots.
    assert!(single("a\u{E000}b\u{FFFD}\u{2801}").is_ok());
}

#[test]
fn lone_and_stacked_combining_marks_are_refused() {
    assert_eq!(code("\u{301}"), TEXT_INVALID_CHARACTERS);
    assert_eq!(code("\u{301}Siti"), TEXT_INVALID_CHARACTERS);
    assert_eq!(code("Siti \u{308}Rahayu"), TEXT_INVALID_CHARACTERS);
    assert_eq!(
        code(&format!("a{}", "\u{316}".repeat(MAX_COMBINING_RUN + 1))),
        TEXT_INVALID_CHARACTERS
    );
    // A few marks on one base are ordinary (Vietnamese, Thai, Devanagari).
    assert!(single("a\u{316}\u{317}").is_ok());
    assert!(single("Việt").is_ok());
    assert!(single("สวัสดี").is_ok());
    assert!(single("नमस्ते").is_ok());
}

#[test]
fn length_is_checked_after_cleaning() {
    assert_eq!(code(""), TEXT_REQUIRED);
    assert_eq!(code(" \t "), TEXT_REQUIRED);
    assert_eq!(code(&"x".repeat(21)), TEXT_TOO_LONG);
    assert!(single(&"x".repeat(20)).is_ok());
    assert!(single(&format!("  {}  ", "x".repeat(20))).is_ok());
    assert_eq!(code(&"x".repeat(10_000)), TEXT_TOO_LONG);
    assert_eq!(code(&"x".repeat(1 << 20)), TEXT_TOO_LONG);
    // Even a megabyte of NULs is refused for its length first, without scanning it.
    assert_eq!(code(&"\0".repeat(1 << 20)), TEXT_TOO_LONG);
    let reason = TextPolicy::multi_line(500).min_chars(3);
    assert_eq!(
        reason.clean("reason", " x ").unwrap_err().problem,
        TextProblem::TooShort { min: 3 }
    );
}

#[test]
fn multi_line_keeps_newlines_and_tabs_only() {
    let notes = TextPolicy::multi_line(100);
    assert_eq!(
        notes.clean("notes", "  line one\r\n\tline two \n").unwrap(),
        "line one\n\tline two"
    );
    assert_eq!(
        notes.clean("notes", "a\rb").unwrap_err().code(),
        TEXT_INVALID_CHARACTERS
    );
    assert_eq!(
        notes.clean("notes", "a\u{0}b").unwrap_err().code(),
        TEXT_INVALID_CHARACTERS
    );
    assert_eq!(
        notes.clean("notes", "a\u{2028}b").unwrap_err().code(),
        TEXT_INVALID_CHARACTERS
    );
}

#[test]
fn refusals_name_the_field_and_never_echo_the_value() {
    let refusal = clean_text("secret\u{202E}value", "purpose", 200).unwrap_err();
    assert_eq!(refusal.field, "purpose");
    let message = refusal.message();
    assert!(
        message.contains("purpose") && message.contains("U+202E"),
        "{message}"
    );
    assert!(!message.contains("secret"), "{message}");
}

#[test]
fn character_rules_alone_for_secrets_and_identifiers() {
    assert!(check_characters("kopi susu di pagi hari", "password", Lines::None).is_ok());
    assert!(check_characters("kopi\tsusu", "password", Lines::None).is_err());
    assert!(check_characters("kopi\u{0}susu", "password", Lines::None).is_err());
    assert!(check_characters("\u{301}kopi", "password", Lines::None).is_err());
    assert!(check_characters("kopi\tsusu", "name", Lines::Single).is_ok());
    assert!(is_plain_token("abc-123_XYZ.:/+=", 64));
    assert!(!is_plain_token("", 64));
    assert!(!is_plain_token("a b", 64));
    assert!(!is_plain_token("a\u{0}b", 64));
    assert!(!is_plain_token("é", 64));
    assert!(!is_plain_token(&"a".repeat(65), 64));
}

//! Normalising the identifiers people type: an email and an Indonesian mobile number each have
//! one stored form, so uniqueness and login do not depend on how they were typed.

/// Why an identifier was refused (maps to a `userErrors` code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentifierError {
    EmailInvalid,
    PhoneInvalid,
}

pub const MAX_EMAIL_LEN: usize = 254;

/// Trimmed and lower-cased. Lower-casing the local part is not RFC-exact, but every mail
/// provider our customers use treats it case-insensitively, and two accounts differing only in
/// case would be a support and fraud problem.
pub fn normalise_email(raw: &str) -> Result<String, IdentifierError> {
    let email = raw.trim().to_lowercase();
    // Non-ASCII local parts are valid (RFC 6531), but not control, bidi, invisible or tag
    // characters (platform text policy): they would make two different addresses look alike.
    if email.len() > MAX_EMAIL_LEN
        || tenor_platform::text::check_characters(
            &email,
            "email",
            tenor_platform::text::Lines::None,
        )
        .is_err()
        || !email_address::EmailAddress::is_valid(&email)
    {
        return Err(IdentifierError::EmailInvalid);
    }
    // A dotless domain is valid per RFC 5322 but never a customer's mailbox.
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if !domain.contains('.') || domain.starts_with('.') || domain.ends_with('.') {
        return Err(IdentifierError::EmailInvalid);
    }
    Ok(email)
}

/// An Indonesian mobile number in E.164 (`+628…`). Accepts `08…`, `628…`, `+628…` with spaces,
/// dots, dashes or parentheses. Mobile numbers start with 8 after the country code and have 9 to
/// 12 digits after it (`+62 8xx-xxxx-xxxx`). Only mobile numbers: the account's number receives
/// SMS/WhatsApp. Hand-written rather than libphonenumber: this one rule is all we need.
pub fn normalise_phone(raw: &str) -> Result<String, IdentifierError> {
    let trimmed = raw.trim();
    if trimmed.len() > 32 {
        return Err(IdentifierError::PhoneInvalid);
    }
    let mut digits = String::with_capacity(16);
    for (i, c) in trimmed.chars().enumerate() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if i == 0 => {}
            ' ' | '-' | '.' | '(' | ')' => {}
            _ => return Err(IdentifierError::PhoneInvalid),
        }
    }
    let national = if let Some(rest) = digits.strip_prefix("62") {
        rest
    } else if let Some(rest) = digits.strip_prefix('0') {
        rest
    } else {
        return Err(IdentifierError::PhoneInvalid);
    };
    if !national.starts_with('8') || !(9..=12).contains(&national.len()) {
        return Err(IdentifierError::PhoneInvalid);
    }
    Ok(format!("+62{national}"))
}

/// What a login identifier is: an email if it has an `@`, else a phone number.
pub fn normalise_login_identifier(raw: &str) -> Result<LoginIdentifier, IdentifierError> {
    if raw.contains('@') {
        normalise_email(raw).map(LoginIdentifier::Email)
    } else {
        normalise_phone(raw).map(LoginIdentifier::Phone)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginIdentifier {
    Email(String),
    Phone(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalise_email("  Siti.Rahayu@Example.CO.ID "),
            Ok("siti.rahayu@example.co.id".into())
        );
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "siti",
            "siti@",
            "@example.com",
            "siti@localhost",
            "a b@c.id",
            "siti@example.",
            &format!("{}@example.com", "a".repeat(250)),
        ] {
            assert_eq!(
                normalise_email(bad),
                Err(IdentifierError::EmailInvalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn indonesian_mobile_numbers_become_e164() {
        for raw in [
            "081234567890",
            "+6281234567890",
            "6281234567890",
            "0812-3456-7890",
            "+62 812 3456 7890",
            "(0812) 3456.7890",
        ] {
            assert_eq!(normalise_phone(raw), Ok("+6281234567890".into()), "{raw}");
        }
        assert_eq!(normalise_phone("0811234567"), Ok("+62811234567".into()));
    }

    #[test]
    fn non_mobile_or_foreign_numbers_are_refused() {
        for bad in [
            "",
            "0212345678",
            "+6221234567",
            "+14155552671",
            "0812",
            "08123456789012345",
            "0812abc45678",
            "++6281234567890",
            "0812+34567890",
        ] {
            assert_eq!(
                normalise_phone(bad),
                Err(IdentifierError::PhoneInvalid),
                "{bad}"
            );
        }
    }

    #[test]
    fn login_identifier_is_email_or_phone() {
        assert_eq!(
            normalise_login_identifier("A@B.id"),
            Ok(LoginIdentifier::Email("a@b.id".into()))
        );
        assert_eq!(
            normalise_login_identifier("0812 3456 7890"),
            Ok(LoginIdentifier::Phone("+6281234567890".into()))
        );
    }
}

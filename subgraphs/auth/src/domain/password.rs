//! Password policy (OWASP ASVS 5.0 V6) and hashing (argon2id, OWASP parameters).
//!
//! Policy: 8 to 128 characters, any characters, no composition rules, and not guessable: a
//! password that is (or is close to) a commonly used one, or that zxcvbn estimates crackable in
//! under 10^6 guesses (including one built from the user's own name, email or phone), is
//! refused. zxcvbn ships the common-password frequency list we check against.
//!
//! Hashing is CPU-heavy by design (~20 ms of one core), so it always runs on the blocking pool,
//! never on an async worker.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use zxcvbn::feedback::Warning;

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PasswordRejection {
    TooShort,
    TooLong,
    TooCommon,
    TooWeak,
    /// A control, bidi, invisible or tag character, or a lone combining mark (platform text
    /// policy): it could not be typed again reliably and has no place in a secret.
    InvalidCharacters,
    /// A change to the password already in use: it would end every other session and announce
    /// a change to the borrower while changing nothing.
    Unchanged,
}

impl PasswordRejection {
    pub fn code(self) -> &'static str {
        match self {
            Self::TooShort => "PASSWORD_TOO_SHORT",
            Self::TooLong => "PASSWORD_TOO_LONG",
            Self::TooCommon => "PASSWORD_TOO_COMMON",
            Self::TooWeak => "PASSWORD_TOO_WEAK",
            Self::InvalidCharacters => "PASSWORD_INVALID_CHARACTERS",
            Self::Unchanged => "PASSWORD_UNCHANGED",
        }
    }

    pub fn message(self) -> String {
        match self {
            Self::TooShort => format!(
                "Kata sandi minimal {MIN_CHARS} karakter. / Password must be at least {MIN_CHARS} characters."
            ),
            Self::TooLong => format!(
                "Kata sandi maksimal {MAX_CHARS} karakter. / Password must be at most {MAX_CHARS} characters."
            ),
            Self::TooCommon => "Kata sandi ini terlalu umum. / This password is too common.".into(),
            Self::TooWeak => {
                "Kata sandi mudah ditebak. / This password is too easy to guess.".into()
            }
            Self::InvalidCharacters => "Kata sandi mengandung karakter yang tidak diizinkan. / The password contains a character that is not allowed.".into(),
            Self::Unchanged => "Kata sandi baru harus berbeda dari kata sandi sekarang. / The new password must differ from the current one.".into(),
        }
    }
}

/// Check a new password. `personal` are the user's own details (name, email, phone), which
/// make a password weaker when it contains them.
pub fn check_policy(password: &str, personal: &[&str]) -> Result<(), PasswordRejection> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(PasswordRejection::TooShort);
    }
    if chars > MAX_CHARS {
        return Err(PasswordRejection::TooLong);
    }
    if tenor_platform::text::check_characters(
        password,
        "password",
        tenor_platform::text::Lines::None,
    )
    .is_err()
    {
        return Err(PasswordRejection::InvalidCharacters);
    }
    // zxcvbn's cost grows with the personal inputs: long ones (refused elsewhere) are left out.
    let personal: Vec<&str> = personal
        .iter()
        .copied()
        .filter(|p| p.len() <= 256)
        .collect();
    let personal = personal.as_slice();
    let estimate = zxcvbn::zxcvbn(password, personal);
    let common = estimate
        .feedback()
        .and_then(|f| f.warning())
        .is_some_and(|w| {
            matches!(
                w,
                Warning::ThisIsATop10Password
                    | Warning::ThisIsATop100Password
                    | Warning::ThisIsACommonPassword
                    | Warning::ThisIsSimilarToACommonlyUsedPassword
            )
        });
    if common {
        return Err(PasswordRejection::TooCommon);
    }
    if u8::from(estimate.score()) < 2 {
        return Err(PasswordRejection::TooWeak);
    }
    Ok(())
}

/// argon2id with OWASP's first recommended configuration: m = 19 MiB, t = 2, p = 1.
fn hasher() -> Argon2<'static> {
    Argon2::new(
        Algorithm::Argon2id,
        Version::V0x13,
        Params::new(19 * 1024, 2, 1, None).expect("valid argon2 parameters"),
    )
}

/// PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`). Blocking: call from the blocking pool.
pub fn hash(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    hasher()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashing with valid parameters")
        .to_string()
}

/// Blocking: call from the blocking pool. The parameters come from the stored hash, so hashes
/// made with older parameters still verify.
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|parsed| {
            hasher()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Hash on the blocking pool.
pub async fn hash_async(password: String) -> String {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .expect("hashing task")
}

/// Verify on the blocking pool. With `phc = None` (unknown account) a dummy hash is verified
/// instead, so "no such user" costs the same time as "wrong password".
pub async fn verify_async(password: String, phc: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || match phc {
        Some(phc) => verify(&password, &phc),
        None => {
            let _ = verify(&password, dummy_hash());
            false
        }
    })
    .await
    .expect("verification task")
}

fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("tenor-timing-equaliser-not-a-password"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_limits_count_characters_not_bytes() {
        assert_eq!(check_policy("short", &[]), Err(PasswordRejection::TooShort));
        // 8 multi-byte characters are long enough.
        assert_eq!(check_policy("ĝŝĥĵŭĉƶǿ", &[]), Ok(()));
        assert_eq!(
            check_policy(&"Tx9!".repeat(33), &[]),
            Err(PasswordRejection::TooLong)
        );
    }

    #[test]
    fn common_passwords_are_refused() {
        for common in [
            "password",
            "12345678",
            "qwertyuiop",
            "iloveyou1",
            "Password1",
        ] {
            assert_eq!(
                check_policy(common, &[]),
                Err(PasswordRejection::TooCommon),
                "{common}"
            );
        }
    }

    #[test]
    fn guessable_passwords_built_from_personal_details_are_refused() {
        let refused = check_policy("sitirahayu", &["siti", "rahayu", "siti@example.id"]);
        assert!(refused.is_err(), "{refused:?}");
    }

    #[test]
    fn control_bidi_and_invisible_characters_are_refused() {
        for hostile in [
            "kopi susu\u{0} di pagi hari",
            "kopi susu\t di pagi hari",
            "kopi susu\u{202E} di pagi hari",
            "kopi susu\u{200B} di pagi hari",
            "\u{301}kopi susu di pagi hari",
        ] {
            assert_eq!(
                check_policy(hostile, &[]),
                Err(PasswordRejection::InvalidCharacters),
                "{hostile:?}"
            );
        }
        assert!(check_policy("kopi susu dí pagi hari", &[]).is_ok());
    }

    #[test]
    fn passphrases_without_composition_rules_are_fine() {
        assert_eq!(check_policy("kopi susu di pagi hari", &[]), Ok(()));
        assert_eq!(check_policy("Tx9-kelapa-muda-88", &[]), Ok(()));
    }

    #[test]
    fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let phc = hash("kopi susu di pagi hari");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("kopi susu di pagi hari", &phc));
        assert!(!verify("kopi susu di sore hari", &phc));
        assert!(!verify("anything", "not a phc string"));
        assert_ne!(hash("same"), hash("same"), "salted");
    }
}

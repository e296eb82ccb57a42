//! What a new customer account must look like: every problem with the input is reported at
//! once, so the app can mark all the fields in one round trip.

use tenor_platform::text::TextPolicy;

use super::identity::{self, IdentifierError};
use super::password;
use super::refusal::AuthRefusal;

pub const MAX_FULLNAME_CHARS: usize = 100;

/// The registration form as the customer filled it in.
pub struct Registration {
    pub fullname: String,
    pub email: String,
    pub phone_number: String,
    pub password: String,
}

/// Registration input that passed every rule, in its stored form.
#[derive(Debug)]
pub struct ValidRegistration {
    pub fullname: String,
    pub email: String,
    pub phone: String,
}

pub fn validate(input: &Registration) -> Result<ValidRegistration, Vec<AuthRefusal>> {
    let mut refusals = Vec::new();
    // The platform text policy (NFC, no control/bidi/invisible/tag characters, whitespace
    // collapsed); every refusal keeps the published code FULLNAME_INVALID.
    let fullname =
        match TextPolicy::single_line(MAX_FULLNAME_CHARS).clean("fullname", &input.fullname) {
            Ok(fullname) => fullname,
            Err(refusal) => {
                refusals.push(if refusal.is_invalid_characters() {
                    AuthRefusal::FullnameInvalidCharacters
                } else {
                    AuthRefusal::FullnameLength
                });
                String::new()
            }
        };
    let email = identity::normalise_email(&input.email);
    if email == Err(IdentifierError::EmailInvalid) {
        refusals.push(AuthRefusal::EmailInvalid);
    }
    let phone = identity::normalise_phone(&input.phone_number);
    if phone.is_err() {
        refusals.push(AuthRefusal::PhoneInvalid);
    }
    let personal: Vec<&str> = [
        input.fullname.as_str(),
        input.email.as_str(),
        input.phone_number.as_str(),
    ]
    .into_iter()
    .chain(input.fullname.split_whitespace())
    .collect();
    if let Err(rejection) = password::check_policy(&input.password, &personal) {
        refusals.push(AuthRefusal::Password {
            rejection,
            field: "password",
        });
    }
    match (email, phone, refusals.is_empty()) {
        (Ok(email), Ok(phone), true) => Ok(ValidRegistration {
            fullname,
            email,
            phone,
        }),
        _ => Err(refusals),
    }
}

#[cfg(test)]
mod tests {
    use tenor_platform::refusal::Refusal;

    use super::*;

    fn input() -> Registration {
        Registration {
            fullname: "Siti Rahayu".into(),
            email: "Siti@Example.id".into(),
            phone_number: "0812-3456-7890".into(),
            password: "kopi susu di pagi hari".into(),
        }
    }

    #[test]
    fn valid_input_is_normalised() {
        let valid = validate(&input()).unwrap();
        assert_eq!(valid.email, "siti@example.id");
        assert_eq!(valid.phone, "+6281234567890");
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let errors = validate(&Registration {
            fullname: " ".into(),
            email: "nope".into(),
            phone_number: "12345".into(),
            password: "password".into(),
        })
        .unwrap_err();
        let codes: Vec<&str> = errors.iter().map(|e| e.code()).collect();
        assert_eq!(
            codes,
            vec![
                "FULLNAME_INVALID",
                "EMAIL_INVALID",
                "PHONE_INVALID",
                "PASSWORD_TOO_COMMON"
            ]
        );
    }

    #[test]
    fn oversize_fields_are_refused() {
        let mut long = input();
        long.fullname = "a".repeat(MAX_FULLNAME_CHARS + 1);
        assert_eq!(validate(&long).unwrap_err()[0].code(), "FULLNAME_INVALID");
    }
}

//! The shapes a device's id and name must have before anything is stored or looked up.

use tenor_platform::text::{TextPolicy, TextProblem, is_plain_token};

use super::refusal::AuthRefusal;

/// Longest device id or device name accepted.
pub const MAX_DEVICE_TEXT_CHARS: usize = 128;

/// A biometric device id: short and plain, so it can be part of the signed challenge message.
pub fn valid_device_id(device_id: &str) -> bool {
    !device_id.is_empty()
        && device_id.len() <= MAX_DEVICE_TEXT_CHARS
        && device_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b))
}

/// The name a biometric device is registered under, cleaned by the platform text policy; every
/// refusal keeps the code DEVICE_NAME_INVALID.
pub fn device_name(name: &str) -> Result<String, AuthRefusal> {
    TextPolicy::single_line(MAX_DEVICE_TEXT_CHARS)
        .clean("name", name)
        .map_err(|_| AuthRefusal::DeviceNameInvalid)
}

/// The device a password login comes from: the id is an opaque token, the name free text under
/// the platform policy (a blank name is no name). Returns the cleaned name.
pub fn login_device(id: Option<&str>, name: Option<&str>) -> Result<Option<String>, AuthRefusal> {
    if id.is_some_and(|id| !is_plain_token(id, MAX_DEVICE_TEXT_CHARS)) {
        return Err(AuthRefusal::LoginDeviceIdInvalid);
    }
    let Some(name) = name else {
        return Ok(None);
    };
    match TextPolicy::single_line(MAX_DEVICE_TEXT_CHARS).clean("name", name) {
        Ok(name) => Ok(Some(name)),
        Err(refusal) if refusal.is_invalid_characters() => Err(AuthRefusal::LoginDeviceNameInvalid),
        Err(refusal) => match refusal.problem {
            TextProblem::Required => Ok(None),
            _ => Err(AuthRefusal::LoginDeviceIdInvalid),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_are_short_plain_text() {
        assert!(valid_device_id("android-abc_1.2:3"));
        assert!(!valid_device_id(""));
        assert!(!valid_device_id("a b"));
        assert!(!valid_device_id(&"a".repeat(MAX_DEVICE_TEXT_CHARS + 1)));
    }

    #[test]
    fn a_blank_login_device_name_is_no_name() {
        assert_eq!(login_device(Some("d1"), Some("  ")), Ok(None));
        assert_eq!(
            login_device(Some("d1"), Some(" Pixel  7 ")),
            Ok(Some("Pixel 7".into()))
        );
        assert_eq!(
            login_device(Some("d1"), Some("Pixel\u{202E}7")),
            Err(AuthRefusal::LoginDeviceNameInvalid)
        );
    }
}

//! The auth rules, pure and unit-tested: identifiers, password policy, throttling, tokens,
//! biometric signatures.

pub mod biometric;
pub mod identity;
pub mod password;
pub mod throttle;
pub mod tokens;

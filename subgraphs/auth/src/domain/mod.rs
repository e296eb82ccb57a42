//! The auth rules, pure and unit-tested (no database, no Kafka): accounts, sessions,
//! registration input, identifiers, password policy, throttling, tokens, devices, biometric
//! signatures, and every refusal auth answers with.

pub mod account;
pub mod biometric;
pub mod device;
pub mod identity;
pub mod password;
pub mod refusal;
pub mod registration;
pub mod session;
pub mod throttle;
pub mod tokens;

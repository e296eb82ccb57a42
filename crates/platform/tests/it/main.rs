//! The platform crate's integration tests, one binary (one link on a 2-core machine): token
//! verification against a JWKS, the operational endpoints, and configuration that exits.

mod config_exit;
mod jwt_verification;
mod mongo_outage;
mod ops_endpoints;
mod request_span;

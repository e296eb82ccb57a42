//! The KYC subgraph's integration tests, one binary: each module was a test file of its own.
//! Every test starts its own service (database, topic, object directory, keys, token issuer)
//! through `tenor_kyc::testing`, so the modules share nothing but the process.

mod at_rest;
mod back_office;
mod bad_input;
mod data_subject;
mod link_requests;
mod not_yours;
mod pii_access;
mod schema_file;
mod verification_flow;

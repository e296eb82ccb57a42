//! Persistence of the auth context: PostgreSQL tables (functions take a connection so callers
//! compose them inside one transaction) and the Redis revocation set.

pub mod accounts;
pub mod devices;
pub mod known_devices;
pub mod revocations;
pub mod schema;
pub mod sessions;

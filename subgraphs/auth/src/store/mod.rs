//! Persistence of the auth context. Functions take a connection so callers compose them inside
//! one transaction.

pub mod accounts;
pub mod devices;
pub mod schema;
pub mod sessions;

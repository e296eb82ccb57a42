//! "The domain said no" and "something broke", in one shape for every subgraph.
//!
//! A use case returns [`Outcome<T, R>`]: the value, a [`Failure::Refused`] carrying the domain's
//! refusals (any type implementing [`Refusal`]: a stable code the app branches on, the input
//! field at fault, a message safe to show), or a [`Failure::Error`] that is not the caller's
//! fault ([`ServiceError`]: logged in full, answered as `INTERNAL`). The GraphQL layer turns
//! refusals into the payload's `userErrors` with [`payload`]; nothing below the schema knows
//! GraphQL types.

use crate::graphql::{UserError, internal_error};

/// Why the domain refused a request, in the terms the app shows the user.
pub trait Refusal {
    /// Stable machine-readable code, e.g. `AMOUNT_TOO_HIGH`.
    fn code(&self) -> &'static str;
    /// The input field at fault (GraphQL name), if one is.
    fn field(&self) -> Option<&str>;
    /// Safe to show to the user.
    fn message(&self) -> String;

    fn to_user_error(&self) -> UserError {
        UserError::new(self.code(), self.field(), self.message())
    }
}

/// A refusal spelled out where it happens, for rules with nothing more to say than the three
/// parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub code: &'static str,
    pub field: Option<&'static str>,
    pub message: String,
}

impl Refused {
    pub fn new(
        code: &'static str,
        field: Option<&'static str>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            code,
            field,
            message: message.into(),
        }
    }
}

impl Refusal for Refused {
    fn code(&self) -> &'static str {
        self.code
    }
    fn field(&self) -> Option<&str> {
        self.field
    }
    fn message(&self) -> String {
        self.message.clone()
    }
}

/// Something went wrong that is not the caller's fault. Every subgraph's service layer uses this
/// one type; the events crate adds `From` its publish error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("database pool: {0}")]
    Pool(String),
    #[error(transparent)]
    Database(#[from] diesel::result::Error),
    #[error("publishing an event: {0}")]
    Publish(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

impl From<diesel_async::pooled_connection::deadpool::PoolError> for ServiceError {
    fn from(error: diesel_async::pooled_connection::deadpool::PoolError) -> Self {
        Self::Pool(error.to_string())
    }
}

// No `From<ServiceError> for async_graphql::Error` of our own: async-graphql already converts
// anything `Display` — with the error text as the client's message. Resolvers therefore map
// service errors with `internal_error` (logged in full, answered without detail), as
// [`payload`] does.

/// Why a use case did not return its value.
#[derive(Debug, thiserror::Error)]
pub enum Failure<R> {
    /// The domain refused; nothing was changed.
    #[error("refused")]
    Refused(Vec<R>),
    #[error(transparent)]
    Error(#[from] ServiceError),
}

impl<R> Failure<R> {
    /// One refusal.
    pub fn refused(refusal: R) -> Self {
        Self::Refused(vec![refusal])
    }
}

impl<R> From<diesel::result::Error> for Failure<R> {
    fn from(error: diesel::result::Error) -> Self {
        Self::Error(error.into())
    }
}

impl<R> From<anyhow::Error> for Failure<R> {
    fn from(error: anyhow::Error) -> Self {
        Self::Error(error.into())
    }
}

/// What every use case returns.
pub type Outcome<T, R> = Result<T, Failure<R>>;

/// `Err(Failure::Refused([refusal]))`, for `return refuse(...)` in a use case.
pub fn refuse<T, R>(refusal: R) -> Outcome<T, R> {
    Err(Failure::refused(refusal))
}

/// A mutation payload's parts from an outcome: the value and no userErrors, or no value and
/// the refusals as userErrors. A [`ServiceError`] becomes the request's `INTERNAL` error.
pub fn payload<T, R: Refusal>(
    outcome: Outcome<T, R>,
) -> async_graphql::Result<(Option<T>, Vec<UserError>)> {
    match outcome {
        Ok(value) => Ok((Some(value), vec![])),
        Err(Failure::Refused(refusals)) => Ok((None, user_errors(&refusals))),
        Err(Failure::Error(error)) => Err(internal_error(format!("{error:#}"))),
    }
}

/// Refusals as `userErrors`.
pub fn user_errors<R: Refusal>(refusals: &[R]) -> Vec<UserError> {
    refusals.iter().map(Refusal::to_user_error).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_become_user_errors_and_errors_become_internal() {
        let refused: Outcome<u8, Refused> = refuse(Refused::new("TOO_HIGH", Some("amount"), "no"));
        let (value, errors) = payload(refused).unwrap();
        assert_eq!(value, None);
        assert_eq!(
            errors,
            vec![UserError::new("TOO_HIGH", Some("amount"), "no")]
        );

        let ok: Outcome<u8, Refused> = Ok(7);
        assert_eq!(payload(ok).unwrap(), (Some(7), vec![]));

        let broken: Outcome<u8, Refused> = Err(diesel::result::Error::NotFound.into());
        let error = payload(broken).unwrap_err();
        assert_eq!(error.message, "internal error, please try again");
    }
}

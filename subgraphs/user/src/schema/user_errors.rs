//! How a change's outcome becomes a payload: the user, or the userErrors that say why not.

use async_graphql::Result;
use tenor_platform::graphql::{UserError, internal_error};

use super::user::User;
use crate::changes::{Outcome, Refusal};
use crate::domain::{self, Profile};

/// A refusal's rejections as userErrors, in the language the refusal names.
pub(super) fn user_errors(refusal: &Refusal) -> Vec<UserError> {
    refusal
        .rejections
        .iter()
        .map(|r| UserError::new(r.code(), r.field(), r.message(refusal.language)))
        .collect()
}

/// A payload's (user, userErrors) from a change's outcome.
pub(super) fn user_or_errors(outcome: Outcome<Profile>) -> Result<(Option<User>, Vec<UserError>)> {
    match outcome.map_err(internal_error)? {
        Ok(profile) => Ok((Some(User(profile)), vec![])),
        Err(refusal) => Ok((None, user_errors(&refusal))),
    }
}

/// USER_NOT_FOUND on `field`, in the default language (there is no account to take one from).
pub(super) fn not_found(field: &str) -> Vec<UserError> {
    let rejection = domain::Rejection::UserNotFound;
    vec![UserError::new(
        rejection.code(),
        Some(field),
        rejection.message(domain::Language::default()),
    )]
}

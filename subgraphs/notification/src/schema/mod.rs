//! The notification subgraph's GraphQL surface (federation v2). Thin: resolvers check the
//! caller, call [`crate::service::NotificationService`] and shape the result.
//!
//! [`customer`]: the borrower's inbox (owner only); [`subscriptions`]: `notificationReceived`;
//! [`back_office`]: templates and one borrower's deliveries (`notification:admin`, declared
//! with `@requiresScopes` for the router and enforced again here); [`types`]: the object types.

mod back_office;
mod customer;
mod export;
mod subscriptions;
mod types;

use async_graphql::{Context, MergedObject, Schema, SchemaBuilder};

use crate::events::live::LiveHub;
use crate::service::NotificationService;
use tenor_platform::parsed_documents::ParsedDocuments;

/// Staff: templates and every borrower's deliveries.
pub const NOTIFICATION_ADMIN: &str = "notification:admin";

// No doc comments on the roots: they would become descriptions in the served SDL.
#[derive(MergedObject, Default)]
pub struct Query(
    customer::CustomerQuery,
    back_office::BackOfficeQuery,
    export::ExportQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(customer::CustomerMutation, back_office::BackOfficeMutation);

pub use subscriptions::Subscription;

pub type NotificationSchema = Schema<Query, Mutation, Subscription>;

/// The schema without its runtime data: enough to print the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .enable_federation()
        .enable_subscription_in_federation()
}

/// The schema served by the running service.
pub fn build(service: NotificationService, hub: LiveHub) -> NotificationSchema {
    builder()
        .extension(ParsedDocuments::default())
        .data(service)
        .data(hub)
        .finish()
}

/// The federation SDL, as `tenor-notification print-schema` prints it and the router composes.
pub fn sdl() -> String {
    tenor_platform::federation::subgraph_sdl(&builder().finish())
}

fn service<'a>(ctx: &Context<'a>) -> &'a NotificationService {
    ctx.data_unchecked::<NotificationService>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_office_fields_declare_their_scope_and_the_inbox_is_authenticated() {
        let sdl = sdl();
        tenor_platform::testing::assert_field_scopes(
            &sdl,
            &[
                ("notificationTemplates(", NOTIFICATION_ADMIN),
                ("borrowerNotifications(", NOTIFICATION_ADMIN),
                ("createNotificationTemplateVersion(", NOTIFICATION_ADMIN),
                ("previewNotificationTemplate(", NOTIFICATION_ADMIN),
                ("activateNotificationTemplateVersion(", NOTIFICATION_ADMIN),
            ],
        );
        for field in [
            "myNotifications(",
            "unreadNotificationCount:",
            "markNotificationRead(",
            "markAllNotificationsRead:",
            "notificationReceived:",
        ] {
            let line = sdl
                .lines()
                .find(|line| line.trim_start().starts_with(field))
                .unwrap_or_else(|| panic!("{field} missing from\n{sdl}"));
            assert!(line.contains("@authenticated"), "{line}");
        }
    }
}

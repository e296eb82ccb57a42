//! What staff call, behind `notification:admin`: the templates (list, create a version,
//! preview, activate) and one borrower's notifications with every delivery attempt.

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, ID, InputObject, Json, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_platform::cursor::{Cursor, PageRequest};
use tenor_platform::graphql::{CallerExt, UserError, coded_error, internal_error};
use tenor_platform::refusal::payload;
use uuid::Uuid;

use super::types::{BorrowerNotification, Notification, NotificationChannelGql};
use super::{NOTIFICATION_ADMIN, service};
use crate::domain::{ChannelKind, IndonesianZone, Language};
use crate::templates::store::{TemplateFilter, TemplateHead, TemplateVersion};
use crate::templates::{RenderContext, TemplateKey, TemplateSource};

/// One stored version of a template.
#[derive(SimpleObject)]
pub struct NotificationTemplate {
    /// `eventType/channel/language`, e.g. `loan.approved.v1/email/id`.
    pub key: String,
    pub event_type: String,
    pub channel: NotificationChannelGql,
    pub language: Language,
    pub version: i32,
    pub title: String,
    pub body: String,
    /// Whether this version is the one being sent.
    pub active: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
}

impl From<TemplateVersion> for NotificationTemplate {
    fn from(v: TemplateVersion) -> Self {
        Self {
            key: v.source.key.to_string(),
            event_type: v.source.key.event_type.clone(),
            channel: v.source.key.channel.into(),
            language: v.source.key.language,
            version: i32::try_from(v.version).unwrap_or(i32::MAX),
            title: v.source.title,
            body: v.source.body,
            active: v.active,
            created_by: v.created_by,
            created_at: v.created_at,
        }
    }
}

/// Which version of a template is being sent.
#[derive(SimpleObject)]
pub struct NotificationTemplateActivation {
    pub key: String,
    pub active_version: i32,
    pub activated_by: String,
    pub activated_at: DateTime<Utc>,
}

impl From<TemplateHead> for NotificationTemplateActivation {
    fn from(head: TemplateHead) -> Self {
        Self {
            key: head.key.to_string(),
            active_version: i32::try_from(head.active_version).unwrap_or(i32::MAX),
            activated_by: head.activated_by,
            activated_at: head.activated_at,
        }
    }
}

#[derive(InputObject)]
pub struct CreateNotificationTemplateVersionInput {
    pub event_type: String,
    pub channel: NotificationChannelGql,
    pub language: Language,
    /// Email subject, push title, inbox title.
    pub title: String,
    pub body: String,
}

#[derive(SimpleObject)]
pub struct CreateNotificationTemplateVersionPayload {
    pub template: Option<NotificationTemplate>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct PreviewNotificationTemplateInput {
    pub event_type: String,
    pub channel: NotificationChannelGql,
    pub language: Language,
    pub title: String,
    pub body: String,
    /// Event data to render with; fields given replace the catalog's sample data.
    pub data: Option<Json<serde_json::Value>>,
    /// The borrower's time zone for dates and times (default WIB).
    pub time_zone: Option<IndonesianZone>,
}

#[derive(SimpleObject)]
pub struct NotificationTemplatePreview {
    pub title: String,
    pub body: String,
}

#[derive(SimpleObject)]
pub struct PreviewNotificationTemplatePayload {
    pub preview: Option<NotificationTemplatePreview>,
    pub user_errors: Vec<UserError>,
}

#[derive(InputObject)]
pub struct ActivateNotificationTemplateVersionInput {
    pub event_type: String,
    pub channel: NotificationChannelGql,
    pub language: Language,
    pub version: i32,
}

#[derive(SimpleObject)]
pub struct ActivateNotificationTemplateVersionPayload {
    pub activation: Option<NotificationTemplateActivation>,
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct BackOfficeQuery;

#[Object]
impl BackOfficeQuery {
    /// Back office: template versions, narrowed by any of the arguments (all when none).
    #[graphql(requires_scopes = "notification:admin")]
    async fn notification_templates(
        &self,
        ctx: &Context<'_>,
        event_type: Option<String>,
        channel: Option<NotificationChannelGql>,
        language: Option<Language>,
        active_only: Option<bool>,
    ) -> Result<Vec<NotificationTemplate>> {
        ctx.require_scope(NOTIFICATION_ADMIN)?;
        let filter = TemplateFilter {
            event_type,
            channel: channel.map(ChannelKind::from),
            language,
            active_only: active_only.unwrap_or(false),
        };
        let versions = service(ctx)
            .templates(&filter)
            .await
            .map_err(internal_error)?;
        Ok(versions
            .into_iter()
            .map(NotificationTemplate::from)
            .collect())
    }

    /// Back office: one borrower's notifications, newest first, each with its deliveries and
    /// their attempts. `first` is 1–100 (default 20).
    #[graphql(requires_scopes = "notification:admin")]
    async fn borrower_notifications(
        &self,
        ctx: &Context<'_>,
        user_id: ID,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<Cursor, BorrowerNotification>> {
        ctx.require_scope(NOTIFICATION_ADMIN)?;
        let user: Uuid = user_id
            .parse()
            .map_err(|_| coded_error("BAD_USER_INPUT", "userId is not an id"))?;
        let page = PageRequest::parse(first, after.as_deref())?;
        let mut rows = service(ctx)
            .borrower_notifications(user, page)
            .await
            .map_err(internal_error)?;
        let has_next = rows.len() > page.first;
        rows.truncate(page.first);
        let mut connection = Connection::new(page.after.is_some(), has_next);
        connection
            .edges
            .extend(rows.into_iter().map(|(item, deliveries)| {
                let cursor = Cursor {
                    at: item.created_at,
                    id: item.id,
                };
                Edge::new(
                    cursor,
                    BorrowerNotification {
                        notification: Notification::from(item),
                        deliveries: deliveries.into_iter().map(Into::into).collect(),
                    },
                )
            }));
        Ok(connection)
    }
}

#[derive(Default)]
pub struct BackOfficeMutation;

#[Object]
impl BackOfficeMutation {
    /// Back office: store a new version of a template. Refused with the template error's code
    /// (`UNKNOWN_VARIABLE`, `TEMPLATE_SYNTAX`, `TEMPLATE_NOT_ALLOWED`, `RENDER_FAILED`,
    /// `TOO_LONG`, …) when it does not pass the checks; not sent until activated.
    #[graphql(requires_scopes = "notification:admin")]
    async fn create_notification_template_version(
        &self,
        ctx: &Context<'_>,
        input: CreateNotificationTemplateVersionInput,
    ) -> Result<CreateNotificationTemplateVersionPayload> {
        let by = ctx.require_scope(NOTIFICATION_ADMIN)?.user_id;
        let source = TemplateSource {
            key: TemplateKey::new(input.event_type, input.channel.into(), input.language),
            title: input.title,
            body: input.body,
        };
        let (version, user_errors) =
            payload(service(ctx).create_template_version(&source, by).await)?;
        Ok(CreateNotificationTemplateVersionPayload {
            template: version.map(NotificationTemplate::from),
            user_errors,
        })
    }

    /// Back office: render a template with sample (or given) data, after the same checks as a
    /// save. Stores nothing.
    #[graphql(requires_scopes = "notification:admin")]
    async fn preview_notification_template(
        &self,
        ctx: &Context<'_>,
        input: PreviewNotificationTemplateInput,
    ) -> Result<PreviewNotificationTemplatePayload> {
        ctx.require_scope(NOTIFICATION_ADMIN)?;
        let cx = RenderContext {
            language: input.language,
            zone: input.time_zone.unwrap_or_default(),
        };
        let source = TemplateSource {
            key: TemplateKey::new(input.event_type, input.channel.into(), input.language),
            title: input.title,
            body: input.body,
        };
        let data = input.data.map(|Json(data)| data);
        let (rendered, user_errors) = payload(service(ctx).preview_template(&source, data, &cx))?;
        Ok(PreviewNotificationTemplatePayload {
            preview: rendered.map(|r| NotificationTemplatePreview {
                title: r.title,
                body: r.body,
            }),
            user_errors,
        })
    }

    /// Back office: make a stored version the one being sent (checked again first).
    #[graphql(requires_scopes = "notification:admin")]
    async fn activate_notification_template_version(
        &self,
        ctx: &Context<'_>,
        input: ActivateNotificationTemplateVersionInput,
    ) -> Result<ActivateNotificationTemplateVersionPayload> {
        let by = ctx.require_scope(NOTIFICATION_ADMIN)?.user_id;
        let key = TemplateKey::new(input.event_type, input.channel.into(), input.language);
        let version = u32::try_from(input.version).unwrap_or(0);
        let (head, user_errors) = payload(
            service(ctx)
                .activate_template_version(&key, version, by)
                .await,
        )?;
        Ok(ActivateNotificationTemplateVersionPayload {
            activation: head.map(NotificationTemplateActivation::from),
            user_errors,
        })
    }
}

//! The data-subject request's entry point (UU PDP Pasal 32, POJK 22/2023 Pasal 19; see
//! docs/conventions.md § Data-subject requests): `myDataExport` returns what this subgraph holds
//! about the signed-in owner — the profile, preferences, consent and account status. Every other
//! subgraph answers a root field of its own (`mySignInData`, `myIdentityVerificationData`, …);
//! the app's `MyDataExport` operation asks for all of them in one request.
//!
//! A deleted account gets `ACCOUNT_DELETED` here, even with an access token that has not expired
//! yet; the other subgraphs answer such a token with nothing personal (their data was erased or
//! they know the account is deleted). No field takes an id: each reads the caller's own.

use async_graphql::{Context, ID, Object, Result, SimpleObject};
use chrono::{DateTime, Utc};
use tenor_platform::federation::authenticated;
use tenor_platform::graphql::{CallerExt, coded_error, internal_error};
use uuid::Uuid;

use super::loaders::Profiles;
use super::types::{AccountKindGql, IndonesianTimeZoneGql, LanguageGql, NotificationChannelGql};
use crate::domain::{AccountStatus, Profile};

/// The `extensions.code` of a deleted account's export request.
pub const ACCOUNT_DELETED: &str = "ACCOUNT_DELETED";

/// `myDataExport`.
#[derive(Default)]
pub(super) struct ExportQuery;

#[Object]
impl ExportQuery {
    /// What the user context holds about the signed-in user: the start of the data export
    /// (right of access, UU PDP Pasal 32; the other contexts answer `mySignInData`,
    /// `myIdentityVerificationData`, `myLendingData`, `myCreditDecisionData`,
    /// `myRiskAssessmentData`, `myNotificationData`). A deleted account is refused with
    /// `ACCOUNT_DELETED`.
    #[graphql(directive = authenticated::apply())]
    async fn my_data_export(&self, ctx: &Context<'_>) -> Result<Option<DataExport>> {
        let principal = ctx.principal()?;
        owners_export(ctx, principal.user_id).await.map(Some)
    }
}

async fn owners_export(ctx: &Context<'_>, user_id: Uuid) -> Result<DataExport> {
    let profile = ctx
        .data_unchecked::<Profiles>()
        .load_one(user_id)
        .await
        .map_err(internal_error)?;
    match profile {
        Some(profile) if profile.status == AccountStatus::Deleted => Err(coded_error(
            ACCOUNT_DELETED,
            "this account was deleted: there is no personal data left to export",
        )),
        Some(profile) => Ok(DataExport {
            profile,
            generated_at: Utc::now(),
        }),
        // A token for an account whose profile never arrived: nothing is held here.
        None => Err(coded_error("NOT_FOUND", "no account found for this token")),
    }
}

/// What the user context holds about one person.
pub(super) struct DataExport {
    profile: Profile,
    generated_at: DateTime<Utc>,
}

#[Object]
impl DataExport {
    /// The person's id, the same in every context.
    async fn user_id(&self) -> ID {
        ID(self.profile.id.to_string())
    }

    /// When this export was put together.
    async fn generated_at(&self) -> DateTime<Utc> {
        self.generated_at
    }

    /// What the user context holds: contact data, name, status, preferences and consent.
    async fn profile(&self) -> ExportedProfile {
        ExportedProfile::from(&self.profile)
    }
}

/// The profile as its owner may see it.
#[derive(SimpleObject)]
pub(super) struct ExportedProfile {
    email: Option<String>,
    phone_number: Option<String>,
    fullname: String,
    /// ACTIVE, INACTIVE or BLOCKED.
    status: String,
    kind: AccountKindGql,
    language: LanguageGql,
    time_zone: IndonesianTimeZoneGql,
    notification_channels: Vec<NotificationChannelGql>,
    /// Marketing consent as it stands, and since when (consent is per purpose: the only
    /// optional purpose Tenor asks for is marketing; transactional messages need none).
    marketing_consent: bool,
    marketing_consent_at: Option<DateTime<Utc>>,
    /// When staff blocked the account, if they did.
    blocked_since: Option<DateTime<Utc>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<&Profile> for ExportedProfile {
    fn from(p: &Profile) -> Self {
        let prefs = &p.preferences;
        Self {
            email: p.email.clone(),
            phone_number: p.phone_number.clone(),
            fullname: p.fullname.clone(),
            status: p.status.as_db().to_owned(),
            kind: p.kind.into(),
            language: prefs.language.into(),
            time_zone: prefs.time_zone.into(),
            notification_channels: prefs
                .notification_channels
                .iter()
                .map(|&c| c.into())
                .collect(),
            marketing_consent: prefs.marketing_consent,
            marketing_consent_at: prefs.marketing_consent_at,
            blocked_since: p.block.as_ref().map(|b| b.at),
            created_at: p.created_at,
            updated_at: p.updated_at,
        }
    }
}

//! The KYC subgraph's GraphQL surface (federation v2). Thin: resolvers check who is asking,
//! parse the input, call [`crate::service::KycService`] and shape the payload.
//!
//! One file per audience: [`customer`] (what the app calls: uploads, `submitKyc`, `User.kyc`)
//! and [`back_office`] (staff: the review queue, `reviewKyc`, the PII access log); the shared
//! object types are in [`types`], the `User.kyc` batch loader in [`loaders`].
//!
//! Field-level authorization is declared with `@requiresScopes` (the router enforces it) and
//! enforced again here from the verified token, so a request sent straight to this subgraph gets
//! nothing more. Every PII read writes an access-log row before the value is returned.

mod back_office;
mod customer;
mod export;
mod loaders;
mod types;

use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{
    Context, EmptySubscription, ID, MergedObject, OutputType, Result, Schema, SchemaBuilder,
};
use tenor_platform::cursor::{Cursor, PageRequest};
use tenor_platform::db::CountRequestStatements;
use tenor_platform::federation::subgraph_sdl;
use tenor_platform::graphql::{CallerExt, internal_error};
use tenor_platform::parsed_documents::ParsedDocuments;
use uuid::Uuid;

pub use loaders::LoaderStats;

use crate::service::{KycService, Reader};
use loaders::{LatestKycLoader, ReviewsLoader};
use types::PiiAccessEntry;

/// Customers submit their own documents.
pub const KYC_SUBMIT: &str = "kyc:submit";
/// Back office: the review queue, decisions, images.
pub const KYC_REVIEW: &str = "kyc:review";
/// Back office: full document numbers and the access log.
pub const KYC_PII_READ: &str = "kyc:pii:read";

// No doc comments on the roots: they would become descriptions in the served SDL.
#[derive(MergedObject, Default)]
pub struct Query(
    customer::CustomerQuery,
    back_office::BackOfficeQuery,
    export::ExportQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(customer::CustomerMutation, back_office::BackOfficeMutation);

pub type KycSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema without its runtime data: enough to print the SDL.
pub fn builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription).enable_federation()
}

/// The schema served by the running service; its requests' SQL statements are counted apart
/// from the background's (`tenor_db_statements_total{origin="request"}`).
pub fn build(service: KycService, stats: Arc<LoaderStats>) -> KycSchema {
    builder()
        .extension(CountRequestStatements)
        .extension(ParsedDocuments::default())
        .data(LatestKycLoader::data_loader(service.clone(), stats.clone()))
        .data(ReviewsLoader::data_loader(service.clone(), stats))
        .data(service)
        .finish()
}

/// The federation SDL, as `tenor-kyc print-schema` prints it and the router composes it.
pub fn sdl() -> String {
    subgraph_sdl(&builder().finish())
}

fn service<'a>(ctx: &Context<'a>) -> &'a KycService {
    ctx.data_unchecked::<KycService>()
}

/// The caller as a PII reader: who, in which named operation, from where.
fn reader(ctx: &Context<'_>, actor: Uuid) -> Reader {
    Reader {
        actor,
        operation_name: ctx.client_operation_name(),
        client: ctx.client_info(),
    }
}

fn parse_id(id: &ID) -> Option<Uuid> {
    id.parse().ok()
}

/// One page from `rows` fetched with [`PageRequest::fetch_limit`]: the extra row only tells
/// whether another page follows.
fn connection<Row, Node: OutputType>(
    page: PageRequest,
    mut rows: Vec<Row>,
    cursor: impl Fn(&Row) -> Cursor,
    node: impl Fn(Row) -> Node,
) -> Connection<Cursor, Node> {
    let has_next = rows.len() > page.first;
    rows.truncate(page.first);
    let mut connection = Connection::new(page.after.is_some(), has_next);
    connection.edges.extend(
        rows.into_iter()
            .map(|row| Edge::new(cursor(&row), node(row))),
    );
    connection
}

/// A page of `subject`'s PII access log; the caller has checked who may see it.
async fn access_log_page(
    ctx: &Context<'_>,
    subject: Uuid,
    first: Option<i32>,
    after: Option<String>,
) -> Result<Connection<Cursor, PiiAccessEntry>> {
    let page = PageRequest::parse(first, after.as_deref())?;
    let rows = service(ctx)
        .access_log(subject, page)
        .await
        .map_err(internal_error)?;
    Ok(connection(
        page,
        rows,
        |row| Cursor {
            at: row.accessed_at,
            id: row.id,
        },
        PiiAccessEntry::from,
    ))
}

#[cfg(test)]
mod tests {
    use async_graphql::connection::CursorType;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use chrono::DateTime;

    use super::*;

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let position = Cursor {
            at: DateTime::from_timestamp_micros(1_800_000_000_123_456).unwrap(),
            id: Uuid::new_v4(),
        };
        let encoded = position.encode_cursor();
        assert_eq!(Cursor::decode_cursor(&encoded).unwrap(), position);
        assert!(Cursor::decode_cursor("bm90LWEtY3Vyc29y").is_err());
        // The kit's cursor kept this list's wire encoding: cursors handed out before still work.
        assert_eq!(
            encoded,
            URL_SAFE_NO_PAD.encode(format!("1800000000123456:{}", position.id))
        );
    }

    #[test]
    fn protected_fields_declare_their_scope() {
        let sdl = sdl();
        tenor_platform::testing::assert_field_scopes(
            &sdl,
            &[
                ("documentNumber:", "kyc:pii:read"),
                ("documentImageUrl:", "kyc:review"),
                ("selfieImageUrl:", "kyc:review"),
                ("faceMatchScore:", "kyc:review"),
                ("kycReviewQueue(", "kyc:review"),
                ("reviewKyc(", "kyc:review"),
                ("piiAccessLog(", "kyc:pii:read"),
                ("submitKyc(", "kyc:submit"),
                ("requestKycUpload(", "kyc:submit"),
            ],
        );
        assert!(sdl.contains("type User @key(fields: \"id\")"), "{sdl}");
        assert!(sdl.contains("\tkyc: Kyc @authenticated\n"), "{sdl}");
        assert!(!sdl.contains("directive @authenticated"), "{sdl}");
    }
}

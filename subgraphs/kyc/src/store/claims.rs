//! `kyc_document_claims`: one document number (by blind index), one account. The claim is the
//! race-free guard; a rejection gives the number back.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::schema::kyc_document_claims;

/// Claim `hash` for `user` (or refresh the user's own claim). `false`: another account holds it.
pub async fn claim_document(
    conn: &mut AsyncPgConnection,
    hash: &str,
    user: Uuid,
    kyc_id: Uuid,
) -> QueryResult<bool> {
    use diesel::sql_types::{Text, Uuid as SqlUuid};
    // The conditional DO UPDATE: refresh one's own claim, leave another account's untouched
    // (then no row is affected).
    let claimed = diesel::sql_query(
        "INSERT INTO kyc_document_claims (document_number_hash, user_id, kyc_id) \
         VALUES ($1, $2, $3) \
         ON CONFLICT (document_number_hash) DO UPDATE \
         SET kyc_id = EXCLUDED.kyc_id, claimed_at = now() \
         WHERE kyc_document_claims.user_id = EXCLUDED.user_id",
    )
    .bind::<Text, _>(hash)
    .bind::<SqlUuid, _>(user)
    .bind::<SqlUuid, _>(kyc_id)
    .execute(conn)
    .await?;
    Ok(claimed == 1)
}

/// Give a rejected submission's number back: it may have been someone else's.
pub async fn release_claim(conn: &mut AsyncPgConnection, kyc_id: Uuid) -> QueryResult<()> {
    use kyc_document_claims::dsl as c;
    diesel::delete(kyc_document_claims::table.filter(c::kyc_id.eq(kyc_id)))
        .execute(conn)
        .await
        .map(|_| ())
}

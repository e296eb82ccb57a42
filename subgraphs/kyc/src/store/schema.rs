//! The KYC tables as diesel sees them (migrations/kyc is the source of truth). Status columns
//! are `Text` here and typed enums in the rows (see `crate::domain::status`).

diesel::table! {
    kyc_uploads (id) {
        id -> Uuid,
        user_id -> Uuid,
        kind -> Text,
        status -> Text,
        object_path -> Nullable<Text>,
        content_type -> Nullable<Text>,
        size_bytes -> Nullable<Int4>,
        key_id -> Nullable<Text>,
        expires_at -> Timestamptz,
        stored_at -> Nullable<Timestamptz>,
        used_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    user_kyc (id) {
        id -> Uuid,
        user_id -> Uuid,
        document_type -> Text,
        document_number_hash -> Text,
        document_number_ciphertext -> Bytea,
        document_number_masked -> Text,
        document_image_path -> Text,
        selfie_image_path -> Text,
        document_upload_id -> Uuid,
        selfie_upload_id -> Uuid,
        status -> Text,
        verification_stage -> Text,
        face_match_score -> Nullable<Float8>,
        decision_source -> Nullable<Text>,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
        rejection_reason_code -> Nullable<Text>,
        rejection_reason -> Nullable<Text>,
        expires_at -> Nullable<Timestamptz>,
        expired_at -> Nullable<Timestamptz>,
        submitted_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        erased_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    kyc_document_claims (document_number_hash) {
        document_number_hash -> Text,
        user_id -> Uuid,
        kyc_id -> Uuid,
        claimed_at -> Timestamptz,
    }
}

diesel::table! {
    kyc_reviews (id) {
        id -> Uuid,
        kyc_id -> Uuid,
        reviewer_id -> Uuid,
        decision -> Text,
        reason -> Nullable<Text>,
        reviewed_at -> Timestamptz,
    }
}

diesel::table! {
    pii_access_log (id) {
        id -> Uuid,
        actor_id -> Uuid,
        subject_user_id -> Uuid,
        kyc_id -> Uuid,
        field -> Text,
        operation_name -> Nullable<Text>,
        client_ip -> Nullable<Text>,
        request_id -> Nullable<Text>,
        accessed_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(kyc_uploads, user_kyc);

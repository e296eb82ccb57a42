//! The `user_profile` table as diesel sees it (migrations/user holds its CHECK constraints).

diesel::table! {
    user_profile (id) {
        id -> Uuid,
        email -> Nullable<Text>,
        phone_number -> Nullable<Text>,
        fullname -> Text,
        status -> Text,
        kind -> Text,
        kyc_id -> Nullable<Uuid>,
        language -> Text,
        notification_channels -> Array<Text>,
        marketing_consent -> Bool,
        marketing_consent_at -> Nullable<Timestamptz>,
        time_zone -> Text,
        block_reason -> Nullable<Text>,
        blocked_at -> Nullable<Timestamptz>,
        blocked_by -> Nullable<Uuid>,
        deleted_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    /// The borrower's loans as loan announces them (migrations/user, `borrower_loans`).
    user_loan (loan_id) {
        loan_id -> Uuid,
        user_id -> Uuid,
        status -> Text,
        changed_at -> Timestamptz,
    }
}

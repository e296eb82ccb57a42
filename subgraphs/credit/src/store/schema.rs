//! The credit database's tables as diesel sees them (migrations/credit is the source of truth).

diesel::table! {
    credit_borrowers (user_id) {
        user_id -> Uuid,
        registered_at -> Nullable<Timestamptz>,
        kind -> Nullable<Text>,
        account_status -> Text,
        status_as_of -> Nullable<Timestamptz>,
        kyc_status -> Nullable<Text>,
        kyc_verified_at -> Nullable<Timestamptz>,
        kyc_expires_at -> Nullable<Timestamptz>,
        kyc_as_of -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    credit_loan_history (loan_id) {
        loan_id -> Uuid,
        user_id -> Uuid,
        amount -> Int8,
        tenor_months -> Int4,
        status -> Text,
        submitted_at -> Timestamptz,
        activated_at -> Nullable<Timestamptz>,
        paid_at -> Nullable<Timestamptz>,
        overdue_installments -> Int4,
        max_days_past_due -> Int4,
        status_as_of -> Timestamptz,
    }
}

diesel::table! {
    credit_overdue_installments (loan_id, installment_number) {
        loan_id -> Uuid,
        installment_number -> Int4,
        days_past_due -> Int4,
    }
}

diesel::table! {
    credit_scores (id) {
        id -> Uuid,
        loan_id -> Uuid,
        user_id -> Uuid,
        amount -> Int8,
        tenor_months -> Int4,
        submitted_at -> Timestamptz,
        rules_version -> Text,
        risk_level -> Nullable<Text>,
        risk_reason -> Nullable<Text>,
        internal_score -> Nullable<Int4>,
        internal_mandatory -> Bool,
        external_score -> Nullable<Int4>,
        external_mandatory -> Bool,
        manual_score -> Nullable<Int4>,
        manual_mandatory -> Bool,
        combined_score -> Nullable<Int4>,
        decision -> Text,
        decision_source -> Nullable<Text>,
        decision_id -> Nullable<Uuid>,
        reason_codes -> Array<Text>,
        reason -> Nullable<Text>,
        decided_by -> Nullable<Uuid>,
        decided_at -> Nullable<Timestamptz>,
        queue_reason -> Nullable<Text>,
        queued_at -> Nullable<Timestamptz>,
        review_status -> Text,
        review_requested_at -> Nullable<Timestamptz>,
        review_note -> Nullable<Text>,
        external_attempts -> Int4,
        external_next_at -> Timestamptz,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    credit_scores_list (credit_score_id, source) {
        credit_score_id -> Uuid,
        source -> Text,
        score -> Int4,
        reason -> Text,
        input -> Jsonb,
        recorded_by -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    credit_risk_results (loan_id) {
        loan_id -> Uuid,
        credit_score_id -> Uuid,
        evaluation_id -> Uuid,
        outcome -> Text,
        risk_level -> Nullable<Text>,
        normalized_score -> Nullable<Int4>,
        bureau -> Nullable<Jsonb>,
        reason_code -> Nullable<Text>,
        vendor_name -> Text,
        rules_version -> Nullable<Text>,
        occurred_at -> Timestamptz,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    credit_decisions (id) {
        id -> Uuid,
        credit_score_id -> Uuid,
        loan_id -> Uuid,
        source -> Text,
        outcome -> Text,
        combined_score -> Nullable<Int4>,
        reason_codes -> Array<Text>,
        reason -> Text,
        rules_version -> Text,
        inputs -> Jsonb,
        decided_by -> Nullable<Uuid>,
        reviews_decision -> Nullable<Uuid>,
        note -> Nullable<Text>,
        decided_at -> Timestamptz,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    credit_scores,
    credit_scores_list,
    credit_risk_results
);

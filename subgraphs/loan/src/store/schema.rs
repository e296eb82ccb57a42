//! The loan database's tables as diesel sees them (migrations/loan is the source of truth).

diesel::table! {
    loans (id) {
        id -> Uuid,
        user_id -> Uuid,
        amount -> Int8,
        tenor_months -> Int4,
        purpose -> Text,
        status -> Text,
        interest_method -> Text,
        monthly_rate_ppm -> Int8,
        admin_fee_ppm -> Int8,
        rounding_unit -> Int8,
        total_interest -> Int8,
        total_fee -> Int8,
        monthly_installment -> Int8,
        idempotency_key -> Text,
        credit_score -> Nullable<Int4>,
        reason_codes -> Array<Text>,
        decision_reason -> Nullable<Text>,
        decided_at -> Nullable<Timestamptz>,
        payout_reference -> Nullable<Text>,
        disbursed_on -> Nullable<Date>,
        disbursed_by -> Nullable<Uuid>,
        activated_at -> Nullable<Timestamptz>,
        paid_at -> Nullable<Timestamptz>,
        cancelled_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    loans_payments (loan_id, installment_number) {
        loan_id -> Uuid,
        installment_number -> Int4,
        due_date -> Date,
        principal_due -> Int8,
        interest_due -> Int8,
        fee_due -> Int8,
        principal_paid -> Int8,
        interest_paid -> Int8,
        fee_paid -> Int8,
        paid_date -> Nullable<Date>,
        overdue -> Bool,
        due_notified_at -> Nullable<Timestamptz>,
        overdue_notified_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    loans_review_history (id) {
        id -> Int8,
        loan_id -> Uuid,
        old_value -> Jsonb,
        new_value -> Jsonb,
        score -> Nullable<Int4>,
        source -> Text,
        decision_id -> Nullable<Uuid>,
        reviewer -> Nullable<Uuid>,
        created_at -> Timestamptz,
    }
}

diesel::table! {
    loans_repayments (id) {
        id -> Uuid,
        loan_id -> Uuid,
        idempotency_key -> Text,
        amount -> Int8,
        provider_reference -> Text,
        received_at -> Timestamptz,
    }
}

diesel::table! {
    loan_kyc_eligibility (user_id) {
        user_id -> Uuid,
        status -> Text,
        expires_at -> Nullable<Timestamptz>,
        as_of -> Timestamptz,
    }
}

diesel::table! {
    loan_user_status (user_id) {
        user_id -> Uuid,
        status -> Text,
        as_of -> Timestamptz,
    }
}

diesel::joinable!(loans_payments -> loans (loan_id));
diesel::allow_tables_to_appear_in_same_query!(loans, loans_payments, loan_money_movements);
diesel::joinable!(loan_money_movements -> loans (loan_id));

diesel::table! {
    loan_money_movements (id) {
        id -> Uuid,
        loan_id -> Uuid,
        kind -> Text,
        status -> Text,
        amount -> Int8,
        provider_key -> Text,
        request_key -> Nullable<Text>,
        requested_by -> Uuid,
        business_date -> Date,
        provider_reference -> Nullable<Text>,
        failure -> Nullable<Text>,
        attempts -> Int4,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

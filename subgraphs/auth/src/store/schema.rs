//! Diesel table definitions (migrations/auth).

diesel::table! {
    users_auth (auth_id) {
        auth_id -> Uuid,
        email -> Nullable<Text>,
        phone_number -> Nullable<Text>,
        password_hash -> Nullable<Text>,
        is_biometric_enabled -> Bool,
        kind -> Text,
        scopes -> Array<Text>,
        status -> Text,
        failed_login_count -> Int4,
        locked_until -> Nullable<Timestamptz>,
        password_changed_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    auth_sessions (session_id) {
        session_id -> Uuid,
        auth_id -> Uuid,
        device_id -> Nullable<Text>,
        device_name -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        ip_address -> Nullable<Text>,
        auth_method -> Text,
        created_at -> Timestamptz,
        last_used_at -> Timestamptz,
        expired_at -> Timestamptz,
        revoked_at -> Nullable<Timestamptz>,
        revoke_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> Int8,
        session_id -> Uuid,
        token_hash -> Bytea,
        parent_id -> Nullable<Int8>,
        issued_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    biometric_devices (id) {
        id -> Uuid,
        auth_id -> Uuid,
        device_id -> Text,
        name -> Text,
        public_key -> Bytea,
        created_at -> Timestamptz,
        last_used_at -> Nullable<Timestamptz>,
        revoked_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    biometric_challenges (nonce) {
        nonce -> Bytea,
        device_row -> Uuid,
        expires_at -> Timestamptz,
        used_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    login_attempts (id) {
        id -> Int8,
        auth_id -> Nullable<Uuid>,
        ip_address -> Nullable<Text>,
        succeeded -> Bool,
        method -> Text,
        attempted_at -> Timestamptz,
    }
}

diesel::table! {
    known_devices (auth_id, device_id) {
        auth_id -> Uuid,
        device_id -> Text,
        first_seen_at -> Timestamptz,
    }
}

diesel::joinable!(auth_sessions -> users_auth (auth_id));
diesel::joinable!(refresh_tokens -> auth_sessions (session_id));
diesel::allow_tables_to_appear_in_same_query!(users_auth, auth_sessions, refresh_tokens);

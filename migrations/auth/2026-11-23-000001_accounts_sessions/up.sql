-- Credentials, sessions and devices of the auth context. No KYC data lives here.

-- Seed table. auth_id is the one user id of every context (= user_profile.id = JWT sub).
CREATE TABLE users_auth (
    auth_id              UUID PRIMARY KEY,
    -- Normalised (trimmed, lower-cased); NULL once an account is deleted (PII minimised).
    email                TEXT UNIQUE,
    -- E.164 (+628…); NULL for staff without a phone and for deleted accounts.
    phone_number         TEXT UNIQUE,
    -- argon2id PHC string; NULL when the account can no longer log in with a password.
    password_hash        TEXT,
    is_biometric_enabled BOOLEAN     NOT NULL DEFAULT FALSE,
    -- Extensions: who the account is and what it may do.
    kind                 TEXT        NOT NULL DEFAULT 'CUSTOMER' CHECK (kind IN ('CUSTOMER', 'STAFF')),
    -- Staff scopes (kyc:review, …); customers get the configured customer scopes at login.
    scopes               TEXT[]      NOT NULL DEFAULT '{}',
    -- Mirrors user_profile.status from user.status.changed events: login needs ACTIVE.
    status               TEXT        NOT NULL DEFAULT 'ACTIVE'
                         CHECK (status IN ('ACTIVE', 'INACTIVE', 'BLOCKED', 'DELETED')),
    -- Brute-force protection per account: consecutive failures and the time until which
    -- login is refused (a growing delay, then a lock).
    failed_login_count   INT         NOT NULL DEFAULT 0,
    locked_until         TIMESTAMPTZ,
    password_changed_at  TIMESTAMPTZ,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Seed table. One row per login; the refresh-token family of that login hangs off it.
CREATE TABLE auth_sessions (
    session_id    UUID PRIMARY KEY,
    auth_id       UUID        NOT NULL REFERENCES users_auth (auth_id),
    device_id     TEXT,
    device_name   TEXT,
    user_agent    TEXT,
    ip_address    TEXT,
    -- Extension: how the session was opened (PASSWORD or BIOMETRIC).
    auth_method   TEXT        NOT NULL CHECK (auth_method IN ('PASSWORD', 'BIOMETRIC')),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Absolute end of the session: refresh stops working after it, however active.
    expired_at    TIMESTAMPTZ NOT NULL,
    revoked_at    TIMESTAMPTZ,
    -- Extension: why (LOGOUT, LOGOUT_ALL, REFRESH_TOKEN_REUSE, ACCOUNT_BLOCKED, …) for support.
    revoke_reason TEXT
);
CREATE INDEX auth_sessions_by_user ON auth_sessions (auth_id, created_at DESC);
CREATE INDEX auth_sessions_by_device ON auth_sessions (device_id) WHERE revoked_at IS NULL;

-- Extension: refresh tokens, rotated on every use. Only a SHA-256 of each token is stored (the
-- token has 256 bits of entropy, so a fast hash is enough and lookups stay indexable).
CREATE TABLE refresh_tokens (
    id          BIGSERIAL PRIMARY KEY,
    session_id  UUID        NOT NULL REFERENCES auth_sessions (session_id),
    token_hash  BYTEA       NOT NULL UNIQUE,
    parent_id   BIGINT      REFERENCES refresh_tokens (id),
    issued_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Set when the token is exchanged; presenting it again afterwards is reuse.
    used_at     TIMESTAMPTZ
);
CREATE INDEX refresh_tokens_by_session ON refresh_tokens (session_id);

-- Extension: device-bound keys for biometric login (the private key never leaves the phone's
-- keystore; biometrics unlock it there).
CREATE TABLE biometric_devices (
    id           UUID PRIMARY KEY,
    auth_id      UUID        NOT NULL REFERENCES users_auth (auth_id),
    device_id    TEXT        NOT NULL,
    name         TEXT        NOT NULL,
    -- P-256 public key, DER SubjectPublicKeyInfo.
    public_key   BYTEA       NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
-- One active registration per physical device.
CREATE UNIQUE INDEX biometric_devices_active ON biometric_devices (device_id) WHERE revoked_at IS NULL;

-- Extension: single-use login challenges with a short life.
CREATE TABLE biometric_challenges (
    nonce       BYTEA PRIMARY KEY,
    device_row  UUID        NOT NULL REFERENCES biometric_devices (id),
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ
);

-- Extension: every login attempt, for per-source throttling and the security audit trail.
-- The identifier is stored as typed (not the password, never a token).
CREATE TABLE login_attempts (
    id           BIGSERIAL PRIMARY KEY,
    auth_id      UUID,
    ip_address   TEXT,
    succeeded    BOOLEAN     NOT NULL,
    method       TEXT        NOT NULL,
    attempted_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX login_attempts_by_source ON login_attempts (ip_address, attempted_at DESC) WHERE NOT succeeded;

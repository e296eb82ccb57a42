-- pg_trgm: the back-office `users(filter: {query})` search is a substring match on email, phone
-- number and name (`ILIKE '%…%'`); trigram GIN indexes keep it off a sequential scan as the
-- customer base grows. (Trusted extension: the database owner may create it.)
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One row per account, created from auth's user.registered event with the same id
-- (users_auth.auth_id = user_profile.id = JWT sub).
--
-- Preferences are typed columns rather than a JSON blob: each has a constraint the database
-- enforces, and notification/marketing consumers query them directly.
CREATE TABLE user_profile (
    id                    UUID        PRIMARY KEY,
    -- NULL only once the account is deleted (PII minimised, see deleted_at).
    email                 TEXT,
    phone_number          TEXT,
    fullname              TEXT        NOT NULL,
    status                TEXT        NOT NULL DEFAULT 'ACTIVE'
                          CHECK (status IN ('ACTIVE', 'INACTIVE', 'BLOCKED', 'DELETED')),
    -- Customers register themselves; staff accounts are created by an operator command.
    kind                  TEXT        NOT NULL DEFAULT 'CUSTOMER'
                          CHECK (kind IN ('CUSTOMER', 'STAFF')),
    -- Link to the KYC context's record; filled once KYC exists (a later issue).
    kyc_id                UUID,

    language              TEXT        NOT NULL DEFAULT 'id' CHECK (language IN ('id', 'en')),
    notification_channels TEXT[]      NOT NULL DEFAULT ARRAY['EMAIL', 'PUSH']
                          CHECK (cardinality(notification_channels) >= 1
                                 AND notification_channels <@ ARRAY['EMAIL', 'SMS', 'WHATSAPP', 'PUSH']),
    marketing_consent     BOOLEAN     NOT NULL DEFAULT false,
    -- When consent was given: evidence for the consent record (UU PDP); cleared on withdrawal.
    marketing_consent_at  TIMESTAMPTZ,

    -- Who blocked the account, when and why: the audit trail a back-office action needs.
    block_reason          TEXT,
    blocked_at            TIMESTAMPTZ,
    blocked_by            UUID,
    deleted_at            TIMESTAMPTZ,

    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),

    CONSTRAINT consent_has_timestamp
        CHECK (marketing_consent = (marketing_consent_at IS NOT NULL)),
    CONSTRAINT blocked_has_audit
        CHECK (status <> 'BLOCKED' OR (block_reason IS NOT NULL AND blocked_at IS NOT NULL)),
    -- A deleted account keeps no contact data: the database refuses anything else.
    CONSTRAINT deleted_is_minimised
        CHECK (status <> 'DELETED' OR (deleted_at IS NOT NULL AND email IS NULL AND phone_number IS NULL)),
    CONSTRAINT live_has_email
        CHECK (status = 'DELETED' OR email IS NOT NULL)
);

-- Back-office listing pages by (created_at, id), optionally within one status.
CREATE INDEX user_profile_created ON user_profile (created_at, id);
CREATE INDEX user_profile_status_created ON user_profile (status, created_at, id);

-- Substring search (see pg_trgm above).
CREATE INDEX user_profile_email_trgm ON user_profile USING gin (email gin_trgm_ops);
CREATE INDEX user_profile_phone_trgm ON user_profile USING gin (phone_number gin_trgm_ops);
CREATE INDEX user_profile_fullname_trgm ON user_profile USING gin (fullname gin_trgm_ops);

-- Images the customer uploads through a signed URL, before they are part of a submission.
-- The bytes live encrypted in object storage (object_path); nothing here is PII.
CREATE TABLE kyc_uploads (
    id            UUID        PRIMARY KEY,
    user_id       UUID        NOT NULL,
    kind          TEXT        NOT NULL CHECK (kind IN ('DOCUMENT_FRONT', 'SELFIE')),
    -- REQUESTED: URL handed out; STORED: bytes received (the URL is spent, single use);
    -- USED: attached to a submission (an image serves one submission only).
    status        TEXT        NOT NULL DEFAULT 'REQUESTED'
                  CHECK (status IN ('REQUESTED', 'STORED', 'USED')),
    object_path   TEXT,
    content_type  TEXT        CHECK (content_type IN ('image/jpeg', 'image/png')),
    size_bytes    INTEGER,
    -- Master key the object's data key is wrapped with (rotation bookkeeping).
    key_id        TEXT,
    expires_at    TIMESTAMPTZ NOT NULL,
    stored_at     TIMESTAMPTZ,
    used_at       TIMESTAMPTZ,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT stored_has_object
        CHECK (status = 'REQUESTED' OR (object_path IS NOT NULL AND content_type IS NOT NULL
                                        AND stored_at IS NOT NULL AND key_id IS NOT NULL))
);
CREATE INDEX kyc_uploads_user ON kyc_uploads (user_id, created_at);

-- The seed's user_kyc, extended. Seed columns: id, user_id, document_type (ktp/sim/npwp),
-- document_number_hash, document_image_path, selfie_image_path, status, timestamps.
-- Added: the document number's AES-GCM ciphertext and its mask (the number itself is never
-- stored in clear), the verification stage and vendor score (manual review queue), the
-- decision (who/when/why) and the validity end (expiry job).
CREATE TABLE user_kyc (
    id                          UUID        PRIMARY KEY,
    user_id                     UUID        NOT NULL,
    document_type               TEXT        NOT NULL CHECK (document_type IN ('ktp', 'sim', 'npwp')),
    -- HMAC-SHA256 blind index (keyed, see crypto.rs): lookup and one-number-one-account.
    document_number_hash        TEXT        NOT NULL,
    document_number_ciphertext  BYTEA       NOT NULL,
    document_number_masked      TEXT        NOT NULL,
    document_image_path         TEXT        NOT NULL,
    selfie_image_path           TEXT        NOT NULL,
    document_upload_id          UUID        NOT NULL REFERENCES kyc_uploads (id),
    selfie_upload_id            UUID        NOT NULL REFERENCES kyc_uploads (id),
    status                      TEXT        NOT NULL DEFAULT 'PENDING'
                                CHECK (status IN ('PENDING', 'VERIFIED', 'REJECTED', 'EXPIRED')),
    verification_stage          TEXT        NOT NULL DEFAULT 'AWAITING_VENDOR'
                                CHECK (verification_stage IN ('AWAITING_VENDOR', 'MANUAL_REVIEW', 'DECIDED')),
    face_match_score            DOUBLE PRECISION,
    decision_source             TEXT        CHECK (decision_source IN ('AUTOMATIC', 'MANUAL')),
    decided_by                  UUID,
    decided_at                  TIMESTAMPTZ,
    rejection_reason_code       TEXT,
    rejection_reason            TEXT,
    expires_at                  TIMESTAMPTZ,
    expired_at                  TIMESTAMPTZ,
    submitted_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at                  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT pending_is_undecided
        CHECK ((status = 'PENDING') = (verification_stage <> 'DECIDED')),
    CONSTRAINT verified_has_validity
        CHECK (status NOT IN ('VERIFIED', 'EXPIRED') OR (decided_at IS NOT NULL AND expires_at IS NOT NULL)),
    CONSTRAINT rejected_has_reason
        CHECK (status <> 'REJECTED' OR (rejection_reason_code IS NOT NULL AND decided_at IS NOT NULL))
);
-- At most one submission in play or valid per customer: "submit while PENDING/VERIFIED" is
-- refused by the database too, not only by a read-then-write check.
CREATE UNIQUE INDEX user_kyc_one_live_per_user ON user_kyc (user_id)
    WHERE status IN ('PENDING', 'VERIFIED');
CREATE INDEX user_kyc_user_latest ON user_kyc (user_id, submitted_at DESC);
CREATE INDEX user_kyc_hash ON user_kyc (document_number_hash);
-- The verification worker and the review queue read PENDING rows by stage, oldest first.
CREATE INDEX user_kyc_stage ON user_kyc (verification_stage, submitted_at, id) WHERE status = 'PENDING';
CREATE INDEX user_kyc_verified_expiry ON user_kyc (expires_at) WHERE status = 'VERIFIED';

-- One document number, one account. The primary key makes the claim race-free; a claim is
-- released when its submission is rejected (the number may have been someone else's).
CREATE TABLE kyc_document_claims (
    document_number_hash TEXT        PRIMARY KEY,
    user_id              UUID        NOT NULL,
    -- Deferred: the claim is taken first (it is the race-free guard), the submission it
    -- belongs to is inserted later in the same transaction.
    kyc_id               UUID        NOT NULL REFERENCES user_kyc (id) DEFERRABLE INITIALLY DEFERRED,
    claimed_at           TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every staff decision on a submission (audit): who, when, what, why.
CREATE TABLE kyc_reviews (
    id           UUID        PRIMARY KEY,
    kyc_id       UUID        NOT NULL REFERENCES user_kyc (id),
    reviewer_id  UUID        NOT NULL,
    decision     TEXT        NOT NULL CHECK (decision IN ('APPROVE', 'REJECT')),
    reason       TEXT,
    reviewed_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT reject_has_reason CHECK (decision <> 'REJECT' OR reason IS NOT NULL)
);
CREATE INDEX kyc_reviews_kyc ON kyc_reviews (kyc_id, reviewed_at);

-- Every read of KYC PII (full document number, images, downloads): who read whose data,
-- which field, in which operation, when. Append-only.
CREATE TABLE pii_access_log (
    id              UUID        PRIMARY KEY,
    actor_id        UUID        NOT NULL,
    subject_user_id UUID        NOT NULL,
    kyc_id          UUID        NOT NULL,
    field           TEXT        NOT NULL,
    operation_name  TEXT,
    client_ip       TEXT,
    request_id      TEXT,
    accessed_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX pii_access_log_subject ON pii_access_log (subject_user_id, accessed_at, id);

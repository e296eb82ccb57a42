-- Loan applications and their lifecycle (DESIGN §3). Money is integer rupiah (BIGINT), never
-- floating point. Extended from the seed: the product terms are copied onto the loan (a later
-- product change never rewrites an agreement), decision and disbursement details, and the
-- borrower's idempotency key.
CREATE TABLE loans (
    id                  UUID        PRIMARY KEY,
    user_id             UUID        NOT NULL,
    amount              BIGINT      NOT NULL CHECK (amount > 0 AND amount <= 12000000),
    tenor_months        INT         NOT NULL CHECK (tenor_months BETWEEN 1 AND 12),
    purpose             TEXT        NOT NULL,
    status              TEXT        NOT NULL
                        CHECK (status IN ('SUBMITTED', 'APPROVED', 'REJECTED', 'CANCELLED', 'ACTIVE', 'PAID')),
    interest_method     TEXT        NOT NULL CHECK (interest_method IN ('FLAT', 'ANNUITY')),
    monthly_rate_ppm    BIGINT      NOT NULL,
    admin_fee_ppm       BIGINT      NOT NULL,
    rounding_unit       BIGINT      NOT NULL,
    total_interest      BIGINT      NOT NULL CHECK (total_interest >= 0),
    total_fee           BIGINT      NOT NULL CHECK (total_fee >= 0),
    monthly_installment BIGINT      NOT NULL CHECK (monthly_installment > 0),
    -- Replaying applyLoan with the same key returns this loan instead of a second one.
    idempotency_key     TEXT        NOT NULL,
    -- The credit decision as applied (see loans_review_history for the audit trail).
    credit_score        INT,
    reason_codes        TEXT[]      NOT NULL DEFAULT '{}',
    decision_reason     TEXT,
    decided_at          TIMESTAMPTZ,
    -- Disbursement through the payout provider.
    payout_reference    TEXT,
    disbursed_on        DATE,
    disbursed_by        UUID,
    activated_at        TIMESTAMPTZ,
    paid_at             TIMESTAMPTZ,
    cancelled_at        TIMESTAMPTZ,
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, idempotency_key),
    CONSTRAINT active_has_payout
        CHECK (status NOT IN ('ACTIVE', 'PAID') OR (payout_reference IS NOT NULL AND disbursed_on IS NOT NULL))
);

-- A borrower has at most one open loan. Enforced here, not only by a read-then-write check, so
-- concurrent applications cannot both succeed.
CREATE UNIQUE INDEX loans_one_open_per_user ON loans (user_id)
    WHERE status IN ('SUBMITTED', 'APPROVED', 'ACTIVE');

CREATE INDEX loans_user_created ON loans (user_id, created_at DESC, id DESC);
CREATE INDEX loans_created ON loans (created_at DESC, id DESC);
CREATE INDEX loans_status_created ON loans (status, created_at DESC, id DESC);

-- The installment schedule, one row per installment, written on approval. Extended from the
-- seed: due date vs paid date, the principal/interest/fee split (due and paid), and the daily
-- job's markers so each reminder and overdue notice goes out once.
CREATE TABLE loans_payments (
    loan_id             UUID        NOT NULL REFERENCES loans (id),
    installment_number  INT         NOT NULL CHECK (installment_number BETWEEN 1 AND 12),
    -- Provisional (from the approval date) until disbursement sets the real ones.
    due_date            DATE        NOT NULL,
    principal_due       BIGINT      NOT NULL CHECK (principal_due >= 0),
    interest_due        BIGINT      NOT NULL CHECK (interest_due >= 0),
    fee_due             BIGINT      NOT NULL CHECK (fee_due >= 0),
    principal_paid      BIGINT      NOT NULL DEFAULT 0,
    interest_paid       BIGINT      NOT NULL DEFAULT 0,
    fee_paid            BIGINT      NOT NULL DEFAULT 0,
    -- The date the installment became fully paid.
    paid_date           DATE,
    overdue             BOOLEAN     NOT NULL DEFAULT false,
    due_notified_at     TIMESTAMPTZ,
    overdue_notified_at TIMESTAMPTZ,
    PRIMARY KEY (loan_id, installment_number),
    CHECK (principal_paid BETWEEN 0 AND principal_due),
    CHECK (interest_paid BETWEEN 0 AND interest_due),
    CHECK (fee_paid BETWEEN 0 AND fee_due)
);

CREATE INDEX loans_payments_open_due ON loans_payments (due_date) WHERE paid_date IS NULL;

-- Every decision applied to a loan: old and new state as JSON, the score and who decided.
CREATE TABLE loans_review_history (
    id          BIGSERIAL   PRIMARY KEY,
    loan_id     UUID        NOT NULL REFERENCES loans (id),
    old_value   JSONB       NOT NULL,
    new_value   JSONB       NOT NULL,
    score       INT,
    -- AUTOMATIC / MANUAL (credit), BORROWER (cancel), STAFF (disbursement).
    source      TEXT        NOT NULL,
    decision_id UUID,
    reviewer    UUID,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX loans_review_history_loan ON loans_review_history (loan_id, id);

-- The repayment ledger (append-only): one row per accepted payment, keyed by the borrower's
-- idempotency key so a retried payment has one effect.
CREATE TABLE loans_repayments (
    id                 UUID        PRIMARY KEY,
    loan_id            UUID        NOT NULL REFERENCES loans (id),
    idempotency_key    TEXT        NOT NULL,
    amount             BIGINT      NOT NULL CHECK (amount > 0),
    provider_reference TEXT        NOT NULL,
    received_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (loan_id, idempotency_key)
);

-- Projection of kyc.events: whether a borrower is verified, as of the latest event seen.
CREATE TABLE loan_kyc_eligibility (
    user_id    UUID        PRIMARY KEY,
    status     TEXT        NOT NULL CHECK (status IN ('SUBMITTED', 'VERIFIED', 'REJECTED', 'EXPIRED')),
    expires_at TIMESTAMPTZ,
    -- The event time of the state held: an older event arriving late does not overwrite it.
    as_of      TIMESTAMPTZ NOT NULL
);

-- Projection of user.events: account status changes. No row = never changed = ACTIVE.
CREATE TABLE loan_user_status (
    user_id UUID        PRIMARY KEY,
    status  TEXT        NOT NULL,
    as_of   TIMESTAMPTZ NOT NULL
);

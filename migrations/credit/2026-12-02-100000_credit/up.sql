-- Credit scoring (issue 12). Projections kept from other contexts' events only (credit never
-- reads another context's database), the score of each submitted loan with every input it
-- collects, risk's results, and every decision with the inputs and rules version it used.

-- The borrower as auth, user and kyc announced them. A missing row means "nothing heard yet".
CREATE TABLE credit_borrowers (
    user_id          UUID        PRIMARY KEY,
    registered_at    TIMESTAMPTZ,
    kind             TEXT        CHECK (kind IN ('CUSTOMER', 'STAFF')),
    -- No status event yet = ACTIVE (an account starts active at registration).
    account_status   TEXT        NOT NULL DEFAULT 'ACTIVE'
                     CHECK (account_status IN ('ACTIVE', 'INACTIVE', 'BLOCKED', 'DELETED')),
    status_as_of     TIMESTAMPTZ,
    kyc_status       TEXT        CHECK (kyc_status IN ('SUBMITTED', 'VERIFIED', 'REJECTED', 'EXPIRED')),
    kyc_verified_at  TIMESTAMPTZ,
    kyc_expires_at   TIMESTAMPTZ,
    kyc_as_of        TIMESTAMPTZ
);

-- Each Tenor loan of a borrower as loan announced it.
CREATE TABLE credit_loan_history (
    loan_id              UUID        PRIMARY KEY,
    user_id              UUID        NOT NULL,
    amount               BIGINT      NOT NULL,
    tenor_months         INT         NOT NULL,
    status               TEXT        NOT NULL
                         CHECK (status IN ('SUBMITTED', 'APPROVED', 'REJECTED', 'CANCELLED', 'ACTIVE', 'PAID')),
    submitted_at         TIMESTAMPTZ NOT NULL,
    activated_at         TIMESTAMPTZ,
    paid_at              TIMESTAMPTZ,
    overdue_installments INT         NOT NULL DEFAULT 0,
    max_days_past_due    INT         NOT NULL DEFAULT 0,
    status_as_of         TIMESTAMPTZ NOT NULL
);

CREATE INDEX credit_loan_history_user ON credit_loan_history (user_id);

-- Which installments were reported overdue, so a notice counts once however often it arrives.
CREATE TABLE credit_overdue_installments (
    loan_id            UUID NOT NULL,
    installment_number INT  NOT NULL,
    days_past_due      INT  NOT NULL,
    PRIMARY KEY (loan_id, installment_number)
);

-- One score per submitted loan: its inputs as they arrive and the current decision.
CREATE TABLE credit_scores (
    id                   UUID        PRIMARY KEY,
    loan_id              UUID        NOT NULL UNIQUE,
    user_id              UUID        NOT NULL,
    amount               BIGINT      NOT NULL,
    tenor_months         INT         NOT NULL,
    submitted_at         TIMESTAMPTZ NOT NULL,
    rules_version        TEXT        NOT NULL,
    risk_level           TEXT        CHECK (risk_level IN ('LOW', 'MEDIUM', 'HIGH')),
    risk_reason          TEXT,
    internal_score       INT,
    internal_mandatory   BOOLEAN     NOT NULL,
    external_score       INT,
    external_mandatory   BOOLEAN     NOT NULL,
    manual_score         INT,
    manual_mandatory     BOOLEAN     NOT NULL,
    combined_score       INT,
    decision             TEXT        NOT NULL DEFAULT 'PENDING'
                         CHECK (decision IN ('PENDING', 'APPROVE', 'REJECT', 'REFER')),
    decision_source      TEXT        CHECK (decision_source IN ('AUTOMATIC', 'MANUAL')),
    decision_id          UUID,
    reason_codes         TEXT[]      NOT NULL DEFAULT '{}',
    reason               TEXT,
    decided_by           UUID,
    decided_at           TIMESTAMPTZ,
    -- In the review queue while set (REFER, or the borrower asked for a human review).
    queue_reason         TEXT,
    queued_at            TIMESTAMPTZ,
    review_status        TEXT        NOT NULL DEFAULT 'NONE'
                         CHECK (review_status IN ('NONE', 'REQUESTED', 'DECIDED')),
    review_requested_at  TIMESTAMPTZ,
    review_note          TEXT,
    -- The external score is fetched outside any transaction; failures back off to here.
    external_attempts    INT         NOT NULL DEFAULT 0,
    external_next_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK ((queue_reason IS NULL) = (queued_at IS NULL))
);

CREATE INDEX credit_scores_queue ON credit_scores (queued_at, id) WHERE queue_reason IS NOT NULL;
CREATE INDEX credit_scores_pending ON credit_scores (created_at) WHERE decision = 'PENDING';

-- Each score as it was obtained, with the raw input it was computed from.
CREATE TABLE credit_scores_list (
    credit_score_id UUID        NOT NULL REFERENCES credit_scores (id),
    source          TEXT        NOT NULL CHECK (source IN ('INTERNAL', 'EXTERNAL', 'MANUAL')),
    score           INT         NOT NULL CHECK (score BETWEEN 300 AND 850),
    reason          TEXT        NOT NULL,
    input           JSONB       NOT NULL,
    recorded_by     UUID,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (credit_score_id, source),
    CHECK ((source = 'MANUAL') = (recorded_by IS NOT NULL))
);

-- Risk's answer per loan. It may arrive before loan.submitted (another topic), so it is kept
-- by loan id, not by score.
CREATE TABLE credit_risk_results (
    loan_id           UUID        PRIMARY KEY,
    credit_score_id   UUID        NOT NULL,
    evaluation_id     UUID        NOT NULL,
    outcome           TEXT        NOT NULL CHECK (outcome IN ('EVALUATED', 'FAILED')),
    risk_level        TEXT        CHECK (risk_level IN ('LOW', 'MEDIUM', 'HIGH')),
    normalized_score  INT,
    bureau            JSONB,
    reason_code       TEXT,
    vendor_name       TEXT        NOT NULL,
    rules_version     TEXT,
    occurred_at       TIMESTAMPTZ NOT NULL,
    received_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Every decision, automatic (APPROVE, REJECT or REFER) or by staff, with what it used.
CREATE TABLE credit_decisions (
    id               UUID        PRIMARY KEY,
    credit_score_id  UUID        NOT NULL REFERENCES credit_scores (id),
    loan_id          UUID        NOT NULL,
    source           TEXT        NOT NULL CHECK (source IN ('AUTOMATIC', 'MANUAL')),
    outcome          TEXT        NOT NULL CHECK (outcome IN ('APPROVE', 'REJECT', 'REFER')),
    combined_score   INT,
    reason_codes     TEXT[]      NOT NULL,
    reason           TEXT        NOT NULL,
    rules_version    TEXT        NOT NULL,
    inputs           JSONB       NOT NULL,
    decided_by       UUID,
    reviews_decision UUID,
    note             TEXT,
    decided_at       TIMESTAMPTZ NOT NULL,
    CHECK ((source = 'MANUAL') = (decided_by IS NOT NULL))
);

-- A score is decided automatically at most once, whichever worker gets there.
CREATE UNIQUE INDEX credit_decisions_one_automatic ON credit_decisions (credit_score_id)
    WHERE source = 'AUTOMATIC';
CREATE INDEX credit_decisions_loan ON credit_decisions (loan_id, decided_at);

-- Money moved through a provider (payouts at disbursement, collections of repayments), recorded
-- as an intent BEFORE the provider is called, so the call happens with no transaction or row
-- lock held and a crash between the call and its outcome is finished later, exactly once
-- (subgraphs/loan/src/service/money_movement.rs).
CREATE TABLE loan_money_movements (
    id                 UUID        PRIMARY KEY,
    loan_id            UUID        NOT NULL REFERENCES loans (id),
    kind               TEXT        NOT NULL CHECK (kind IN ('PAYOUT', 'COLLECTION')),
    status             TEXT        NOT NULL CHECK (status IN ('REQUESTED', 'SUCCEEDED', 'FAILED')),
    amount             BIGINT      NOT NULL CHECK (amount > 0),
    -- Sent to the provider: asking again with the same key is the same payout or charge.
    provider_key       TEXT        NOT NULL UNIQUE,
    -- The borrower's idempotency key of a payment (NULL for a payout).
    request_key        TEXT,
    -- The staff member who disbursed or the borrower who paid.
    requested_by       UUID        NOT NULL,
    -- The business date the request counts on (disbursement date, payment date).
    business_date      DATE        NOT NULL,
    provider_reference TEXT,
    failure            TEXT,
    -- Provider calls made for this intent (the first and every resumption).
    attempts           INT         NOT NULL DEFAULT 0,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Refreshed whenever someone takes the intent in hand; the resumer only picks up intents
    -- nobody has touched for a while.
    updated_at         TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (loan_id, kind, request_key),
    CHECK (status <> 'SUCCEEDED' OR provider_reference IS NOT NULL),
    CHECK ((kind = 'COLLECTION') = (request_key IS NOT NULL))
);

-- One payout per loan that has not been declined: two operators clicking at once share it.
CREATE UNIQUE INDEX loan_money_movements_one_payout ON loan_money_movements (loan_id)
    WHERE kind = 'PAYOUT' AND status <> 'FAILED';

CREATE INDEX loan_money_movements_requested ON loan_money_movements (updated_at)
    WHERE status = 'REQUESTED';

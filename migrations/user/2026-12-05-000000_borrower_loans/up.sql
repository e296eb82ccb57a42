-- The borrower's loans as loan announces them (`loan.status.changed.v1`): only the status, which
-- is what the user context needs to refuse deleting an account while a loan is open (SUBMITTED,
-- APPROVED or ACTIVE) — the debt and its collection need the borrower's contact data. One row
-- per loan, the newest status by `changed_at`.
CREATE TABLE user_loan (
    loan_id UUID PRIMARY KEY,
    user_id UUID NOT NULL,
    status TEXT NOT NULL
        CONSTRAINT user_loan_status_known
            CHECK (status IN ('SUBMITTED', 'APPROVED', 'REJECTED', 'CANCELLED', 'ACTIVE', 'PAID')),
    changed_at TIMESTAMPTZ NOT NULL
);

CREATE INDEX user_loan_open_by_user ON user_loan (user_id)
    WHERE status IN ('SUBMITTED', 'APPROVED', 'ACTIVE');

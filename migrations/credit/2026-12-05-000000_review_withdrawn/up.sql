-- A borrower who asked for a human review of a rejection and then deleted the account: the
-- review is withdrawn (off the queue, nothing left for a person to decide), as an application
-- the borrower cancels is.
ALTER TABLE credit_scores DROP CONSTRAINT credit_scores_review_status_check;
ALTER TABLE credit_scores ADD CONSTRAINT credit_scores_review_status_check
    CHECK (review_status IN ('NONE', 'REQUESTED', 'DECIDED', 'WITHDRAWN'));

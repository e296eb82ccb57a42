-- A borrower may cancel an application before it is decided, also while it waits in the review
-- queue: its score then stops (no external score bought, no decision, off the queue).
ALTER TABLE credit_scores DROP CONSTRAINT credit_scores_decision_check;
ALTER TABLE credit_scores ADD CONSTRAINT credit_scores_decision_check
    CHECK (decision IN ('PENDING', 'APPROVE', 'REJECT', 'REFER', 'WITHDRAWN'));

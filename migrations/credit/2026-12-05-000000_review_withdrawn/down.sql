UPDATE credit_scores SET review_status = 'REQUESTED' WHERE review_status = 'WITHDRAWN';
ALTER TABLE credit_scores DROP CONSTRAINT credit_scores_review_status_check;
ALTER TABLE credit_scores ADD CONSTRAINT credit_scores_review_status_check
    CHECK (review_status IN ('NONE', 'REQUESTED', 'DECIDED'));

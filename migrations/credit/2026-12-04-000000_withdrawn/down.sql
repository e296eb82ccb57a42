UPDATE credit_scores SET decision = 'PENDING' WHERE decision = 'WITHDRAWN';
ALTER TABLE credit_scores DROP CONSTRAINT credit_scores_decision_check;
ALTER TABLE credit_scores ADD CONSTRAINT credit_scores_decision_check
    CHECK (decision IN ('PENDING', 'APPROVE', 'REJECT', 'REFER'));

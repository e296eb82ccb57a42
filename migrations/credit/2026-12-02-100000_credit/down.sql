DROP TABLE IF EXISTS credit_decisions;
DROP TABLE IF EXISTS credit_risk_results;
DROP TABLE IF EXISTS credit_scores_list;
DROP TABLE IF EXISTS credit_scores;
DROP TABLE IF EXISTS credit_overdue_installments;
DROP TABLE IF EXISTS credit_loan_history;
DROP TABLE IF EXISTS credit_borrowers;

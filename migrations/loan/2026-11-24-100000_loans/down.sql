DROP TABLE IF EXISTS loan_user_status;
DROP TABLE IF EXISTS loan_kyc_eligibility;
DROP TABLE IF EXISTS loans_repayments;
DROP TABLE IF EXISTS loans_review_history;
DROP TABLE IF EXISTS loans_payments;
DROP TABLE IF EXISTS loans;

DROP TABLE user_loan;

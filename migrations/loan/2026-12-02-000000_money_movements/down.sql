DROP TABLE loan_money_movements;

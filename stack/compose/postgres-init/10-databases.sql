-- Runs once, when the postgres container initialises an empty volume.
-- One database per PostgreSQL-backed service; each service applies its own migrations.
-- The list is services.toml's PostgreSQL databases; tenor-platform's tests compare the two.
CREATE DATABASE tenor_auth;
CREATE DATABASE tenor_user;
CREATE DATABASE tenor_kyc;
CREATE DATABASE tenor_loan;
CREATE DATABASE tenor_credit;

ALTER TABLE user_kyc DROP CONSTRAINT erased_has_no_number;
ALTER TABLE user_kyc DROP COLUMN erased_at;

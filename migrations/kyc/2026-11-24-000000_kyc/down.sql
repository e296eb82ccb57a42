DROP TABLE IF EXISTS pii_access_log;
DROP TABLE IF EXISTS kyc_reviews;
DROP TABLE IF EXISTS kyc_document_claims;
DROP TABLE IF EXISTS user_kyc;
DROP TABLE IF EXISTS kyc_uploads;

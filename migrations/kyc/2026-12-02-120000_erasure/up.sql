-- Account deletion (UU PDP right to erasure; docs/conventions.md § Data-subject requests): when
-- the user context announces a DELETED account, KYC erases the PII of every submission of that
-- person — the document number's ciphertext is emptied, its mask blanked, both images deleted
-- from the object store — and keeps the outcome (status, dates, reason codes, reviews) and the
-- keyed blind index, which cannot be reversed without the key and still stops the same number
-- backing a second account. erased_at marks a submission whose PII is gone.
ALTER TABLE user_kyc ADD COLUMN erased_at TIMESTAMPTZ;
ALTER TABLE user_kyc ADD CONSTRAINT erased_has_no_number
    CHECK (erased_at IS NULL OR octet_length(document_number_ciphertext) = 0);

-- The revocation keeper (auth's service/revocation.rs) reads the sessions ended within the last
-- access-token lifetime whenever Redis has lost the revocation set: with this index that read
-- touches those few rows, not every session ever opened. Partial: open sessions (most rows)
-- are never looked up by it.
CREATE INDEX auth_sessions_by_revoked_at ON auth_sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- YouTube quota ledger: units spent per API key per Pacific-time day, shared by every
-- process (writers UPSERT-increment). A key is stored as its pool index and a short
-- sha256 fingerprint, never in clear.

CREATE TABLE youtube_quota_ledger (
    quota_day DATE NOT NULL,                 -- the day in America/Los_Angeles
    key_fingerprint CHAR(12) NOT NULL,       -- first 12 hex digits of sha256(key)
    key_index INTEGER NOT NULL,              -- position in YOUTUBE_API_KEY_POOL_JSON
    units BIGINT NOT NULL DEFAULT 0,
    calls BIGINT NOT NULL DEFAULT 0,
    exhausted_at TIMESTAMPTZ,                -- set when YouTube answered quotaExceeded
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (quota_day, key_fingerprint)
);

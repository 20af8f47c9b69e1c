-- Stats rows record when they were observed (the moment the API response arrived), apart
-- from their `timestamp`, which stays the run's tick: the idempotency key that makes a
-- re-executed run rewrite the same rows. Rows written before this migration were observed at
-- their tick as far as anyone knows.

ALTER TABLE video_stats_log ADD COLUMN observed_at TIMESTAMPTZ;
ALTER TABLE channel_stats_log ADD COLUMN observed_at TIMESTAMPTZ;

UPDATE video_stats_log SET observed_at = timestamp WHERE observed_at IS NULL;
UPDATE channel_stats_log SET observed_at = timestamp WHERE observed_at IS NULL;

ALTER TABLE video_stats_log ALTER COLUMN observed_at SET DEFAULT NOW(),
    ALTER COLUMN observed_at SET NOT NULL;
ALTER TABLE channel_stats_log ALTER COLUMN observed_at SET DEFAULT NOW(),
    ALTER COLUMN observed_at SET NOT NULL;

-- The hunt's thumbnail fetches that failed: transient failures are retried on later runs
-- with backoff (next_attempt_at); a permanent answer (404/410 after several tries, an
-- undecodable image) ends the video's hunt, and the reason stays visible.
CREATE TABLE thumbnail_attempts (
    video_id VARCHAR(20) PRIMARY KEY REFERENCES videos(id) ON DELETE CASCADE,
    attempts INTEGER NOT NULL,
    last_error TEXT NOT NULL,
    permanent BOOLEAN NOT NULL DEFAULT FALSE,
    next_attempt_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX thumbnail_attempts_next ON thumbnail_attempts (permanent, next_attempt_at);

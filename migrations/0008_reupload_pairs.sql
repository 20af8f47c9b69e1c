-- One row per suspected re-upload pair, ever: the unordered pair (video_a < video_b) is the key,
-- so re-runs and concurrent runs of the hunt alert once (INSERT ... ON CONFLICT DO NOTHING).
CREATE TABLE reupload_pairs (
    video_a VARCHAR(20) NOT NULL,
    video_b VARCHAR(20) NOT NULL,
    original_id VARCHAR(20) NOT NULL,
    score REAL NOT NULL,
    evidence_path TEXT,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    PRIMARY KEY (video_a, video_b),
    CHECK (video_a < video_b)
);

-- What the velocity scan did: one row per spike it found (video, the snapshot tick it was seen
-- at), with the rates it compared and whether it alerted (a spike within an earlier one's
-- episode is the same spike and alerts nothing). The `velocity_anomalies` asset is this table.
CREATE TABLE velocity_anomalies (
    video_id VARCHAR(20) NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    at TIMESTAMPTZ NOT NULL,
    views_per_hour DOUBLE PRECISION NOT NULL,
    previous_per_hour DOUBLE PRECISION NOT NULL,
    channel_confirmed BOOLEAN NOT NULL DEFAULT FALSE,
    alerted BOOLEAN NOT NULL DEFAULT FALSE,
    found_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (video_id, at)
);
CREATE INDEX velocity_anomalies_found_at ON velocity_anomalies (found_at);

-- When discovery last checked each channel's uploads, so the planner can check every channel
-- at a cadence learned from its upload history (atlas_core/planner.py).

CREATE TABLE channel_discovery_checks (
    channel_id VARCHAR(50) PRIMARY KEY,
    checked_at TIMESTAMPTZ NOT NULL
);

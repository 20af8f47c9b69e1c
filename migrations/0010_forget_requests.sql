-- `atlas forget`: one row per channel being forgotten, so an interrupted run resumes where it
-- stopped. The row (the only place the channel id stays during the work) is deleted when done.

CREATE TABLE forget_requests (
    channel_id VARCHAR(50) PRIMARY KEY,
    video_ids TEXT[] NOT NULL DEFAULT '{}',
    vault_done BOOLEAN NOT NULL DEFAULT FALSE,
    requested_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

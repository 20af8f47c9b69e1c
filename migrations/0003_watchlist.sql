-- The watchlist: channels Atlas tracks. Each row becomes a dynamic "channels" partition in
-- Dagster. Removing a channel stops tracking; its stored data stays until retention.

CREATE TABLE watchlist (
    channel_id VARCHAR(50) PRIMARY KEY,
    added_at TIMESTAMP NOT NULL DEFAULT NOW(),
    added_as TEXT                              -- what the user typed: id, @handle or URL
);

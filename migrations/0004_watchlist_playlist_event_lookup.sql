-- Remember each watched channel's uploads playlist (from channels.list in the refresh), so
-- discovery pages it without spending a lookup call; and index event lookups by entity,
-- used to alert once per deleted video, missing channel or anomaly.

ALTER TABLE watchlist ADD COLUMN uploads_playlist_id VARCHAR(50);

CREATE INDEX system_events_type_entity ON system_events (event_type, entity_id);

-- The stats logs are append-only in time order, so a BRIN index on their time column answers
-- day-range reads (exports) and retention deletes as well as the B-tree did, at a tiny
-- fraction of its size and write cost (measured in bench/stats_index.py).

DROP INDEX IF EXISTS video_stats_log_timestamp;
DROP INDEX IF EXISTS channel_stats_log_timestamp;
CREATE INDEX video_stats_log_timestamp_brin ON video_stats_log
    USING brin (timestamp) WITH (pages_per_range = 32);
CREATE INDEX channel_stats_log_timestamp_brin ON channel_stats_log
    USING brin (timestamp) WITH (pages_per_range = 32);

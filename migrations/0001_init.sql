-- Atlas schema, version 1: the seven tables of the API reference, exactly as specified,
-- plus the indexes the workload needs.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE channels (
    id VARCHAR(50) PRIMARY KEY,
    title VARCHAR(255) NOT NULL,
    country VARCHAR(10),
    custom_url VARCHAR(100),
    created_at TIMESTAMP,
    is_verified BOOLEAN DEFAULT FALSE,
    last_scraped_at TIMESTAMP DEFAULT NOW()
);

CREATE TABLE videos (
    id VARCHAR(20) PRIMARY KEY,
    channel_id VARCHAR(50) REFERENCES channels(id),
    title TEXT NOT NULL,
    published_at TIMESTAMP,
    duration INTEGER,
    wiki_topics TEXT[],
    discovered_at TIMESTAMP DEFAULT NOW()
);

CREATE TABLE video_vectors (
    video_id VARCHAR(20) REFERENCES videos(id),
    frame_index INTEGER NOT NULL,
    vector vector(512) NOT NULL,
    source_type VARCHAR(50),
    created_at TIMESTAMP DEFAULT NOW(),
    PRIMARY KEY (video_id, frame_index)
);

CREATE TABLE system_events (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    event_type VARCHAR(50) NOT NULL,
    entity_id VARCHAR(50),
    payload JSONB,
    created_at TIMESTAMP DEFAULT NOW()
);

CREATE TABLE channel_stats_log (
    channel_id VARCHAR(50) REFERENCES channels(id),
    timestamp TIMESTAMP DEFAULT NOW(),
    view_count BIGINT,
    subscriber_count BIGINT,
    video_count INTEGER,
    PRIMARY KEY (channel_id, timestamp)
);

CREATE TABLE video_stats_log (
    video_id VARCHAR(20) REFERENCES videos(id),
    timestamp TIMESTAMP DEFAULT NOW(),
    views BIGINT,
    likes BIGINT,
    comment_count BIGINT,
    PRIMARY KEY (video_id, timestamp)
);

CREATE TABLE channel_history (
    id UUID PRIMARY KEY DEFAULT gen_random_uuid(),
    channel_id VARCHAR(50) REFERENCES channels(id),
    changed_at TIMESTAMP DEFAULT NOW(),
    old_title VARCHAR(255),
    new_title VARCHAR(255),
    event_type VARCHAR(50) NOT NULL
);

-- Near-duplicate search: cosine distance on frame vectors.
CREATE INDEX video_vectors_vector_hnsw ON video_vectors USING hnsw (vector vector_cosine_ops);

-- Time-range scans (daily exports, velocity windows, retention).
CREATE INDEX channel_stats_log_timestamp ON channel_stats_log (timestamp);
CREATE INDEX video_stats_log_timestamp ON video_stats_log (timestamp);

-- Event log queries by type over time.
CREATE INDEX system_events_type_created ON system_events (event_type, created_at);

-- Foreign-key lookups.
CREATE INDEX videos_channel_id ON videos (channel_id);
CREATE INDEX channel_history_channel_changed ON channel_history (channel_id, changed_at);

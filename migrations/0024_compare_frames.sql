-- compare's prepared frame of each embedded video (trimmed grey at the working size, ORB
-- keypoints and descriptors: vision.compare.Frame.to_bytes), so the hunt never recomputes a
-- stored original's features for each new candidate. Goes with its video.
CREATE TABLE compare_frames (
    video_id VARCHAR(20) PRIMARY KEY REFERENCES videos(id) ON DELETE CASCADE,
    frame_index INTEGER NOT NULL,
    version VARCHAR(60) NOT NULL,
    data BYTEA NOT NULL,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

-- The hunt's queues read state, not the best-effort event log: when the API stopped returning
-- a video is a column of the video, and a video whose frames could not be embedded is a row
-- of vector_skips ('embed': first embedding, any embedder; 'reembed': for that embedder).
ALTER TABLE videos ADD COLUMN missing_since TIMESTAMPTZ;

UPDATE videos v SET missing_since = m.since
FROM (SELECT entity_id, min(created_at) AS since FROM system_events
      WHERE event_type = 'video.missing' GROUP BY entity_id) m
WHERE m.entity_id = v.id;

CREATE TABLE vector_skips (
    video_id VARCHAR(20) NOT NULL REFERENCES videos(id) ON DELETE CASCADE,
    stage VARCHAR(10) NOT NULL CHECK (stage IN ('embed', 'reembed')),
    embedder VARCHAR(100) NOT NULL,
    reason TEXT NOT NULL,
    skipped_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    PRIMARY KEY (video_id, stage, embedder)
);

INSERT INTO vector_skips (video_id, stage, embedder, reason, skipped_at)
SELECT DISTINCT ON (e.entity_id, x.stage, x.embedder)
       e.entity_id, x.stage, x.embedder, coalesce(e.payload->>'reason', ''), e.created_at
FROM system_events e
CROSS JOIN LATERAL (
    SELECT CASE e.event_type WHEN 'vectors.skipped' THEN 'embed' ELSE 'reembed' END AS stage,
           coalesce(e.payload->>'embedder', '') AS embedder
) x
WHERE e.event_type IN ('vectors.skipped', 'vectors.reembed_skipped')
  AND EXISTS (SELECT 1 FROM videos v WHERE v.id = e.entity_id)
ORDER BY e.entity_id, x.stage, x.embedder, e.created_at;

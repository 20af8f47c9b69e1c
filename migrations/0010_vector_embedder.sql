-- Each vector records the embedder (name and version) that made it. Old and new embedders'
-- rows coexist while re-embedding (`atlas reembed`), so the key includes the embedder.
ALTER TABLE video_vectors ADD COLUMN embedder VARCHAR(100) NOT NULL DEFAULT 'perceptual-32x16';
ALTER TABLE video_vectors ALTER COLUMN embedder DROP DEFAULT;
ALTER TABLE video_vectors DROP CONSTRAINT video_vectors_pkey;
ALTER TABLE video_vectors ADD PRIMARY KEY (video_id, embedder, frame_index);
CREATE INDEX video_vectors_embedder ON video_vectors (embedder, video_id);

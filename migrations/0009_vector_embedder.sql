-- Each vector records the embedder (name and version) that made it. Old and new embedders'
-- rows coexist while re-embedding (`atlas reembed`), so the key includes the embedder.
ALTER TABLE video_vectors ADD COLUMN embedder VARCHAR(100) NOT NULL DEFAULT 'perceptual-32x16';
ALTER TABLE video_vectors ALTER COLUMN embedder DROP DEFAULT;
ALTER TABLE video_vectors DROP CONSTRAINT video_vectors_pkey;
ALTER TABLE video_vectors ADD PRIMARY KEY (video_id, embedder, frame_index);
CREATE INDEX video_vectors_embedder ON video_vectors (embedder, video_id);
-- A denser HNSW graph: at 512-d the defaults (m 16, ef_construction 64) gave recall@10 0.96
-- on 100k vectors at ef_search 1000 (bench/ann.py).
DROP INDEX video_vectors_vector_hnsw;
CREATE INDEX video_vectors_vector_hnsw ON video_vectors USING hnsw (vector vector_cosine_ops)
    WITH (m = 24, ef_construction = 200);

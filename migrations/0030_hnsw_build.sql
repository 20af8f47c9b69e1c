-- The hunt's stage-1 index at pgvector's default graph (m 16, ef_construction 64). The hunt
-- looks for near-copies, far closer to their query than its tenth neighbour: bench/ann.py
-- (planted copies among 1M other-channel rows, iterative scan) measures their recall at 20
-- per ef_search. The denser graph of 0009 (m 24, ef_construction 200) was chosen on recall@10
-- of random queries and builds several times slower.
DROP INDEX IF EXISTS video_vectors_vector_hnsw;
CREATE INDEX video_vectors_vector_hnsw ON video_vectors USING hnsw (vector vector_cosine_ops)
    WITH (m = 16, ef_construction = 64);

-- The hunt looks up the originals of its candidates that are recorded copies (a pair's member
-- on either side): the primary key serves video_a, this index video_b.
CREATE INDEX IF NOT EXISTS reupload_pairs_video_b ON reupload_pairs (video_b);

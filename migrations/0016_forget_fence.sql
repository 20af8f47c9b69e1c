-- Forget is a fence, not a sweep. `atlas forget` records the sha256 digest of the channel id and
-- of each of its video ids in `forgotten_ids` (never the ids themselves), and a BEFORE INSERT OR
-- UPDATE trigger on every table that names a channel or a video skips (RETURN NULL) a row of a
-- forgotten channel or video: a run in flight at forget time writes nothing of it, whatever
-- store function it goes through, COPY included, and the other rows of its batch still go in.
-- Writers take a shared per-channel advisory lock inside their transaction and forget takes it
-- exclusively when it records the request, so the two serialize. `atlas watch add` clears the
-- digest (watching a channel again is the one way back).
--
-- The covered tables are derived from the catalog by atlas_id_columns(); atlas_install_fence()
-- (re)creates the triggers and runs after every migration (atlas_core/migrate.py), so a table
-- added later is fenced too. tests/faults/test_forget_fence.py fails on an uncovered one.

CREATE TABLE forgotten_ids (
    digest BYTEA PRIMARY KEY,                 -- sha256 of a forgotten channel or video id
    forgotten_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE FUNCTION atlas_id_digest(id TEXT) RETURNS BYTEA
LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT sha256(convert_to(id, 'UTF8')) $$;

CREATE FUNCTION atlas_fence_key(id TEXT) RETURNS BIGINT
LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT hashtextextended('atlas.forget:' || id, 0) $$;

-- Every (table, column, kind) naming a channel or a video by id; kind is 'channel' or 'video'.
CREATE FUNCTION atlas_id_columns() RETURNS TABLE (table_name TEXT, column_name TEXT, kind TEXT)
LANGUAGE sql STABLE AS $$
    SELECT c.table_name::text, c.column_name::text,
           CASE WHEN c.column_name = 'channel_id' OR (c.table_name = 'channels' AND c.column_name = 'id')
                THEN 'channel' ELSE 'video' END
    FROM information_schema.columns c
    JOIN information_schema.tables t
      ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = current_schema()
      AND t.table_type = 'BASE TABLE'
      AND c.table_name NOT IN ('forget_requests', 'forgotten_ids')
      AND (c.column_name IN ('channel_id', 'video_id', 'video_a', 'video_b', 'original_id')
           OR (c.table_name IN ('channels', 'videos') AND c.column_name = 'id'))
    ORDER BY 1, 2
$$;

-- A channel is fenced when its digest is recorded. Takes the shared lock forget waits on.
CREATE FUNCTION atlas_channel_fenced(cid TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    IF cid IS NULL OR cid = '' THEN
        RETURN FALSE;
    END IF;
    PERFORM pg_advisory_xact_lock_shared(atlas_fence_key(cid));
    RETURN EXISTS (SELECT 1 FROM forgotten_ids WHERE digest = atlas_id_digest(cid));
END
$$;

-- A video is fenced when its digest is recorded, when its stored channel is fenced, or when
-- this transaction already skipped its `videos` row (so its stats rows are skipped with it
-- instead of failing the batch on the foreign key).
CREATE FUNCTION atlas_video_fenced(vid TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    cid TEXT;
BEGIN
    IF vid IS NULL OR vid = '' THEN
        RETURN FALSE;
    END IF;
    IF strpos(coalesce(current_setting('atlas.fenced_videos', true), ''), ',' || vid || ',') > 0 THEN
        RETURN TRUE;
    END IF;
    SELECT channel_id INTO cid FROM videos WHERE id = vid;
    IF cid IS NOT NULL AND atlas_channel_fenced(cid) THEN
        RETURN TRUE;
    END IF;
    RETURN EXISTS (SELECT 1 FROM forgotten_ids WHERE digest = atlas_id_digest(vid));
END
$$;

CREATE FUNCTION atlas_id_fenced(id TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN atlas_channel_fenced(id) OR atlas_video_fenced(id);
END
$$;

-- Remember, for this transaction, a video whose row was skipped.
CREATE FUNCTION atlas_note_fenced_video(vid TEXT) RETURNS VOID
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config(
        'atlas.fenced_videos',
        coalesce(nullif(current_setting('atlas.fenced_videos', true), ''), ',') || vid || ',',
        true
    );
END
$$;

-- system_events: the entity and the ids an event's payload names.
CREATE FUNCTION atlas_fence_system_events() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    IF atlas_id_fenced(NEW.entity_id)
       OR atlas_id_fenced(NEW.payload->>'channel_id')
       OR atlas_id_fenced(NEW.payload->>'video_id')
       OR atlas_id_fenced(NEW.payload->>'match_channel_id')
       OR atlas_id_fenced(NEW.payload->>'matches')
       OR atlas_id_fenced(NEW.payload->>'original_id') THEN
        RETURN NULL;
    END IF;
    RETURN NEW;
END
$$;

-- alert_outbox: any id-shaped token of the key, the fields or the image path.
CREATE FUNCTION atlas_fence_alert_outbox() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
DECLARE
    token TEXT;
BEGIN
    FOR token IN
        SELECT DISTINCT m[1] FROM regexp_matches(
            NEW.key || ' ' || NEW.fields::text || ' ' || coalesce(NEW.image_path, ''),
            '([A-Za-z0-9_-]{2,64})', 'g') AS m
    LOOP
        IF atlas_id_fenced(token) THEN
            RETURN NULL;
        END IF;
    END LOOP;
    RETURN NEW;
END
$$;

-- (Re)create the fence trigger of every table atlas_id_columns() names, plus the two tables
-- that name ids inside text. Returns the number of tables fenced.
CREATE FUNCTION atlas_install_fence() RETURNS INTEGER
LANGUAGE plpgsql AS $$
DECLARE
    t RECORD;
    conds TEXT;
    note TEXT;
    fn TEXT;
    n INTEGER := 0;
BEGIN
    FOR t IN
        SELECT c.table_name, array_agg(c.column_name ORDER BY c.column_name) AS cols,
               array_agg(c.kind ORDER BY c.column_name) AS kinds
        FROM atlas_id_columns() c GROUP BY c.table_name
    LOOP
        conds := '';
        FOR i IN 1 .. array_length(t.cols, 1) LOOP
            conds := conds || CASE WHEN conds = '' THEN '' ELSE ' OR ' END
                || format('atlas_%s_fenced(NEW.%I::text)', t.kinds[i], t.cols[i]);
        END LOOP;
        note := CASE WHEN t.table_name = 'videos'
                     THEN 'PERFORM atlas_note_fenced_video(NEW.id);' ELSE '' END;
        fn := 'atlas_fence_' || t.table_name;
        EXECUTE format(
            'CREATE OR REPLACE FUNCTION %I() RETURNS TRIGGER LANGUAGE plpgsql AS $f$'
            ' BEGIN IF %s THEN %s RETURN NULL; END IF; RETURN NEW; END $f$',
            fn, conds, note);
        EXECUTE format('DROP TRIGGER IF EXISTS atlas_fence ON %I', t.table_name);
        EXECUTE format(
            'CREATE TRIGGER atlas_fence BEFORE INSERT OR UPDATE ON %I'
            ' FOR EACH ROW EXECUTE FUNCTION %I()', t.table_name, fn);
        n := n + 1;
    END LOOP;
    FOR fn IN SELECT unnest(ARRAY['system_events', 'alert_outbox']) LOOP
        IF to_regclass(fn) IS NOT NULL THEN
            EXECUTE format('DROP TRIGGER IF EXISTS atlas_fence ON %I', fn);
            EXECUTE format(
                'CREATE TRIGGER atlas_fence BEFORE INSERT OR UPDATE ON %I'
                ' FOR EACH ROW EXECUTE FUNCTION %I()', fn, 'atlas_fence_' || fn);
            n := n + 1;
        END IF;
    END LOOP;
    RETURN n;
END
$$;

SELECT atlas_install_fence();

-- Forget is a fence, not a sweep. `atlas forget` records the sha256 digest of the channel id and
-- of each of its video ids in `forgotten_ids` (never the ids themselves), and a BEFORE INSERT OR
-- UPDATE trigger on every table that names a channel or a video skips (RETURN NULL) a row of a
-- forgotten channel or video: a run in flight at forget time writes nothing of it, whatever
-- store function it goes through, COPY included, and the other rows of its batch still go in.
-- `atlas watch add` clears the digest (watching a channel again is the one way back).
--
-- Serialisation: a statement-level trigger reads forgotten_ids at the start of every write
-- statement, so the writer's transaction holds its ACCESS SHARE lock until it ends; forget locks
-- the table ACCESS EXCLUSIVE, records the digests and deletes every row of the channel in one
-- transaction. So forget waits for the writers in flight, and writers that come after it see
-- the digests. The statement trigger also notes whether any digest exists at all: while none
-- does, the row triggers cost one setting lookup (the bulk COPY of stats stays fast).
--
-- The covered tables are derived from the catalog by atlas_id_columns(); atlas_install_fence()
-- (re)creates the triggers and runs after every migration (atlas_core/migrate.py), so a table
-- added later is fenced too. tests/faults/test_forget_fence.py fails on an uncovered one.

CREATE TABLE forgotten_ids (
    digest BYTEA PRIMARY KEY,                 -- sha256 of a forgotten channel or video id
    forgotten_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- The rows a forget deleted, kept with its request until the vault is done too, so a resumed
-- forget still reports (in its one forget.applied event) what the first attempt deleted.
ALTER TABLE forget_requests ADD COLUMN deleted JSONB NOT NULL DEFAULT '{}'::jsonb;

CREATE FUNCTION atlas_id_digest(id TEXT) RETURNS BYTEA
LANGUAGE sql IMMUTABLE STRICT AS $$ SELECT sha256(convert_to(id, 'UTF8')) $$;

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

-- Statement trigger: take the lock forget waits on, and note whether the fence has any digest.
CREATE FUNCTION atlas_fence_statement() RETURNS TRIGGER
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config(
        'atlas.fence_active',
        CASE WHEN EXISTS (SELECT 1 FROM forgotten_ids) THEN 'on' ELSE 'off' END,
        true
    );
    RETURN NULL;
END
$$;

CREATE FUNCTION atlas_fence_active() RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$ SELECT coalesce(current_setting('atlas.fence_active', true), '') = 'on' $$;

CREATE FUNCTION atlas_is_forgotten(id TEXT) RETURNS BOOLEAN
LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM forgotten_ids WHERE digest = atlas_id_digest(id))
$$;

CREATE FUNCTION atlas_channel_fenced(cid TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN cid IS NOT NULL AND cid <> '' AND atlas_is_forgotten(cid);
END
$$;

-- A video is fenced when this transaction skipped its `videos` row (so its stats go with it
-- instead of failing the batch on the foreign key), or when it is not stored and its digest is
-- recorded. A stored video is never of a forgotten channel: forget deleted those rows under
-- the lock, and a new row of the channel is skipped by the `videos` trigger.
CREATE FUNCTION atlas_video_fenced(vid TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql STABLE AS $$
BEGIN
    IF vid IS NULL OR vid = '' THEN
        RETURN FALSE;
    END IF;
    IF strpos(coalesce(current_setting('atlas.fenced_videos', true), ''), ',' || vid || ',') > 0 THEN
        RETURN TRUE;
    END IF;
    RETURN NOT EXISTS (SELECT 1 FROM videos WHERE id = vid) AND atlas_is_forgotten(vid);
END
$$;

CREATE FUNCTION atlas_id_fenced(id TEXT) RETURNS BOOLEAN
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN id IS NOT NULL AND id <> '' AND atlas_is_forgotten(id)
        OR atlas_video_fenced(id);
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
    IF atlas_fence_active() AND (
       atlas_id_fenced(NEW.entity_id)
       OR atlas_id_fenced(NEW.payload->>'channel_id')
       OR atlas_id_fenced(NEW.payload->>'video_id')
       OR atlas_id_fenced(NEW.payload->>'match_channel_id')
       OR atlas_id_fenced(NEW.payload->>'matches')
       OR atlas_id_fenced(NEW.payload->>'original_id')) THEN
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
    IF NOT atlas_fence_active() THEN
        RETURN NEW;
    END IF;
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

-- (Re)create the fence triggers of every table atlas_id_columns() names, plus the two tables
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
                || CASE WHEN t.table_name = 'videos' AND t.cols[i] = 'id'
                        THEN 'atlas_is_forgotten(NEW.id::text)'  -- its own id: the digest
                        WHEN t.kinds[i] = 'channel'
                        THEN format('atlas_is_forgotten(NEW.%I::text)', t.cols[i])
                        ELSE format(  -- atlas_video_fenced() inlined: the bulk stats path
                            '(strpos(coalesce(current_setting(''atlas.fenced_videos'', true), ''''),'
                            ' '','' || NEW.%1$I || '','') > 0 OR (NEW.%1$I IS NOT NULL'
                            ' AND NOT EXISTS (SELECT 1 FROM videos v WHERE v.id = NEW.%1$I)'
                            ' AND atlas_is_forgotten(NEW.%1$I::text)))', t.cols[i]) END;
        END LOOP;
        note := CASE WHEN t.table_name = 'videos'
                     THEN 'PERFORM atlas_note_fenced_video(NEW.id);' ELSE '' END;
        fn := 'atlas_fence_' || t.table_name;
        EXECUTE format(
            'CREATE OR REPLACE FUNCTION %I() RETURNS TRIGGER LANGUAGE plpgsql AS $f$'
            ' BEGIN IF atlas_fence_active() THEN IF %s THEN %s RETURN NULL; END IF; END IF;'
            ' RETURN NEW; END $f$',
            fn, conds, note);
        n := n + 1;
    END LOOP;
    FOR t IN
        SELECT DISTINCT c.table_name FROM atlas_id_columns() c
        UNION SELECT x FROM unnest(ARRAY['system_events', 'alert_outbox']) AS x
        WHERE to_regclass(x) IS NOT NULL
    LOOP
        EXECUTE format('DROP TRIGGER IF EXISTS atlas_fence ON %I', t.table_name);
        EXECUTE format('DROP TRIGGER IF EXISTS atlas_fence_statement ON %I', t.table_name);
        EXECUTE format(
            'CREATE TRIGGER atlas_fence_statement BEFORE INSERT OR UPDATE ON %I'
            ' FOR EACH STATEMENT EXECUTE FUNCTION atlas_fence_statement()', t.table_name);
        EXECUTE format(
            'CREATE TRIGGER atlas_fence BEFORE INSERT OR UPDATE ON %I'
            ' FOR EACH ROW EXECUTE FUNCTION %I()', t.table_name, 'atlas_fence_' || t.table_name);
    END LOOP;
    RETURN n + 2;
END
$$;

SELECT atlas_install_fence();

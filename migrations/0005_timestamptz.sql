-- Every TIMESTAMP column becomes TIMESTAMPTZ. The code always wrote naive UTC, so existing
-- values are read as UTC. Defaults (NOW()) carry over and now mean the instant, whatever the
-- session time zone; indexes and primary keys on these columns are rebuilt by ALTER TYPE.
-- Done over the catalog so a column no one remembered is not left behind.

DO $$
DECLARE
    col record;
BEGIN
    FOR col IN
        SELECT c.table_name, c.column_name
        FROM information_schema.columns AS c
        JOIN information_schema.tables AS t
          ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = current_schema()
          AND t.table_type = 'BASE TABLE'
          AND c.data_type = 'timestamp without time zone'
        ORDER BY c.table_name, c.ordinal_position
    LOOP
        EXECUTE format(
            'ALTER TABLE %I ALTER COLUMN %I TYPE timestamptz USING %I AT TIME ZONE ''UTC''',
            col.table_name, col.column_name, col.column_name
        );
    END LOOP;
END
$$;

-- What an alert is about, as columns: the velocity scan's suppression window reads these
-- instead of parsing times back out of alert keys.
ALTER TABLE alert_outbox ADD COLUMN subject_id TEXT, ADD COLUMN subject_at TIMESTAMPTZ;

UPDATE alert_outbox
SET subject_id = split_part(substr(key, length('video.velocity_anomaly:') + 1), '@', 1),
    subject_at = to_timestamp(split_part(key, '@', 2), 'YYYYMMDD"T"HH24MISS')::timestamp
                 AT TIME ZONE 'UTC'
WHERE key ~ '^video\.velocity_anomaly:[^@]+@[0-9]{8}T[0-9]{6}$';

CREATE INDEX alert_outbox_subject ON alert_outbox (subject_id, subject_at)
    WHERE subject_id IS NOT NULL;

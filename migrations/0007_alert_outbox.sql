-- The alert outbox: alerts are rows written in the same transaction as their cause, and a
-- delivery step drains them to Discord (at least once; the key makes re-runs idempotent).

CREATE TABLE alert_outbox (
    id BIGSERIAL PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    channel VARCHAR(20) NOT NULL,
    level VARCHAR(20) NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    fields JSONB NOT NULL DEFAULT '{}'::jsonb,
    image_path TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    next_attempt_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    delivered_at TIMESTAMPTZ,
    given_up_at TIMESTAMPTZ
);

-- The drainer's scan: pending rows whose next attempt is due.
CREATE INDEX alert_outbox_pending ON alert_outbox (next_attempt_at)
    WHERE delivered_at IS NULL AND given_up_at IS NULL;

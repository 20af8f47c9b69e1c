-- WebSub trusts only what Atlas asked for. A (un)subscribe request Atlas sends is recorded as
-- pending with the sha256 of the per-request hub.verify_token it issued; the hub's
-- verification is echoed only while that intent is pending and carries the token. Pushes are
-- queued once per (video, updated time): a replayed notification queues nothing.

ALTER TABLE websub_subscriptions
    ADD COLUMN pending_mode TEXT CHECK (pending_mode IN ('subscribe', 'unsubscribe')),
    ADD COLUMN verify_token_sha256 TEXT,     -- of the token sent with the pending request
    ADD COLUMN pending_at TIMESTAMPTZ;       -- when that request was sent

ALTER TABLE websub_pushes ADD COLUMN updated_at TIMESTAMPTZ;  -- the entry's <updated> / when
CREATE UNIQUE INDEX websub_pushes_once ON websub_pushes (video_id, deleted, updated_at);

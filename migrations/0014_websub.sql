-- YouTube push notifications (WebSub): which channels' upload feeds the hub pushes to Atlas,
-- and the pushes received, a queue the websub_pushes sensor turns into discovery runs.

CREATE TABLE websub_subscriptions (
    channel_id VARCHAR(50) PRIMARY KEY,
    requested_at TIMESTAMPTZ NOT NULL,       -- last subscribe request the hub accepted
    verified_at TIMESTAMPTZ,                  -- the hub's last verification at the callback
    lease_expires_at TIMESTAMPTZ              -- verified_at + the lease the hub granted
);

CREATE TABLE websub_pushes (
    id BIGSERIAL PRIMARY KEY,
    channel_id VARCHAR(50) NOT NULL,
    video_id VARCHAR(20) NOT NULL,
    deleted BOOLEAN NOT NULL DEFAULT FALSE,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX websub_pushes_received_at ON websub_pushes (received_at);
CREATE INDEX websub_pushes_channel_id ON websub_pushes (channel_id);

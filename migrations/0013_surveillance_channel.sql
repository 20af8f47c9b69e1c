-- The SURVEILLANCE alert channel is stored as 'surveillance' (it was 'watch', which read like
-- the watchlist and `atlas watch`). Alerts still waiting in the outbox keep their channel.
UPDATE alert_outbox SET channel = 'surveillance' WHERE channel = 'watch';

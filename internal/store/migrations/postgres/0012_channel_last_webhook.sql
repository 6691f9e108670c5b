-- When the channel last received a webhook delivery whose signature verified (issue 14): the
-- settings screen shows it so the admin sees Meta's webhook reach the server. Written at most once
-- a minute per channel.
ALTER TABLE channels ADD COLUMN last_webhook_at timestamptz;

-- One active webhook per organization and URL: a partner that retries a
-- registration whose answer it lost must not receive every event twice.
-- Duplicates registered before this (all but the first) are disabled as a
-- deletion would, their pending deliveries cancelled.
WITH ranked AS (
    SELECT id, row_number() OVER (PARTITION BY organization_id, url ORDER BY id) AS n
    FROM webhooks WHERE active
), disabled AS (
    UPDATE webhooks w SET active = false, disabled_at = now()
    FROM ranked r WHERE w.id = r.id AND r.n > 1
    RETURNING w.id
)
UPDATE webhook_deliveries d
SET status = 'cancelled', last_error = 'a duplicate registration of the same URL'
FROM disabled WHERE d.webhook_id = disabled.id AND d.status = 'pending';

CREATE UNIQUE INDEX webhooks_one_active_per_url ON webhooks (organization_id, url) WHERE active;

-- PostgreSQL cannot drop an enum value: rebuild the type. A proposal or an
-- acceptance goes back to `planned`, a refusal to `cancelled`.
ALTER TABLE commitments ALTER COLUMN status DROP DEFAULT;
ALTER TYPE commitment_status RENAME TO commitment_status_answered;
CREATE TYPE commitment_status AS ENUM ('planned', 'in_progress', 'fulfilled', 'breached', 'cancelled');
ALTER TABLE commitments ALTER COLUMN status TYPE commitment_status USING (
    CASE status::text WHEN 'proposed' THEN 'planned' WHEN 'accepted' THEN 'planned'
                      WHEN 'refused' THEN 'cancelled' ELSE status::text END)::commitment_status;
ALTER TABLE commitments ALTER COLUMN status SET DEFAULT 'planned';
DROP TYPE commitment_status_answered;

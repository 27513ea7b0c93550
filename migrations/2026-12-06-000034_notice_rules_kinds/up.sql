-- The two alerts whose due day each plan or decision records — a plan's
-- review, a decision's last day of validity — join the table of rules, so
-- that their notice is the département's too. Added alone: a new enum
-- value can be used once the transaction that adds it has committed.
ALTER TYPE alert_rule ADD VALUE 'plan_review';
ALTER TYPE alert_rule ADD VALUE 'decision_expiring';

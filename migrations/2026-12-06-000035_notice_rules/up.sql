-- A plan's review and a decision's validity fall due on the day each
-- plan or decision records: their rules count no months, only the notice
-- (defaults: the 30 and 60 days the alerts always gave).
ALTER TABLE alert_rules ALTER COLUMN months DROP NOT NULL;
ALTER TABLE alert_rules ADD CONSTRAINT alert_rules_months_where_counted CHECK (
    (months IS NULL) = (rule IN ('plan_review', 'decision_expiring')));
INSERT INTO alert_rules (rule, months, notice_days) VALUES
    ('plan_review', NULL, 30),
    ('decision_expiring', NULL, 60);

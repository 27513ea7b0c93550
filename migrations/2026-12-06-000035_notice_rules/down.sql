DELETE FROM alert_rules WHERE rule IN ('plan_review', 'decision_expiring');
ALTER TABLE alert_rules DROP CONSTRAINT alert_rules_months_where_counted;
ALTER TABLE alert_rules ALTER COLUMN months SET NOT NULL;

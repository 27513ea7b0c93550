-- PostgreSQL cannot drop an enum value: rebuild the type without them
-- (000035's down removed their rows).
ALTER TYPE alert_rule RENAME TO alert_rule_with_notices;
CREATE TYPE alert_rule AS ENUM (
    'majority_interview', 'majority', 'young_adult_end', 'creton_age', 'age_barrier',
    'ppe_due', 'engagement_contract_due'
);
ALTER TABLE alert_rules ALTER COLUMN rule TYPE alert_rule USING rule::text::alert_rule;
DROP TYPE alert_rule_with_notices;

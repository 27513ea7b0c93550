DROP INDEX decisions_orientation_decided_idx;
DROP INDEX pathways_childhood_open_opened_idx;
DROP TABLE alert_rules;
DROP TYPE alert_rule;

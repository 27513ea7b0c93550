DROP TABLE plan_versions;
ALTER TABLE plans
    DROP COLUMN pending_changes,
    DROP COLUMN consented_version_number,
    DROP COLUMN version_number;

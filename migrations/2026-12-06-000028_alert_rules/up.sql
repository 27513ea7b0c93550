-- Ages and legal deadlines that raise alerts (#16). What each rule
-- watches is the code's (domain::deadlines); how many months it counts
-- and how many days ahead it warns are the département's, changed by an
-- admin (audited). Defaults: the national texts.
CREATE TYPE alert_rule AS ENUM (
    'majority_interview', 'majority', 'young_adult_end', 'creton_age', 'age_barrier',
    'ppe_due', 'engagement_contract_due'
);
CREATE TABLE alert_rules (
    rule alert_rule PRIMARY KEY,
    months integer NOT NULL CHECK (months BETWEEN 1 AND 1200),
    notice_days integer NOT NULL CHECK (notice_days BETWEEN 0 AND 730),
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT parcours_manage_updated_at('alert_rules');
INSERT INTO alert_rules (rule, months, notice_days) VALUES
    ('majority_interview', 210, 60),       -- 17½
    ('majority', 216, 90),                 -- 18
    ('young_adult_end', 252, 90),          -- 21
    ('creton_age', 240, 180),              -- 20
    ('age_barrier', 720, 180),             -- 60
    ('ppe_due', 3, 30),                    -- 3 months after opening
    ('engagement_contract_due', 1, 15);    -- 1 month after orientation

-- The deadlines read their pathways in the order they fall due.
CREATE INDEX pathways_childhood_open_opened_idx ON pathways (opened_on, id)
    WHERE domain = 'childhood' AND status <> 'closed';
CREATE INDEX decisions_orientation_decided_idx ON decisions (decided_on, id)
    WHERE kind = 'orientation';

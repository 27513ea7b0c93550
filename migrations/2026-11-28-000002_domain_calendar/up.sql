-- The rollout calendar: the date each domain opens. A pathway can be opened
-- in a domain only on or after that date. Defaults: the Hautes-Alpes, one
-- domain a year from 2017. Admins change it (another département rolls out
-- on its own dates).
CREATE TABLE domain_calendar (
    domain domain PRIMARY KEY,
    opens_on date NOT NULL CHECK (opens_on >= DATE '2000-01-01'),
    version integer NOT NULL DEFAULT 1,
    updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT parcours_manage_updated_at('domain_calendar');

INSERT INTO domain_calendar (domain, opens_on) VALUES
    ('disability', DATE '2017-01-01'),
    ('elderly', DATE '2018-01-01'),
    ('childhood', DATE '2019-01-01'),
    ('insertion', DATE '2020-01-01');

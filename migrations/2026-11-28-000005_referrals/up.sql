-- Referrals: a partner (CAF, MSA) signals a person to the département.
-- Each referral names the person it matched or created and the pathway it
-- opened or joined.

-- Which territory follows each commune (INSEE code). Seeded with the
-- Hautes-Alpes communes the first territories cover; a referral from a
-- commune not listed here is refused with a message naming it.
CREATE TABLE communes (
    insee text PRIMARY KEY CHECK (insee ~ '^([0-9]{2}|2A|2B)[0-9]{3}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    territory_id uuid NOT NULL REFERENCES territories (id)
);
CREATE INDEX communes_territory_idx ON communes (territory_id);

INSERT INTO communes (insee, name, territory_id)
SELECT c.insee, c.name, t.id
FROM (VALUES
    ('05061', 'Gap', '05-GAP'),
    ('05170', 'Tallard', '05-GAP'),
    ('05017', 'La Bâtie-Neuve', '05-GAP'),
    ('05023', 'Briançon', '05-BRI'),
    ('05006', 'L''Argentière-la-Bessée', '05-BRI'),
    ('05079', 'Le Monêtier-les-Bains', '05-BRI'),
    ('05046', 'Embrun', '05-EMB'),
    ('05040', 'Chorges', '05-EMB'),
    ('05065', 'Guillestre', '05-EMB'),
    ('05164', 'Savines-le-Lac', '05-EMB'),
    ('05179', 'Veynes', '05-BUE'),
    ('05070', 'Laragne-Montéglin', '05-BUE'),
    ('05166', 'Serres', '05-BUE'),
    ('05132', 'Saint-Bonnet-en-Champsaur', '05-CHA'),
    ('05096', 'Orcières', '05-CHA')
) AS c (insee, name, code)
JOIN territories t ON t.code = c.code;

CREATE TABLE referrals (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    client_id uuid NOT NULL REFERENCES clients (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    person_id uuid NOT NULL REFERENCES persons (id),
    pathway_id uuid NOT NULL REFERENCES pathways (id),
    domain domain NOT NULL,
    reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
    contact text CHECK (length(contact) BETWEEN 1 AND 300),
    -- Whether the person was already known, and whether the pathway was
    -- opened by this referral (or was already open).
    person_matched boolean NOT NULL,
    pathway_opened boolean NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX referrals_organization_idx ON referrals (organization_id, id);
CREATE INDEX referrals_pathway_idx ON referrals (pathway_id);
CREATE INDEX referrals_person_idx ON referrals (person_id);

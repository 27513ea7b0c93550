-- Case files: persons, their pathways (one per domain), and what happens in
-- a pathway: status history, events, decisions, plans and their
-- commitments, GOS meetings, notes.

CREATE TYPE sex AS ENUM ('female', 'male', 'other');
CREATE TYPE pathway_status AS ENUM (
    'referred', 'assessment', 'orientation', 'without_solution', 'supported', 'closed'
);
CREATE TYPE closure_reason AS ENUM (
    'target_reached', 'alternative_sustained', 'person_request', 'moved_away',
    'deceased', 'no_longer_eligible', 'other'
);
CREATE TYPE escalation_level AS ENUM ('department', 'regional', 'national');
CREATE TYPE decision_authority AS ENUM ('cdaph', 'department_president', 'judge', 'other');
CREATE TYPE decision_qualification AS ENUM ('target', 'alternative');
CREATE TYPE plan_kind AS ENUM ('pag', 'care_plan', 'ppe', 'engagement_contract');
CREATE TYPE plan_status AS ENUM ('draft', 'proposed', 'consented', 'active', 'ended');
CREATE TYPE consent_by AS ENUM ('person', 'legal_representative');
CREATE TYPE plan_end_reason AS ENUM (
    'objectives_met', 'replaced', 'consent_withdrawn', 'pathway_closed', 'other'
);
CREATE TYPE commitment_status AS ENUM (
    'planned', 'in_progress', 'fulfilled', 'breached', 'cancelled'
);
CREATE TYPE note_visibility AS ENUM ('team', 'restricted');
CREATE TYPE event_kind AS ENUM (
    'pathway_opened', 'status_changed', 'referent_assigned', 'pathway_updated',
    'critical_set', 'critical_cleared', 'decision_recorded', 'plan_created',
    'plan_updated', 'plan_status_changed', 'commitment_added', 'commitment_updated',
    'meeting_held', 'note_added', 'referral_received'
);

-- Case- and accent-folded text, for name search. unaccent() is only STABLE
-- (its dictionary could change); naming the dictionary makes this wrapper
-- safe to declare IMMUTABLE and so usable in a generated column and index.
CREATE FUNCTION parcours_fold(text) RETURNS text AS $$
    SELECT lower(public.unaccent('public.unaccent'::regdictionary, $1))
$$ LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT;

CREATE TABLE persons (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    family_name text NOT NULL CHECK (length(family_name) BETWEEN 1 AND 200),
    given_names text NOT NULL CHECK (length(given_names) BETWEEN 1 AND 200),
    birth_date date NOT NULL CHECK (birth_date >= DATE '1900-01-01'),
    sex sex,
    commune_insee text NOT NULL CHECK (commune_insee ~ '^([0-9]{2}|2A|2B)[0-9]{3}$'),
    territory_id uuid NOT NULL REFERENCES territories (id),
    caf_number text CHECK (caf_number ~ '^[0-9]{7}$'),
    msa_number text CHECK (msa_number ~ '^[0-9A-Z]{6,20}$'),
    legal_representative text CHECK (length(legal_representative) BETWEEN 1 AND 300),
    sharing_objection boolean NOT NULL DEFAULT false,
    -- NIR: AES-256-GCM (nonce ‖ ciphertext ‖ tag), and a keyed HMAC-SHA256
    -- of the normalised number to find it without decrypting (blind index).
    nir_ciphertext bytea,
    nir_index bytea,
    search_name text GENERATED ALWAYS AS (parcours_fold(family_name || ' ' || given_names)) STORED,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((nir_ciphertext IS NULL) = (nir_index IS NULL))
);
SELECT parcours_manage_updated_at('persons');
CREATE UNIQUE INDEX persons_nir_index_key ON persons (nir_index) WHERE nir_index IS NOT NULL;
CREATE INDEX persons_search_name_trgm_idx ON persons USING gin (search_name gin_trgm_ops);
CREATE INDEX persons_birth_date_idx ON persons (birth_date);
CREATE INDEX persons_caf_number_idx ON persons (caf_number) WHERE caf_number IS NOT NULL;
CREATE INDEX persons_msa_number_idx ON persons (msa_number) WHERE msa_number IS NOT NULL;
CREATE INDEX persons_territory_idx ON persons (territory_id, id);

CREATE TABLE pathways (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    person_id uuid NOT NULL REFERENCES persons (id),
    domain domain NOT NULL,
    territory_id uuid NOT NULL REFERENCES territories (id),
    referent_id uuid REFERENCES users (id),
    status pathway_status NOT NULL DEFAULT 'referred',
    status_since timestamptz NOT NULL DEFAULT now(),
    opened_on date NOT NULL,
    closed_on date CHECK (closed_on >= opened_on),
    closure_reason closure_reason,
    critical_level escalation_level,
    critical_reason text CHECK (length(critical_reason) BETWEEN 1 AND 2000),
    critical_since timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'closed') = (closure_reason IS NOT NULL)),
    CHECK ((status = 'closed') = (closed_on IS NOT NULL)),
    CHECK ((critical_level IS NULL) = (critical_since IS NULL)),
    CHECK ((critical_level IS NULL) = (critical_reason IS NULL))
);
SELECT parcours_manage_updated_at('pathways');
-- At most one open pathway per person and domain.
CREATE UNIQUE INDEX pathways_one_open_per_domain ON pathways (person_id, domain)
    WHERE status <> 'closed';
-- One index per list filter, each ending in id for the stable order.
CREATE INDEX pathways_territory_status_idx ON pathways (territory_id, status, id);
CREATE INDEX pathways_territory_domain_idx ON pathways (territory_id, domain, id);
CREATE INDEX pathways_status_idx ON pathways (status, id);
CREATE INDEX pathways_domain_idx ON pathways (domain, id);
CREATE INDEX pathways_referent_idx ON pathways (referent_id, id);
CREATE INDEX pathways_opened_on_idx ON pathways (opened_on, id);
CREATE INDEX pathways_critical_idx ON pathways (critical_level, id) WHERE critical_level IS NOT NULL;
-- Alerts read each kind in due order (dates in UTC, so that the index
-- expression is immutable).
CREATE INDEX pathways_without_solution_due_idx
    ON pathways ((timezone('UTC', status_since)::date + 30), id) WHERE status = 'without_solution';
CREATE INDEX pathways_critical_due_idx
    ON pathways ((timezone('UTC', critical_since)::date), id) WHERE critical_level IS NOT NULL;

-- Each status with its period (FHIR EpisodeOfCare.statusHistory): the open
-- period has no end.
CREATE TABLE pathway_status_periods (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pathway_id uuid NOT NULL REFERENCES pathways (id),
    status pathway_status NOT NULL,
    started_at timestamptz NOT NULL,
    ended_at timestamptz CHECK (ended_at >= started_at),
    reason text CHECK (length(reason) BETWEEN 1 AND 2000)
);
CREATE INDEX pathway_status_periods_pathway_idx ON pathway_status_periods (pathway_id, id);
CREATE UNIQUE INDEX pathway_status_periods_one_open ON pathway_status_periods (pathway_id)
    WHERE ended_at IS NULL;

-- The timeline: one row per change of a pathway or of anything under it,
-- written in the transaction of the change. Append-only.
CREATE TABLE pathway_events (
    seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    pathway_id uuid NOT NULL REFERENCES pathways (id),
    kind event_kind NOT NULL,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    actor_id uuid,
    data jsonb NOT NULL DEFAULT '{}',
    -- The writing transaction. Readers that must miss nothing (the
    -- partners' feed) read only events of transactions older than every
    -- running one, in (txid, seq) order: no event can appear behind them.
    txid bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint)
);
CREATE INDEX pathway_events_pathway_idx ON pathway_events (pathway_id, seq);
CREATE INDEX pathway_events_feed_idx ON pathway_events (pathway_id, txid, seq);

CREATE FUNCTION parcours_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON pathway_events
    FOR EACH ROW EXECUTE PROCEDURE parcours_refuse_change();

CREATE TABLE decisions (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    pathway_id uuid NOT NULL REFERENCES pathways (id),
    authority decision_authority NOT NULL,
    qualification decision_qualification NOT NULL,
    label text NOT NULL CHECK (length(label) BETWEEN 1 AND 300),
    finess text CHECK (finess ~ '^[0-9][0-9AB][0-9]{7}$'),
    decided_on date NOT NULL,
    valid_until date CHECK (valid_until >= decided_on),
    implemented_on date CHECK (implemented_on >= decided_on),
    recorded_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX decisions_pathway_idx ON decisions (pathway_id, id);
CREATE INDEX decisions_valid_until_idx ON decisions (valid_until, id) WHERE valid_until IS NOT NULL;

CREATE TABLE plans (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    pathway_id uuid NOT NULL REFERENCES pathways (id),
    kind plan_kind NOT NULL,
    status plan_status NOT NULL DEFAULT 'draft',
    coordinator_id uuid NOT NULL REFERENCES users (id),
    objectives text CHECK (length(objectives) BETWEEN 1 AND 5000),
    consent_by consent_by,
    consented_on date,
    activated_on date,
    review_due date,
    ended_on date,
    end_reason plan_end_reason,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CHECK ((consent_by IS NULL) = (consented_on IS NULL)),
    CHECK (status NOT IN ('consented', 'active') OR consent_by IS NOT NULL),
    CHECK (status <> 'active' OR (activated_on IS NOT NULL AND review_due IS NOT NULL)),
    CHECK (review_due <= activated_on + interval '12 months'),
    CHECK ((status = 'ended') = (end_reason IS NOT NULL AND ended_on IS NOT NULL))
);
SELECT parcours_manage_updated_at('plans');
CREATE UNIQUE INDEX plans_one_active_per_pathway ON plans (pathway_id) WHERE status = 'active';
CREATE INDEX plans_pathway_idx ON plans (pathway_id, id);
CREATE INDEX plans_coordinator_idx ON plans (coordinator_id);
CREATE INDEX plans_review_due_idx ON plans (review_due, id) WHERE status = 'active';

CREATE TABLE commitments (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    plan_id uuid NOT NULL REFERENCES plans (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    description text NOT NULL CHECK (length(description) BETWEEN 1 AND 2000),
    frequency text CHECK (length(frequency) BETWEEN 1 AND 200),
    due_on date,
    status commitment_status NOT NULL DEFAULT 'planned',
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT parcours_manage_updated_at('commitments');
CREATE INDEX commitments_plan_idx ON commitments (plan_id, id);
CREATE INDEX commitments_organization_idx ON commitments (organization_id);

-- GOS (groupe opérationnel de synthèse).
CREATE TABLE meetings (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    pathway_id uuid NOT NULL REFERENCES pathways (id),
    held_on date NOT NULL,
    person_agreed boolean NOT NULL,
    outcome text NOT NULL CHECK (length(outcome) BETWEEN 1 AND 5000),
    recorded_by uuid REFERENCES users (id),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX meetings_pathway_idx ON meetings (pathway_id, id);

CREATE TABLE meeting_organizations (
    meeting_id uuid NOT NULL REFERENCES meetings (id),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    PRIMARY KEY (meeting_id, organization_id)
);

CREATE TABLE meeting_users (
    meeting_id uuid NOT NULL REFERENCES meetings (id),
    user_id uuid NOT NULL REFERENCES users (id),
    PRIMARY KEY (meeting_id, user_id)
);

CREATE TABLE notes (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    pathway_id uuid NOT NULL REFERENCES pathways (id),
    author_id uuid NOT NULL REFERENCES users (id),
    visibility note_visibility NOT NULL,
    body text NOT NULL CHECK (length(body) BETWEEN 1 AND 20000),
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notes_pathway_idx ON notes (pathway_id, id);

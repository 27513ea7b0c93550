-- Identity and access: reference data (territories, organizations), staff
-- users, partner clients, refresh tokens.

-- Time-ordered UUIDs (v7), so that ids sort by creation and index well.
CREATE FUNCTION uuid_generate_v7() RETURNS uuid AS $$
    SELECT encode(
        set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
            PLACING substring(int8send((extract(epoch FROM clock_timestamp()) * 1000)::bigint) FROM 3)
            FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid;
$$ LANGUAGE sql VOLATILE;

CREATE TYPE domain AS ENUM ('disability', 'elderly', 'childhood', 'insertion');
CREATE TYPE role AS ENUM ('admin', 'supervisor', 'coordinator', 'partner', 'auditor');
CREATE TYPE organization_kind AS ENUM (
    'department', 'caf', 'msa', 'mdph', 'ars', 'education',
    'employment_service', 'facility', 'association', 'other'
);

CREATE TABLE territories (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    code text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{0,31}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT parcours_manage_updated_at('territories');

CREATE TABLE organizations (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    kind organization_kind NOT NULL,
    name text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 200),
    siret text CHECK (siret ~ '^[0-9]{14}$'),
    finess text CHECK (finess ~ '^[0-9][0-9AB][0-9]{7}$'),
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
SELECT parcours_manage_updated_at('organizations');

-- Staff accounts. Partners are machine clients (below), never users.
CREATE TABLE users (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    email text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' AND length(email) <= 254),
    display_name text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    role role NOT NULL CHECK (role <> 'partner'),
    domains domain[] NOT NULL DEFAULT '{}' CHECK (array_position(domains, NULL) IS NULL),
    active boolean NOT NULL DEFAULT true,
    password_hash text NOT NULL,
    failed_logins integer NOT NULL DEFAULT 0,
    locked_until timestamptz,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
SELECT parcours_manage_updated_at('users');

CREATE TABLE user_territories (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    territory_id uuid NOT NULL REFERENCES territories (id),
    PRIMARY KEY (user_id, territory_id)
);
CREATE INDEX user_territories_territory_idx ON user_territories (territory_id);

-- Partner clients (CAF, MSA, …): OAuth2 client credentials. The secret is
-- random and long, so a SHA-256 digest is enough to store it.
CREATE TABLE clients (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    client_id text NOT NULL UNIQUE CHECK (client_id ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
    name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    organization_id uuid NOT NULL REFERENCES organizations (id),
    secret_digest bytea NOT NULL,
    secret_rotated_at timestamptz NOT NULL DEFAULT now(),
    active boolean NOT NULL DEFAULT true,
    version integer NOT NULL DEFAULT 1,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX clients_organization_idx ON clients (organization_id);
SELECT parcours_manage_updated_at('clients');

-- Refresh tokens: opaque, stored as SHA-256 digests, one row per issued
-- token. A family is the chain of rotations from one login; reusing a spent
-- token revokes its whole family.
CREATE TABLE refresh_tokens (
    id uuid PRIMARY KEY DEFAULT uuid_generate_v7(),
    family_id uuid NOT NULL,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_digest bytea NOT NULL UNIQUE,
    issued_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz,
    revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Every API instance listens on this channel to refuse the access tokens of
-- a deactivated account at once, without reading the database per request.
CREATE FUNCTION parcours_notify_principal_change() RETURNS trigger AS $$
BEGIN
    IF NEW.active IS DISTINCT FROM OLD.active THEN
        PERFORM pg_notify('parcours_principals', NEW.id::text);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER notify_principal_change AFTER UPDATE OF active ON users
    FOR EACH ROW EXECUTE PROCEDURE parcours_notify_principal_change();
CREATE TRIGGER notify_principal_change AFTER UPDATE OF active ON clients
    FOR EACH ROW EXECUTE PROCEDURE parcours_notify_principal_change();

-- Reference data of the first département, the Hautes-Alpes (05). No
-- account is seeded: the first admin is made with `parcours create-user`.
INSERT INTO territories (code, name) VALUES
    ('05-GAP', 'Gapençais'),
    ('05-BRI', 'Briançonnais'),
    ('05-EMB', 'Embrunais – Serre-Ponçon'),
    ('05-BUE', 'Buëch – Dévoluy'),
    ('05-CHA', 'Champsaur – Valgaudemar');

INSERT INTO organizations (kind, name) VALUES
    ('department', 'Département des Hautes-Alpes'),
    ('mdph', 'MDPH des Hautes-Alpes'),
    ('caf', 'CAF des Hautes-Alpes'),
    ('msa', 'MSA Alpes-Vaucluse'),
    ('ars', 'ARS Provence-Alpes-Côte d''Azur'),
    ('employment_service', 'France Travail Hautes-Alpes');

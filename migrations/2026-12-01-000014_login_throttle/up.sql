-- Failed logins are slowed down by (login name, source address) and by
-- source address, never by account: an unknown name is throttled exactly
-- like a known one, and failures from one address never lock the account
-- for its owner elsewhere. Keys are keyed hashes: no name or address in
-- clear.
CREATE TABLE login_throttle (
    key bytea PRIMARY KEY CHECK (length(key) = 32),
    failures integer NOT NULL CHECK (failures > 0),
    window_started_at timestamptz NOT NULL DEFAULT now(),
    blocked_until timestamptz
);
CREATE INDEX login_throttle_window_idx ON login_throttle (window_started_at);

-- Accounts are no longer locked: their own failure count goes.
ALTER TABLE users DROP COLUMN failed_logins, DROP COLUMN locked_until;

DROP TABLE audit_seals;
DROP TABLE audit_chain;
DROP TABLE audit_log;
DROP TYPE audit_outcome;

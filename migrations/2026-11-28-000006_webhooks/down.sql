DROP TRIGGER webhook_outbox ON pathway_events;
DROP FUNCTION parcours_webhook_outbox();
DROP TABLE webhook_deliveries;
DROP TYPE delivery_status;
DROP TABLE webhooks;
ALTER TABLE referrals ALTER CONSTRAINT referrals_pathway_id_fkey NOT DEFERRABLE;
DROP FUNCTION parcours_partner_may_know(event_kind, jsonb, uuid);
DROP VIEW partner_pathways;

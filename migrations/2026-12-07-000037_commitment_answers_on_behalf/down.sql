ALTER TABLE commitments
    DROP CONSTRAINT commitments_answer_received_whole,
    DROP COLUMN answer_received_on,
    DROP COLUMN answer_received_via;
DROP TYPE answer_channel;

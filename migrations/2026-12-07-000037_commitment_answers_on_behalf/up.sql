-- An organization answers a commitment proposed to it. When it answered
-- another way (by phone, by letter…), staff record that answer on its
-- behalf, saying how and when it was received.
CREATE TYPE answer_channel AS ENUM ('phone', 'letter', 'email', 'meeting', 'other');
ALTER TABLE commitments
    ADD COLUMN answer_received_via answer_channel,
    ADD COLUMN answer_received_on date,
    ADD CONSTRAINT commitments_answer_received_whole
        CHECK ((answer_received_via IS NULL) = (answer_received_on IS NULL));

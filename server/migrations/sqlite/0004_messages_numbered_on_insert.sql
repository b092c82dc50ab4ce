-- A message takes the next id of its conversation as it is inserted, and the insert moves
-- the counter on: numbering and storing are one statement, so a batch of messages is one
-- request to the database, and a resend that is not stored (same client id) moves
-- nothing.
CREATE TRIGGER messages_move_counter AFTER INSERT ON messages
BEGIN
    UPDATE conversations SET last_message_id = NEW.id WHERE id = NEW.conversation_id;
END;

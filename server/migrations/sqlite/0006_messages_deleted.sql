-- A message an administrator deleted stays as a tombstone (its id, so ids stay gap-free;
-- its text wiped): when it was deleted, in milliseconds since the Unix epoch.
ALTER TABLE messages ADD COLUMN deleted_at INTEGER;
-- The few deleted messages of a conversation, for unread counts.
CREATE INDEX messages_deleted ON messages (conversation_id, id) WHERE deleted_at IS NOT NULL;

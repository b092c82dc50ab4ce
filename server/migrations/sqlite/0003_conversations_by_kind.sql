-- The rooms, without reading every direct conversation: `list_rooms` (and the `/rooms`
-- page) and the retirement of a user's room memberships select conversations by kind,
-- and the room list is in name order.
CREATE INDEX conversations_by_kind ON conversations (kind, name);

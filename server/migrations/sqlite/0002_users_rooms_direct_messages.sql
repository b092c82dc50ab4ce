-- Users, rooms, direct conversations, memberships and read markers.
--
-- Identity is a user, not a name: a user holds a name while online or while their session
-- lives; a name freed and taken again belongs to a new user, who inherits nothing.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- The name lower-cased: names are unique ignoring case among active users.
    name_key TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    -- Set when the user let go of their name for good (log-out, an expired or replaced
    -- session, the disconnect of a `login` without a session).
    retired_at INTEGER
);

-- Every existing session becomes a user of its own (same id); of several sessions with
-- one name, the newest keeps it. SQLite's lower() folds ASCII only: at start-up the server
-- recomputes the keys of the users made here (Unicode, as everywhere else), retires
-- the older of any two that then share one, and creates the unique index
-- `users_active_by_name` (see `storage::users::finish_user_keys`).
INSERT INTO users (id, name, name_key, created_at)
    SELECT id, name, lower(name), created_at FROM sessions ORDER BY id;
UPDATE users SET retired_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000
    WHERE id NOT IN (SELECT MAX(id) FROM users GROUP BY name_key);
DELETE FROM sessions
    WHERE id IN (SELECT id FROM users WHERE retired_at IS NOT NULL);

ALTER TABLE sessions ADD COLUMN user_id INTEGER REFERENCES users (id);
UPDATE sessions SET user_id = id;
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Conversations are rooms (`general` is the lobby) or direct conversations ('dm'), named
-- `dm:<lower user id>:<higher user id>`.
ALTER TABLE conversations ADD COLUMN kind TEXT NOT NULL DEFAULT 'room';
UPDATE conversations SET name = 'general' WHERE name = 'lobby';

-- Who sent a message: a user id. Messages stored before users existed belong to nobody
-- (NULL): a name then did not say which person it was.
ALTER TABLE messages ADD COLUMN sender_id INTEGER REFERENCES users (id);

-- A resend (same client id) is stored once per sender and conversation.
DROP INDEX messages_by_client_id;
CREATE UNIQUE INDEX messages_by_sender_client_id
    ON messages (conversation_id, sender_id, client_id)
    WHERE client_id IS NOT NULL;
-- Unread counts: a user's own messages after their read marker.
CREATE INDEX messages_by_sender ON messages (conversation_id, sender_id, id);

-- Members of rooms (`general` included: every active user) and of direct conversations,
-- with their read markers (the highest id read; a new member has read what came before).
-- A retired user's room memberships are deleted.
CREATE TABLE memberships (
    user_id INTEGER NOT NULL REFERENCES users (id),
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    joined_at INTEGER NOT NULL,
    read_up_to INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (user_id, conversation_id)
) WITHOUT ROWID;

CREATE INDEX memberships_by_conversation ON memberships (conversation_id, user_id);

INSERT INTO memberships (user_id, conversation_id, joined_at, read_up_to)
    SELECT users.id, conversations.id, users.created_at, conversations.last_message_id
    FROM users, conversations
    WHERE users.retired_at IS NULL AND conversations.name = 'general';

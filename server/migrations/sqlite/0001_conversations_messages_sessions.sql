-- Conversations: the lobby now; rooms and direct messages later. Each conversation numbers
-- its own messages: `last_message_id` is the id the newest one got.
CREATE TABLE conversations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    last_message_id INTEGER NOT NULL DEFAULT 0
);

INSERT INTO conversations (name) VALUES ('lobby');

-- Every message, keyed by (conversation, id): history pages are index range scans.
CREATE TABLE messages (
    conversation_id INTEGER NOT NULL REFERENCES conversations (id),
    id INTEGER NOT NULL,
    sender TEXT NOT NULL,
    -- The sender's name lower-cased: names are unique ignoring case.
    sender_key TEXT NOT NULL,
    body TEXT NOT NULL,
    -- Chosen by the sending client, so that a resend is stored once.
    client_id TEXT,
    -- Milliseconds since the Unix epoch, server clock (display only; order is `id`).
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, id)
) WITHOUT ROWID;

CREATE UNIQUE INDEX messages_by_client_id
    ON messages (conversation_id, sender_key, client_id)
    WHERE client_id IS NOT NULL;

-- Log-in sessions. Only a hash of the secret token is stored.
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    token_hash BLOB NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    -- 1 while the session holds its name in the lobby (connected, or within the grace
    -- period after its last connection): restored as online after a restart.
    present INTEGER NOT NULL DEFAULT 0
);

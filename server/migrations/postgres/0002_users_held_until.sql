-- In a cluster, the server a user is online on holds their name here, on a lease it renews
-- (milliseconds since the Unix epoch; NULL: nobody holds it). A name held is not retired
-- by another server's log-in, even one that has not yet heard the user is online.
ALTER TABLE users ADD COLUMN held_until BIGINT;

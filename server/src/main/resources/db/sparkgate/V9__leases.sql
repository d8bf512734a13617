-- Version 9: replicas. Several servers on one PostgreSQL share the batches; each live batch is held by
-- one of them through a lease in its row. Every time in these columns is the database's own clock
-- (CURRENT_TIMESTAMP in the statement that writes it), never a server's: replicas' clocks may differ.
-- Batches recorded before this version are unheld (NULL) with epoch 0: the first replica to scan takes them.

-- The replica that holds the batch (sparkgate.replica.id); NULL when none does (new, final, or let go).
ALTER TABLE batches ADD COLUMN lease_holder VARCHAR(255);
-- Increased by every claim, so a write fenced by (holder, epoch) fails once anyone, even the same
-- replica after a restart, has claimed the batch since.
ALTER TABLE batches ADD COLUMN lease_epoch BIGINT DEFAULT 0 NOT NULL;
-- The lease is free for another replica to claim after this time.
ALTER TABLE batches ADD COLUMN lease_expires TIMESTAMP(6) WITH TIME ZONE;
-- A DELETE received by any replica: the holder (or the next one) kills the batch and removes it.
ALTER TABLE batches ADD COLUMN kill_requested BOOLEAN DEFAULT FALSE NOT NULL;

CREATE INDEX batches_lease_holder ON batches (lease_holder);

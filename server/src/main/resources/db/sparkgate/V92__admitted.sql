-- Version 92: replicas, admission. A batch takes its place under the limits on starting and running
-- batches (global and per user) when it is admitted to launch, and keeps it until it is final. Replicas
-- admit under one database lock that counts these places, so the limits hold across all of them
-- exactly; the flag is set in that same transaction, fenced by the admitting replica's lease.
ALTER TABLE batches ADD COLUMN admitted BOOLEAN DEFAULT FALSE NOT NULL;

-- Batches already under way hold their places.
UPDATE batches SET admitted = TRUE WHERE state IN ('STARTING', 'RUNNING') OR launched_on IS NOT NULL;

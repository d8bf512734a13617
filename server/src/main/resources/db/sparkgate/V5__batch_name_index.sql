-- A batch can be named on REST in place of its id (GET /batches/{name}: the newest batch of that
-- name, as on Livy): one index lookup, not a scan of every batch.
CREATE INDEX batches_name_id ON batches (name, id);

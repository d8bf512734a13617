-- Version 90: replicas, where a batch was launched. Written (fenced by the launching replica's lease)
-- before spark-submit starts, so that a replica taking a batch over knows, from the database alone,
-- whether it was ever launched (then it must never be launched again), on which replica (a local-mode
-- driver is a child process there and cannot move), and under which YARN tag to find its application.

-- The launching replica's home (host and data directory); NULL while the batch was never launched.
ALTER TABLE batches ADD COLUMN launched_on VARCHAR(1024);
-- The YARN tag the application was submitted with; NULL in local mode.
ALTER TABLE batches ADD COLUMN launch_tag VARCHAR(255);

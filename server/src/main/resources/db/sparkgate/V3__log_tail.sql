-- Version 3: the last lines of a finished batch's log, kept with its row so that a batch object
-- (GET /batches/{id}, every entry of GET /batches) needs no log file opened: each line followed by
-- '\n' (a log line never contains one), '' for an empty log. NULL when not recorded: batches
-- finished before this version, or a tail too long to keep here; their log file is read instead.
ALTER TABLE batches ADD COLUMN log_tail VARCHAR;

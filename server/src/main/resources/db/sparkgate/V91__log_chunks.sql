-- Version 91: replicas, logs. The replica holding a live batch copies its log lines here as they come,
-- in chunks, so that every replica serves the same lines under the same offsets (a follower on any
-- replica sees them live), and a replica taking the batch over goes on from the last line copied.

CREATE TABLE batch_log_chunks (
    batch_id   INTEGER NOT NULL REFERENCES batches (id) ON DELETE CASCADE,
    -- Offset of the chunk's first line in the batch log (lines are numbered from 0 and never change).
    first_line BIGINT NOT NULL,
    line_count INTEGER NOT NULL,
    -- The lines, each ended by a newline.
    lines      VARCHAR NOT NULL,
    PRIMARY KEY (batch_id, first_line)
);

-- The launcher's small files of the batch (e.g. how far the YARN driver log was read), as of the last
-- chunk, so that the next holder continues where the copied lines end.
ALTER TABLE batches ADD COLUMN launch_files VARCHAR;

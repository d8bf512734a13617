-- Version 2: who may see a batch is decided in the database when other users' batches are hidden
-- (sparkgate.access.others-batches = hidden): the owner or the proxy user. The proxy user was only in
-- the request JSON until now; batches recorded before this version keep '' (no proxy user).
ALTER TABLE batches ADD COLUMN proxy_user VARCHAR(255) DEFAULT '' NOT NULL;

CREATE INDEX batches_owner ON batches (owner);
CREATE INDEX batches_proxy_user ON batches (proxy_user);

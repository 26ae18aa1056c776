-- A node that dies mid-delivery does not spend the delivery's attempt: the
-- takeover puts it back in the queue and counts the crash here instead, so
-- a handler that crashes its node every time still ends as a dead letter.
-- Nodes also say which blob store they use, so a second node on local
-- blobs (which the others cannot read) is refused at start-up.

ALTER TABLE deliveries ADD COLUMN crash_requeues INTEGER NOT NULL DEFAULT 0;
ALTER TABLE nodes ADD COLUMN blob_store TEXT;

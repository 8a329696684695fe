-- The audit log: every staff action that changes state, hash-chained. `at` is kept as the
-- text that was hashed, so reading it back gives the same bytes on every backend.
CREATE TABLE audit_events (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id INTEGER,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    object TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_by_object ON audit_events (object, seq);
-- The chain's head, updated with each event: removing the last events shows.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
    VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The head when a round was published, printed in its 通报 and shown on its public page.
ALTER TABLE rounds ADD COLUMN audit_seq INTEGER;
ALTER TABLE rounds ADD COLUMN audit_hash TEXT;
-- The organisation as it stood when the round closed (units, posts), which its ranking
-- and sanctions use: later edits cannot move a proposal onto someone else.
ALTER TABLE rounds ADD COLUMN org_snapshot TEXT;

-- Credentials with a life cycle.
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMP;
-- When the password last changed: sessions signed in before it end.
ALTER TABLE users ADD COLUMN credentials_changed_at TIMESTAMP;
-- SQLite cannot add a NOT NULL column without a constant default; every token written
-- from now on carries its expiry.
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMP;
UPDATE api_tokens SET expires_at = datetime(created_at, '+90 days');

-- Who took a report in (none for the public's own reports): four eyes on substantiation.
ALTER TABLE reports ADD COLUMN taken_by INTEGER REFERENCES users(id);

-- The decision document a confirmed sanction rests on (e.g. 区委常委会 meeting).
ALTER TABLE sanctions ADD COLUMN decision_ref TEXT;

-- Reprinting codes after mailing: asked by one organizer, approved by another, used once.
CREATE TABLE reprints (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    reason TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
        CHECK (state IN ('pending', 'approved', 'refused', 'used')),
    asked_by INTEGER REFERENCES users(id),
    asked_at TIMESTAMP NOT NULL,
    decided_by INTEGER REFERENCES users(id),
    decided_at TIMESTAMP
);
CREATE INDEX reprints_by_round ON reprints (round_id, state);
-- One reprint open (asked or approved, not printed) per round, also between two nodes.
CREATE UNIQUE INDEX reprints_one_open ON reprints (round_id)
    WHERE state IN ('pending', 'approved');

-- Evidence files are kept in the data folder's `evidence/`, named by their SHA-256; the
-- database keeps what they are. Files stored before keep their content here.
ALTER TABLE report_evidence ADD COLUMN in_file BOOLEAN NOT NULL DEFAULT FALSE;

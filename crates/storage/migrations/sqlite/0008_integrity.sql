-- Integrity of the open channel (SQLite): the signals stuffing detection reads, the
-- clusters it found, and the ballots it holds.

-- What intake keeps of an open-channel ballot, all keyed hashes (the key lives outside the
-- database): deleted when the round is published. Never kept for a directed ballot.
CREATE TABLE intake_signals (
    ballot_id INTEGER PRIMARY KEY REFERENCES ballots(id),
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    addr INTEGER NOT NULL,
    net INTEGER NOT NULL,
    agent INTEGER NOT NULL,
    cookie INTEGER,
    bucket INTEGER NOT NULL,
    shape INTEGER NOT NULL,
    content INTEGER NOT NULL,
    comment INTEGER
);
CREATE INDEX intake_signals_by_round ON intake_signals (round_id);

-- A cluster the scan found: its stable id, the unit it pushes, the findings (JSON).
CREATE TABLE integrity_clusters (
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    id TEXT NOT NULL,
    unit_id INTEGER NOT NULL,
    findings TEXT NOT NULL,
    found_at TIMESTAMP NOT NULL,
    PRIMARY KEY (round_id, id)
);

-- Ballots the scan holds. 'held': not counted, awaiting the organizer; 'kept': the organizer
-- confirmed the hold; 'released': counted after all. Only 'held' rows are redone by a scan.
CREATE TABLE held_ballots (
    ballot_id INTEGER PRIMARY KEY REFERENCES ballots(id),
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    cluster_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('held', 'kept', 'released'))
);
CREATE INDEX held_ballots_by_round ON held_ballots (round_id, cluster_id);

-- Every decision on a cluster: who, when, why, and how many ballots it covered.
CREATE TABLE integrity_decisions (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    cluster_id TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('keep', 'release')),
    ballots INTEGER NOT NULL,
    user_id INTEGER,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX integrity_decisions_by_round ON integrity_decisions (round_id);

-- A spent code sent again waits as one conflict, whatever the number of sends: a later
-- ballot replaces the waiting one. Earlier releases kept every send; on upgrade, all but the
-- latest waiting ballot of each code are set aside, with the reason recorded.
UPDATE code_conflicts SET state = 'dismissed', resolved_by = 'minping upgrade',
    reason = 'replaced by a later ballot sent with the same code'
WHERE state = 'pending' AND EXISTS (
    SELECT 1 FROM code_conflicts later
    WHERE later.round_id = code_conflicts.round_id AND later.code_digest = code_conflicts.code_digest
      AND later.state = 'pending' AND later.id > code_conflicts.id);
CREATE UNIQUE INDEX code_conflicts_one_pending ON code_conflicts (round_id, code_digest)
    WHERE state = 'pending';

-- A frozen ranking keeps each unit's nominations per channel (JSON, e.g. {"directed":3,"open":5}),
-- so the published results can be recomputed with other channel weights. NULL in rankings
-- frozen before.
ALTER TABLE rankings ADD COLUMN by_channel TEXT;

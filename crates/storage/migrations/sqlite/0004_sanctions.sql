-- Sanctions proposed by the rules engine when a round is finalized, and their review (SQLite).

-- The rules in force when the round was finalized (JSON), so a proposal can be explained later.
ALTER TABLE rounds ADD COLUMN rules TEXT;

CREATE TABLE sanctions (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    unit_id INTEGER NOT NULL REFERENCES units(id),
    kind TEXT NOT NULL,
    rule TEXT NOT NULL,
    proposal TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'proposed' CHECK (state IN ('proposed', 'confirmed', 'rejected')),
    decided_by TEXT,
    decided_at TIMESTAMP,
    decision_reason TEXT
);
CREATE INDEX sanctions_by_round ON sanctions (round_id, id);
CREATE INDEX sanctions_by_person ON sanctions (person_id);

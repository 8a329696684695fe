-- Nominations are kept in the order they are counted in: by round, then unit. The table is
-- its own covering index for the tally and for a unit's comments, so a ballot's nominations
-- go into one B-tree instead of two (the old primary key by ballot plus nominations_tally):
-- at intake each nomination lands at a random place in every B-tree it enters, so this
-- nearly halves the pages a batch of ballots dirties and writes to the log.
-- A ballot's own nominations (its receipt) are found by probing each unit for its id.
CREATE TABLE nominations_by_unit (
    round_id INTEGER NOT NULL,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    ballot_id INTEGER NOT NULL REFERENCES ballots(id),
    channel TEXT NOT NULL,
    indicators INTEGER NOT NULL CHECK (indicators > 0),
    comment TEXT,
    PRIMARY KEY (round_id, unit_id, ballot_id)
) WITHOUT ROWID;

INSERT INTO nominations_by_unit (round_id, unit_id, ballot_id, channel, indicators, comment)
    SELECT round_id, unit_id, ballot_id, channel, indicators, comment FROM nominations;

DROP TABLE nominations;
ALTER TABLE nominations_by_unit RENAME TO nominations;

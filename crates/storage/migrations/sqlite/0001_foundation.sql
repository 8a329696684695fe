-- Foundation: organisation, rounds, ballots, accounts (SQLite).

CREATE TABLE agencies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE units (
    id INTEGER PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agencies(id),
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1,
    UNIQUE (agency_id, name)
);

CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL
);

-- A dated post: held from start_on until end_on (exclusive), or still held when NULL.
CREATE TABLE posts (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    unit_id INTEGER NOT NULL REFERENCES units(id),
    role TEXT NOT NULL CHECK (role IN ('head', 'supervising_leader')),
    start_on DATE NOT NULL,
    end_on DATE
);
CREATE INDEX posts_by_unit ON posts (unit_id, role, start_on);

CREATE TABLE rounds (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('draft', 'open', 'closed', 'finalized', 'published')),
    settings TEXT NOT NULL,
    method TEXT,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE round_transitions (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    user_id INTEGER,
    actor TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX round_transitions_by_round ON round_transitions (round_id, id);

-- A ballot keeps nothing that could join it to a person: its id is random (so neither id
-- nor row order tells when it came), and a directed ballot keeps no date at all (the day a
-- panel member's code was spent is recorded, so a date here would join the two).
CREATE TABLE ballots (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    channel TEXT NOT NULL CHECK (channel IN ('directed', 'open')),
    receipt TEXT NOT NULL UNIQUE,
    received_on DATE,
    CHECK ((channel = 'directed') = (received_on IS NULL))
);
CREATE INDEX ballots_by_round ON ballots (round_id);

-- indicators: bit i set when the round's i-th indicator is ticked.
CREATE TABLE nominations (
    ballot_id INTEGER NOT NULL REFERENCES ballots(id),
    round_id INTEGER NOT NULL,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    channel TEXT NOT NULL,
    indicators INTEGER NOT NULL CHECK (indicators > 0),
    comment TEXT,
    PRIMARY KEY (ballot_id, unit_id)
) WITHOUT ROWID;
-- Covers the tally query, so the audit recompute never touches the table itself.
CREATE INDEX nominations_tally ON nominations (round_id, unit_id, channel, indicators);

CREATE TABLE exposures (
    ballot_id INTEGER NOT NULL REFERENCES ballots(id),
    unit_id INTEGER NOT NULL REFERENCES units(id),
    PRIMARY KEY (ballot_id, unit_id)
) WITHOUT ROWID;

-- The frozen ranking of a finalized round.
CREATE TABLE rankings (
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    unit_id INTEGER NOT NULL REFERENCES units(id),
    rank INTEGER NOT NULL,
    score_milli INTEGER NOT NULL,
    nominations INTEGER NOT NULL,
    indicator_counts TEXT NOT NULL,
    substantiated_reports INTEGER NOT NULL,
    override TEXT,
    PRIMARY KEY (round_id, unit_id)
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    unit_id INTEGER REFERENCES units(id),
    password_hash TEXT NOT NULL
);

-- Only the SHA-256 of a token is kept.
CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

-- The directed panel: registry, frozen frames and draws, the drawn sample with its codes,
-- the conflict queue for codes used twice, and blind double entry of paper forms (SQLite).

-- Personal data: only the organizer sees these rows.
CREATE TABLE panel_members (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    grp TEXT NOT NULL,
    address TEXT NOT NULL,
    postcode TEXT NOT NULL,
    phone TEXT NOT NULL,
    units TEXT NOT NULL,
    source TEXT NOT NULL,
    added_on DATE NOT NULL,
    active BOOLEAN NOT NULL DEFAULT 1,
    left_on DATE,
    left_reason TEXT,
    UNIQUE (name, phone)
);

-- One frame per round: frozen (hash published) before the seed is known, then drawn.
CREATE TABLE panel_frames (
    round_id INTEGER PRIMARY KEY REFERENCES rounds(id),
    frame TEXT NOT NULL,
    frame_hash TEXT NOT NULL,
    sample_size INTEGER NOT NULL,
    frozen_at TIMESTAMP NOT NULL,
    seed TEXT,
    allocation TEXT,
    drawn_at TIMESTAMP
);

-- Who was drawn, their code's keyed digest (never the code), what became of the mailing,
-- and whether (never how) they answered: the day the code was spent and on which medium.
CREATE TABLE panel_sample (
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    member_id INTEGER NOT NULL REFERENCES panel_members(id),
    grp TEXT NOT NULL,
    code_digest TEXT NOT NULL UNIQUE,
    mail_status TEXT NOT NULL DEFAULT 'drawn'
        CHECK (mail_status IN ('drawn', 'mailed', 'undeliverable', 'refused')),
    responded_on DATE,
    response TEXT CHECK (response IN ('paper', 'online')),
    PRIMARY KEY (round_id, member_id)
);

-- A ballot whose code had already been spent: kept, never silently dropped, until the
-- organizer resolves it.
CREATE TABLE code_conflicts (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    code_digest TEXT NOT NULL,
    response TEXT NOT NULL CHECK (response IN ('paper', 'online')),
    content TEXT NOT NULL,
    received_on DATE NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'counted', 'dismissed')),
    resolved_by TEXT,
    resolved_at TIMESTAMP,
    reason TEXT
);

-- Paper forms keyed in twice by different clerks. form_key is the code's digest for a
-- directed form, or the number written on an open-channel form when it was opened.
-- Entries are deleted once the form is counted: the ballot then holds what was agreed.
CREATE TABLE paper_entries (
    id INTEGER PRIMARY KEY,
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    form_key TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('directed', 'open')),
    clerk_id INTEGER NOT NULL REFERENCES users(id),
    content TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (round_id, form_key, clerk_id)
);

-- What became of each paper form, so it is never keyed into a ballot twice.
CREATE TABLE paper_forms (
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    form_key TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('counted', 'conflict', 'dismissed')),
    decided_by TEXT NOT NULL,
    decided_at TIMESTAMP NOT NULL,
    PRIMARY KEY (round_id, form_key)
);

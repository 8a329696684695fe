-- Reports (举报) and their workflow (SQLite).

-- The reporter's contact is personal data: only investigators see it. The tracking code is
-- kept as a keyed digest, like one-time codes.
CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    tracking_digest TEXT NOT NULL UNIQUE,
    unit_id INTEGER NOT NULL REFERENCES units(id),
    staff TEXT,
    description TEXT NOT NULL,
    contact TEXT,
    occurred_on DATE,
    source TEXT NOT NULL CHECK (source IN ('web', 'hotline', 'letter', 'visit')),
    state TEXT NOT NULL DEFAULT 'received'
        CHECK (state IN ('received', 'investigating', 'substantiated', 'unsubstantiated')),
    received_on DATE NOT NULL,
    concluded_on DATE,
    disciplinary_action TEXT
);
CREATE INDEX reports_by_state ON reports (state, concluded_on);

-- Every step of a report, with who, when and why.
CREATE TABLE report_events (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    user_id INTEGER,
    actor TEXT NOT NULL,
    reason TEXT NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX report_events_by_report ON report_events (report_id, id);

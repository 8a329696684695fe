-- Evidence files (证据材料) sent with a report (SQLite).

-- Stored with the report, in the same transaction. The content type is the one found from
-- the file's first bytes, never the sender's; the SHA-256 lets investigators show a file
-- was not altered. Only investigators and the organizer read these.
CREATE TABLE report_evidence (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES reports(id),
    file_name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL CHECK (size >= 0),
    sha256 TEXT NOT NULL,
    content BLOB NOT NULL,
    received_at TIMESTAMP NOT NULL
);
CREATE INDEX report_evidence_by_report ON report_evidence (report_id, id);

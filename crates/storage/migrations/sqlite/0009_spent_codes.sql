-- Secrecy against a reader of the database: spending a code is recorded apart from the
-- sample. `spent_codes` is rewritten whole, in digest order, by every transaction that
-- spends a code, so none of its rows carries the rowid, the physical place or the day of
-- the spending that would pair a member with the ballot stored beside it.
CREATE TABLE spent_codes (
    round_id INTEGER NOT NULL REFERENCES rounds(id),
    code_digest TEXT NOT NULL,
    response TEXT NOT NULL CHECK (response IN ('paper', 'online')),
    PRIMARY KEY (round_id, code_digest)
) WITHOUT ROWID;
INSERT INTO spent_codes (round_id, code_digest, response)
    SELECT round_id, code_digest, COALESCE(response, 'online') FROM panel_sample
    WHERE responded_on IS NOT NULL ORDER BY round_id, code_digest;
ALTER TABLE panel_sample DROP COLUMN responded_on;
ALTER TABLE panel_sample DROP COLUMN response;

-- A counted conflict's ballot now holds its content; a paper form counted into a directed
-- ballot is known by its spent code, not by a row written beside the ballot.
UPDATE code_conflicts SET content = '' WHERE state = 'counted';
DELETE FROM paper_forms WHERE outcome = 'counted'
    AND form_key IN (SELECT code_digest FROM panel_sample);

-- Entries of closed rounds never agreed on hold a code's digest beside what was keyed.
DELETE FROM paper_entries WHERE round_id IN (SELECT id FROM rounds WHERE state <> 'open');

-- Secrecy against a reader of the database: spending a code is recorded apart from the
-- sample. `spent_codes` is rewritten whole, in digest order, by every transaction that
-- spends a code, so none of its rows carries the transaction id, the physical place or
-- the day of the spending that would pair a member with the ballot stored beside it.
CREATE TABLE spent_codes (
    round_id BIGINT NOT NULL REFERENCES rounds(id),
    code_digest TEXT NOT NULL,
    response TEXT NOT NULL CHECK (response IN ('paper', 'online')),
    PRIMARY KEY (round_id, code_digest)
);
INSERT INTO spent_codes (round_id, code_digest, response)
    SELECT round_id, code_digest, COALESCE(response, 'online') FROM panel_sample
    WHERE responded_on IS NOT NULL ORDER BY round_id, code_digest;
ALTER TABLE panel_sample DROP COLUMN responded_on, DROP COLUMN response;
-- A sample row updated when its code was spent carries that transaction's id, which its
-- ballot carries too, and sits where the update put it: write every row anew, in member
-- order, in this one transaction.
CREATE TEMPORARY TABLE sample_before AS
    SELECT round_id, member_id, grp, code_digest, mail_status FROM panel_sample;
DELETE FROM panel_sample;
INSERT INTO panel_sample (round_id, member_id, grp, code_digest, mail_status)
    SELECT round_id, member_id, grp, code_digest, mail_status FROM sample_before
    ORDER BY round_id, member_id;
DROP TABLE sample_before;

-- A counted conflict's ballot now holds its content; a paper form counted into a directed
-- ballot is known by its spent code, not by a row written beside the ballot.
UPDATE code_conflicts SET content = '' WHERE state = 'counted';
DELETE FROM paper_forms WHERE outcome = 'counted'
    AND form_key IN (SELECT code_digest FROM panel_sample);

-- Entries of closed rounds never agreed on hold a code's digest beside what was keyed.
DELETE FROM paper_entries WHERE round_id IN (SELECT id FROM rounds WHERE state <> 'open');

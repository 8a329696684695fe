-- Rounds by period, dated retirements, reports counted once, promotion checks (SQLite).

-- A round evaluates a period of whole days (a quarter, a half-year, any run of days), which
-- is also its label. Periods never overlap, and at most one round is open.
ALTER TABLE rounds ADD COLUMN period_start DATE;
ALTER TABLE rounds ADD COLUMN period_end DATE;
UPDATE rounds SET period_start = substr(label, 1, 4) || '-'
    || printf('%02d', (CAST(substr(label, 6, 1) AS INTEGER) - 1) * 3 + 1) || '-01';
UPDATE rounds SET period_end = date(period_start, '+3 months', '-1 day');
CREATE INDEX rounds_by_period ON rounds (period_start);
CREATE UNIQUE INDEX rounds_one_open ON rounds (state) WHERE state = 'open';
CREATE TRIGGER rounds_periods_never_overlap BEFORE INSERT ON rounds
WHEN NEW.period_start IS NULL OR NEW.period_end IS NULL OR NEW.period_start > NEW.period_end
    OR EXISTS (SELECT 1 FROM rounds r
               WHERE r.period_start <= NEW.period_end AND NEW.period_start <= r.period_end)
BEGIN
    SELECT RAISE(ABORT, 'round periods overlap');
END;
CREATE TRIGGER rounds_periods_never_overlap_on_update BEFORE UPDATE OF period_start, period_end ON rounds
WHEN NEW.period_start IS NULL OR NEW.period_end IS NULL OR NEW.period_start > NEW.period_end
    OR EXISTS (SELECT 1 FROM rounds r WHERE r.id <> NEW.id
               AND r.period_start <= NEW.period_end AND NEW.period_start <= r.period_end)
BEGIN
    SELECT RAISE(ABORT, 'round periods overlap');
END;

-- The day a unit was retired, so each round's rules see the unit as it was then. Units
-- retired before this column existed are dated the day it was added.
ALTER TABLE units ADD COLUMN retired_on DATE;
UPDATE units SET retired_on = date('now') WHERE NOT active;

-- The round a substantiated report was counted in (at rank 1): a report counts in one round
-- only. Reports substantiated before this column existed count in the first round finalized
-- on or after the day they were concluded.
ALTER TABLE reports ADD COLUMN counted_in INTEGER REFERENCES rounds(id);
UPDATE reports SET counted_in = (
    SELECT t.round_id FROM round_transitions t
    WHERE t.to_state = 'finalized' AND date(t.at) >= reports.concluded_on
    ORDER BY t.at, t.id LIMIT 1
) WHERE state = 'substantiated';
CREATE INDEX reports_uncounted ON reports (concluded_on) WHERE state = 'substantiated' AND counted_in IS NULL;

-- A person up for promotion (拟提拔), checked against the promotion calendar: what was asked,
-- what it answered and why, who asked.
CREATE TABLE promotion_checks (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id),
    on_day DATE NOT NULL,
    eligible BOOLEAN NOT NULL,
    answer TEXT NOT NULL,
    note TEXT NOT NULL,
    checked_by TEXT NOT NULL,
    checked_at TIMESTAMP NOT NULL
);
CREATE INDEX promotion_checks_by_person ON promotion_checks (person_id, on_day);

-- Rounds by period, dated retirements, reports counted once, promotion checks (SQLite).

-- A round evaluates a period of whole days (a quarter, a half-year, any run of days), which
-- is also its label. Periods never overlap, and at most one round is open.
ALTER TABLE rounds ADD COLUMN period_start DATE;
ALTER TABLE rounds ADD COLUMN period_end DATE;
UPDATE rounds SET period_start = substr(label, 1, 4) || '-'
    || printf('%02d', (CAST(substr(label, 6, 1) AS INTEGER) - 1) * 3 + 1) || '-01';
UPDATE rounds SET period_end = date(period_start, '+3 months', '-1 day');
CREATE INDEX rounds_by_period ON rounds (period_start);
-- An earlier release checked "one open round" in the application only: refuse to upgrade,
-- with a message saying why, if two were opened at once.
CREATE TEMP TABLE upgrade_check (
    ok BOOLEAN CONSTRAINT "at most one round may be open: close the others before upgrading"
        CHECK (ok)
);
INSERT INTO upgrade_check SELECT COUNT(*) <= 1 FROM rounds WHERE state = 'open';
DROP TABLE upgrade_check;
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
-- only. A report substantiated before this column existed is booked to the first round
-- finalized on or after the day it was concluded, from its period's first day on, whose
-- frozen ranking counted a report against the same unit. The finalization instant is
-- stored in UTC while the report's day is the district's, which may run a day ahead: the
-- day after the UTC date is allowed, and the ranking keeps a round that counted nothing
-- against the unit from taking the report.
ALTER TABLE reports ADD COLUMN counted_in INTEGER REFERENCES rounds(id);
UPDATE reports SET counted_in = (
    SELECT t.round_id FROM round_transitions t
    JOIN rounds r ON r.id = t.round_id
    JOIN rankings k ON k.round_id = t.round_id AND k.unit_id = reports.unit_id
    WHERE t.to_state = 'finalized' AND k.substantiated_reports > 0
        AND r.period_start <= reports.concluded_on
        AND reports.concluded_on <= date(t.at, '+1 day')
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

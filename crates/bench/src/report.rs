//! The figures of one run, printed as a table and written as `BENCHMARKS.md`.

use crate::{Intake, RunArgs};
use std::{fmt::Write, time::Duration};

/// The median of measurements (the mean of the two middle ones for an even count).
pub fn median(v: &[f64]) -> f64 {
    let mut s: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
    if s.is_empty() {
        return f64::NAN;
    }
    s.sort_by(f64::total_cmp);
    let m = s.len() / 2;
    if s.len() % 2 == 1 {
        s[m]
    } else {
        (s[m - 1] + s[m]) / 2.0
    }
}

fn spread(v: &[f64], unit: &str, digits: usize) -> String {
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!(
        "{:.*} {unit} ({:.*}–{:.*})",
        digits,
        median(v),
        digits,
        min,
        digits,
        max
    )
}

/// One line of the table.
pub struct Figure {
    what: String,
    value: String,
    target: String,
    met: Option<bool>,
}

impl Figure {
    /// A duration in seconds.
    pub fn seconds(what: &str, v: &[f64], target: &str, met: bool) -> Self {
        Self {
            what: what.into(),
            value: spread(v, "s", 2),
            target: target.into(),
            met: Some(met),
        }
    }
}

/// The whole run.
pub struct Report {
    runs: usize,
    seconds: u64,
    connections: u32,
    figures: Vec<Figure>,
    notes: Vec<String>,
    elapsed: Duration,
}

impl Report {
    pub fn new(args: &RunArgs) -> Self {
        Self {
            runs: args.runs,
            seconds: args.seconds,
            connections: args.connections,
            figures: Vec::new(),
            notes: Vec::new(),
            elapsed: Duration::ZERO,
        }
    }

    pub fn push(&mut self, f: Figure) {
        self.figures.push(f);
    }

    pub fn note(&mut self, n: String) {
        self.notes.push(n);
    }

    /// Throughput, its ratio to the ceiling, and latency of one intake configuration.
    pub fn intake(&mut self, label: &str, m: &Intake, ceiling_rps: f64) {
        let ratio = median(&m.rps) / ceiling_rps;
        let (target, met) = if label.contains("SQLite") {
            ("≥ 0.6× ceiling", Some(ratio >= 0.6))
        } else if label.contains("PostgreSQL") {
            ("≥ 0.3× ceiling", Some(ratio >= 0.3))
        } else {
            ("—", None)
        };
        self.figures.push(Figure {
            what: format!("intake req/s: {label}"),
            value: format!("{} · {ratio:.2}× ceiling", spread(&m.rps, "req/s", 0)),
            target: target.into(),
            met,
        });
        let p99 = median(&m.p99_ms);
        self.figures.push(Figure {
            what: format!("intake latency: {label}"),
            value: format!(
                "p50 {} · p99 {}",
                spread(&m.p50_ms, "ms", 2),
                spread(&m.p99_ms, "ms", 2)
            ),
            target: if label.contains("SQLite") {
                "p99 ≤ 20 ms".into()
            } else {
                "—".into()
            },
            met: label.contains("SQLite").then_some(p99 <= 20.0),
        });
        if m.errors > 0 {
            self.notes.push(format!(
                "{label}: {} requests failed (socket errors, timeouts or non-2xx answers)",
                m.errors
            ));
        }
    }

    /// How 2 MiB ballots were answered: the status and the slowest answer per kind.
    pub fn oversize(&mut self, answers: &[(String, u16, f64)]) {
        let mut kinds: Vec<&str> = answers.iter().map(|(k, _, _)| k.as_str()).collect();
        kinds.dedup();
        kinds.sort();
        kinds.dedup();
        for kind in kinds {
            let of: Vec<&(String, u16, f64)> =
                answers.iter().filter(|(k, _, _)| k == kind).collect();
            let secs: Vec<f64> = of.iter().map(|(_, _, s)| *s).collect();
            let statuses: Vec<u16> = of.iter().map(|(_, s, _)| *s).collect();
            // 0: the connection closed as the server refused before reading the body.
            let all_4xx = statuses.iter().all(|s| *s == 0 || (400..500).contains(s));
            let worst = secs.iter().cloned().fold(0.0, f64::max);
            self.figures.push(Figure {
                what: format!("a 2 MiB ballot ({kind}) refused"),
                value: format!(
                    "{} in ≤ {:.1} ms (median {:.1} ms)",
                    statuses
                        .iter()
                        .map(|s| match s {
                            0 => "closed".to_string(),
                            s => s.to_string(),
                        })
                        .collect::<Vec<_>>()
                        .join("/"),
                    worst * 1000.0,
                    median(&secs) * 1000.0
                ),
                target: "4xx, well under 1 s".into(),
                met: Some(all_4xx && worst < 0.25),
            });
        }
    }

    /// Intake measured while something else runs, against the same server's intake alone.
    pub fn intake_beside(&mut self, label: &str, m: &Intake, alone: &Intake) {
        let ratio = median(&m.rps) / median(&alone.rps);
        let p99 = median(&m.p99_ms) / median(&alone.p99_ms);
        self.figures.push(Figure {
            what: format!("intake: {label}"),
            value: format!(
                "{} ({ratio:.2}× alone) · p50 {} · p99 {} ({p99:.2}× alone)",
                spread(&m.rps, "req/s", 0),
                spread(&m.p50_ms, "ms", 2),
                spread(&m.p99_ms, "ms", 2)
            ),
            target: "about as alone".into(),
            met: Some(ratio >= 0.8),
        });
    }

    /// Resident memory of the servers, idle and under the intake load.
    pub fn memory(&mut self, ceiling: &Intake, sqlite: &Intake, pg: &Intake) {
        for (label, m) in [
            ("ceiling", ceiling),
            ("minping on SQLite", sqlite),
            ("minping on PostgreSQL", pg),
        ] {
            let measured = label != "ceiling";
            self.figures.push(Figure {
                what: format!("server RSS: {label}"),
                value: format!(
                    "idle {:.0} MB · under load {:.0} MB",
                    m.rss_idle, m.rss_load
                ),
                target: if measured {
                    "≤ 64 MB idle, ≤ 256 MB loaded".into()
                } else {
                    "—".into()
                },
                met: measured.then_some(m.rss_idle <= 64.0 && m.rss_load <= 256.0),
            });
        }
    }

    /// Serving and recomputing a ranking of `n` ballots, beside the in-memory floor.
    #[allow(clippy::too_many_arguments)]
    pub fn ranking(
        &mut self,
        backend: &str,
        n: usize,
        load_secs: f64,
        floor: &[f64],
        serve: &[f64],
        audit: &[f64],
        floor_ms: f64,
    ) {
        let size = format!("10^{}", (n as f64).log10().round());
        let serve_ratio = median(serve) / floor_ms;
        self.figures.push(Figure {
            what: format!("ranking {size} ballots: in-memory floor ({backend} run)"),
            value: spread(floor, "ms", 2),
            target: "—".into(),
            met: None,
        });
        self.figures.push(Figure {
            what: format!("ranking {size} ballots: serve the published ranking, {backend}"),
            value: format!("{} · {serve_ratio:.2}× floor", spread(serve, "ms", 2)),
            target: "≤ 5× floor".into(),
            met: Some(serve_ratio <= 5.0),
        });
        self.figures.push(Figure {
            what: format!("ranking {size} ballots: recompute from storage (audit), {backend}"),
            value: format!(
                "{} · {:.0}× floor",
                spread(audit, "ms", 1),
                median(audit) / floor_ms
            ),
            target: "covering-index scan".into(),
            met: None,
        });
        self.notes.push(format!(
            "{backend}: loading {n} ballots in batches of 5,000 took {load_secs:.1} s ({:.0} ballots/s)",
            n as f64 / load_secs
        ));
    }

    pub fn finish(&mut self, elapsed: Duration) {
        self.elapsed = elapsed;
    }

    fn mark(met: Option<bool>) -> &'static str {
        match met {
            Some(true) => "met",
            Some(false) => "MISSED",
            None => "",
        }
    }

    /// The plain-text table for the terminal.
    pub fn table(&self) -> String {
        let mut out = String::new();
        for f in &self.figures {
            let _ = writeln!(
                out,
                "{:<72} {:<60} {:<28} {}",
                f.what,
                f.value,
                f.target,
                Self::mark(f.met)
            );
        }
        for n in &self.notes {
            let _ = writeln!(out, "note: {n}");
        }
        out
    }

    /// `BENCHMARKS.md`.
    pub fn markdown(&self) -> String {
        let machine = machine();
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# Benchmarks\n\nWritten by `scripts/bench` (the `minping-bench` harness) — do not edit by hand; \
             run it again.\n\n## Machine\n\n{machine}\n\n## Method\n\n\
             - Everything runs in one go on this machine, so each hot path sits beside the \
             ceiling measured minutes apart. Figures are the median of {runs} runs, with min–max.\n\
             - **Ceiling**: a bare axum 0.8 endpoint in `minping-bench` that deserializes the same \
             `BallotBody` as `POST /api/v1/rounds/{{id}}/ballots` and answers 201, nothing else.\n\
             - **Intake**: `minping serve --rate-limit off` (release build) on the seeded demo \
             district, `wrk -t2 -c{connections} -d{seconds}s --latency` posting a rotation of 500 \
             realistic open-channel ballots (1–10 nominations, 1–3 indicators, Chinese comments on \
             a third). SQLite runs in WAL mode with `synchronous=FULL`: a 201 means the ballot is \
             on disk (group commit: one connection writes, one transaction per batch of queued \
             ballots). PostgreSQL is the local server with its default settings (`fsync` on); \
             up to 4 batches are in flight there at once. wrk, the server and the database share \
             the 2 cores. The notes give the writer's own trace of its commits.\n\
             - **Ranking**: a round of N ballots over 106 units (1–10 nominations each) loaded \
             through `Storage::insert_ballots`. *Floor*: tallying and ranking the same ballots held \
             in memory. *Serve*: reading the ranking frozen at finalization and serializing it — \
             what `GET /api/v1/rounds/{{id}}/results` does; it does not depend on N. *Audit*: \
             recomputing the tallies from the stored nominations (`GROUP BY unit_id` over the \
             round's nominations: on SQLite the table itself, kept in (round, unit, ballot) order; \
             on PostgreSQL the covering index `nominations_tally (round_id, unit_id, channel, \
             indicators)`) and ranking; the harness checks it equals the in-memory ranking.\n\
             - **PDF**: `minping forms` for the demo's drawn sample of 1,000 (one merged PDF, \
             plus the CSV and XLSX mailing lists).\n\
             - **Memory**: the server's `VmRSS` before the load and its peak, sampled every \
             100 ms, during the load.\n\n\
             ## What limits intake\n\n\
             A ballot's id is random, so that neither the id nor the order of rows tells when it \
             came (a directed ballot must not be joinable to the day its code was spent). Each \
             ballot therefore lands at a random place in every B-tree it enters: its row, the \
             receipt index, the round index, one entry per nomination and, for an open-channel \
             ballot, its row of keyed signals for the stuffing scan (`intake_signals`, with its \
             round index). Each of those dirties a \
             page of its own, which is copied whole into the write-ahead log and flushed at \
             commit, so the work per ballot is a few dozen kilobytes of log, not its few hundred \
             bytes. The writer trace in the notes shows a writer busy nearly all the time: intake \
             is bound by that per-ballot work in the one writer (SQLite) or in the database \
             server sharing the machine's 2 cores (PostgreSQL), not by HTTP or parsing, which the \
             ceiling measures.\n\n\
             ## Figures\n\n| What | Measured | Target | |\n|---|---|---|---|",
            runs = self.runs,
            connections = self.connections,
            seconds = self.seconds,
        );
        for f in &self.figures {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                f.what,
                f.value,
                f.target,
                Self::mark(f.met)
            );
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out, "\n## Notes\n");
            for n in &self.notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        let _ = writeln!(
            out,
            "\nThe whole run took {:.0} s.",
            self.elapsed.as_secs_f64()
        );
        out
    }
}

/// CPU model, cores, memory and kernel, as read from the machine.
fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or_else(
            || "?".into(),
            |kb| format!("{:.0} GiB", kb / 1024.0 / 1024.0),
        );
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC");
    format!("{cpu}, {cores} cores, {mem} RAM, Linux {kernel}; measured {date}.")
}

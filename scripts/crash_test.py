#!/usr/bin/env python3
"""Crash test of ballot intake: does a 201 really mean the ballot is on disk?

Run through `scripts/crash-test` (which builds the binary, makes the work folder and
cleans up); this file only needs Python 3.11's standard library and `psql` for PostgreSQL.

Each trial:
1. copies a demo data folder seeded once (for PostgreSQL also a database, cloned from a
   seeded template database), starts `minping serve` on a free loopback port;
2. sends ballots from several concurrent clients, each ballot tagged with a unique comment;
3. on PostgreSQL only: restarts PostgreSQL under load, then stops it, checks that the
   server answers 503 quickly (not 500, not a hang) while the database is down, starts it
   again and checks that the server recovers by itself;
4. kills the server with SIGKILL at a random moment, starts it again on the same data;
5. checks, through the API, that every ballot that got a 201 is found by its receipt with
   exactly the content sent, and, in the database, that the round holds every acknowledged
   ballot plus at most the ballots that were in flight at the kill, each complete and equal
   to what its client sent; that no ballot lacks its nominations; and that no ballot that
   got an error answer was stored.

Prints one line per trial and a summary; exits 1 if any trial failed.
"""

from __future__ import annotations

import argparse
import atexit
import http.client
import json
import os
import random
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"
SERVERS: list[subprocess.Popen] = []
COMMENTS = [
    "办事要跑三次",
    "窗口人员态度冷淡，问三遍才回答",
    "材料一次说不清 推来推去",
    "'quoted' \"double\" <tag> & 100%",
    "emoji 😀 and 𝄞 and é",
    "很" * 120,
]


def log(msg: str) -> None:
    print(msg, flush=True)


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def kill_all() -> None:
    for p in SERVERS:
        if p.poll() is None:
            p.kill()
            p.wait()


atexit.register(kill_all)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


@dataclass
class Server:
    binary: str
    data: str
    db_url: str | None
    port: int
    log_path: str
    proc: subprocess.Popen | None = None

    def args(self, *command: str) -> list[str]:
        args = [self.binary, "--data", self.data]
        if self.db_url:
            args += ["--database-url", self.db_url]
        return args + list(command)

    def start(self, timeout: float = 120) -> float:
        """Starts the server and waits until /healthz answers 200; returns the seconds taken."""
        t0 = time.monotonic()
        logf = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            self.args("serve", "--demo", "--secure-cookies", "off", "--listen", f"{HOST}:{self.port}", "--rate-limit", "off"),
            stdout=logf,
            stderr=subprocess.STDOUT,
            env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
        )
        SERVERS.append(self.proc)
        while time.monotonic() - t0 < timeout:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server exited with {self.proc.returncode}; see {self.log_path}")
            try:
                status, _ = request(self.port, "GET", "/healthz", timeout=2)
                if status == 200:
                    return time.monotonic() - t0
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not become healthy in {timeout} s; see {self.log_path}")

    def kill9(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def tail(self, lines: int = 15) -> str:
        try:
            with open(self.log_path, "rb") as f:
                return b"\n".join(f.read().splitlines()[-lines:]).decode("utf-8", "replace")
        except OSError:
            return ""


def request(port: int, method: str, path: str, body=None, timeout: float = 10):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, json.dumps(body).encode() if body is not None else None, headers)
        resp = conn.getresponse()
        data = resp.read()
        try:
            return resp.status, json.loads(data) if data else None
        except ValueError:
            return resp.status, data.decode("utf-8", "replace")
    finally:
        conn.close()


# --------------------------------------------------------------------------- databases


@dataclass
class Postgres:
    base_url: str  # postgres://user@host:port

    def psql(self, sql: str, db: str = "postgres") -> str:
        out = subprocess.run(
            ["psql", f"{self.base_url}/{db}", "-v", "ON_ERROR_STOP=1", "-Atqc", sql],
            check=True,
            capture_output=True,
            text=True,
        )
        return out.stdout.strip()

    def url(self, db: str) -> str:
        return f"{self.base_url}/{db}"

    def drop(self, db: str) -> None:
        self.psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')


def cluster_ctl(action: str) -> None:
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    args = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", action]
    if action in ("stop", "restart"):
        args += ["-m", "fast"]
    subprocess.run(args, check=True, capture_output=True, timeout=120)


def ensure_cluster_up() -> None:
    try:
        cluster_ctl("start")
    except subprocess.CalledProcessError:
        pass  # already running


class Db:
    """Reads the round's ballots straight from the database, to count what the API cannot."""

    def __init__(self, sqlite_path: str | None, pg: Postgres | None, pg_db: str | None):
        self.sqlite_path, self.pg, self.pg_db = sqlite_path, pg, pg_db

    def rows(self, sql: str) -> list[tuple]:
        if self.sqlite_path:
            con = sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=30)
            try:
                return con.execute(sql).fetchall()
            finally:
                con.close()
        out = self.pg.psql(sql, self.pg_db)
        return [tuple(line.split("|")) for line in out.splitlines() if line]

    def receipts(self, round_id: int) -> set[str]:
        return {r[0] for r in self.rows(f"SELECT receipt FROM ballots WHERE round_id = {round_id}")}

    def ballots_without_nominations(self) -> int:
        return int(self.rows(
            # NOT IN, not a correlated NOT EXISTS: on SQLite nominations are kept by round
            # and unit, with no index by ballot, and the list is built once.
            "SELECT count(*) FROM ballots WHERE id NOT IN (SELECT ballot_id FROM nominations)"
        )[0][0])


# --------------------------------------------------------------------------- ballots


@dataclass
class Round:
    id: int
    indicators: list[str]
    k: int
    units: list[int]


def open_round(port: int) -> Round:
    status, rounds = request(port, "GET", "/api/v1/rounds")
    assert status == 200, f"GET /api/v1/rounds → {status}"
    r = next(r for r in rounds if r["state"] == "open")
    status, units = request(port, "GET", "/api/v1/units")
    assert status == 200, f"GET /api/v1/units → {status}"
    return Round(r["id"], r["indicators"], r["max_nominations"], [u["id"] for u in units if u["active"]])


def make_ballot(rng: random.Random, rnd: Round, tag: str) -> dict:
    units = rng.sample(rnd.units, rng.randint(1, min(rnd.k, len(rnd.units))))
    noms = []
    for i, u in enumerate(units):
        inds = rng.sample(rnd.indicators, rng.randint(1, len(rnd.indicators)))
        if rng.random() < 0.1:
            inds.append(inds[0])  # a tick sent twice is one tick
        comment = None
        roll = rng.random()
        if i == 0:
            comment = f"{tag} {rng.choice(COMMENTS)}"  # every ballot is findable by its tag
        elif roll < 0.3:
            comment = rng.choice(COMMENTS)
        elif roll < 0.4:
            comment = "  \u3000 "
        elif roll < 0.5:
            comment = f"  {rng.choice(COMMENTS)}\u3000"
        noms.append({"unit_id": u, "indicators": inds, "comment": comment})
    body = {"channel": "open", "nominations": noms}
    if rng.random() < 0.5:
        body["exposure"] = rng.choices(rnd.units, k=rng.randint(0, 6))
    return body


def expected(body: dict, rnd: Round) -> dict:
    """What a receipt must show for a ballot body: nominations by unit id, indicators in the
    round's order, comments trimmed (none when blank), exposure each unit once."""
    noms = []
    for n in body["nominations"]:
        ticked = set(n["indicators"])
        comment = (n.get("comment") or "").strip() or None
        noms.append({
            "unit_id": n["unit_id"],
            "indicators": [c for c in rnd.indicators if c in ticked],
            "comment": comment,
        })
    return {
        "round_id": rnd.id,
        "channel": body["channel"],
        "nominations": sorted(noms, key=lambda n: n["unit_id"]),
        "exposure": sorted(set(body.get("exposure", []))),
    }


def as_stored(stored: dict) -> dict:
    return {
        "round_id": stored["round_id"],
        "channel": stored["channel"],
        "nominations": sorted(
            ({"unit_id": n["unit_id"], "indicators": n["indicators"], "comment": n.get("comment")}
             for n in stored["nominations"]),
            key=lambda n: n["unit_id"],
        ),
        "exposure": sorted(stored["exposure"]),
    }


# --------------------------------------------------------------------------- load


@dataclass
class Sent:
    tag: str
    body: dict
    phase: str
    status: int | None = None
    receipt: str | None = None
    error: str | None = None
    answer: object = None
    seconds: float = 0.0


@dataclass
class Load:
    port: int
    rnd: Round
    trial: int
    clients: int
    timeout: float
    seed: int
    phase: str = "load"
    sent: list[Sent] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> None:
        self.stop.clear()
        self.threads = [threading.Thread(target=self.client, args=(c,), daemon=True) for c in range(self.clients)]
        for t in self.threads:
            t.start()

    def halt(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(self.timeout + 5)

    def client(self, cid: int) -> None:
        rng = random.Random(f"{self.seed}-{self.trial}-{cid}-{len(self.sent)}")
        conn = None
        n = 0
        path = f"/api/v1/rounds/{self.rnd.id}/ballots"
        while not self.stop.is_set():
            n += 1
            tag = f"ct{self.seed}-t{self.trial}-c{cid}-{self.phase}-{n}"
            s = Sent(tag, make_ballot(rng, self.rnd, tag), self.phase)
            t0 = time.monotonic()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
                conn.request("POST", path, json.dumps(s.body).encode(), {"Content-Type": "application/json"})
                resp = conn.getresponse()
                data = resp.read()
                s.status = resp.status
                try:
                    s.answer = json.loads(data)
                except ValueError:
                    s.answer = data[:200].decode("utf-8", "replace")
                if resp.status == 201:
                    s.receipt = s.answer["receipt"]
            except TimeoutError:
                s.error = "timeout"
            except (OSError, http.client.HTTPException) as e:
                s.error = type(e).__name__
            s.seconds = time.monotonic() - t0
            if s.error and conn is not None:
                conn.close()
                conn = None
            with self.lock:
                self.sent.append(s)
            if s.error and not self.stop.is_set():
                time.sleep(0.05)


# --------------------------------------------------------------------------- trials


@dataclass
class Outcome:
    ok: bool
    line: str
    problems: list[str]


def verify(port: int, rnd: Round, db: Db, baseline: set[str], sent: list[Sent]) -> tuple[list[str], dict]:
    problems: list[str] = []
    acked = [s for s in sent if s.status == 201]
    for s in acked:
        status, stored = request(port, "GET", f"/api/v1/receipts/{s.receipt}")
        if status != 200:
            problems.append(f"acknowledged ballot {s.tag} (receipt {s.receipt}) → {status} {stored}")
        elif as_stored(stored) != expected(s.body, rnd):
            problems.append(
                f"ballot {s.tag} (receipt {s.receipt}) differs: sent {expected(s.body, rnd)}, stored {as_stored(stored)}")
    new = db.receipts(rnd.id) - baseline
    acked_receipts = {s.receipt for s in acked}
    missing = acked_receipts - new
    if missing:
        problems.append(f"{len(missing)} acknowledged receipts are not in the database: {sorted(missing)[:5]}")
    by_tag = {s.tag: s for s in sent}
    extras = new - acked_receipts
    from_flight = 0
    for receipt in sorted(extras):
        status, stored = request(port, "GET", f"/api/v1/receipts/{receipt}")
        if status != 200:
            problems.append(f"stored ballot {receipt} cannot be read: {status} {stored}")
            continue
        tags = [n["comment"].split(" ")[0] for n in stored["nominations"] if n.get("comment")]
        origin = next((by_tag[t] for t in tags if t in by_tag), None)
        if origin is None:
            problems.append(f"stored ballot {receipt} matches no ballot sent: {stored}")
        elif as_stored(stored) != expected(origin.body, rnd):
            problems.append(f"unacknowledged ballot {origin.tag} stored incomplete or changed: {as_stored(stored)}")
        elif origin.status is not None:
            problems.append(
                f"ballot {origin.tag} was stored although the server answered {origin.status} {origin.answer}")
        else:
            from_flight += 1
    half = db.ballots_without_nominations()
    if half:
        problems.append(f"{half} ballots in the database have no nominations (half-stored)")
    return problems, {"stored": len(new), "acked": len(acked), "extra": from_flight}


def summary_of(sent: list[Sent]) -> str:
    counts: dict[str, int] = {}
    for s in sent:
        key = str(s.status) if s.status is not None else s.error or "?"
        counts[key] = counts.get(key, 0) + 1
    return " ".join(f"{k}×{v}" for k, v in sorted(counts.items()))


def probe_while_down(port: int, receipt: str | None, rnd: Round, timeout: float, sent: list[Sent],
                     timings: list[str]) -> list[str]:
    """Every kind of request must get a quick 503 while the database is down."""
    problems = []
    ballot = Sent(f"probe-down-{len(sent)}", make_ballot(random.Random(1), rnd, f"probe-down-{len(sent)}"), "down")
    sent.append(ballot)
    probes = [("GET", "/healthz", None), ("GET", "/api/v1/rounds", None), ("GET", "/api/v1/units", None),
              ("POST", f"/api/v1/rounds/{rnd.id}/ballots", ballot.body)]
    if receipt:
        probes.append(("GET", f"/api/v1/receipts/{receipt}", None))
    for method, path, body in probes:
        t0 = time.monotonic()
        try:
            status, answer = request(port, method, path, body, timeout=timeout)
        except TimeoutError:
            problems.append(f"{method} {path} hung (> {timeout} s) while PostgreSQL was down")
            continue
        except OSError as e:
            problems.append(f"{method} {path}: {type(e).__name__} while PostgreSQL was down")
            continue
        took = time.monotonic() - t0
        timings.append(f"{method} {path.split('/')[-1] or path} {status} in {took:.1f}s")
        if body is not None:
            ballot.status, ballot.answer = status, answer
        if status != 503:
            problems.append(f"{method} {path} → {status} {str(answer)[:160]} (not 503) while PostgreSQL was down")
        elif took > timeout / 2:
            problems.append(f"{method} {path} took {took:.1f} s to answer 503")
    return problems


def run_trial(args, trial: int, backend: str, template: str, pg: Postgres | None, work: str) -> Outcome:
    rng = random.Random(f"{args.seed}-{backend}-{trial}")
    data = os.path.join(work, f"{backend}-trial-{trial}")
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(template, data)
    pg_db = None
    if backend == "postgres":
        pg_db = f"crash_test_t{trial}"
        pg.drop(pg_db)
        pg.psql(f'CREATE DATABASE "{pg_db}" TEMPLATE "{args.pg_template}"')
    db = Db(os.path.join(data, "minping.db") if backend == "sqlite" else None, pg, pg_db)
    server = Server(args.binary, data, pg.url(pg_db) if pg_db else None, free_port(), os.path.join(data, "server.log"))
    problems: list[str] = []
    notes: list[str] = []
    try:
        server.start()
        rnd = open_round(server.port)
        baseline = db.receipts(rnd.id)
        load = Load(server.port, rnd, trial, args.clients, args.request_timeout, args.seed)
        load.start()
        if backend == "postgres":
            time.sleep(rng.uniform(0.3, 1.5))
            t0 = time.monotonic()
            cluster_ctl("restart")
            notes.append(f"pg restart {time.monotonic() - t0:.1f}s")
            time.sleep(1.0)
            load.phase = "down"
            acked_so_far = next((s.receipt for s in load.sent if s.receipt), None)
            cluster_ctl("stop")
            time.sleep(0.5)
            timings: list[str] = []
            t_down = time.monotonic()
            problems += probe_while_down(server.port, acked_so_far, rnd, args.down_timeout, load.sent, timings)
            notes.append("while down: " + "; ".join(timings))
            time.sleep(max(0.0, args.down_seconds - (time.monotonic() - t_down)))
            cluster_ctl("start")
            load.phase = "recovering"
            t0 = time.monotonic()
            recovered = None
            while time.monotonic() - t0 < 60:
                try:
                    status, _ = request(server.port, "GET", "/healthz", timeout=5)
                    if status == 200:
                        body = make_ballot(random.Random(2), rnd, f"probe-up-{trial}")
                        status, answer = request(server.port, "POST", f"/api/v1/rounds/{rnd.id}/ballots", body)
                        if status == 201:
                            recovered = time.monotonic() - t0
                            load.sent.append(Sent(f"probe-up-{trial}", body, "recovering", 201, answer["receipt"]))
                            break
                except OSError:
                    pass
                time.sleep(0.2)
            if recovered is None:
                problems.append("the server did not recover within 60 s after PostgreSQL came back")
            else:
                notes.append(f"recovered {recovered:.1f}s after pg start")
            load.phase = "after"
        delay = rng.uniform(args.min_delay, args.max_delay)
        time.sleep(delay)
        kill_phase = load.phase
        server.kill9()
        load.halt()
        notes.insert(0, f"kill -9 after {delay:.2f}s")
        if any(t.is_alive() for t in load.threads):
            problems.append("a client thread is still blocked after the kill")
        server.start()
        verify_problems, counts = verify(server.port, rnd, db, baseline, list(load.sent))
        problems += verify_problems
        # While the database is up every answer is a 201; while it restarts or is down, 503.
        for s in load.sent:
            if s.status is not None and s.status != 201 and not (s.status == 503 and s.phase in ("load", "down", "recovering") and backend == "postgres"):
                problems.append(f"ballot {s.tag} ({s.phase}) → {s.status} {str(s.answer)[:160]}")
            if s.status == 503 and s.seconds > args.down_timeout:
                problems.append(f"ballot {s.tag} ({s.phase}) got its 503 only after {s.seconds:.1f} s")
            if s.error == "timeout":
                problems.append(f"ballot {s.tag} ({s.phase}) got no answer in {args.request_timeout} s")
            if s.error and s.phase != kill_phase and s.error != "timeout":
                problems.append(f"ballot {s.tag} ({s.phase}) → {s.error} while the server was up")
        in_flight = sum(1 for s in load.sent if s.status is None)
        slow = [s.seconds for s in load.sent if s.status == 503]
        if slow:
            notes.append(f"503 answers took {min(slow):.1f}–{max(slow):.1f}s")
        line = (f"sent {len(load.sent)} [{summary_of(load.sent)}], stored {counts['stored']} = "
                f"{counts['acked']} acknowledged + {counts['extra']} of {in_flight} in flight; "
                + ", ".join(notes))
    except Exception as e:  # noqa: BLE001 — a trial that cannot run is a failed trial
        problems.append(f"{type(e).__name__}: {e}")
        line = ", ".join(notes)
    finally:
        server.stop()
        if backend == "postgres":
            ensure_cluster_up()
    if problems and server.tail():
        problems.append("server log (last lines):\n      " + server.tail().replace("\n", "\n      "))
    if not args.keep:
        shutil.rmtree(data, ignore_errors=True)
        if pg_db:
            pg.drop(pg_db)
    return Outcome(not problems, line, problems)


def seed_template(args, backend: str, work: str, pg: Postgres | None) -> str:
    template = os.path.join(work, f"template-{backend}")
    shutil.rmtree(template, ignore_errors=True)
    cmd = [args.binary, "--data", template]
    if backend == "postgres":
        pg.drop(args.pg_template)
        pg.psql(f'CREATE DATABASE "{args.pg_template}"')
        cmd += ["--database-url", pg.url(args.pg_template)]
    t0 = time.monotonic()
    subprocess.run(cmd + ["demo", "--no-serve"], check=True, stdout=subprocess.DEVNULL)
    log(f"seeded the {backend} template in {time.monotonic() - t0:.1f} s")
    return template


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--binary", required=True)
    p.add_argument("--work", required=True, help="an empty folder for data folders and logs")
    p.add_argument("--trials", type=int, default=20, help="trials on SQLite (default 20)")
    p.add_argument("--pg-trials", type=int, default=0, help="trials on PostgreSQL (default 0)")
    p.add_argument("--pg-base", default="postgres://postgres@127.0.0.1:5432")
    p.add_argument("--pg-template", default="crash_test_template")
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--min-delay", type=float, default=0.3, help="earliest kill, seconds into the load")
    p.add_argument("--max-delay", type=float, default=4.0, help="latest kill, seconds into the load")
    p.add_argument("--down-seconds", type=float, default=3.0, help="how long PostgreSQL stays down")
    p.add_argument("--down-timeout", type=float, default=15.0, help="longest wait for a 503")
    p.add_argument("--request-timeout", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=int(time.time()) % 100000)
    p.add_argument("--keep", action="store_true", help="keep every trial's data folder")
    args = p.parse_args()
    log(f"crash test: seed {args.seed}, {args.clients} clients, kill between {args.min_delay} and {args.max_delay} s")
    pg = Postgres(args.pg_base) if args.pg_trials else None
    failed = 0
    results = []
    try:
        for backend, trials in (("sqlite", args.trials), ("postgres", args.pg_trials)):
            if trials <= 0:
                continue
            template = seed_template(args, backend, args.work, pg)
            for trial in range(1, trials + 1):
                t0 = time.monotonic()
                out = run_trial(args, trial, backend, template, pg, args.work)
                verdict = "ok  " if out.ok else "FAIL"
                log(f"{verdict} {backend:8} trial {trial:2}/{trials} ({time.monotonic() - t0:4.1f}s): {out.line}")
                for problem in out.problems[:20]:
                    log(f"     - {problem}")
                if len(out.problems) > 20:
                    log(f"     - … and {len(out.problems) - 20} more")
                failed += not out.ok
                results.append((backend, out.ok))
    finally:
        kill_all()
        if pg:
            ensure_cluster_up()
            if not args.keep:
                pg.drop(args.pg_template)
    for backend in ("sqlite", "postgres"):
        runs = [ok for b, ok in results if b == backend]
        if runs:
            log(f"summary {backend}: {sum(runs)}/{len(runs)} trials passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""``kill -9`` at random moments across ``update``, ``undo`` and ``update --file`` (real
subprocesses), reusing the helpers of ``test_integrity``.

After every kill: the command happened completely or not at all (the ledger is the old one, or
the old one plus exactly the records of this command); the ledger, the stored forecast for its
head, ``history --json`` and ``show --json`` agree (``test_integrity.assert_consistent``); and
``undo`` handles the workspace as left (run on a copy, which must then describe the state before
the last update still in force).

The slow test makes ``FORECAST_STRESS_KILLS`` kills (200 by default; seed from
``FORECAST_KILL_SEED``, printed); the default suite makes a handful, one of each command in turn.
Readings stay in the fit's typical band so every committed update takes the fast PSIS path.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import time
from collections import Counter

import pytest

import test_integrity as T  # the module, not its names: its tests are not collected twice

from forecast.store import ledger as L
from forecast.store import posterior as store
from forecast.workspace import TEMP_PREFIX, Workspace

N_STRESS = int(os.environ.get("FORECAST_STRESS_KILLS", "200"))
N_QUICK = 6
RETIME_EVERY = 25  # kills between re-timings of the three commands
MAX_IN_FORCE = 10  # above this many events in force, undo: keeps the PSIS weights healthy


class Stress:
    """The workspace under test, and what should be in force: a stack of committed updates,
    each the list of event ids it added."""

    def __init__(self, ws: Workspace, tmp):
        self.ws, self.tmp = ws, tmp
        self.stack: list[list[str]] = []
        self.next_reading = 0
        self.counts: Counter = Counter()
        self.elapsed = 0.0

    @property
    def ids(self) -> list[str]:
        return [i for batch in self.stack for i in batch]

    def readings(self, n: int) -> list[tuple[list[str], L.Event]]:
        out = [T.tagged_reading(self.next_reading + j) for j in range(n)]
        self.next_reading += n
        return out

    def command(self, cmd: str, rng: random.Random) -> tuple[list[str], list[L.Event]]:
        """(CLI arguments, the events it adds) for ``cmd``."""
        if cmd == "undo":
            return ["undo"], []
        if cmd == "update":
            (args, event), = self.readings(1)
            return ["update", *args], [event]
        rows = self.readings(rng.randint(1, 3))
        path = self.tmp / f"batch-{self.next_reading}.csv"
        path.write_text("date,indicator,value,source,note\n" + "".join(
            f"{e.date},{e.name},{e.value:g},{e.source},{e.note}\n" for _, e in rows), encoding="utf-8")
        return ["update", "--file", str(path)], [e for _, e in rows]

    def run(self, cmd: str, rng: random.Random, delay: float | None, context: str, count: bool = True) -> str:
        """Run ``cmd`` (killed after ``delay`` s unless None), check the workspace, return the outcome."""
        args, events = self.command(cmd, rng)
        prev = L.read_bytes(self.ws)
        t0 = time.perf_counter()
        proc = subprocess.Popen([*T.CLI, *args, "-w", str(self.ws.root), "--json"], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        if delay is not None:
            time.sleep(delay)
            os.kill(proc.pid, signal.SIGKILL)  # not yet reaped, so the pid is still this process
        _, err = proc.communicate(timeout=300)
        self.elapsed = time.perf_counter() - t0  # the command's own run time, when not killed
        context = f"{context}: {cmd}"
        assert proc.returncode in (0, -signal.SIGKILL), f"{context}: exit {proc.returncode}: {err}"
        assert "Traceback" not in err, f"{context}: {err}"
        data = L.read_bytes(self.ws)
        if data == prev:
            assert proc.returncode != 0, f"{context}: exited 0 but nothing was recorded"
            outcome = "killed before commit"
        else:
            assert data.startswith(prev), f"{context}: earlier ledger lines were rewritten"
            new = L.parse(data)[len(L.parse(prev)):]  # whole ledger: an undo is checked against its add
            if cmd == "undo":
                assert [(r["op"], r["id"]) for r in new] == [("undo", i) for i in self.stack[-1]], context
                self.stack.pop()
            else:
                assert [(r["op"], r["id"]) for r in new] == [("add", e.id) for e in events], context
                assert [L.Event.from_dict(r["event"]) for r in new] == events, context
                assert all(r["path"] == "psis" and r["after"] for r in new), f"{context}: {new}"
                assert len({r["update"] for r in new}) == 1, context
                self.stack.append([e.id for e in events])
            outcome = "finished before kill" if proc.returncode == 0 else "killed after commit"
        if count:
            self.counts[(cmd, outcome)] += 1
        T.assert_consistent(self.ws, self.ids, f"{context} ({outcome})")
        self.check_undo_on_copy(f"{context} ({outcome})")
        return outcome

    def check_undo_on_copy(self, context: str) -> None:
        if not self.stack:
            return
        copy = Workspace(shutil.copytree(self.ws.root, self.tmp / "undo-check"))
        try:
            r = T.run_cli("undo", "-w", str(copy.root), "--json")
            assert r.returncode == 0 and "Traceback" not in r.stderr, f"{context}: undo failed: {r.stderr}"
            records, head = L.read(copy)
            assert [e.id for e in L.active_events(records)] == [i for b in self.stack[:-1] for i in b], context
            stored, cur, warning = store.current(copy)
            assert warning is None and cur == head, f"{context}: after undo: {warning}"
            assert stored.attrs.get("ledger_head", L.EMPTY_HEAD) == head, context
        finally:
            shutil.rmtree(copy.root)

    def choose(self, rng: random.Random) -> str:
        if not self.stack:
            return rng.choice(["update", "file"])
        if len(self.ids) > MAX_IN_FORCE:
            return "undo"
        return rng.choices(["update", "file", "undo"], weights=[4, 3, 3])[0]


def stress(ws: Workspace, tmp, n_kills: int, cycle: bool) -> str:
    s = Stress(ws, tmp)
    assert store.read_forecast(ws).attrs["forecast_year"] == T.YEAR
    T.assert_consistent(ws, [], "fresh fit")
    typical: dict[str, float] = {}

    def retime():
        """Typical run time of each command, uninterrupted (the machine's load changes over a long
        run, and delays drawn from stale timings would mostly land after the process ended).
        These runs also check the no-kill path; they are not counted as kills."""
        for cmd in ("update", "file", "undo", "undo"):  # the events in force are as before
            assert s.run(cmd, random.Random(0), None, f"uninterrupted {cmd}", count=False) == "finished before kill"
            typical[cmd] = s.elapsed  # the command alone, not the checks after it

    retime()
    seed = int(os.environ.get("FORECAST_KILL_SEED", random.randrange(2**32)))
    rng = random.Random(seed)
    t0 = time.perf_counter()
    for i in range(n_kills):
        if i and i % RETIME_EVERY == 0:
            retime()
        cmd = ["update", "file", "undo"][i % 3] if cycle and (s.stack or i % 3 != 2) else s.choose(rng)
        if cmd == "undo" and not s.stack:
            cmd = "update"
        # the commit is near the end of a command: delays up to a little past its typical time
        delay = rng.uniform(0.0, 1.1 * typical[cmd])
        s.run(cmd, rng, delay, f"kill {i} after {delay:.3f} s (seed {seed})")
    wall = time.perf_counter() - t0

    leftovers = len([p for p in ws.root.rglob(f"{TEMP_PREFIX}*.tmp") if p.is_file()])
    per_cmd = Counter(cmd for cmd, _ in s.counts.elements())
    summary = (f"{n_kills} kills in {wall:.0f} s, seed {seed}; last typical run "
               + ", ".join(f"{c} {t:.2f} s" for c, t in typical.items()) + "; "
               + "; ".join(f"{c}: " + ", ".join(f"{o} {n}" for (cc, o), n in sorted(s.counts.items()) if cc == c)
                           for c in per_cmd)
               + f"; {len(s.ids)} event(s) in force at the end, {leftovers} orphaned temporary file(s)")
    print(f"\nkill -9 stress: {summary}")
    assert sum(s.counts.values()) == n_kills
    return summary


def test_kill_9_across_update_undo_and_batch(fitted_workspace, tmp_path):
    """A handful of kills, the three commands in turn."""
    stress(fitted_workspace, tmp_path, N_QUICK, cycle=True)


@pytest.mark.slow
def test_kill_9_stress(fitted_workspace, tmp_path):
    summary = stress(fitted_workspace, tmp_path, N_STRESS, cycle=False)
    assert N_STRESS < 30 or "killed before commit" in summary, summary

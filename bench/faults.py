"""The fault drills of ``tests/faults/``, run as a benchmark: one line per scenario, then a
summary. The scenarios live only there (no second copy here): this runs pytest on that folder
with a small plugin that collects each drill's outcome and the losses it reports.

    python bench/faults.py                 # every drill
    python bench/faults.py -k websub       # extra arguments go to pytest

Ends with ``faults_survived=<n>/<t> rows_lost=<r> alerts_lost=<a> units_unaccounted=<u>
resurrected_rows=<z>``. A drill reports a loss with pytest's ``record_property`` under one
of those names (``record_property("units_unaccounted", gap)``) before it asserts, so a failing
drill still says how much it lost; a drill that reports nothing counts 0 of each.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
DRILLS = ROOT / "tests" / "faults"
METRICS = ("rows_lost", "alerts_lost", "units_unaccounted", "resurrected_rows")


class Collector:
    """A pytest plugin: each drill's outcome (all of setup, call, teardown passed) and the
    metrics its reports carry in ``user_properties``."""

    def __init__(self) -> None:
        self.failed: set[str] = set()
        self.seen: list[str] = []
        self.skipped: set[str] = set()
        self.seconds: Counter[str] = Counter()
        self.metrics: Counter[str] = Counter()
        self.per_drill: dict[str, Counter[str]] = {}
        self.reasons: dict[str, str] = {}

    def pytest_runtest_logreport(self, report: Any) -> None:
        node = report.nodeid
        if node not in self.per_drill:
            self.seen.append(node)
            self.per_drill[node] = Counter()
        self.seconds[node] += report.duration
        if report.outcome == "failed":
            self.failed.add(node)
            reason = [ln for ln in report.longreprtext.splitlines() if ln.startswith("E ")]
            self.reasons.setdefault(node, (reason or ["(see pytest)"])[0][:200])
        elif report.outcome == "skipped":
            self.skipped.add(node)
        if report.when == "call" or report.outcome == "failed":
            for name, value in report.user_properties:
                if name in METRICS:
                    self.per_drill[node][name] = int(value)
        if report.when == "teardown":
            self.metrics.update(self.per_drill[node])
            verdict = "survived"
            if node in self.failed or node in self.skipped:
                verdict = "FAILED" if node in self.failed else "skipped"
            losses = " ".join(f"{k}={v}" for k, v in sorted(self.per_drill[node].items()))
            name = node.removeprefix("tests/faults/")
            line = f"{verdict:<8} {self.seconds[node]:6.1f}s  {name}  {losses}"
            print(line.rstrip(), flush=True)
            if node in self.reasons:
                print(f"         {self.reasons[node]}", flush=True)


def main(argv: list[str]) -> int:
    collector = Collector()
    # pytest's own terminal output is off: the plugin prints one line per drill.
    args = [str(DRILLS), "-o", "addopts=", "-p", "no:terminal", "-p", "no:cacheprovider", *argv]
    started = time.monotonic()
    code = pytest.main(args, plugins=[collector])
    ran = [n for n in collector.seen if n not in collector.skipped]
    survived = sum(n not in collector.failed for n in ran)
    m = collector.metrics
    print(f"# {len(ran)} drills in {time.monotonic() - started:.0f}s (pytest exit {int(code)})")
    print(
        f"faults_survived={survived}/{len(ran)} rows_lost={m['rows_lost']} "
        f"alerts_lost={m['alerts_lost']} units_unaccounted={m['units_unaccounted']} "
        f"resurrected_rows={m['resurrected_rows']}"
    )
    return 0 if ran and survived == len(ran) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

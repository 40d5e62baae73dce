"""Shared helpers for the benchmarks: run a command, time it, read its peak memory, percentiles."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # so `python bench/x.py` imports core
    sys.path.insert(0, str(ROOT))
OUT = ROOT / "bench" / "out"
PYTHON = sys.executable


def run_timed(args: list[str], env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """Run a command to completion: (seconds, the child's peak RSS in MiB, its output)."""
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        proc = subprocess.Popen(
            args, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=log, stderr=subprocess.STDOUT
        )
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own resource usage
        elapsed = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        output = log.read().decode(errors="replace")
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({proc.returncode}):\n{output}")
    return elapsed, usage.ru_maxrss / 1024, output


def percentiles(values: list[float]) -> dict[str, float]:
    """p50 and p95 of a sample, interpolated between the order statistics (as numpy's default
    percentile does), and the maximum; one decimal."""
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50": round(statistics.median(values), 1),
        "p95": round(cuts[94], 1),
        "max": round(max(values), 1),
    }


def peak_rss_mib() -> float:
    """This process's high-water mark of resident memory so far, in MiB."""
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def record(name: str, values: dict[str, object]) -> None:
    """Print and keep one benchmark's numbers in bench/out/results.json."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[name] = values
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False, default=str))
    print(json.dumps({name: values}, ensure_ascii=False, indent=2, default=str))

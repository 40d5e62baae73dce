"""Shared helpers for the benchmarks: run a command, time it, read its peak memory."""

from __future__ import annotations

import json
import os
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


def record(name: str, values: dict[str, object]) -> None:
    """Print and keep one benchmark's numbers in bench/out/results.json."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    results[name] = values
    path.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print(json.dumps({name: values}, ensure_ascii=False, indent=2))

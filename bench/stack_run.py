"""What the stack benchmarks share: percentiles, and running a benchmark on its own stack."""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Awaitable, Callable

from deploy.local.stack import LocalStack, free_ports

Benchmark = Callable[[LocalStack, argparse.Namespace], Awaitable[dict]]


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def distribution(values: list[float]) -> dict:
    def rounded(value):
        return None if value is None else round(value, 3)
    return {"samples": len(values), "p50": rounded(percentile(values, 50)),
            "p95": rounded(percentile(values, 95)), "p99": rounded(percentile(values, 99)),
            "max": rounded(max(values)) if values else None,
            "mean": rounded(statistics.fmean(values)) if values else None}


class CpuMeter:
    """CPU time of the stack's processes (and this one, the load generator) over a stretch
    of a run, in cores: where a saturated 2-core machine spends its time."""

    def __init__(self, stack: LocalStack):
        self._stack = stack
        self._start: dict[str, float] = {}
        self._started_at = 0.0

    def _cpu_seconds(self) -> dict[str, float]:
        pids = {name: child.process.pid for name, child in self._stack.children.items()}
        pids["benchmark (load generator)"] = os.getpid()
        seconds = {}
        for name, pid in pids.items():
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            seconds[name] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return seconds

    def start(self) -> None:
        self._start, self._started_at = self._cpu_seconds(), time.monotonic()

    def cores(self) -> dict[str, float]:
        elapsed = time.monotonic() - self._started_at
        now = self._cpu_seconds()
        used = {name: round((now[name] - before) / elapsed, 2)
                for name, before in self._start.items() if name in now}
        return dict(sorted(used.items(), key=lambda item: -item[1]))


def run_on_local_stack(*, name: str, services: tuple[str, ...], benchmark: Benchmark,
                       summary: Callable[[dict], str], args: argparse.Namespace) -> int:
    """Start a local stack on free ports, run the benchmark, stop the stack (also on Ctrl-C
    or SIGTERM), write `args.out` and print the summary."""
    # SIGTERM (kill, a CI timeout) ends like Ctrl-C: through `finally`, which stops the stack.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    data_dir = Path(tempfile.mkdtemp(prefix=f"{name}-bench-"))
    stack = LocalStack(data_dir, ports=free_ports(),
                       progress=lambda message: print(f"[stack] {message}", flush=True))
    try:
        stack.start_engines()
        stack.create_topics()
        stack.start_services(list(services))
        result = asyncio.run(benchmark(stack, args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        stack.stop()
        if not args.keep_data:
            shutil.rmtree(data_dir, ignore_errors=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(summary(result))
    print(f"written to {args.out}")
    return 0

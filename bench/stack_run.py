"""What the stack benchmarks share: percentiles, and running a benchmark on its own stack."""
from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import statistics
import sys
import tempfile
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

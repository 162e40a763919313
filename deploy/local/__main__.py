"""`make run`: the whole platform on this machine, with demo data, until Ctrl-C.

    python -m deploy.local run [--data-dir .data] [--no-demo]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path

from deploy.local.prometheus import write_for
from deploy.local.stack import DEFAULT_PORTS, DOCUMENT_STORES, SERVICES, LocalStack, free_ports

STARTED = time.monotonic()


def say(message: str) -> None:
    print(f"[{time.monotonic() - STARTED:6.1f}s] {message}", flush=True)


def kill_leftovers(pid_file: Path) -> None:
    """Stop children a previous supervisor left behind (it was killed without cleaning up)."""
    if not pid_file.exists():
        return
    for pid in json.loads(pid_file.read_text()).values():
        try:
            os.killpg(pid, signal.SIGKILL)
            say(f"stopped a leftover process group {pid} from an earlier run")
        except (ProcessLookupError, PermissionError):
            pass
    pid_file.unlink()


def url_table(stack: LocalStack) -> str:
    rows = [
        ("Web UI", stack.url("gateway") + "/"),
        ("Sign in as a demo persona", stack.url("gateway") + "/#/sign-in"),
        ("API docs (OpenAPI)", stack.url("gateway") + "/api/docs"),
        ("Public API", stack.url("gateway") + "/api/v1"),
        ("Mail sink", stack.url("mail_http") + "/"),
        *[(f"{spec.name} (ready / metrics)",
           f"{stack.url(spec.port_name)}/readyz  {stack.metrics_url(spec.name)}")
          for spec in SERVICES],
        ("Prometheus config for these ports", str(stack.data_dir / "prometheus.yml")),
        ("Kafka protocol broker", stack.kafka_bootstrap),
        *[(f"MongoDB protocol ({database})", stack.mongo_uri_for(database))
          for database in DOCUMENT_STORES],
        ("Elasticsearch API", stack.elasticsearch_url),
        ("Redis", stack.redis_url),
        ("Logs", str(stack.log_dir)),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"  {name.ljust(width)}  {value}" for name, value in rows]
    bar = "=" * (width + 60)
    return "\n".join([bar, "  The platform is ready.", *lines, bar,
                      "  Press Ctrl-C to stop everything."])


# `make reindex` reads profiles' internal export as the search service: it needs this run's
# search key (the keys are made anew at every start), so the running stack leaves it here.
REINDEX_ENV = "reindex.env"


def write_reindex_env(stack: LocalStack, path: Path) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(f"SERVICE_SIGNING_KEY={stack.service_keys['search']}\n"
                    f"SERVICE_PUBLIC_KEYS={stack.public_keys}\n")


def seed_demo(stack: LocalStack) -> None:
    from deploy.local.demo_data import seed

    say("loading demo data (NRW municipalities, actors, offers and needs)")
    summary = asyncio.run(seed(stack.url("profiles"), progress=lambda m: say(f"  demo: {m}"),
                               keys=stack.keys_for("gateway")))
    say(f"demo data: {summary}")


def run(args: argparse.Namespace) -> int:
    data_dir = Path(args.data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pid_file = data_dir / "pids.json"
    kill_leftovers(pid_file)
    ports = free_ports() if args.free_ports else dict(DEFAULT_PORTS)
    stack = LocalStack(data_dir=data_dir, ports=ports, progress=say)

    def on_term(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    # Explicitly: a shell starts background jobs with SIGINT ignored, and Python keeps an
    # ignored SIGINT, so a `make run &` would not stop on Ctrl-C (kill -INT) otherwise.
    signal.signal(signal.SIGINT, on_term)
    try:
        say(f"data in {data_dir}")
        stack.start_engines()
        pid_file.write_text(json.dumps({n: c.process.pid for n, c in stack.children.items()}))
        stack.create_topics()
        stack.start_services()
        pid_file.write_text(json.dumps({n: c.process.pid for n, c in stack.children.items()}))
        write_reindex_env(stack, data_dir / REINDEX_ENV)
        if not args.no_demo:
            seed_demo(stack)
        write_for(stack.ports, data_dir / "prometheus.yml")  # scrapes this run's metrics ports
        (data_dir / "stack.json").write_text(json.dumps({
            "ports": stack.ports, "pids": {n: c.process.pid for n, c in stack.children.items()}}))
        print(url_table(stack), flush=True)
        while True:
            for child in stack.dead_children():
                say(f"WARNING: {child.name} exited with code {child.process.returncode}; "
                    f"last log lines:\n{stack.log_tail(child.name)}")
                stack.children.pop(child.name)
            time.sleep(1)
    except KeyboardInterrupt:
        say("stopping ...")
        return 0
    except Exception as error:  # show why the start failed, then clean up
        say(f"ERROR: {error}")
        return 1
    finally:
        stack.stop()
        pid_file.unlink(missing_ok=True)
        (data_dir / "stack.json").unlink(missing_ok=True)
        (data_dir / REINDEX_ENV).unlink(missing_ok=True)
        say("stopped; no process of the stack is left")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.local", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    start = commands.add_parser("run", help="start the platform with demo data")
    start.add_argument("--data-dir", default=".data")
    start.add_argument("--no-demo", action="store_true", help="do not load demo data")
    start.add_argument("--free-ports", action="store_true",
                       help="pick free ports instead of the defaults (tests, a second stack)")
    args = parser.parse_args()
    sys.exit(run(args))


if __name__ == "__main__":
    main()

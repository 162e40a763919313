"""Peer 1: PostGIS. A private PostgreSQL 15 + PostGIS 3 cluster answers the candidate queries.

Cluster (`PgCluster`): `initdb` into a temporary directory as the `postgres` system user
(root cannot run postgres), started with `pg_ctl` on a free port, unix socket in that
directory, no TCP; settings for a throw-away benchmark database: fsync, synchronous_commit
and full_page_writes off, JIT off, no parallel workers (the engine is one thread too),
shared_buffers 1 GB. Stopped and deleted by `stop()`.

Table `items`: one row per open item with capacity -- geography(Point) with a partial GiST
index per kind for the items with a place, a partial btree on kind for remote items; bit
masks (bigint) for categories, skills, requirements, languages, the tenant bit and the
tenants the item may see; the schedule as a bit(168) hour-slot grid (score factor) and,
for the minute-exact hard constraint, multiranges: dates (epoch seconds), weekly windows
and the dates' local times (both as minutes of the Europe/Berlin week); lat/lon in radians
and cos(lat) exactly as `rules.Prepared` has them; the weights of the item's tenant (used
when it is the need); and `thr`/`thr_id`, the item's current buffer threshold (kept
current by the client after every event). Bulk load with COPY; per event INSERT ... ON
CONFLICT / DELETE / one UPDATE of the changed thresholds.

Candidate query for X (one SQL statement; variants by X's kind, remote flag and schedule,
prepared by the server): the opposite kind with a shared category, mutual visibility,
different actor, requirements, the exact schedule overlap, and -- unless X is remote --
`ST_DWithin(y.geog, x, r_x * 1.0001, false)` (the sphere; padded) united with all remote
rows; then the exact haversine of `rules.distance_km` against both radii. Scored in SQL
with the same float64 operations in the same order as `rules.score` (so the rounded
scores are the same numbers), and returned: the top L by (score desc, id) and, for
publish/update, the rows whose score reaches their stored threshold (X enters their buffer).

Exactness limit: the date-vs-weekly overlap compares local wall-clock minutes, exact away
from the two DST switch hours of a year (the benchmark's dates, May-July, never touch them).
"""
from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from typing import Callable

from services.matching.engine import rules
from services.matching.engine.rules import OFFER, Prepared

from .base import MINUTES_PER_WEEK, PRIVATE_ATYPES, Entry, PeerMatcher

PG_BIN_CANDIDATES = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")
_M64 = (1 << 64) - 1


def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


class PgClusterError(RuntimeError):
    pass


class PgCluster:
    """A private, temporary PostgreSQL cluster (see the module docstring)."""

    def __init__(self, bin_dir: str | None = None, user: str = "postgres",
                 settings: dict[str, str] | None = None):
        self.bin_dir = bin_dir or next((d for d in PG_BIN_CANDIDATES if os.path.exists(f"{d}/pg_ctl")), None)
        if self.bin_dir is None:
            raise PgClusterError(
                "PostgreSQL server binaries not found (looked in "
                f"{', '.join(PG_BIN_CANDIDATES)}): apt-get install postgresql-15 postgresql-15-postgis-3")
        self.run_as = user if os.geteuid() == 0 else None
        self.dir: str | None = None
        self.port: int | None = None
        self.settings = {
            "fsync": "off", "synchronous_commit": "off", "full_page_writes": "off", "jit": "off",
            "max_parallel_workers_per_gather": "0", "shared_buffers": "1GB", "work_mem": "64MB",
            "maintenance_work_mem": "512MB", "max_wal_size": "8GB", "checkpoint_timeout": "1h",
            "listen_addresses": "''", "log_min_messages": "warning",
        }
        self.settings.update(settings or {})

    def _cmd(self, args: list[str], **kw) -> subprocess.CompletedProcess:
        if self.run_as:
            args = ["runuser", "-u", self.run_as, "--"] + args
        r = subprocess.run(args, capture_output=True, text=True, **kw)
        if r.returncode != 0:
            raise PgClusterError(f"{' '.join(args)} failed ({r.returncode}):\n{r.stdout}\n{r.stderr}")
        return r

    @staticmethod
    def _free_port() -> int:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            return s.getsockname()[1]

    def preflight(self) -> None:
        """Fail early, with the fix in the message, when the peer cannot run here."""
        version = os.path.basename(os.path.dirname(self.bin_dir))
        if not os.path.exists(f"/usr/share/postgresql/{version}/extension/postgis.control"):
            raise PgClusterError(f"PostGIS is not installed: apt-get install postgresql-{version}-postgis-3")
        if self.run_as:
            try:
                pwd.getpwnam(self.run_as)
            except KeyError:
                raise PgClusterError(f"running as root needs the system user {self.run_as!r} to run postgres") from None
        try:
            import psycopg  # noqa: F401
        except ImportError:
            raise PgClusterError("the PostGIS peer needs psycopg: pip install 'psycopg[binary]==3.3.9'") from None

    def start(self) -> "PgCluster":
        self.preflight()
        self.dir = tempfile.mkdtemp(prefix="engine-bench-pg-")
        atexit.register(self.stop)  # also when the run dies between start and stop
        if self.run_as:
            pw = pwd.getpwnam(self.run_as)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        data = os.path.join(self.dir, "data")
        self._cmd([f"{self.bin_dir}/initdb", "-D", data, "-U", "postgres", "-A", "trust",
                   "--locale=C", "--encoding=UTF8", "--no-sync"])
        opts = " ".join(f"-c {k}={v}" for k, v in self.settings.items())
        last = None
        for _ in range(3):
            self.port = self._free_port()
            try:
                self._cmd([f"{self.bin_dir}/pg_ctl", "-D", data, "-w", "-t", "60", "-l",
                           os.path.join(self.dir, "server.log"), "-o", f"-p {self.port} -k {self.dir} {opts}", "start"])
                return self
            except PgClusterError as e:  # the port may have been taken meanwhile
                last = e
        log = ""
        try:
            with open(os.path.join(self.dir, "server.log")) as f:
                log = f.read()[-3000:]
        except OSError:
            pass
        raise PgClusterError(f"postgres did not start: {last}\n{log}")

    def conninfo(self) -> dict:
        return {"host": self.dir, "port": self.port, "user": "postgres", "dbname": "postgres"}

    def stop(self) -> None:
        if self.dir is None:
            return
        try:
            self._cmd([f"{self.bin_dir}/pg_ctl", "-D", os.path.join(self.dir, "data"), "-m", "immediate", "-w", "stop"])
        except PgClusterError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


# ------------------------------------------------------------------ schema and SQL

SCHEMA = """
CREATE EXTENSION IF NOT EXISTS postgis;
DROP TABLE IF EXISTS items;
CREATE TABLE items (
    uid integer PRIMARY KEY, id text NOT NULL, kind smallint NOT NULL, actor bigint NOT NULL,
    atype smallint NOT NULL, eng smallint NOT NULL, acc boolean NOT NULL,
    tbit bigint NOT NULL, see bigint NOT NULL,
    lat float8 NOT NULL, lon float8 NOT NULL, coslat float8 NOT NULL, radius float8 NOT NULL,
    remote boolean NOT NULL, geog geography(Point, 4326) NOT NULL,
    cat bigint NOT NULL, skill bigint NOT NULL, nskill integer NOT NULL, req bigint NOT NULL, lang bigint NOT NULL,
    hs boolean NOT NULL, slots bit(168) NOT NULL, nslots integer NOT NULL,
    dates nummultirange NOT NULL, wk int4multirange NOT NULL, dmow int4multirange NOT NULL,
    w0 float8, w1 float8, w2 float8, w3 float8, w4 float8, w5 float8, w6 float8, w7 float8, wt float8,
    thr float8 NOT NULL DEFAULT '-Infinity', thr_id text
);
"""
INDEXES = """
CREATE INDEX items_geog_offer ON items USING gist (geog) WHERE kind = 0 AND NOT remote;
CREATE INDEX items_geog_need ON items USING gist (geog) WHERE kind = 1 AND NOT remote;
CREATE INDEX items_remote ON items (kind) WHERE remote;
"""
COLUMNS = ("uid", "id", "kind", "actor", "atype", "eng", "acc", "tbit", "see", "lat", "lon", "coslat", "radius",
           "remote", "geog", "cat", "skill", "nskill", "req", "lang", "hs", "slots", "nslots", "dates", "wk",
           "dmow", "w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "wt", "thr", "thr_id")
# X's attributes as statement parameters (name -> SQL type)
XPARAMS = {
    "kind": "smallint", "actor": "bigint", "atype": "smallint", "eng": "smallint", "acc": "boolean",
    "tbit": "bigint", "see": "bigint", "lat": "float8", "lon": "float8", "coslat": "float8",
    "radius": "float8", "cat": "bigint", "skill": "bigint", "nskill": "integer", "req": "bigint",
    "lang": "bigint", "hs": "boolean", "slots": "bit(168)", "nslots": "integer", "dates": "nummultirange",
    "wk": "int4multirange", "dmow": "int4multirange", "w0": "float8", "w1": "float8", "w2": "float8",
    "w3": "float8", "w4": "float8", "w5": "float8", "w6": "float8", "w7": "float8", "wt": "float8",
}
ENG_FIT = "ARRAY[" + ",".join(repr(v) for row in rules.ENGAGEMENT_FIT for v in row) + "]::float8[]"
ACT_FIT = "ARRAY[" + ",".join(repr(v) for row in rules.ACTOR_TYPE_FIT for v in row) + "]::float8[]"
PRIVATE_SQL = "(" + ",".join(str(a) for a in PRIVATE_ATYPES) + ")"


def _candidate_sql(x_kind: int, x_remote: bool, x_sched: bool, reverse: bool, L: int) -> str:
    """The candidate query of an item X (see the module docstring); parameters %(name)s."""

    def x(name: str) -> str:
        return f"%({name})s::{XPARAMS[name]}"

    def y(name: str) -> str:
        return f"y.{name}"

    o, n = (x, y) if x_kind == OFFER else (y, x)
    ky = 1 - x_kind
    flt = [
        f"y.kind = {ky}", f"(y.cat & {x('cat')}) <> 0", f"(y.see & {x('tbit')}) <> 0",
        f"({x('see')} & y.tbit) <> 0", f"y.actor <> {x('actor')}",
        f"({n('req')} & ~{o('req')}) = 0",
    ]
    if x_sched:
        flt.append(
            f"(NOT y.hs OR y.dates && {x('dates')} OR y.wk && {x('wk')} OR y.dmow && {x('wk')}"
            f" OR {x('dmow')} && y.wk)")
    where = " AND ".join(flt)
    cols = "y.uid, y.id, y.thr, y.thr_id, y.cat, y.skill, y.nskill, y.lang, y.hs, y.slots, y.nslots, " \
           "y.eng, y.atype, y.acc, y.w0, y.w1, y.w2, y.w3, y.w4, y.w5, y.w6, y.w7, y.wt"
    # rules.distance_km(o, n): the same float operations in the same order
    hav = (f"((2.0::float8 * {rules.EARTH_RADIUS_KM!r}::float8) * asin(sqrt(least(1.0::float8, "
           f"sin(({n('lat')} - {o('lat')}) * 0.5::float8) * sin(({n('lat')} - {o('lat')}) * 0.5::float8)"
           f" + {o('coslat')} * {n('coslat')} * sin(({n('lon')} - {o('lon')}) * 0.5::float8)"
           f" * sin(({n('lon')} - {o('lon')}) * 0.5::float8)))))")
    if x_remote:
        src = f"SELECT {cols}, -1.0::float8 AS d FROM items y WHERE {where}"
    else:
        src = (
            f"SELECT * FROM (SELECT {cols}, {hav} AS d, y.radius FROM items y WHERE {where} AND NOT y.remote"
            f" AND ST_DWithin(y.geog, ST_SetSRID(ST_MakePoint(%(lon_deg)s::float8, %(lat_deg)s::float8), 4326)::geography,"
            f" %(radius)s::float8 * 1000.1::float8, false)) s"
            f" WHERE s.d <= s.radius AND s.d <= %(radius)s::float8"
            f" UNION ALL SELECT {cols}, -1.0::float8 AS d, y.radius FROM items y WHERE {where} AND y.remote"
        )
    # factors of rules._factor_values, o = offer, n = need; y.* below refers to the candidate row
    def c(role, name):
        return role(name).replace("y.", "c.")

    o_c = (lambda name: c(o, name))
    n_c = (lambda name: c(n, name))
    private = f"({o_c('atype')} IN {PRIVATE_SQL} OR {n_c('atype')} IN {PRIVATE_SQL})"
    dpub = f"(CASE WHEN c.d >= 0.0::float8 AND {private} THEN greatest(1.0::float8, ceil(c.d)) ELSE c.d END)"
    f_dist = f"(CASE WHEN c.d < 0.0::float8 THEN 1.0::float8 ELSE exp(-{dpub} / {rules.DISTANCE_SCALE_KM!r}::float8) END)"
    f_cat = (f"(bit_count(({o_c('cat')} & {n_c('cat')})::bit(64))::float8"
             f" / bit_count(({o_c('cat')} | {n_c('cat')})::bit(64))::float8)")
    f_sk = (f"(CASE WHEN {n_c('nskill')} = 0 THEN 1.0::float8 ELSE"
            f" bit_count(({o_c('skill')} & {n_c('skill')})::bit(64))::float8 / {n_c('nskill')}::float8 END)")
    if x_sched:
        f_sched = (f"(CASE WHEN c.hs THEN bit_count({o_c('slots')} & {n_c('slots')})::float8"
                   f" / least({o_c('nslots')}, {n_c('nslots')})::float8 ELSE 1.0::float8 END)")
    else:
        f_sched = "1.0::float8"
    f_eng = f"({ENG_FIT})[{o_c('eng')} * 3 + {n_c('eng')} + 1]"
    f_lang = (f"(CASE WHEN {o_c('lang')} = 0 OR {n_c('lang')} = 0 OR ({o_c('lang')} & {n_c('lang')}) <> 0"
              f" THEN 1.0::float8 ELSE 0.0::float8 END)")
    f_acc = f"(CASE WHEN {n_c('acc')} AND NOT {o_c('acc')} THEN 0.0::float8 ELSE 1.0::float8 END)"
    f_act = f"({ACT_FIT})[{o_c('atype')} * 5 + {n_c('atype')} + 1]"
    w = (lambda i: n_c(f"w{i}"))
    raw = (f"{w(0)} * {f_cat} + {w(1)} * {f_sk} + {w(2)} * {f_dist} + {w(3)} * {f_sched}"
           f" + {w(4)} * {f_eng} + {w(5)} * {f_lang} + {w(6)} * {f_acc} + {w(7)} * {f_act}")
    score = f"round(((({raw}) / {n_c('wt')}))::numeric, {rules.SCORE_DECIMALS})::float8"
    base = f"SELECT c.uid, c.id, c.thr, c.thr_id, {score} AS sc FROM ({src}) c"
    top = f"SELECT uid, sc, false AS enters FROM cand ORDER BY sc DESC, id LIMIT {int(L)}"
    if not reverse:
        return f"WITH cand AS ({base}) {top}"
    return (f"WITH cand AS MATERIALIZED ({base}) ({top}) UNION ALL"
            f" (SELECT uid, sc, true FROM cand WHERE sc > thr OR (sc = thr AND %(id)s::text < thr_id))")


def _multirange(ranges: list[tuple]) -> str:
    return "{" + ",".join(f"[{a!r},{b!r})" for a, b in ranges) + "}"


def _local_minute(ts: float) -> float:
    """Minutes since the Monday 00:00 of the local (Europe/Berlin) week of a UTC timestamp."""
    t = datetime.fromtimestamp(ts, rules.BERLIN)
    return t.weekday() * 1440 + t.hour * 60 + t.minute + (t.second + t.microsecond / 1e6) / 60.0


def schedule_ranges(p: Prepared) -> tuple[str, str, str]:
    """(dates, weekly minutes of week, dates as local minutes of week) as multirange literals."""
    dates = [(int(s), int(e)) if float(s).is_integer() and float(e).is_integer() else (s, e) for s, e in p.dates]
    wk = [(day * 1440 + s, day * 1440 + e) for day, windows in enumerate(p.weekly) for s, e in windows]
    dm: list[tuple[int, int]] = []
    for s, e in p.dates:
        if e - s >= 7 * 86400:
            dm = [(0, MINUTES_PER_WEEK)]
            break
        a = int(_local_minute(s) // 1)
        lm = _local_minute(e)
        b = int(-(-lm // 1))
        if e - s > 0 and b <= a:  # wraps over the end of the week
            dm.append((a, MINUTES_PER_WEEK))
            if b > 0:
                dm.append((0, b))
        else:
            dm.append((a, b))
    dm = [(a, b) for a, b in dm if a < b]
    return _multirange(dates), _multirange(wk), _multirange(dm)


class PostgisPeer(PeerMatcher):
    name = "postgis"

    def __init__(self, k: int = 10, tenants=None, buffer_extra: int | None = None,
                 cluster: PgCluster | None = None):
        super().__init__(k, tenants, buffer_extra)
        import psycopg

        self._own_cluster = cluster is None
        self.cluster = cluster or PgCluster().start()
        try:
            self.conn = psycopg.connect(**self.cluster.conninfo(), autocommit=True, prepare_threshold=0)
            self.conn.execute(SCHEMA, prepare=False)
        except BaseException:
            if self._own_cluster:
                self.cluster.stop()
            raise
        self._sql: dict[tuple, str] = {}
        self._stored: set[int] = set()  # uids with a row (items with capacity)

    def close(self) -> None:
        try:
            self.conn.close()
        finally:
            if self._own_cluster:
                self.cluster.stop()

    # -------------------------------------------------------------- rows

    def _row(self, u: int, p: Prepared) -> dict:
        enc = self.enc
        w, total = enc.weights(p.tenant)
        dates, wk, dm = schedule_ranges(p)
        item = p.item
        return {
            "uid": u, "id": p.id, "kind": p.kind, "actor": enc.actor(p.actor_id), "atype": p.atype,
            "eng": p.eng, "acc": p.accessible, "tbit": _signed(enc.tbit(p.tenant)), "see": _signed(enc.seemask(p)),
            "lat": p.lat, "lon": p.lon, "coslat": p.coslat, "radius": p.radius, "remote": p.remote,
            "geog": f"SRID=4326;POINT({item.lon!r} {item.lat!r})", "lat_deg": item.lat, "lon_deg": item.lon,
            "cat": _signed(enc.cats.mask(p.cats)), "skill": _signed(enc.skills.mask(p.skills)),
            "nskill": len(p.skills), "req": _signed(enc.reqs.mask(p.reqs)), "lang": _signed(enc.langs.mask(p.langs)),
            "hs": p.has_sched, "slots": format(p.slots, "0168b"), "nslots": p.nslots,
            "dates": dates, "wk": wk, "dmow": dm,
            **{f"w{i}": w[i] for i in range(8)}, "wt": total, "thr": float("-inf"), "thr_id": None,
        }

    def _bulk_put(self, items: list[tuple[int, Prepared]], progress: Callable[[str], None] | None) -> None:
        t0 = time.perf_counter()
        n = len(items)
        with self.conn.cursor() as cur:
            with cur.copy(f"COPY items ({', '.join(COLUMNS)}) FROM STDIN") as cp:
                for i, (u, p) in enumerate(items):
                    if not p.cap_ok:
                        continue
                    r = self._row(u, p)
                    self._stored.add(u)
                    cp.write_row(tuple(r[c] for c in COLUMNS))
                    if progress is not None and (i + 1) % 100_000 == 0:
                        progress(f"postgis COPY {i + 1}/{n} ({(i + 1) / (time.perf_counter() - t0):,.0f} rows/s)")
            if progress is not None:
                progress(f"postgis COPY done in {time.perf_counter() - t0:.1f}s; building indexes ...")
            cur.execute(INDEXES, prepare=False)
            cur.execute("VACUUM ANALYZE items", prepare=False)
        if progress is not None:
            progress(f"postgis loaded in {time.perf_counter() - t0:.1f}s")

    def _put(self, u: int, p: Prepared, new: bool) -> None:
        if not p.cap_ok:
            self._delete(u, p)
            return
        r = self._row(u, p)
        self._stored.add(u)
        cols = [c for c in COLUMNS if c not in ("thr", "thr_id")]
        vals = ", ".join(f"%({c})s" for c in cols)
        upd = ", ".join(f"{c} = EXCLUDED.{c}" for c in cols if c != "uid")
        self.conn.execute(
            f"INSERT INTO items ({', '.join(cols)}) VALUES ({vals}) ON CONFLICT (uid) DO UPDATE SET {upd}", r)

    def _delete(self, u: int, p: Prepared) -> None:
        if u in self._stored:
            self._stored.discard(u)
            self.conn.execute("DELETE FROM items WHERE uid = %s", (u,))

    def _write_thresholds(self, uids: list[int]) -> None:
        lists = self.lists
        stored = self._stored
        us, thrs, tids = [], [], []
        for u in uids:
            if u in stored:
                thr, tid = lists.threshold(u)
                us.append(u)
                thrs.append(thr)
                tids.append(tid)
        if not us:
            return
        self.conn.execute(
            "UPDATE items SET thr = v.thr, thr_id = v.tid FROM unnest(%s::int[], %s::float8[], %s::text[])"
            " AS v(uid, thr, tid) WHERE items.uid = v.uid", (us, thrs, tids))

    # -------------------------------------------------------------- queries

    def _query(self, u: int, p: Prepared, reverse: bool) -> tuple[list[Entry], bool, list[Entry]]:
        self.counters["queries"] += 1
        if u not in self._stored:  # no row: no capacity, matches nothing
            return [], True, []
        params = self._row(u, p)
        key = (p.kind, p.remote, p.has_sched, reverse)
        sql = self._sql.get(key)
        if sql is None:
            sql = self._sql[key] = _candidate_sql(p.kind, p.remote, p.has_sched, reverse, self.L)
        rows = self.conn.execute(sql, params).fetchall()
        self.counters["rows"] += len(rows)
        top = [(sc, uid) for uid, sc, enters in rows if not enters]
        enters = [(sc, uid) for uid, sc, enters in rows if enters]
        return top, len(top) < self.L, enters

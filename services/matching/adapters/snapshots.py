"""The SnapshotStore port (services/matching/ports.py) on a directory and in MongoDB.

Both keep a snapshot as its `meta` plus its sections (named byte strings) one after the
other, and keep the two newest complete snapshots. Which one the worker uses is a setting
(`MATCHING_SNAPSHOT_STORE`); services/matching/README.md has the measured figures.

- `DirectorySnapshotStore`: one file per snapshot on a volume. Written to a temporary file,
  fsynced, renamed into place (atomic), the directory fsynced: a crash leaves either the
  complete new file or none. Fast (disk speed), but a volume is needed that outlives the pod.
- `MongoSnapshotStore`: chunked binary documents in matching's database (`snapshots`: one
  manifest per snapshot, `snapshot_chunks`: its bytes in chunks below the document size
  limit). The manifest is marked complete only after every chunk is written. Shared by
  all replicas and needs no volume.
"""
from __future__ import annotations

import asyncio
import json
import os
import secrets
import time
from contextlib import suppress
from pathlib import Path

from bson import Binary

from platform_common.events import utcnow
from services.matching.ports import Snapshot

KEEP = 2
MAGIC = b"MATCHING-SNAPSHOT\n"
# Far below MongoDB's 16 MiB document limit, large enough for few round trips.
CHUNK_BYTES = 8 * 1024 * 1024
# A temporary file this old was left by a crashed writer (a live one writes for seconds).
STALE_TEMP_S = 3600


def _new_id() -> str:
    """Sortable by time of creation; unique across replicas."""
    return f"{time.time_ns():020d}-{secrets.token_hex(4)}"


class DirectorySnapshotStore:
    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)

    async def save(self, snapshot: Snapshot) -> None:
        await asyncio.to_thread(self._save, snapshot)

    async def latest(self) -> Snapshot | None:
        return await asyncio.to_thread(self._latest)

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob("snapshot-*.bin"))

    def _save(self, snapshot: Snapshot) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"snapshot-{_new_id()}.bin"
        temp = self.directory / f".{name}.tmp"
        header = json.dumps({"meta": snapshot.meta, "sections": [
            [section, len(data)] for section, data in snapshot.sections.items()]}).encode()
        try:
            with temp.open("wb") as file:
                file.write(MAGIC + len(header).to_bytes(8, "big") + header)
                for data in snapshot.sections.values():
                    file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self.directory / name)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        self._fsync_directory()
        for old in self._files()[:-KEEP]:
            old.unlink(missing_ok=True)
        for temp in self.directory.glob(".snapshot-*.tmp"):
            # Another writer may rename or remove its temp file meanwhile.
            with suppress(FileNotFoundError):
                if time.time() - temp.stat().st_mtime > STALE_TEMP_S:
                    temp.unlink()

    def _fsync_directory(self) -> None:
        descriptor = os.open(self.directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def _latest(self) -> Snapshot | None:
        files = self._files() if self.directory.is_dir() else []
        if not files:
            return None
        with files[-1].open("rb") as file:
            if file.read(len(MAGIC)) != MAGIC:
                raise ValueError(f"{files[-1]} is not a matching snapshot")
            header = json.loads(file.read(int.from_bytes(file.read(8), "big")))
            sections = {}
            for section, length in header["sections"]:
                data = file.read(length)
                if len(data) != length:
                    raise ValueError(f"{files[-1]} is truncated")
                sections[section] = data
        return Snapshot(meta=header["meta"], sections=sections)


class MongoSnapshotStore:
    def __init__(self, database):
        self._manifests = database["snapshots"]
        self._chunks = database["snapshot_chunks"]

    async def save(self, snapshot: Snapshot) -> None:
        snapshot_id = _new_id()
        await self._manifests.insert_one({"_id": snapshot_id, "state": "writing",
                                          "started_at": utcnow()})
        count = 0
        buffer = bytearray()
        for data in snapshot.sections.values():
            buffer += data
            while len(buffer) >= CHUNK_BYTES:
                await self._write_chunk(snapshot_id, count, bytes(buffer[:CHUNK_BYTES]))
                del buffer[:CHUNK_BYTES]
                count += 1
        if buffer:
            await self._write_chunk(snapshot_id, count, bytes(buffer))
            count += 1
        await self._manifests.update_one({"_id": snapshot_id}, {"$set": {
            "state": "complete", "completed_at": utcnow(), "meta": snapshot.meta,
            "sections": [[name, len(data)] for name, data in snapshot.sections.items()],
            "chunks": count, "bytes": snapshot.size}})
        await self._prune()

    async def _write_chunk(self, snapshot_id: str, n: int, data: bytes) -> None:
        await self._chunks.insert_one({"_id": f"{snapshot_id}:{n:06d}", "data": Binary(data)})

    async def _prune(self) -> None:
        """Drop everything older than the KEEP newest complete snapshots (also what crashed
        writers left; a newer snapshot still being written stays)."""
        complete = await self._manifests.find({"state": "complete"}, projection={"_id": 1}).sort(
            "_id", -1).to_list(None)
        if len(complete) < KEEP:
            return
        oldest_kept = complete[KEEP - 1]["_id"]
        async for manifest in self._manifests.find({"_id": {"$lt": oldest_kept}},
                                                   projection={"_id": 1}):
            snapshot_id = manifest["_id"]
            await self._chunks.delete_many({"_id": {"$gte": f"{snapshot_id}:",
                                                    "$lt": f"{snapshot_id};"}})
            await self._manifests.delete_one({"_id": snapshot_id})

    async def latest(self) -> Snapshot | None:
        manifest = await self._manifests.find_one({"state": "complete"}, sort=[("_id", -1)])
        if manifest is None:
            return None
        snapshot_id = manifest["_id"]
        data = bytearray()
        cursor = self._chunks.find({"_id": {"$gte": f"{snapshot_id}:", "$lt": f"{snapshot_id};"}})
        async for chunk in cursor.sort("_id", 1):
            data += chunk["data"]
        if len(data) != manifest["bytes"]:
            raise ValueError(f"snapshot {snapshot_id} has {len(data)} of {manifest['bytes']} bytes")
        sections, start = {}, 0
        view = memoryview(data)
        for name, length in manifest["sections"]:
            sections[name] = bytes(view[start:start + length])
            start += length
        return Snapshot(meta=manifest["meta"], sections=sections)

"""Peers of the matching engine for `bench/engine_bench.py`: a PostGIS database and a
vectorised numpy scan. Per event each produces what the engine produces (the Diff of the
match set, explained, and the same top-K lists) with the engine's algorithm and one candidate
query in place of the engine's index -- see `bench/engine_bench.py` and `bench/README.md`.

`base.PeerMatcher` holds the shared per-event algorithm and list keeping; `postgis.PostgisPeer`
and `numpy_scan.NumpyScanPeer` answer the candidate queries.
"""
from .base import PeerMatcher, TopLists, engine_buffers

__all__ = ["PeerMatcher", "TopLists", "engine_buffers"]

"""Pure-Python incremental matching engine of offers and needs (no I/O).

Public API: `MatchingEngine` (incremental, indexed), `BruteForceMatcher` (oracle),
the model types and `rules` (the single source of constraints and scores).
"""
from .brute_force import BruteForceMatcher
from .engine import MatchingEngine
from .model import Diff, Item, Match, Reason, TenantInfo, Weights

__all__ = ["MatchingEngine", "BruteForceMatcher", "Diff", "Item", "Match", "Reason", "TenantInfo", "Weights"]

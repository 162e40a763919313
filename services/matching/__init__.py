"""Matching: the incremental matcher (worker) and the suggestions API.

`python -m services.matching.worker` keeps every open offer and need in memory, turns item
events into `match.found` / `match.withdrawn` events and persists the current match set;
`python -m services.matching` serves the suggestions of one item from that match set.
See README.md for how the worker stays correct across crashes and rebalances.
"""

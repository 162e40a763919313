"""Pure rules of the matching service around the engine: who emits a pair, when a stored pair
state differs from the engine's, what the directory keeps of tenants, actors and items, and who
may see an item's suggestions. No I/O."""

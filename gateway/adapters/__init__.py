"""The gateway's edges: Redis counters, the identity provider's keys, the services over HTTP."""

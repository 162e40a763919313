"""Abstract contract suites, one per port: run against the fake and the real adapter."""

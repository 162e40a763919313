"""The incremental matcher process: `python -m services.matching.worker`."""

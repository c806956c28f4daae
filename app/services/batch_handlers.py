"""Handlers of the batch engine's seed, monitor and execution jobs (filled in by the batch issue)."""

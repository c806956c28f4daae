"""The domain: job queries and commands, incidents, the executor, the batch engine."""

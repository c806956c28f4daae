"""The batch engine (generic), its batch types, the handlers of its jobs, and the batch queries."""

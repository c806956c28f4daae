"""Jobs: the query (and its keyset pages), ingestion, the synchronous commands, set retries."""

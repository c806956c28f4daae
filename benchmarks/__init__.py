"""Benchmarks for jobservice, a tool beside the product: ``make bench`` (``python -m benchmarks.run``).

The harness drives the service only as an operator would: the Procfile's processes (web,
worker, release), HTTP, and SQL on the benchmark's own database. Each figure is printed next
to a raw-SQL baseline measured in the same run on the same data, and the run updates
benchmarks/RESULTS.md.

Modules: ``run`` (command line, the order of a run), ``report`` (machine, tables, RESULTS.md),
``scenarios/`` (one module per scenario), ``bench`` (rows, the running stack, a batch over
HTTP), ``procfile`` and ``processes`` (the Procfile's lines as processes), ``memory`` (RSS and
PSS from /proc), ``datagen`` (schema and data), ``db`` and ``client`` (SQL and HTTP),
``sqltap`` (the SQL a process sends, captured on the wire), ``settings_probe`` (the one
in-process look at the product: its effective settings), ``private_servers`` (PostgreSQL and
Redis of the recovery scenarios' own), ``profiling`` (Celery task times, py-spy), ``common``.
"""

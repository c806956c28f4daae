"""Benchmarks for jobservice: ``.venv/bin/python -m benchmarks.run`` (``make bench``).

The harness loads N realistic jobs into its own PostgreSQL database, starts the web and worker
processes exactly as the Procfile runs them (``APP_ENV=production``), measures six scenarios
against baselines taken in the same run on the same data, and writes benchmarks/RESULTS.md.

Modules: ``run`` (command line and report), ``datagen`` (schema and data), ``processes``
(web/worker processes and RSS sampling), ``scenarios`` (the measurements), ``util`` (HTTP
client, database helpers, statistics).
"""

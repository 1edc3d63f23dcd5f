"""Golden documents: every document the station prints, rendered to PNG pages and
compared with reviewed reference images (``reference/``). Regenerate on purpose with
``python -m tests.golden.regenerate`` (see README, "Benchmarks and screenshots")."""

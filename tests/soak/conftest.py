"""tests/soak holds the `make soak` scripts (run with `python tests/soak/run.py`), not pytest tests."""

collect_ignore_glob = ["*.py"]

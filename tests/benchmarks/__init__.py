"""Benchmarks: ``.venv/bin/python -m tests.benchmarks`` (see run.py). Not tests."""

"""Benchmark and synthetic-run tools: not part of the product.

``make bench-client`` (:mod:`harness_bench.truth_server`, :mod:`harness_bench.known_truth`),
``make bench-report`` and the tests (:mod:`harness_bench.synthetic_run`) use them. They may
import ``harness``; no module of ``harness`` imports them (``tests/test_architecture.py``),
and the wheel does not ship them (``pyproject.toml``).
"""

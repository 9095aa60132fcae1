"""The run stage: serve each candidate, ask every question, measure while answering.

Writes ``generations.jsonl``, ``phases.jsonl``, ``perf.jsonl``, ``loadtest.jsonl``, the manifest
and the per-candidate part directories (file names: :mod:`harness.rundir`).
"""

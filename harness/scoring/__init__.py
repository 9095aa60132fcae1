"""Scoring stage: rubric scores (`scores.jsonl`) and LLM-judge verdicts (`judgments.jsonl`)."""

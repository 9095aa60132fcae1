"""Scoring: rubric checks (pure, one registry) and the scoring stage."""

"""Review stage: people's grades enter a run (``harness review add``), the review queue is planned and
exchanged with other annotation tools (docs/review.md). Reads a run as the report does; writes only
``reviews.jsonl`` (through :mod:`harness.rundir`)."""

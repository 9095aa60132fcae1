"""LLM-as-judge: prompts, strict verdict parsing, the judge stage and its reliability statistics."""

"""Inputs: question sets, the eval plan, prompt variants and retrieval context, the GPU catalogue.

Everything here is read from YAML/documents and validated before a server starts; nothing here
talks to a model. Later stages import from here, never the other way round
(``docs/architecture.md``).
"""

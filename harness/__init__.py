"""Base-model selection harness."""

__version__ = "0.1.0"

"""Talking to a model server (placeholder, filled in below)."""

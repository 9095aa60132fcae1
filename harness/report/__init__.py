"""Rendering: roll-up DataFrames to a self-contained HTML report."""

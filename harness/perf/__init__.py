"""Performance: timing statistics (pure)."""

"""``harness compare``: two or more finished runs side by side."""

"""Roll-up (pure): records → pandas frames → per question, category and model; statistics,
stability, significance, cost and the decision. Reads record files, writes none."""

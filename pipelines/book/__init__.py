"""The customer book at a month end: rows, scoring, comparison, policy, history, tables."""

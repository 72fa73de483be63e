"""Rule sets (``rule_sets``: save, import, publish, retire) and the automatic path
(``automatic``: queued on submission, the decision itself, the human review)."""

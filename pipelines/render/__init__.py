"""Rendering for people: the portfolio report page, PNG figures, the model card."""

"""Figures shared by the report and the notebook (matplotlib; no backend is chosen at import)."""

"""MoMoREC: motivation-aware semantic IDs for sequential recommendation."""

__version__ = "0.1.0"

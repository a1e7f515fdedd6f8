"""Kedro datasets of this project (custom I/O), referenced by full dotted path in the catalog."""

"""Motivation clusters (LSH + threshold graph), spreading (top-k vote) and the item → cluster assignment with
its scores, residual k-means and the semantic IDs built on it."""

"""Motivation clusters (LSH + threshold graph), motivation spreading (top-k vote), residual k-means."""

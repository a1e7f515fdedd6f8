"""Hyperparameter search for the recommender variants (Optuna), on validation data only."""

"""Recommendations out of a trained model: the MLflow pyfunc model, batch scoring and ``recommend()``.

Modules: ``recommender`` (top-k over a network and its item vocabulary), ``requests`` (product-id requests
to answers), ``model_loading`` / ``artifacts`` (rebuild a network from config + state dict), ``pyfunc_model``
and ``packaging`` (the registered MLflow model), ``batch`` (scores for many users), ``api`` (``recommend``).
"""

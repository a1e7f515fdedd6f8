"""The tiny logs of the model tests."""

from tests.models.conftest import interactions, sequences  # noqa: F401

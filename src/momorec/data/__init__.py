"""Reading, generating and validating interaction logs."""

from momorec.data.raw_log import INTERACTION_COLUMNS, ITEM_COLUMNS, RawLog

__all__ = ["INTERACTION_COLUMNS", "ITEM_COLUMNS", "RawLog"]

"""Sentence embeddings of item texts and motivations, and the optional contrastive tuning of the encoder."""

from momorec.embeddings.encoder import (
    EncoderBundle,
    build_item_texts,
    encode_texts,
    load_encoder,
    resolve_model_path,
)

__all__ = ["EncoderBundle", "build_item_texts", "encode_texts", "load_encoder", "resolve_model_path"]

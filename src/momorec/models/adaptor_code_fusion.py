"""Adaptor + code fusion: the ID embedding plus both the adaptor's term and the additive fusion's code term."""

from __future__ import annotations

import numpy as np

from momorec.models.adaptor_fusion import AdaptorFusion
from momorec.models.additive_fusion import AdditiveFusion


class AdaptorCodeFusion(AdaptorFusion, AdditiveFusion):
    """Item representation = ID embedding + scale_a ⊙ LayerNorm(adaptor(frozen vector))
    + scale_c ⊙ LayerNorm(W · Σ_layers code embedding).

    The two terms read different things: the adaptor reads a dense frozen vector (the item's text), the codes
    a discrete semantic ID (the motivation ⊕ text IDs, say), whose shared prefixes tie items of one motivation
    together. Both scales start at zero (the adaptor's at ``adaptor_scale_init``, 0 by default), so the model
    starts as exactly SASRec. Nothing is overridden: each parent's :meth:`item_representations` adds its term to ``super()``'s, so the method resolution order
    (this class → AdaptorFusion → AdditiveFusion → SASRec) sums all three.
    """

    def __init__(
        self,
        n_items: int,
        item_vectors: np.ndarray,
        item_codes: np.ndarray,
        code_embedding_size: int = 32,
        n_experts: int = 4,
        adaptor_dropout: float = 0.2,
        adaptor_scale_init: float = 0.0,
        **sasrec_kwargs,
    ) -> None:
        # AdaptorFusion passes the remaining keywords on to AdditiveFusion, which passes its rest to SASRec.
        super().__init__(
            n_items,
            item_vectors,
            n_experts=n_experts,
            adaptor_dropout=adaptor_dropout,
            adaptor_scale_init=adaptor_scale_init,
            item_codes=item_codes,
            code_embedding_size=code_embedding_size,
            **sasrec_kwargs,
        )

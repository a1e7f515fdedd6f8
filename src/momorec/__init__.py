"""MoMoREC: motivation-aware semantic IDs for sequential recommendation."""

import os

# OpenMP workers (torch, faiss, llama.cpp) busy-wait between parallel regions by default. On a small machine
# shared with other processes that made training and LLM calls up to 10x slower (measured on 2 cores);
# passive waiting costs next to nothing when the cores are free. Set before any of them is imported.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"


def __getattr__(name: str):
    # `momorec.recommend` without importing torch or MLflow until it is used: `import momorec` stays cheap.
    if name == "recommend":
        from momorec.serving.api import recommend

        return recommend
    raise AttributeError(f"module 'momorec' has no attribute {name!r}")

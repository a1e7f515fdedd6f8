"""Could several sequences decoded together beat one sequence per server? The embedded model, measured bare.

llama-cpp-python's server (the embedded runtime) decodes one sequence at a time: ``llama_cpp.server`` holds one
``Llama`` behind a lock, and ``Llama.generate`` uses sequence 0 only (``n_seq_max`` is raised only for
embeddings). llama.cpp itself can decode several sequences in one ``llama_decode`` call (what the C++
``llama-server --parallel`` does). This script measures, with the low-level bindings of the installed
llama-cpp-python on the embedded GGUF, what that would give on this machine:

* ``prompt``: one 128-token prompt evaluated in one call (tokens/s on the thread count given);
* ``decode × N``: N sequences, each with a 128-token prompt already in the KV cache, advanced one token each per
  ``llama_decode`` call (32 steps; tokens fixed, no sampling: the arithmetic and memory traffic of decoding);
* the bound: the GGUF's bytes over the machine's memory bandwidth (a numpy copy of 1 GiB), i.e. how fast a
  single sequence could decode if reading the weights once per token were all the work.

    python benchmarks/bench_llm_batched_decode.py [--threads 1] [--steps 32]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from _results import write_section  # noqa: E402

from momorec.llm.embedded import find_embedded_gguf  # noqa: E402
from momorec.llm.llama_server_main import _load_without_extra_buffers  # noqa: E402

PROMPT_TOKENS = 128
MAX_SEQUENCES = 8


def memory_bandwidth_gb_s(n_bytes: int = 1 << 30, repeats: int = 5) -> float:
    """Best of ``repeats`` single-threaded copies of ``n_bytes`` (read + write counted)."""
    source = np.ones(n_bytes // 8)
    target = np.empty_like(source)
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        np.copyto(target, source)
        best = min(best, time.perf_counter() - started)
    return 2 * n_bytes / best / 1e9


def _batch_add(batch, token: int, position: int, seq_id: int, logits: bool) -> None:
    i = batch.n_tokens
    batch.token[i] = token
    batch.pos[i] = position
    batch.n_seq_id[i] = 1
    batch.seq_id[i][0] = seq_id
    batch.logits[i] = logits
    batch.n_tokens += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--steps", type=int, default=32)
    args = parser.parse_args()
    _load_without_extra_buffers()
    import llama_cpp

    gguf = find_embedded_gguf()
    llama_cpp.llama_backend_init()
    model = llama_cpp.llama_model_load_from_file(str(gguf).encode(), llama_cpp.llama_model_default_params())
    params = llama_cpp.llama_context_default_params()
    params.n_ctx = MAX_SEQUENCES * (PROMPT_TOKENS + args.steps + 8)
    params.n_batch = params.n_ubatch = 512
    params.n_seq_max = MAX_SEQUENCES
    params.kv_unified = True
    params.n_threads = params.n_threads_batch = args.threads
    context = llama_cpp.llama_init_from_model(model, params)
    memory = llama_cpp.llama_get_memory(context)
    batch = llama_cpp.llama_batch_init(512, 0, MAX_SEQUENCES)
    vocabulary = llama_cpp.llama_vocab_n_tokens(llama_cpp.llama_model_get_vocab(model))
    rng = np.random.default_rng(0)
    prompt = rng.integers(100, vocabulary - 100, size=PROMPT_TOKENS).tolist()

    def decode() -> float:
        started = time.perf_counter()
        if llama_cpp.llama_decode(context, batch) != 0:
            raise RuntimeError("llama_decode failed")
        return time.perf_counter() - started

    rows = []
    for n_sequences in (1, 2, 4, 8):
        llama_cpp.llama_memory_clear(memory, True)
        prompt_s = 0.0
        for seq in range(n_sequences):
            batch.n_tokens = 0
            for position, token in enumerate(prompt):
                _batch_add(batch, token, position, seq, position == len(prompt) - 1)
            prompt_s += decode()
        step_s = []
        for step in range(args.steps):
            batch.n_tokens = 0
            for seq in range(n_sequences):
                _batch_add(batch, int(prompt[(step + seq) % len(prompt)]), PROMPT_TOKENS + step, seq, True)
            step_s.append(decode())
        median_step = float(np.median(step_s))
        rows.append(
            {
                "sequences_per_decode": n_sequences,
                "threads": args.threads,
                "prompt_tokens_per_s": round(n_sequences * PROMPT_TOKENS / prompt_s, 1),
                "ms_per_decode_call": round(1000 * median_step, 2),
                "decoded_tokens_per_s": round(n_sequences / median_step, 1),
                "load_average": round(os.getloadavg()[0], 1),
            }
        )
    llama_cpp.llama_batch_free(batch)
    llama_cpp.llama_free(context)
    llama_cpp.llama_model_free(model)

    bandwidth = memory_bandwidth_gb_s()
    model_bytes = gguf.stat().st_size
    bound = bandwidth * 1e9 / model_bytes
    n_parameters = 134.5e6  # SmolLM2-135M, embedding tied to the output layer (counted once, used twice)
    flops_per_token = 2 * (n_parameters + 49152 * 576)
    table = pd.DataFrame(rows)
    single = table.iloc[0]
    notes = (
        f"SmolLM2-135M Q4_1 ({model_bytes / 1e6:.1f} MB GGUF), raw `llama_decode` calls of the installed "
        f"llama-cpp-python {llama_cpp.__version__} (no sampling, no grammar, no HTTP). Memory bandwidth (numpy "
        f"copy of 1 GiB, one thread, read + write): {bandwidth:.1f} GB/s, so reading the weights once per token "
        f"bounds one sequence at about {bound:.0f} tokens/s; measured {single['decoded_tokens_per_s']} "
        f"({single['decoded_tokens_per_s'] / bound:.0%} of it). Prompt evaluation: about "
        f"{flops_per_token / 1e9:.2f} GFLOP per token, {single['prompt_tokens_per_s']} tokens/s = "
        f"{single['prompt_tokens_per_s'] * flops_per_token / 1e9:.0f} GFLOP/s on {args.threads} thread(s). "
        "Load average per row: the machine was shared when it is well above the thread count."
    )
    write_section(
        "llm-batched-decode",
        f"benchmarks/bench_llm_batched_decode.py --threads {args.threads} --steps {args.steps}",
        table,
        notes,
    )


if __name__ == "__main__":
    main()

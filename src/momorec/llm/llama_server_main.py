"""Entry point of the embedded server: ``python -m momorec.llm.llama_server_main <llama_cpp.server args>``.

It runs ``llama_cpp.server`` unchanged, except that with ``MOMOREC_LLAMA_NO_EXTRA_BUFFERS=1`` the model is
loaded without llama.cpp's "extra buffer types" (weight repacking). A native build on a CPU with AMX (such
as this project's 2-core Xeon VM) places the weights in AMX buffers, and the first matrix product then
crashes the process with a segmentation fault; plain CPU buffers are as fast for a 135M model.
"""

from __future__ import annotations

import os


def _load_without_extra_buffers() -> None:
    import llama_cpp.llama_cpp as llama_cpp_bindings

    default_params = llama_cpp_bindings.llama_model_default_params

    def params_without_extra_buffers():
        params = default_params()
        params.use_extra_bufts = False
        return params

    llama_cpp_bindings.llama_model_default_params = params_without_extra_buffers


def main() -> None:
    if os.environ.get("MOMOREC_LLAMA_NO_EXTRA_BUFFERS") == "1":
        _load_without_extra_buffers()
    from llama_cpp.server.__main__ import main as serve

    serve()


if __name__ == "__main__":
    main()

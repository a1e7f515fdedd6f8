"""Entry point of the embedded server: ``python -m momorec.llm.llama_server_main <llama_cpp.server args>``.

It runs ``llama_cpp.server`` unchanged, except that with ``MOMOREC_LLAMA_NO_EXTRA_BUFFERS=1`` the model is
loaded without llama.cpp's "extra buffer types" (weight repacking). A native build on a CPU with AMX (such
as this project's 2-core Xeon VM) places the weights in AMX buffers, and the first matrix product then
crashes the process with a segmentation fault; plain CPU buffers are as fast for a 135M model.
With ``MOMOREC_LLAMA_PARENT_PID`` set, the server exits by itself once that parent process is gone.
"""

from __future__ import annotations

import os
import threading
import time


def _load_without_extra_buffers() -> None:
    import llama_cpp.llama_cpp as llama_cpp_bindings

    default_params = llama_cpp_bindings.llama_model_default_params

    def params_without_extra_buffers():
        params = default_params()
        params.use_extra_bufts = False
        return params

    llama_cpp_bindings.llama_model_default_params = params_without_extra_buffers


def _exit_with_parent(parent_pid: int) -> None:
    """Stop this server if the process that started it dies without stopping it (e.g. killed with SIGKILL)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def main() -> None:
    parent_pid = os.environ.get("MOMOREC_LLAMA_PARENT_PID")
    if parent_pid:
        _exit_with_parent(int(parent_pid))
    if os.environ.get("MOMOREC_LLAMA_NO_EXTRA_BUFFERS") == "1":
        _load_without_extra_buffers()
    from llama_cpp.server.__main__ import main as serve

    serve()


if __name__ == "__main__":
    main()

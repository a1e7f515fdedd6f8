"""The documents agree with the repository.

Every file a document links or cites exists, every configuration key it names is in the configuration, and
nothing the reader needs lives outside the project (``../shared/`` holds only the raw data sets). Documents:
README.md, docs/*.md, conf/**/README.md, benchmarks/README*.md. Code and configuration comments that cite a
document (``docs/x.md``) are checked too.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "momorec"

# Folders at the repository root whose files documents cite by path (data/, build/, mlruns/ are run outputs).
REPO_ROOTS = ("docs", "conf", "src", "benchmarks", "tests", "notebooks")
# Machine-specific settings and secrets: git ignores conf/local, so the files a document tells the reader to
# create there (credentials.yml, parameters_motivation.yml) do not exist in the repository.
USER_FOLDERS = ("conf/local/",)

# Markdown files a run writes (data/08_reporting/report.md), named without their folder.
GENERATED_MARKDOWN = {"report.md"}

FENCED_BLOCK = re.compile(r"^\s*```.*?^\s*```", re.MULTILINE | re.DOTALL)
INLINE_CODE = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\[[^\]\n]*\]\(([^)\s]+)\)")
ROOTED_PATH = re.compile(r"(?<![\w./-])((?:" + "|".join(REPO_ROOTS) + r")/[\w./<>{}*,+-]*[\w>}*/])")
BARE_MARKDOWN = re.compile(r"(?<![\w./<>-])([\w-]+\.md)\b")
PACKAGE_PY = re.compile(r"^[\w<>{}*,/.-]+\.py$")
DOTTED_KEY = re.compile(r"^(?:params:)?([A-Za-z_]\w*(?:\.[\w<>{}*/|-]+)+)(?:\s*[:=].*)?$")
PARAMS_OPTION = re.compile(r"--params[ =](?:\"([^\"]*)\"|'([^']*)'|(\S+))")
FILE_NAME = re.compile(r"\.(py|ya?ml|md|json|parquet|csv|npy|pkl|pickle|png|html|sqlite|ipynb)$")
OUTSIDE = re.compile(r"\.\./shared/(?!data\b)[\w./*-]*[\w*/]")


def documents() -> list[Path]:
    found = [
        ROOT / "README.md",
        *sorted((ROOT / "docs").glob("*.md")),
        *sorted((ROOT / "conf").glob("**/README.md")),
        *sorted((ROOT / "benchmarks").glob("README*.md")),
    ]
    return [path for path in found if path.is_file()]


def _without_fences(text: str) -> str:
    return FENCED_BLOCK.sub("", text)


def _expand(pattern: str) -> list[str]:
    """``a/{b,c}.py`` -> ``a/b.py``, ``a/c.py`` (brace alternatives, as in a shell)."""
    match = re.search(r"\{([^{}]*)\}", pattern)
    if not match:
        return [pattern]
    return [
        expanded
        for option in match.group(1).split(",")
        for expanded in _expand(pattern[: match.start()] + option + pattern[match.end() :])
    ]


def _exists(base: Path, relative: str) -> bool:
    """A path, a glob (``*``) or brace alternatives: every alternative must match something under ``base``."""
    for candidate in _expand(relative.rstrip("/")):
        if "*" in candidate:
            if not any(base.glob(candidate)):
                return False
        elif not (base / candidate).exists():
            return False
    return True


def _repository_markdown_names() -> set[str]:
    names = {path.name for path in ROOT.glob("*.md")}
    for folder in REPO_ROOTS:
        names |= {path.name for path in (ROOT / folder).rglob("*.md")}
    return names


def missing_files(text: str, document: Path, root: Path = ROOT) -> list[str]:
    """Every file or folder ``text`` (a document at ``document``) cites that is not in the repository."""
    problems: list[str] = []
    prose = _without_fences(text)
    for target in LINK.findall(prose):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path = target.split("#")[0]
        resolved = (document.parent / path).resolve()
        if not resolved.is_relative_to(root.resolve()):
            problems.append(f"link outside the project: {target}")
        elif not resolved.exists():
            problems.append(f"link to a missing file: {target}")
    for cited in ROOTED_PATH.findall(text):
        cited = cited.split("::")[0]
        if "<" in cited or cited.startswith(USER_FOLDERS):
            continue  # a placeholder (conf/<name>/) or a file the reader creates
        if not _exists(root, cited):
            problems.append(f"missing file: {cited}")
    package = root / "src" / "momorec"
    modules = {path.name for path in package.rglob("*.py")}
    for span in INLINE_CODE.findall(prose):
        span = span.split("::")[0].strip()
        if not PACKAGE_PY.match(span) or span.split("/")[0] in REPO_ROOTS or "<" in span:
            continue
        if (
            "/" in span
        ):  # a module named relative to the package, as in docs/architecture.md: `models/sasrec.py`
            if not _exists(package, span):
                problems.append(f"missing module: src/momorec/{span}")
        elif span not in modules:  # a module named inside its package's paragraph: `validation.py`
            problems.append(f"no module of that name in the package: {span}")
    known = _repository_markdown_names() if root == ROOT else {p.name for p in root.rglob("*.md")}
    for name in BARE_MARKDOWN.findall(text):
        if name not in known | GENERATED_MARKDOWN:
            problems.append(f"no document of that name in the repository: {name}")
    problems += [f"points outside the project: {hit}" for hit in OUTSIDE.findall(text)]
    return problems


def parameters(conf: Path = ROOT / "conf") -> dict[str, Any]:
    """The parameters of conf/base and every environment folder but local, soft-merged (the union of keys)."""
    merged: dict[str, Any] = {}

    def merge(into: dict[str, Any], new: dict[str, Any]) -> None:
        for key, value in new.items():
            if isinstance(value, dict) and isinstance(into.get(key), dict):
                merge(into[key], value)
            elif isinstance(value, dict) or key not in into:
                into[key] = value

    for path in sorted(conf.glob("**/parameters*.yml")):
        if path.relative_to(conf).parts[0] == "local":
            continue  # machine-specific, not in the repository
        content = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        merge(merged, content)
    return merged


def _key_exists(tree: Any, segments: list[str]) -> bool:
    if not segments:
        return True
    if not isinstance(tree, dict):
        return False
    head, rest = segments[0], segments[1:]
    if head.startswith(("<", "{")) or head == "*":  # a placeholder: any child
        return any(_key_exists(child, rest) for child in tree.values())
    if "/" in head or "|" in head:  # `alignment.profiles/traits.constrained`: each alternative
        return all(_key_exists(tree, [option, *rest]) for option in re.split(r"[/|]", head))
    return head in tree and _key_exists(tree[head], rest)


def _is_code_path(key: str, package: Path) -> bool:
    """``alignment.fusion`` or ``agents.judge_accuracy`` name a module of the package, not a parameter."""
    parts = key.split(".")
    for end in range(len(parts), 1, -1):  # at least a module inside a package, not the package alone
        base = package.joinpath(*parts[:end])
        if base.with_suffix(".py").is_file() or (base / "__init__.py").is_file():
            return True
    return False


def _params_keys(option: str) -> list[str]:
    """The keys of a ``--params`` value: ``a.b=1,c.d=[0, 1]`` -> ``a.b``, ``c.d``."""
    keys, depth, current = [], 0, ""
    for char in option + ",":
        if char == "," and depth == 0:
            if "=" in current:
                keys.append(current.split("=", 1)[0].strip())
            current = ""
            continue
        depth += char in "[{"
        depth -= char in "]}"
        current += char
    return keys


@functools.cache
def node_names() -> frozenset[str]:
    """The full names of every registered pipeline's nodes (``recommender.train_and_evaluate_sasrec``)."""
    from momorec.pipeline_registry import register_pipelines

    return frozenset(node.name for pipeline in register_pipelines().values() for node in pipeline.nodes)


def unknown_keys(
    text: str, params: dict[str, Any], package: Path = PACKAGE, nodes: frozenset[str] = frozenset()
) -> list[str]:
    """Every dotted configuration key ``text`` names that the configuration does not have.

    A key counts when its first part is a top-level parameter group (``recommender.``, ``motivation.`` …):
    inline code such as `recommender.training.loss: auto` or `params:semantic_id.input`, and the keys of
    ``--params`` options. Python paths (``momorec.serving.packaging``) start with no group; module paths
    that do (``alignment.fusion``) are recognised by their file in the package, and node names
    (``semantic_id.fit_motivation_residual_semantic_ids``, a stage's namespace then the node) by ``nodes``.
    """
    groups = {name for name, value in params.items() if isinstance(value, dict)}
    candidates = [
        m.group(1) for span in INLINE_CODE.findall(_without_fences(text)) if (m := DOTTED_KEY.match(span))
    ]
    for match in PARAMS_OPTION.finditer(text):
        option = next(group for group in match.groups() if group is not None)
        candidates += [key for key in _params_keys(option) if "." in key]
    problems = []
    for key in dict.fromkeys(candidates):
        if FILE_NAME.search(key):
            continue  # `recommender.py`, `scoring.parquet`: a file name, not a key
        segments = key.split(".")
        if segments[0] not in groups or _key_exists(params, segments):
            continue
        if _is_code_path(key, package) or key in nodes:
            continue
        problems.append(f"unknown configuration key: {key}")
    return problems


# --- the repository's documents -------------------------------------------------------------------------


@pytest.mark.parametrize("document", documents(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_file_a_document_cites_exists(document: Path):
    assert missing_files(document.read_text(encoding="utf-8"), document) == []


@pytest.mark.parametrize("document", documents(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_configuration_key_a_document_names_exists(document: Path):
    assert unknown_keys(document.read_text(encoding="utf-8"), parameters(), nodes=node_names()) == []


def test_code_and_configuration_cite_existing_documents():
    """Docstrings, benchmark notes and configuration comments cite docs/*.md that exist, never ../shared/docs."""
    sources = [
        *sorted((ROOT / "src").rglob("*.py")),
        *sorted((ROOT / "benchmarks").glob("*.py")),
        *sorted((ROOT / "conf").rglob("*.yml")),
    ]
    problems = []
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for cited in re.findall(r"(?<![\w./-])(docs/[\w.-]+\.md)", text):
            if not (ROOT / cited).is_file():
                problems.append(f"{path.relative_to(ROOT)}: {cited}")
        problems += [
            f"{path.relative_to(ROOT)}: {hit}" for hit in re.findall(r"\.\./shared/docs[\w./-]*\w", text)
        ]
    assert problems == []


def test_readme_is_at_most_150_lines():
    """The README is the front door: quick start, commands, where results appear; the rest is in docs/."""
    assert len((ROOT / "README.md").read_text(encoding="utf-8").splitlines()) <= 150


# --- the checks themselves, on hand-made documents ---------------------------------------------------------


@pytest.fixture
def tiny_repo(tmp_path: Path) -> Path:
    for name in [
        "docs/evaluation.md",
        "conf/base/parameters_recommender.yml",
        "src/momorec/models/sasrec.py",
    ]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x\n")
    (tmp_path / "src/momorec/alignment").mkdir(parents=True)
    (tmp_path / "src/momorec/alignment/__init__.py").write_text("")
    (tmp_path / "src/momorec/alignment/fusion.py").write_text("")
    return tmp_path


def test_missing_files_finds_links_paths_modules_and_bare_names(tiny_repo: Path):
    document = tiny_repo / "docs" / "guide.md"
    text = (
        "See [the protocol](evaluation.md), [design](design.md) and `docs/evaluation.md`, "
        "docs/design.md, `conf/base/parameters_*.yml`, `models/sasrec.py`, `models/nothing.py`, "
        "`conf/<name>/catalog.yml`, `conf/local/credentials.yml`, `tests/x.py::test_y`, `sasrec.py`, `gone.py`, "
        "report.md and "
        '(design.md, "Evaluation protocol").\n```bash\npython benchmarks/bench_gone.py\n```\n'
    )
    assert missing_files(text, document, root=tiny_repo) == [
        "link to a missing file: design.md",
        "missing file: docs/design.md",
        "missing file: tests/x.py",
        "missing file: benchmarks/bench_gone.py",
        "missing module: src/momorec/models/nothing.py",
        "no module of that name in the package: gone.py",
        "no document of that name in the repository: design.md",
        "no document of that name in the repository: design.md",
    ]


def test_missing_files_flags_what_lives_outside_the_project(tiny_repo: Path):
    text = "[design](../../shared/docs/design.md); make link-data links ../shared/data/* here.\n"
    problems = missing_files(text, tiny_repo / "docs" / "guide.md", root=tiny_repo)
    assert "link outside the project: ../../shared/docs/design.md" in problems
    assert "points outside the project: ../shared/docs/design.md" in problems
    assert not any("shared/data" in problem for problem in problems)


def test_unknown_keys_checks_groups_placeholders_params_and_leaves_code_paths(tiny_repo: Path):
    params = {
        "recommender": {"runtime": {"device": "auto"}, "training": {"loss": "auto"}, "seeds": [0]},
        "motivation": {"models": {"smollm2": {"base_url": None}}, "client": {"concurrency": 4}},
        "alignment": {"profiles": {"constrained": True}, "traits": {"constrained": True}},
    }
    text = (
        "`recommender.runtime.device`, `recommender.device`, `recommender.training.loss: auto`, "
        "`params:recommender.seeds`, `motivation.models.<name>.base_url`, `motivation.llm.base_url`, "
        "`alignment.profiles/traits.constrained`, `alignment.profiles/users.constrained`, "
        "`alignment.fusion` (a module), `momorec.serving.packaging`, prefix `recommender.`, `scoring.parquet`, "
        "`recommender.train_and_evaluate_sasrec` (a node), "
        '`judge.*`.\n```bash\nkedro run --params "recommender.seeds=[0, 1],motivation.max_pairs=9"\n```\n'
    )
    nodes = frozenset({"recommender.train_and_evaluate_sasrec"})
    assert unknown_keys(text, params, package=tiny_repo / "src" / "momorec", nodes=nodes) == [
        "unknown configuration key: recommender.device",
        "unknown configuration key: motivation.llm.base_url",
        "unknown configuration key: alignment.profiles/users.constrained",
        "unknown configuration key: motivation.max_pairs",
    ]


def test_parameters_merge_the_environments_over_base(tmp_path: Path):
    (tmp_path / "base").mkdir()
    (tmp_path / "scientific").mkdir()
    (tmp_path / "base" / "parameters_recommender.yml").write_text("recommender:\n  training: {epochs: 10}\n")
    (tmp_path / "scientific" / "parameters_recommender.yml").write_text(
        "recommender:\n  training: {patience: 3}\n"
    )
    assert parameters(tmp_path) == {"recommender": {"training": {"epochs": 10, "patience": 3}}}


def test_brace_alternatives_expand_like_a_shell():
    assert _expand("data/readers/{amazon2023,lcrec}.py") == [
        "data/readers/amazon2023.py",
        "data/readers/lcrec.py",
    ]
    assert _expand("a.py") == ["a.py"]

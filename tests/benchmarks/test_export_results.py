"""benchmarks/export_results.py on a tiny finished run: a data root's parquet/JSON and a real MLflow store."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pandas as pd
import pytest
from mlflow.tracking import MlflowClient

from momorec.evaluation.results import per_seed_results, summarise_results
from tests.evaluation.test_headline import _outcome

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "export_results.py"
# Per-seed curves (per epoch) of the run: sasrec's best epochs 0.25, 0.27, 0.26 (mean 0.26) beat momorec's.
CURVES = {
    "sasrec": {0: [0.20, 0.25], 1: [0.27, 0.26], 2: [0.26]},
    "momorec": {0: [0.22], 1: [0.24], 2: [0.23, 0.21]},
    "momorec_oracle": {0: [0.40], 1: [0.40], 2: [0.40]},
}


@pytest.fixture(scope="module")
def export_results():
    spec = importlib.util.spec_from_file_location("export_results", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def finished_run(tmp_path) -> tuple[Path, str, str]:
    """(data root, tracking URI, run id) of a run whose registered variant is sasrec."""
    data_root = tmp_path / "data"
    (data_root / "08_reporting").mkdir(parents=True)
    (data_root / "07_model_output").mkdir(parents=True)
    outcomes = (
        _outcome("sasrec", [0.30, 0.32, 0.34]),
        _outcome("momorec", [0.33, 0.33, 0.33]),
        _outcome("most_popular", [0.10, 0.10, 0.10]),
        _outcome("momorec_oracle", [0.50, 0.50, 0.50]),
    )
    results, _ = summarise_results(*outcomes)
    results.to_parquet(data_root / "08_reporting" / "recommender_results.parquet")
    per_seed_results(*outcomes).to_parquet(
        data_root / "08_reporting" / "recommender_results_per_seed.parquet"
    )
    info = {"variant": "sasrec", "seed": 1, "mean_valid_ndcg_at_10": 0.26, "best_seed_valid_ndcg_at_10": 0.27}
    (data_root / "07_model_output" / "recommender_best_model_info.json").write_text(json.dumps(info))
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    client = MlflowClient(tracking_uri=uri)
    experiment = client.create_experiment("momorec", artifact_location=str(tmp_path / "mlruns"))
    run_id = client.create_run(experiment).info.run_id
    for variant, seeds in CURVES.items():
        for seed, values in seeds.items():
            for epoch, value in enumerate(values):
                client.log_metric(
                    run_id, f"recommender_curve.{variant}.seed_{seed}.valid_ndcg_at_10", value, step=epoch
                )
    client.log_metric(run_id, "recommender_curve.sasrec.seed_0.loss", 5.0, step=0)
    client.set_tag(run_id, "mlflow.source.git.commit", "feedc0de")
    client.set_terminated(run_id, "FINISHED")
    return data_root, uri, run_id


def _arguments(data_root: Path, uri: str, out: Path, *extra: str) -> list[str]:
    return [
        "--data-root", str(data_root), "--dataset", "tiny", "--out", str(out), "--command", "kedro run",
        "--tracking-uri", uri, *extra,
    ]  # fmt: skip


def test_export_writes_and_prints_the_headline_csv(export_results, finished_run, tmp_path, capsys):
    data_root, uri, _ = finished_run
    out = tmp_path / "docs" / "results" / "tiny.csv"
    export_results.main(_arguments(data_root, uri, out))
    written = pd.read_csv(out)
    assert capsys.readouterr().out == out.read_text()
    assert list(written["variant"]) == ["sasrec", "momorec", "most_popular", "momorec_oracle"]
    assert (written["dataset"] == "tiny").all() and (written["command"] == "kedro run").all()
    assert (written["commit"] == "feedc0de").all()  # the run's tag
    rows = written.set_index("variant")
    assert rows["chosen_by_validation"].to_dict() == {
        "sasrec": True,
        "momorec": False,
        "most_popular": False,
        "momorec_oracle": False,
    }
    assert rows.loc["sasrec", "valid_ndcg_at_10_mean"] == pytest.approx(0.26)
    assert rows.loc["momorec", "valid_ndcg_at_10_mean"] == pytest.approx(0.23)
    assert pd.isna(rows.loc["most_popular", "valid_ndcg_at_10_mean"])  # no curve: nothing to train
    assert rows.loc["sasrec", "recall_at_10_masked_mean"] == pytest.approx(0.32)
    assert rows.loc["sasrec", "recall_at_10_masked_std"] == pytest.approx(0.02)
    assert rows.loc["sasrec", "recall_at_10_unmasked_mean"] == pytest.approx(0.22)
    assert bool(rows.loc["momorec_oracle", "evaluation_only"]) and not rows["tuned"].any()


def test_an_explicit_commit_wins_over_the_tag(export_results, finished_run, tmp_path):
    data_root, uri, run_id = finished_run
    out = tmp_path / "tiny.csv"
    table = export_results.main(_arguments(data_root, uri, out, "--commit", "0123abc", "--run-id", run_id))
    assert (table["commit"] == "0123abc").all()


def test_a_data_root_and_an_mlflow_run_of_different_runs_are_refused(export_results, finished_run, tmp_path):
    data_root, uri, _ = finished_run
    info_file = data_root / "07_model_output" / "recommender_best_model_info.json"
    info = json.loads(info_file.read_text())
    info_file.write_text(json.dumps({**info, "mean_valid_ndcg_at_10": 0.30}))
    with pytest.raises(SystemExit, match="not the same run"):
        export_results.main(_arguments(data_root, uri, tmp_path / "tiny.csv"))
    assert not (tmp_path / "tiny.csv").exists()


def test_without_mlflow_record_the_registered_choice_and_the_checkout_commit_are_used(
    export_results, finished_run, tmp_path
):
    data_root, _, _ = finished_run
    empty_store = f"sqlite:///{tmp_path / 'other.db'}"
    table = export_results.main(_arguments(data_root, empty_store, tmp_path / "tiny.csv"))
    assert table.loc[table["chosen_by_validation"], "variant"].tolist() == ["sasrec"]
    assert table["valid_ndcg_at_10_mean"].isna().all()
    commit = table["commit"].iloc[0]
    assert len(commit.removesuffix("-dirty")) == 40


def test_a_data_root_without_results_is_refused(export_results, tmp_path):
    with pytest.raises(SystemExit, match="not found"):
        export_results.main(_arguments(tmp_path / "nothing", "sqlite:///unused.db", tmp_path / "tiny.csv"))


def test_pairs_are_written_beside_the_headline(export_results, finished_run, tmp_path, capsys):
    data_root, uri, _ = finished_run
    out = tmp_path / "tiny.csv"
    export_results.main(_arguments(data_root, uri, out, "--pair", "momorec", "sasrec"))
    paired = pd.read_csv(tmp_path / "tiny_paired.csv")
    assert len(paired) == 4 and (paired["dataset"] == "tiny").all() and (paired["commit"] == "feedc0de").all()
    recall = paired.set_index(["metric", "history_masked"]).loc[("recall", True)]
    assert recall["mean_difference"] == pytest.approx(0.01)  # 0.03, 0.01, -0.01 per seed
    assert recall["ci_low"] < 0 < recall["ci_high"]
    assert (tmp_path / "tiny_paired.csv").read_text() in capsys.readouterr().out


def test_a_pair_without_per_seed_results_is_refused(export_results, finished_run, tmp_path):
    data_root, uri, _ = finished_run
    (data_root / "08_reporting" / "recommender_results_per_seed.parquet").unlink()
    with pytest.raises(SystemExit, match="predates per-seed results"):
        export_results.main(_arguments(data_root, uri, tmp_path / "tiny.csv", "--pair", "momorec", "sasrec"))
    assert not (tmp_path / "tiny.csv").exists()


def test_variants_trained_with_their_own_settings_are_marked_tuned(export_results, finished_run, tmp_path):
    data_root, uri, run_id = finished_run
    client = MlflowClient(tracking_uri=uri)
    # As kedro-mlflow logs params:recommender: flattened with "." between the keys.
    client.log_param(run_id, "recommender.variant_settings.momorec.model.hidden_size", "64")
    client.log_param(run_id, "recommender.variant_settings.momorec.training.learning_rate", "0.002")
    client.log_param(run_id, "recommender.model.hidden_size", "32")
    out = tmp_path / "tiny.csv"
    export_results.main(_arguments(data_root, uri, out))
    rows = pd.read_csv(out).set_index("variant")
    assert rows["tuned"].to_dict() == {
        "sasrec": False,
        "momorec": True,
        "most_popular": False,
        "momorec_oracle": False,
    }

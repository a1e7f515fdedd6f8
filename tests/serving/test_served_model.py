"""`mlflow models serve` on the registered model: a real HTTP server, both request forms, then stopped."""

from __future__ import annotations

import io
import json
import urllib.error

import pytest

from tests.serving.servers import post, running_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(registered_model, tmp_path_factory):
    """`mlflow models serve -m models:/<name>@champion --env-manager local` on a free port."""
    log = tmp_path_factory.mktemp("serve") / "server.log"
    with running_server("mlflow", registered_model.tracking_uri, registered_model.uri, log) as base:
        yield base


def _post(url: str, body: dict) -> dict:
    status, answer = post(url, body)
    if status != 200:
        raise urllib.error.HTTPError(url, status, answer.decode(), {}, io.BytesIO(answer))  # type: ignore[arg-type]
    return json.loads(answer)


def _history(registered_model) -> list[str]:
    items = registered_model.shop["items"]
    return items["item_id"].iloc[[3, 4, 5]].tolist()


def _check(answer: dict, history: list[str], k: int, catalogue: set[str]) -> dict:
    (prediction,) = answer["predictions"]
    assert len(prediction["product_ids"]) == k
    assert len(set(prediction["product_ids"])) == k
    assert not set(prediction["product_ids"]) & set(history)
    assert set(prediction["product_ids"]) <= catalogue
    assert len(prediction["titles"]) == k and all(prediction["titles"])
    assert prediction["scores"] == sorted(prediction["scores"], reverse=True)
    return prediction


def test_dataframe_split_request(server, registered_model):
    history = _history(registered_model)
    catalogue = set(registered_model.shop["items"]["item_id"])
    answer = _post(
        f"{server}/invocations",
        {"dataframe_split": {"columns": ["history", "k"], "data": [[history + ["NOT-A-PRODUCT"], 4]]}},
    )
    prediction = _check(answer, history, 4, catalogue)
    assert prediction["unknown_items"] == ["NOT-A-PRODUCT"]
    assert prediction["popularity_fallback"] is False


def test_inputs_request_with_exclusions_and_an_empty_history(server, registered_model):
    history = _history(registered_model)
    catalogue = set(registered_model.shop["items"]["item_id"])
    excluded = sorted(catalogue - set(history))[:2]
    answer = _post(
        f"{server}/invocations",
        {"inputs": [{"history": history, "k": 5, "exclude": excluded}, {"history": [], "k": 3}]},
    )
    with_history, empty = answer["predictions"]
    _check({"predictions": [with_history]}, history + excluded, 5, catalogue)
    # No history: the training data's most bought products, flagged as such.
    counts = registered_model.shop["item_stats"].set_index("item_idx")["train_frequency"]
    top = registered_model.shop["items"].set_index("item_idx").loc[counts.nlargest(3).index, "item_id"]
    assert empty["popularity_fallback"] is True
    assert empty["scores"] == sorted(counts.nlargest(3).astype(float).tolist(), reverse=True)
    assert set(empty["product_ids"]) <= catalogue and len(empty["product_ids"]) == 3
    assert empty["product_ids"][0] == top.iloc[0] or empty["scores"][0] == empty["scores"][1]


def test_history_unmasked_on_request_and_bad_input_is_a_400(server, registered_model):
    history = _history(registered_model)
    n_items = len(registered_model.shop["items"])
    answer = _post(
        f"{server}/invocations",
        {"inputs": [{"history": history, "k": n_items}], "params": {"mask_history": False}},
    )
    assert set(history) <= set(answer["predictions"][0]["product_ids"])
    for bad, message in (
        ({"k": 3}, "history"),
        ({"history": history, "k": 0}, "k: row 0 not a whole number"),
    ):
        with pytest.raises(urllib.error.HTTPError) as error:
            _post(f"{server}/invocations", {"inputs": [bad]})
        assert error.value.code == 400
        assert message in error.value.read().decode()

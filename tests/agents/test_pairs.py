import pytest

from momorec.agents.pairs import pair_budget


def test_pair_budget_is_the_count_the_rounded_up_share_or_the_smaller_of_both():
    assert pair_budget(1639, 50, None) == 50
    assert pair_budget(1639, None, 0.1) == 164
    assert pair_budget(1639, None, 1.0) == 1639
    assert pair_budget(1639, 50, 0.5) == 50
    assert pair_budget(1639, 800, 0.1) == 164
    assert pair_budget(3, None, 0.01) == 1
    assert pair_budget(0, None, 0.5) == 0


@pytest.mark.parametrize(
    ("max_pairs", "share", "message"),
    [
        (None, None, "max_pairs_share"),
        (0, None, "integer >= 1"),
        (2.5, None, "integer >= 1"),
        (True, None, "integer >= 1"),
        (None, 0.0, r"\(0, 1\]"),
        (None, 1.5, r"\(0, 1\]"),
    ],
)
def test_pair_budget_rejects_bad_settings(max_pairs, share, message):
    with pytest.raises(ValueError, match=message):
        pair_budget(10, max_pairs, share)


def test_pair_budget_rejects_a_negative_pair_count():
    with pytest.raises(ValueError, match="n_pairs"):
        pair_budget(-1, 5, None)

import numpy as np
import pandas as pd
import pytest

from momorec.clustering.evaluation import (
    ami,
    label_accuracy,
    majority_label_per_cluster,
    nmi,
    pairwise_agreement,
    purity,
)


def test_purity_on_a_hand_made_case():
    # Cluster 5 holds labels (0, 0, 1): 2 correct; cluster 6 holds (1): 1 correct.
    assert purity(np.array([0, 0, 1, 1]), np.array([5, 5, 5, 6])) == pytest.approx(0.75)
    assert np.isnan(purity(np.array([]), np.array([])))
    with pytest.raises(ValueError, match="predicted"):
        purity(np.array([0]), np.array([0, 1]))


def test_nmi_is_one_for_renamed_labels_and_zero_for_one_cluster():
    assert nmi(np.array([0, 0, 1, 1]), np.array([7, 7, 3, 3])) == pytest.approx(1.0)
    assert nmi(np.array([0, 0, 1, 1]), np.array([1, 1, 1, 1])) == pytest.approx(0.0)


def test_pairwise_agreement_counts_pairs():
    # a joins {0,1} and {2,3}; b joins {0,1,2}: pairs together in a: 2, in b: 3, in both: 1.
    result = pairwise_agreement(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1]))
    assert result["pair_precision"] == pytest.approx(1 / 2)
    assert result["pair_recall"] == pytest.approx(1 / 3)
    assert result["rand_index"] == pytest.approx(3 / 6)


def test_majority_label_and_accuracy():
    mapping = majority_label_per_cluster(np.array([0, 0, 0, 1, 1]), np.array([4, 4, 2, 3, 2]))
    assert mapping.to_dict() == {0: 4, 1: 2}  # cluster 1 is a tie 3/2: the lower label
    accuracy = label_accuracy(np.array([0, 1, 9]), np.array([4, 3, 4]), mapping)
    assert accuracy == pytest.approx(1 / 3)  # the unknown cluster 9 counts as wrong
    assert isinstance(mapping, pd.Series)


def test_ami_does_not_reward_singleton_clusters():
    truth = np.repeat(np.arange(5), 4)
    singletons = np.arange(20)
    assert nmi(truth, singletons) > 0.6  # NMI is inflated by one cluster per item
    assert ami(truth, singletons) == pytest.approx(0.0, abs=1e-9)
    assert ami(truth, truth + 10) == pytest.approx(1.0)

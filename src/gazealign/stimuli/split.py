"""Identity-disjoint splits: no person appears in two of train / val / test.

A network that has seen a person's neutral face can recognise that person's expressions from
pixel differences alone, so every split here is by identity (the ``subject`` column).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from gazealign.errors import DataError
from gazealign.stimuli.kdef import THESIS_TEST_IDENTITIES

#: Split value of images kept out of every split (the thesis preset's session-B test images).
HELD_OUT = "held_out"

_KDEF_FOLDER = re.compile(r"^[AB][FM]\d{2}$")


def normalise_identity(name: str) -> str:
    """``AF09`` (a KDEF folder: session + identity) becomes ``F09``; other names are unchanged."""
    return name[1:] if _KDEF_FOLDER.match(name) else name


def split_subjects(
    subjects: Iterable[str],
    *,
    test_identities: Sequence[str] = (),
    test_fraction: float = 0.25,
    val_fraction: float = 0.15,
    seed: int,
) -> dict[str, str]:
    """Assign each subject to ``train``, ``val`` or ``test``.

    Test: ``test_identities`` when given (KDEF folder names like ``AF09`` are accepted), else
    ``round(test_fraction * n)`` subjects (at least 1) drawn with ``seed``. Validation:
    ``round(val_fraction * n_rest)`` of the rest (at least 1 when ``val_fraction > 0`` and two or
    more remain), drawn with ``seed``. Deterministic for equal inputs (subjects are sorted first).
    """
    pool = sorted(set(subjects))
    if not pool:
        raise DataError("no subjects to split")
    rng = np.random.default_rng(seed)
    if test_identities:
        wanted = sorted({normalise_identity(s) for s in test_identities})
        missing = [s for s in wanted if s not in pool]
        if missing:
            raise DataError(
                f"test identities {missing} are not in the data set (it has {len(pool)} "
                f"identities, e.g. {pool[:4]})"
            )
        test = set(wanted)
    else:
        n_test = max(1, round(test_fraction * len(pool)))
        if n_test >= len(pool):
            raise DataError(
                f"cannot hold out {n_test} of {len(pool)} identities for testing and still train"
            )
        test = set(rng.permutation(pool)[:n_test].tolist())
    rest = [s for s in pool if s not in test]
    if not rest:
        raise DataError("every identity is a test identity: nothing is left to train on")
    n_val = round(val_fraction * len(rest))
    if val_fraction > 0 and len(rest) >= 2:
        n_val = max(1, n_val)
    n_val = min(n_val, len(rest) - 1)
    val = set(rng.permutation(rest)[:n_val].tolist())
    return {s: "test" if s in test else "val" if s in val else "train" for s in pool}


def assign_splits(
    table: pd.DataFrame,
    *,
    test_identities: Sequence[str] | Literal["thesis"] = (),
    test_fraction: float = 0.25,
    val_fraction: float = 0.15,
    seed: int,
) -> pd.Series:
    """The split of every row of ``table`` (columns ``subject``, ``session``).

    ``"thesis"``: the seed study's 16 identities are the test set with their session-A images;
    their session-B images are :data:`HELD_OUT` (kept out of training, as the thesis did).
    """
    thesis = test_identities == "thesis"
    ids: Sequence[str] = THESIS_TEST_IDENTITIES if thesis else test_identities
    by_subject = split_subjects(
        table["subject"].astype(str),
        test_identities=ids,
        test_fraction=test_fraction,
        val_fraction=val_fraction,
        seed=seed,
    )
    split = table["subject"].astype(str).map(by_subject)
    if thesis:
        held = (split == "test") & (table["session"].astype(str) != "A")
        split = split.where(~held, HELD_OUT)
    return split.astype("string").rename("split")


def kfold_subjects(
    subjects: Iterable[str], k: int, *, seed: int
) -> list[tuple[list[str], list[str]]]:
    """``k`` folds by identity: (train subjects, test subjects) per fold.

    Subjects are shuffled with ``seed`` and dealt round-robin, so fold sizes differ by at most 1
    and every subject is a test subject exactly once.
    """
    pool = sorted(set(subjects))
    if not 2 <= k <= len(pool):
        raise DataError(f"k-fold needs 2 <= k <= number of identities ({len(pool)}), got k={k}")
    order = np.random.default_rng(seed).permutation(pool).tolist()
    folds = [sorted(order[i::k]) for i in range(k)]
    return [(sorted(set(pool) - set(f)), f) for f in folds]

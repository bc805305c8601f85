"""Longer fuzzing of the ASC, CSV and EDF readers and the study loader (Hypothesis).

Usage: python benchmarks/fuzz.py [--examples N] [--edf-examples M] [--seed S]

Runs the strategies of ``tests/property/fuzz_inputs.py`` (mutations of valid files) with N
examples per reader (M for EDF, whose reader runs in a child process per file) and prints,
per reader: inputs tried, inputs read, inputs refused with a message, crashes (any other
exception: each is printed with its traceback), and for EDF the inputs on which eyelinkio's C
reader itself died (contained in its child process, reported as one message). Crashes found
become regression tests in ``tests/property/test_fuzz_readers.py``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import seed as seed_decorator
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parents[1] / "tests" / "property"))
from fuzz_inputs import (
    VALID_ASC,
    VALID_FIXATIONS_CSV,
    VALID_SAMPLES_CSV,
    VALID_STUDY,
    edf_header_mutation,
    mutated_text,
    write,
)

from gazealign.errors import GazeAlignError


def fuzz(
    name: str, suffix: str, strategy: st.SearchStrategy[bytes], reader: Callable, n: int, seed: int
) -> Counter[str]:
    counts: Counter[str] = Counter()
    crashes: list[str] = []

    @settings(max_examples=n, database=None, deadline=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def run(data: bytes) -> None:
        counts["tried"] += 1
        with tempfile.TemporaryDirectory() as folder:
            path = write(Path(folder), f"input{suffix}", data)
            try:
                reader(path)
                counts["read"] += 1
            except GazeAlignError as exc:
                counts["refused"] += 1
                if "crashed" in str(exc):
                    counts["contained_c_crash"] += 1
            except Exception:
                counts["crash"] += 1
                crashes.append(traceback.format_exc(limit=4))

    run = seed_decorator(seed)(run)
    t0 = time.perf_counter()
    run()
    counts["seconds"] = round(time.perf_counter() - t0)
    for text in crashes[:5]:
        print(f"--- crash in {name}:\n{text}")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--examples", type=int, default=2000)
    parser.add_argument("--edf-examples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    from gazealign.config import load_study
    from gazealign.gaze.asc import read_asc
    from gazealign.gaze.csvfmt import read_fixations_csv, read_samples_csv
    from gazealign.gaze.edf import read_edf

    targets = [
        ("asc", ".asc", mutated_text(VALID_ASC), read_asc, args.examples),
        ("csv samples", ".csv", mutated_text(VALID_SAMPLES_CSV), read_samples_csv, args.examples),
        ("csv fixations", ".csv", mutated_text(VALID_FIXATIONS_CSV), read_fixations_csv,
         args.examples),
        ("study file", ".toml", mutated_text(VALID_STUDY), load_study, args.examples),
        ("edf header", ".edf", edf_header_mutation(), read_edf, args.edf_examples),
    ]  # fmt: skip
    print(
        f"{'reader':<14} {'tried':>6} {'read':>6} {'refused':>8} {'crashes':>8} {'C died':>7} {'s':>5}"
    )
    for name, suffix, strategy, reader, n in targets:
        c = fuzz(name, suffix, strategy, reader, n, args.seed)
        print(
            f"{name:<14} {c['tried']:>6} {c['read']:>6} {c['refused']:>8} {c['crash']:>8} "
            f"{c['contained_c_crash']:>7} {c['seconds']:>5}",
            flush=True,
        )


if __name__ == "__main__":
    main()

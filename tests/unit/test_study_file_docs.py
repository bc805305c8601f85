"""docs/study-file.md documents every key: it is the generated reference, unchanged."""

from __future__ import annotations

from pathlib import Path

from gazealign.config.reference import study_file_reference

DOC = Path(__file__).resolve().parents[2] / "docs" / "study-file.md"


def test_study_file_reference_is_up_to_date() -> None:
    assert DOC.read_text() == study_file_reference(), (
        "docs/study-file.md is out of date: regenerate it with `gazealign keys > docs/study-file.md`"
    )


def test_reference_lists_every_key() -> None:
    text = study_file_reference()
    for key in ("`sigma_deg`", "`tile_px`", "`test_identities`", "`participants`", "`methods`"):
        assert key in text
    assert "## [comparison.perturbation]" in text and "## [gaze.screen]" in text

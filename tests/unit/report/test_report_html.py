"""The HTML report on a small hand-made run: every section with its numbers, self-contained."""

from __future__ import annotations

import base64
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_fakes import (
    HAPPY_HUMAN_MINUS_NETWORK,
    METHOD,
    NSS_CEILING,
    NSS_NETWORK,
    OVERALL_HUMAN_MINUS_NETWORK,
    SANITY_VERDICT,
    FakeRun,
    run_fake,
)

from gazealign.cli import main
from gazealign.report.build import report_from_run
from gazealign.report.html import SYNTHETIC_BANNER, render_page
from gazealign.report.inputs import ReportInputs, find_stage_dirs
from gazealign.report.sections import page_sections

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


class _Collect(HTMLParser):
    """Every tag with its attributes, and the text of each <section> by id."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.sections: dict[str, str] = {}
        self._section: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "section":
            self._section = dict(attrs).get("id")
            self.sections[self._section or ""] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._section = None

    def handle_data(self, data: str) -> None:
        if self._section is not None:
            self.sections[self._section] += data


def parse(html: str) -> _Collect:
    parser = _Collect()
    parser.feed(html)
    return parser


def test_every_section_is_there_with_its_numbers(fake_run: FakeRun) -> None:
    sections = parse(fake_run.html).sections
    assert list(sections) == [s.name for s in page_sections()]
    assert "Not available" not in fake_run.html
    assert (
        "Alignment (Spearman / ceiling) rises with lambda: 0.400 at λ = 0" in sections["alignment"]
    )
    assert "within 3 points of λ = 0 (0.700) at λ = 1 (0.690" in sections["alignment"]
    summary = sections["summary"]
    assert f"{OVERALL_HUMAN_MINUS_NETWORK:+.3f}" in summary  # overall AUC difference
    assert "95% CI +0.073 to +0.173" in summary
    assert f"happy {HAPPY_HUMAN_MINUS_NETWORK:+.3f} [+0.296, +0.396]" in summary
    assert "85.7% of 14 test faces" in summary  # from metrics.json and confusion.csv
    assert "95.2% of 21 trials" in summary  # 20 of 21 responses correct
    assert (
        f"scores {NSS_NETWORK:.3f} against a human noise ceiling of {NSS_CEILING:.3f} "
        f"({(NSS_NETWORK - 0.8) / (NSS_CEILING - 0.8):.0%} of the way from the centre bias to "
        "the ceiling)" in summary
    )
    assert f"people eyes (50%; image area 8%), {METHOD} mouth (60%; image area 6%)" in summary
    assert "more on mouth (+0.400, 95% CI +0.300 to +0.500)" in summary
    assert "9.000" not in fake_run.html  # rows of other quantities / measures / orders left out
    assert (
        f"Accuracy fell faster when tiles were removed in the {METHOD} order than in the human order"
        in summary
    )
    assert f"Sanity check of {METHOD}: {SANITY_VERDICT}." in summary
    assert SANITY_VERDICT in sections["sanity"] and "0.321" in sections["sanity"]
    assert "sanity_randomisation" in sections["sanity"] or "<img" in sections["sanity"]
    assert (
        "tiles ranked by the sum of each map (signed relevance for the network"
        in sections["perturbation"]
    )
    # tables carry the planted numbers
    assert "0.346" in sections["auc"] and "0.123" in sections["auc"]
    assert "2.346" in sections["metrics"] and "1.234" in sections["metrics"]
    assert "0.500" in sections["regions"] and "0.600" in sections["regions"]
    assert "0.857" in sections["recognition"]
    # data counts: stimuli per split, what was dropped and why, trials kept
    data = sections["data"]
    assert "AF99XXS.JPG" in data and "name does not parse" in data
    assert "incorrect" in data and "P02" in data
    # reproducibility: the study file, the master seed, versions
    repro = sections["reproducibility"]
    assert 'name = "report test study"' in repro and "seed = 11" in repro
    assert "master seed" in repro and "numpy" in repro


def test_synthetic_study_says_so_at_the_top(fake_run: FakeRun) -> None:
    head = fake_run.html.split("<nav", 1)[0]
    assert SYNTHETIC_BANNER in head
    assert "not a finding about people" in head


def test_real_study_has_no_synthetic_banner() -> None:
    page = render_page(ReportInputs(synthetic=False), {})
    assert SYNTHETIC_BANNER not in page
    assert "not a finding about people" not in page
    assert SYNTHETIC_BANNER in render_page(ReportInputs(synthetic=True), {})


def test_report_is_self_contained(fake_run: FakeRun) -> None:
    parsed = parse(fake_run.html)
    images = [attrs for tag, attrs in parsed.tags if tag == "img"]
    # overview, curves, forest, regions, metrics, sanity, confusion, quality, two strips, sweep,
    # alignment trade-off
    assert len(images) == 12
    for attrs in images:
        src = attrs["src"] or ""
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]).startswith(PNG_MAGIC)
    for tag, attrs in parsed.tags:
        assert tag not in {"script", "link", "iframe", "object", "embed"}
        for name in ("src", "href"):
            if name not in attrs:
                continue
            value = attrs[name] or ""
            assert not re.match(r"\s*(https?:)?//", value), (tag, value)
            if name == "href":
                assert value.startswith("#"), value  # only links within the page
    assert "url(" not in fake_run.html  # no external resources from CSS


def test_figures_are_written_in_every_format(fake_run: FakeRun) -> None:
    stems = {p.stem for p in (fake_run.report_dir / "figures").glob("*.png")}
    assert stems == {
        "overview",
        "perturbation_curves",
        "auc_differences",
        "region_shares",
        "saliency_metrics",
        "confusion",
        "data_quality",
        "sanity_randomisation",
        "perturbation_strip_T01AF",
        "perturbation_strip_T01AN",
        "robustness",
        "alignment_tradeoff",
    }
    for stem in stems:
        assert (fake_run.report_dir / "figures" / f"{stem}.pdf").read_bytes().startswith(b"%PDF")
    assert (fake_run.report_dir / "summary.json").exists()


def test_missing_comparison_is_said_plainly(tmp_path: Path) -> None:
    run = run_fake(tmp_path / "run", with_compare=False)
    sections = parse(run.html).sections
    for sid in ("perturbation", "auc", "regions", "metrics"):
        assert "Not available: the run has no comparison tables" in sections[sid]
    assert "Not available" not in sections["overview"]  # its inputs are there
    assert "85.7%" in sections["summary"]


def test_rebuild_from_run_folder_gives_the_same_page(fake_run: FakeRun, tmp_path: Path) -> None:
    out = tmp_path / "rebuilt"
    with pytest.raises(SystemExit) as exc:
        main(["report", str(fake_run.run_dir), "--out", str(out)])
    assert exc.value.code == 0
    assert (out / "report.html").read_text(encoding="utf-8") == fake_run.html
    assert (out / "figures" / "overview.png").read_bytes() == (
        fake_run.report_dir / "figures" / "overview.png"
    ).read_bytes()


def test_without_manifest_the_finished_stage_folders_are_found(
    fake_run: FakeRun, tmp_path: Path
) -> None:
    with_manifest = find_stage_dirs(fake_run.run_dir)
    assert set(with_manifest) == {
        "stimuli",
        "train",
        "explain",
        "gaze",
        "human_maps",
        "perturbation",
        "saliency_metrics",
        "region_shares",
        "sanity_checks",
        "perturbation_robustness",
        "alignment_sweep",
        "report",
    }
    run_dir = tmp_path / "copy"
    shutil.copytree(fake_run.run_dir, run_dir)
    (run_dir / "manifest.json").unlink()
    # unfinished or discarded folders of another run are never used
    (run_dir / "stages" / "perturbation" / "ffff.partial").mkdir()
    (run_dir / "stages" / "perturbation" / "eeee").mkdir()
    dirs = find_stage_dirs(run_dir)
    assert {n: p.relative_to(run_dir) for n, p in dirs.items()} == {
        n: p.relative_to(fake_run.run_dir) for n, p in with_manifest.items()
    }


def test_rebuild_into_the_default_folder_notes_absent_pieces(
    fake_run: FakeRun, tmp_path: Path
) -> None:
    run_dir = tmp_path / "copy"
    shutil.copytree(fake_run.run_dir, run_dir, ignore=shutil.ignore_patterns("saliency_metrics"))
    study = run_dir / "study.toml"  # the report's options come from the run's study file
    study.write_text(
        study.read_text().replace('figure_formats = ["png", "pdf"]', 'figure_formats = ["png"]')
    )
    page, absent = report_from_run(run_dir)
    assert page == run_dir / "report" / "report.html"
    assert set(absent) == {"metrics"}
    assert not list((run_dir / "report" / "figures").glob("*.pdf"))
    sections = parse(page.read_text(encoding="utf-8")).sections
    assert "Not available: the run has no finished saliency_metrics stage" in sections["metrics"]
    assert f"{OVERALL_HUMAN_MINUS_NETWORK:+.3f}" in sections["summary"]


def test_report_of_a_folder_that_is_no_run_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["report", str(tmp_path)])
    assert exc.value.code == 2


def test_every_perturbation_caption_states_tiles_grid_fill_and_sign(fake_run: FakeRun) -> None:
    captions = re.findall(r"<figcaption>(.*?)</figcaption>", fake_run.html, flags=re.S)
    about_tiles = [c for c in captions if "MoRF" in c or "perturbation curves" in c]
    assert len(about_tiles) >= 3  # overview (its curves row), perturbation curves, AUC forest
    for caption in about_tiles:
        assert "Tiles of 6 px (4 × 4 grid over the 24 px network input)" in caption
        assert "filled with &#x27;blur&#x27;" in caption or "filled with 'blur'" in caption
        assert "positive" in caption and "sign policy" in caption

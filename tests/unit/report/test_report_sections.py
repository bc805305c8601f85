"""The report-section registry: built-in sections in their page order, a plug-in section added by
one file, shown where its ``order`` puts it and reading a stage's table through its contract."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from report_fakes import NSS_NETWORK, FakeRun

from gazealign.registry import load_plugins
from gazealign.report.build import report_from_run
from gazealign.report.sections import REPORT_SECTIONS, page_sections

PLUGIN = """
from gazealign.report.html import table_html
from gazealign.report.sections import report_section


@report_section("nss_only", title="NSS of every map", order=65)
def nss_only(ctx):
    table = ctx.stage_table("saliency_metrics", "metrics")
    return table_html(table[table["metric"] == "nss"][["map", "value"]])


@report_section("missing_stage", title="A stage this run lacks", order=1000)
def missing(ctx):
    ctx.stage_table("no_such_stage", "whatever")
    return "unreachable: the stage is not in the run"
"""


def test_the_built_in_sections_keep_their_page_order() -> None:
    assert [(s.name, s.order) for s in page_sections()] == [  # the page as before the registry
        ("summary", 10),
        ("overview", 20),
        ("perturbation", 30),
        ("perturbation_strip", 35),
        ("auc", 40),
        ("controls", 42),
        ("robustness", 45),
        ("regions", 50),
        ("metrics", 60),
        ("sanity", 70),
        ("recognition", 80),
        ("alignment", 85),
        ("data", 90),
        ("reproducibility", 100),
    ]
    modules = {s.name: s.fn.__module__ for s in page_sections()}
    assert modules["auc"] == modules["perturbation"] == "gazealign.report.sections.perturbation"
    assert modules["sanity"] == "gazealign.report.sections.sanity"


@pytest.fixture
def plugin_sections(tmp_path: Path) -> Iterator[Path]:
    REPORT_SECTIONS.discover()
    saved = dict(REPORT_SECTIONS._entries)
    (tmp_path / "nss_section.py").write_text(PLUGIN)
    try:
        yield tmp_path
    finally:
        REPORT_SECTIONS._entries.clear()
        REPORT_SECTIONS._entries.update(saved)


def test_a_plug_in_section_is_one_file_and_lands_by_its_order(
    fake_run: FakeRun, plugin_sections: Path
) -> None:
    load_plugins(["nss_section.py"], base_dir=plugin_sections)
    page, _ = report_from_run(fake_run.run_dir, plugin_sections / "report")
    html = page.read_text(encoding="utf-8")
    ids = re.findall(r'<section id="([^"]+)">', html)
    assert ids.index("metrics") + 1 == ids.index("nss_only") == ids.index("sanity") - 1
    assert ids[-1] == "missing_stage"
    body = html.split('<section id="nss_only">', 1)[1].split("</section>", 1)[0]
    assert "<h2>NSS of every map</h2>" in body and f"{NSS_NETWORK:.3f}" in body
    assert '<a href="#nss_only">NSS of every map</a>' in html
    lacking = html.split('<section id="missing_stage">', 1)[1].split("</section>", 1)[0]
    assert "Not available: the run has no finished no_such_stage stage." in lacking


def test_a_section_name_is_registered_once() -> None:
    with pytest.raises(ValueError, match="report section 'summary' is registered twice"):
        from gazealign.report.sections import report_section

        report_section("summary", title="Another summary", order=1)(lambda ctx: "")


def test_a_section_description_defaults_to_its_docstring() -> None:
    assert REPORT_SECTIONS.get("metrics").description == (
        "Every saliency metric with the noise ceiling and the baselines"
    )


def test_gazealign_list_shows_the_sections(capsys: pytest.CaptureFixture[str]) -> None:
    from gazealign.cli import main

    with pytest.raises(SystemExit) as done:  # typer's standalone mode exits 0 on success
        main(["list", "report-sections"])
    assert done.value.code in (0, None)
    out = capsys.readouterr().out
    assert "report-sections" in out and "reproducibility" in out and "Package versions" in out

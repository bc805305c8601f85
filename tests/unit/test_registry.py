"""Registries: decorators register, built-ins are discovered, plug-ins register the same way."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from gazealign.compare.fills import FILLS, make_fill
from gazealign.compare.metric_registry import METRICS
from gazealign.compare.scoring import score_map
from gazealign.config import load_study
from gazealign.errors import GazeAlignError, StudyFileError
from gazealign.registry import Registry, UnknownNameError, load_plugins


@dataclass(frozen=True)
class Thing:
    name: str
    description: str
    extra: str | None = None


@pytest.fixture
def restore_registries() -> Iterator[None]:
    """Plug-ins registered by a test are removed after it (the registries are process-wide)."""
    for r in (FILLS, METRICS):
        r.discover()  # the built-ins first, so that restoring keeps them
    saved = {id(r): dict(r._entries) for r in (FILLS, METRICS)}
    try:
        yield
    finally:
        for r in (FILLS, METRICS):
            r._entries.clear()
            r._entries.update(saved[id(r)])


def test_unknown_name_lists_what_exists() -> None:
    reg: Registry[Thing] = Registry("thing", ())
    reg.add(Thing("b", "the b"))
    reg.add(Thing("a", "the a"))
    assert reg.names() == ["b", "a"]  # registration order
    with pytest.raises(UnknownNameError) as exc:
        reg.get("c")
    assert str(exc.value) == "unknown thing 'c'; available: a, b"
    assert isinstance(exc.value, GazeAlignError) and isinstance(exc.value, KeyError)


def test_a_name_is_registered_once() -> None:
    reg: Registry[Thing] = Registry("thing", ())
    first = reg.add(Thing("a", "one"))
    assert reg.add(first) is first  # the same entry again is fine
    with pytest.raises(ValueError, match="thing 'a' is registered twice"):
        reg.add(Thing("a", "another"))


def test_builtins_are_discovered_and_a_missing_extra_is_named(tmp_path: Path) -> None:
    pkg = tmp_path / "things_pkg_for_test"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "ok.py").write_text(
        "from tests_registry_target import REG, Thing\nREG.add(Thing('found', 'registered by a file'))\n"
    )
    (pkg / "needs_extra.py").write_text("import no_such_dependency_xyz\n")
    target = tmp_path / "tests_registry_target.py"
    target.write_text(
        "from dataclasses import dataclass\nfrom gazealign.registry import Registry\n"
        "@dataclass(frozen=True)\nclass Thing:\n    name: str\n    description: str\n"
        "    extra: str | None = None\n"
        "REG = Registry('thing', ('things_pkg_for_test',))\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        import tests_registry_target as t

        assert t.REG.names() == ["found"]  # a new file in the package registered itself
        message = t.REG.unknown_message("other")
        assert "not loaded: things_pkg_for_test.needs_extra" in message
        assert "'no_such_dependency_xyz' package" in message
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m.startswith(("things_pkg", "tests_registry"))]:
            del sys.modules[name]


def test_every_builtin_has_a_description() -> None:
    from gazealign.explain import EXPLAINERS

    for registry in (METRICS, FILLS, EXPLAINERS):
        for entry in registry.entries():
            assert entry.description and "\n" not in entry.description, entry.name


PLUGIN = """
import numpy as np
from gazealign.compare.fills import fill
from gazealign.compare.metric_registry import metric

@fill("grey_for_test", description="Mid grey")
def grey(image):
    return np.full_like(image, 128)

@metric("peak_share_for_test", description="Share of the map at fixated pixels",
        higher_is_better=True, inputs=("fixations",), positive_part=True)
def peak_share(saliency_map, fixations):
    return float((saliency_map * (fixations > 0)).sum() / saliency_map.sum())
"""


@pytest.mark.usefixtures("restore_registries")
def test_plugin_file_named_in_the_study_registers_a_fill_and_a_metric(tmp_path: Path) -> None:
    (tmp_path / "my_plugin.py").write_text(PLUGIN)
    study = tmp_path / "study.toml"
    study.write_text(
        'plugins = ["my_plugin.py"]\n[comparison.perturbation]\nfill = "grey_for_test"\n'
        '[comparison.metrics]\nnames = ["nss", "peak_share_for_test"]\n'
    )
    config = load_study(study)
    assert config.comparison.perturbation.fill == "grey_for_test"
    assert make_fill("grey_for_test", np.zeros((4, 4, 3), np.uint8), seed=0).max() == 128
    s = np.zeros((4, 4))
    s[1, 1], s[2, 2] = 3.0, 1.0
    counts = np.zeros((4, 4), np.int64)
    counts[1, 1] = 1
    got = score_map(s, counts, s, baseline_map=s, metrics=config.comparison.metrics.names)
    assert got["peak_share_for_test"] == 0.75
    # the run folder's copy of the study names the plug-in by absolute path
    assert config.with_absolute_paths().plugins == [str(tmp_path / "my_plugin.py")]


@pytest.mark.usefixtures("restore_registries")
def test_plugin_module_by_name_beside_the_study(tmp_path: Path) -> None:
    (tmp_path / "mylab").mkdir()
    (tmp_path / "mylab" / "fills_for_test.py").write_text(PLUGIN)
    load_plugins(["mylab.fills_for_test"], base_dir=tmp_path)
    assert "grey_for_test" in FILLS
    del sys.modules["mylab.fills_for_test"]


def test_broken_plugin_is_one_message(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("raise RuntimeError('boom')\n")
    study = tmp_path / "study.toml"
    study.write_text('plugins = ["broken.py"]\n')
    with pytest.raises(StudyFileError) as exc:
        load_study(study)
    assert str(exc.value) == (
        f"{study}: key 'plugins': plug-in 'broken.py' failed to import: RuntimeError: boom"
    )

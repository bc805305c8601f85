"""Static import analysis: the modules a stage runs, found by reading the source."""

from __future__ import annotations

from pathlib import Path

from gazealign.pipeline.codehash import changed_modules, code_hashes, direct_imports, module_closure


def make_tree(root: Path, files: dict[str, str]) -> Path:
    """A fake ``gazealign`` package under ``root`` with the given module sources."""
    pkg = root / "gazealign"
    for rel, text in {"__init__.py": "", **files}.items():
        path = pkg / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return pkg


TREE = {
    "a.py": "from gazealign.b import thing\nimport numpy\n",
    "b.py": "from . import c\nthing = 1\n",
    "c.py": "def f():\n    from gazealign.sub import deep\n",
    "sub/__init__.py": "",
    "sub/deep.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from gazealign import typed_only\n",
    "typed_only.py": "",
    "lonely.py": "",
}


def test_closure_follows_relative_deferred_and_package_imports(tmp_path: Path) -> None:
    pkg = make_tree(tmp_path, TREE)
    closure = module_closure(["gazealign.a"], pkg)
    assert closure == {
        "gazealign",
        "gazealign.a",
        "gazealign.b",
        "gazealign.c",
        "gazealign.sub",
        "gazealign.sub.deep",
    }  # numpy is not gazealign; typed_only is imported for type checking only; lonely by nobody


def test_from_package_import_module_counts_the_module(tmp_path: Path) -> None:
    pkg = make_tree(tmp_path, {"x.py": "from gazealign.sub import deep, NAME\n", **TREE})
    assert direct_imports("gazealign.x", pkg) == {"gazealign.sub", "gazealign.sub.deep"}


def test_discovery_call_counts_every_module_of_the_package(tmp_path: Path) -> None:
    pkg = make_tree(
        tmp_path,
        {
            "registry.py": "from gazealign.discovery import import_submodules\n"
            "def load():\n    import_submodules('gazealign.plugins')\n",
            "discovery.py": "",
            "plugins/__init__.py": "",
            "plugins/one.py": "",
        },
    )
    before = code_hashes(["gazealign.registry"], pkg)
    assert "gazealign.plugins.one" in before
    (pkg / "plugins" / "two.py").write_text("X = 2\n")  # a new plug-in: one new file
    after = code_hashes(["gazealign.registry"], pkg)
    assert changed_modules(before, after) == ["gazealign.plugins.two (new)"]


def test_editing_a_module_changes_only_its_hash(tmp_path: Path) -> None:
    pkg = make_tree(tmp_path, TREE)
    before = code_hashes(["gazealign.a"], pkg)
    (pkg / "c.py").write_text((pkg / "c.py").read_text() + "# edited\n")
    after = code_hashes(["gazealign.a"], pkg)
    assert changed_modules(before, after) == ["gazealign.c (edited)"]
    (pkg / "lonely.py").write_text("# not imported by a\n")
    assert code_hashes(["gazealign.a"], pkg) == after


def test_a_module_outside_gazealign_counts_with_its_own_file(tmp_path: Path) -> None:
    closure = module_closure([__name__])
    assert __name__ in closure and "gazealign.pipeline.codehash" in closure
    assert all(m == __name__ or m.startswith("gazealign") for m in closure)


def test_a_registry_counts_the_modules_of_its_packages_that_register_with_it(
    tmp_path: Path,
) -> None:
    pkg = make_tree(
        tmp_path,
        {
            "registry.py": "class Registry: ...\n",
            "roles/__init__.py": "",
            "roles/metrics.py": "from gazealign.registry import Registry\n"
            "METRICS = Registry('metric', ('gazealign.roles',))\n",
            "roles/fills.py": "from gazealign.registry import Registry\n"
            "FILLS = Registry('fill', packages=('gazealign.roles',))\n",
            "roles/nss.py": "from gazealign.roles.metrics import METRICS\n",
            "roles/mean.py": "from gazealign.roles import fills\n",
        },
    )
    assert "gazealign.roles.nss" in module_closure(["gazealign.roles.metrics"], pkg)
    assert "gazealign.roles.mean" not in module_closure(["gazealign.roles.metrics"], pkg)
    assert "gazealign.roles.mean" in module_closure(["gazealign.roles.fills"], pkg)
    assert "gazealign.roles.nss" not in module_closure(["gazealign.roles.fills"], pkg)


def test_the_study_file_schema_is_not_followed(tmp_path: Path) -> None:
    pkg = make_tree(
        tmp_path,
        {
            "config/__init__.py": "",
            "config/checks.py": "",
            "a.py": "from gazealign.config import checks\n",
        },
    )
    assert module_closure(["gazealign.a"], pkg) == {"gazealign", "gazealign.a"}

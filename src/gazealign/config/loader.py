"""Load, validate and write study files."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Collection
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import Field, PrivateAttr, ValidationError
from pydantic.fields import FieldInfo

from gazealign.config.alignment import AlignmentSection
from gazealign.config.base import Section
from gazealign.config.checks import study_problems
from gazealign.config.comparison import ComparisonSection
from gazealign.config.explain import ExplainSection
from gazealign.config.gaze import GazeSection
from gazealign.config.heatmap import HeatmapSection
from gazealign.config.model import ModelSection
from gazealign.config.report import ReportSection
from gazealign.config.sanity import SanitySection
from gazealign.config.stimuli import StimuliSection
from gazealign.config.study import StudySection
from gazealign.errors import GazeAlignError, StudyFileError


class StudyConfig(Section):
    """A whole study. Relative paths are resolved against the study file's folder."""

    plugins: list[str] = Field(
        default_factory=list,
        description=(
            "Plug-in modules imported before the study is checked: module names (`mylab.layouts`, "
            "importable or a file beside the study) or `.py` files (relative to the study file). "
            "What they register (layouts, gaze formats, detectors, explainers, metrics, fills) "
            "can then be named in the study (see docs/extending.md)."
        ),
    )
    study: StudySection = Field(default_factory=StudySection)
    stimuli: StimuliSection = Field(default_factory=StimuliSection)
    model: ModelSection = Field(default_factory=ModelSection)
    explain: ExplainSection = Field(default_factory=ExplainSection)
    gaze: GazeSection = Field(default_factory=GazeSection)
    heatmap: HeatmapSection = Field(default_factory=HeatmapSection)
    comparison: ComparisonSection = Field(default_factory=ComparisonSection)
    sanity: SanitySection = Field(default_factory=SanitySection)
    report: ReportSection = Field(default_factory=ReportSection)
    alignment: AlignmentSection = Field(default_factory=AlignmentSection)

    _base_dir: Path = PrivateAttr(default_factory=Path.cwd)
    _source: str = PrivateAttr(default="<in memory>")

    @property
    def base_dir(self) -> Path:
        """Folder relative paths of the study file are read from."""
        return self._base_dir

    @property
    def source(self) -> str:
        """Where this study came from (a file path, or ``<in memory>``)."""
        return self._source

    def resolve(self, path: Path) -> Path:
        """``path`` resolved against the study file's folder (absolute paths unchanged)."""
        # normpath, not resolve(): tidy "a/../b" without following symbolic links
        return Path(os.path.normpath(path if path.is_absolute() else self._base_dir / path))

    @property
    def run_dir(self) -> Path:
        return self.resolve(self.study.run_dir)

    def with_absolute_paths(self) -> StudyConfig:
        """The same study with every path key resolved (loadable from any folder)."""
        data = self.model_dump(mode="json")
        data["study"]["run_dir"] = str(self.run_dir)
        data["plugins"] = [
            str(self.resolve(Path(p))) if p.endswith(".py") else p for p in self.plugins
        ]
        for section, name in (("stimuli", "path"), ("gaze", "path"), ("model", "weights")):
            value = getattr(getattr(self, section), name)
            if value is not None:
                data[section][name] = str(self.resolve(value))
        out = StudyConfig.model_validate(data)
        out._base_dir, out._source = self._base_dir, self._source
        return out

    def get(self, dotted: str) -> Any:
        """The JSON value at a dotted key (``"stimuli.split"``); KeyError names the key."""
        node: Any = self.model_dump(mode="json")
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                raise KeyError(f"study has no key {dotted!r}")
            node = node[part]
        return node


def _describe_type(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is None:
        return getattr(annotation, "__name__", str(annotation))
    args = ", ".join(_describe_type(a) for a in get_args(annotation))
    return f"{getattr(origin, '__name__', str(origin))}[{args}]"


def _field_at(loc: tuple[int | str, ...]) -> FieldInfo | None:
    model: Any = StudyConfig
    info: FieldInfo | None = None
    for part in loc:
        fields = getattr(model, "model_fields", None)
        if not isinstance(part, str) or fields is None or part not in fields:
            return info if fields is None else None
        info = fields[part]
        model = info.annotation
    return info


def _format_errors(exc: ValidationError, source: str) -> str:
    lines = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        key = ".".join(str(p) for p in loc)
        if err["type"] == "extra_forbidden":
            parent = loc[:-1]
            known: list[str] = []
            if not parent:
                known = list(StudyConfig.model_fields)
            else:
                info = _field_at(parent)
                fields = getattr(info.annotation, "model_fields", None) if info else None
                known = list(fields) if fields else []
            hint = f"; known keys here: {', '.join(known)}" if known else ""
            lines.append(f"{source}: unknown key '{key}'{hint}")
            continue
        info = _field_at(loc)
        expected = f" (expected {_describe_type(info.annotation)})" if info is not None else ""
        got = err.get("input")
        got_text = f", got {got!r}" if not isinstance(got, dict) else ""
        lines.append(f"{source}: key '{key}': {err['msg']}{expected}{got_text}")
    return "\n".join(lines)


def parse_study(
    data: dict[str, Any], *, base_dir: Path | None = None, source: str = "<in memory>"
) -> StudyConfig:
    """A study from a dict (as parsed from TOML) with every key's type and range checked.

    The plug-in modules named in ``plugins`` are imported first. The checks across keys, of
    names and of paths (:func:`check_study`) are not made here.

    Raises
    ------
    StudyFileError
        One line per problem, each naming the key.
    """
    base = (base_dir or Path.cwd()).resolve()
    _load_plugins(data.get("plugins", []), base, source)
    try:
        config = StudyConfig.model_validate(data)
    except ValidationError as exc:
        raise StudyFileError(_format_errors(exc, source)) from None
    config._base_dir = base
    config._source = source
    return config


def _load_plugins(names: Any, base_dir: Path, source: str) -> None:
    from gazealign.registry import load_plugins

    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return  # the model reports the wrong type
    try:
        load_plugins(names, base_dir=base_dir)
    except GazeAlignError as exc:
        raise StudyFileError(f"{source}: key 'plugins': {exc}") from None


def check_study(config: StudyConfig, *, reads: Collection[str] | None = None) -> None:
    """Check names, cross-key rules and paths of ``config`` (of the keys in ``reads``, or all).

    Raises
    ------
    StudyFileError
        One line per problem found (all of them), each naming its keys.
    """
    problems = study_problems(config, reads=reads)
    if problems:
        raise StudyFileError("\n".join(f"{config.source}: {p.text()}" for p in problems))


def study_from_dict(
    data: dict[str, Any], *, base_dir: Path | None = None, source: str = "<in memory>"
) -> StudyConfig:
    """Validate a study given as a dict (as parsed from TOML): types, then every check."""
    config = parse_study(data, base_dir=base_dir, source=source)
    check_study(config)
    return config


def load_study(
    path: str | Path, *, reads: Collection[str] | None = None, check: bool = True
) -> StudyConfig:
    """Read and validate a study file; every problem is a :class:`StudyFileError`.

    Parameters
    ----------
    path
        The study file (TOML).
    reads
        Check only these keys (dotted, or tables; the ``reads`` of the stages about to run);
        default: every key.
    check
        False: check types only; the caller runs :func:`check_study` itself.
    """
    path = Path(path)
    if not path.exists():
        raise StudyFileError(f"study file {str(path)!r} does not exist")
    if not path.is_file():
        raise StudyFileError(f"study file {str(path)!r} is not a file")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StudyFileError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise StudyFileError(f"{path}: not a UTF-8 text file") from None
    if not data:
        raise StudyFileError(
            f"{path}: the study file is empty; name at least its [stimuli] and [gaze] data "
            "(examples/demo.toml is a complete study; `gazealign demo` runs the built-in one)"
        )
    config = parse_study(data, base_dir=path.resolve().parent, source=str(path))
    if check:
        check_study(config, reads=reads)
    return config


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} to TOML")


def _toml_key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else _toml_value(key)


def dump_study(config: StudyConfig) -> str:
    """The study as TOML text (None values omitted), loadable by :func:`load_study`."""
    out: list[str] = []

    def emit(table: str, node: dict[str, Any]) -> None:
        scalars = {
            k: v
            for k, v in node.items()
            if (v is not None and not isinstance(v, dict))
            or (isinstance(v, dict) and k in _MAP_KEYS)
        }
        tables = {k: v for k, v in node.items() if isinstance(v, dict) and k not in _MAP_KEYS}
        if scalars or not tables:
            out.append(f"[{table}]")
            out.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in scalars.items())
            out.append("")
        for k, v in tables.items():
            emit(f"{table}.{k}", v)

    data = config.model_dump(mode="json")
    top = {k: v for k, v in data.items() if not isinstance(v, dict)}
    out.extend(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in top.items() if v is not None)
    if top:
        out.append("")
    for name, node in data.items():
        if isinstance(node, dict):
            emit(name, node)
    return "\n".join(out)


#: Keys whose value is a free-form mapping (written inline), not a sub-table.
_MAP_KEYS = {"label_map"}

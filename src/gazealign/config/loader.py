"""Load, validate and write study files."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import Field, PrivateAttr, ValidationError
from pydantic.fields import FieldInfo

from gazealign.config.alignment import AlignmentSection
from gazealign.config.base import Section
from gazealign.config.comparison import ComparisonSection
from gazealign.config.explain import ExplainSection
from gazealign.config.gaze import GazeSection
from gazealign.config.heatmap import HeatmapSection
from gazealign.config.model import ModelSection
from gazealign.config.report import ReportSection
from gazealign.config.stimuli import StimuliSection
from gazealign.config.study import StudySection
from gazealign.errors import StudyFileError


class StudyConfig(Section):
    """A whole study. Relative paths are resolved against the study file's folder."""

    study: StudySection = Field(default_factory=StudySection)
    stimuli: StimuliSection = Field(default_factory=StimuliSection)
    model: ModelSection = Field(default_factory=ModelSection)
    explain: ExplainSection = Field(default_factory=ExplainSection)
    gaze: GazeSection = Field(default_factory=GazeSection)
    heatmap: HeatmapSection = Field(default_factory=HeatmapSection)
    comparison: ComparisonSection = Field(default_factory=ComparisonSection)
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


def study_from_dict(
    data: dict[str, Any], *, base_dir: Path | None = None, source: str = "<in memory>"
) -> StudyConfig:
    """Validate a study given as a dict (as parsed from TOML)."""
    try:
        config = StudyConfig.model_validate(data)
    except ValidationError as exc:
        raise StudyFileError(_format_errors(exc, source)) from None
    config._base_dir = (base_dir or Path.cwd()).resolve()
    config._source = source
    _check_paths(config)
    return config


def _check_paths(config: StudyConfig) -> None:
    """Input paths named in the study must exist (run_dir is created, not read)."""
    for key in ("stimuli.path", "model.weights", "gaze.path"):
        section, name = key.split(".")
        value = getattr(getattr(config, section), name)
        if value is not None and not config.resolve(value).exists():
            raise StudyFileError(
                f"{config.source}: key '{key}': file or folder {str(value)!r} does not exist "
                f"(looked in {config.resolve(value)})"
            )


def load_study(path: str | Path) -> StudyConfig:
    """Read and validate a study file; every problem is a :class:`StudyFileError`."""
    path = Path(path)
    if not path.exists():
        raise StudyFileError(f"study file {str(path)!r} does not exist")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise StudyFileError(f"{path}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise StudyFileError(f"{path}: not a UTF-8 text file") from None
    return study_from_dict(data, base_dir=path.resolve().parent, source=str(path))


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

    for name, node in config.model_dump(mode="json").items():
        emit(name, node)
    return "\n".join(out)


#: Keys whose value is a free-form mapping (written inline), not a sub-table.
_MAP_KEYS = {"label_map"}

"""The study-file reference (docs/study-file.md), generated from the config models.

Generated, not hand-written, so the documentation can never miss a key: a test checks that
``docs/study-file.md`` equals :func:`study_file_reference`.
"""

from __future__ import annotations

import json
from typing import Any, TypeGuard, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from gazealign.config.loader import StudyConfig

HEADER = """# Study file reference

A study is one TOML file. Every table and key is listed below with its type, default and
meaning; an unknown or mistyped key is an error naming the key and the file. Relative paths are
read from the study file's folder. Regenerate this page with `gazealign keys > docs/study-file.md`.

Example (`examples/demo.toml` is a complete one):

```toml
[study]
name = "my study"
seed = 1

[stimuli]
source = "kdef"
path = "KDEF"

[heatmap]
sigma_deg = 1.0
```
"""


def _is_model(annotation: Any) -> TypeGuard[type[BaseModel]]:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _type_name(annotation: Any) -> str:
    origin = get_origin(annotation)
    if origin is None:
        return getattr(annotation, "__name__", str(annotation)).replace("NoneType", "none")
    args = get_args(annotation)
    name = getattr(origin, "__name__", str(origin))
    if name == "Literal":
        return " | ".join(json.dumps(a) for a in args)
    if name in ("Union", "UnionType"):
        return " | ".join(_type_name(a) for a in args)
    if name == "Annotated":
        return _type_name(args[0])
    return f"{name}[{', '.join(_type_name(a) for a in args)}]"


def _default(info: Any) -> str:
    if info.default is not PydanticUndefined:
        value = info.default
    elif info.default_factory is not None:
        value = info.default_factory()
    else:
        return "required"
    if isinstance(value, BaseModel):
        return "table"
    try:
        return f"`{json.dumps(value, default=str)}`"
    except TypeError:
        return f"`{value}`"


def _table(name: str, model: type[BaseModel], out: list[str]) -> None:
    rows = []
    subtables = []
    for key, info in model.model_fields.items():
        annotation = info.annotation
        if _is_model(annotation):
            subtables.append((f"{name}.{key}", annotation))
            continue
        rows.append(_row(key, info))
    out.append(f"\n## [{name}]\n")
    doc = (model.__doc__ or "").strip()
    if doc and not doc.startswith("A table of the study file"):
        out.append(doc.splitlines()[0] + "\n")
    if rows:
        out.append("| key | type | default | meaning |\n|---|---|---|---|")
        out.extend(rows)
    for sub_name, sub_model in subtables:
        _table(sub_name, sub_model, out)


def _row(key: str, info: Any) -> str:
    ptype = _type_name(info.annotation).replace("|", "\\|")
    default = _default(info).replace("|", "\\|")
    return f"| `{key}` | {ptype} | {default} | {info.description or ''} |"


def study_file_reference() -> str:
    out = [HEADER]
    top = [(k, i) for k, i in StudyConfig.model_fields.items() if not _is_model(i.annotation)]
    if top:
        out.append("\n## Top-level keys\n")
        out.append("| key | type | default | meaning |\n|---|---|---|---|")
        out.extend(_row(key, info) for key, info in top)
    for key, info in StudyConfig.model_fields.items():
        annotation = info.annotation
        if _is_model(annotation):
            _table(key, annotation, out)
    return "\n".join(out) + "\n"

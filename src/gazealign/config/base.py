"""Shared base for study-file sections: unknown keys are errors, values are validated strictly.

Pydantic's default (lax) mode would read ``"96"`` as the integer 96 and ``"yes"`` as true. A
study file is written by hand, so a quoted number or a word for a boolean is more likely a
mistake than a wish: scalar keys typed ``int``, ``float`` or ``bool`` accept only TOML integers,
numbers (an integer is a number) and booleans.
"""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

_WANT = {"bool": "a boolean (true or false)", "int": "an integer", "float": "a number"}


def _scalar_kinds(annotation: Any) -> set[str]:
    """``bool``/``int``/``float``/``none`` for scalar annotations (unions unfolded), else ``other``."""
    if get_origin(annotation) in (Union, types.UnionType):
        return set().union(*(_scalar_kinds(a) for a in get_args(annotation)))
    named = {bool: "bool", int: "int", float: "float", type(None): "none"}
    return {named.get(annotation, "other")}


def strict_scalar(value: Any, kinds: set[str]) -> bool:
    """Whether ``value`` is a TOML value of one of the scalar ``kinds``."""
    if isinstance(value, bool):
        return "bool" in kinds
    if isinstance(value, int):
        return bool(kinds & {"int", "float"})
    if isinstance(value, float):
        return "float" in kinds
    return value is None and "none" in kinds


class Section(BaseModel):
    """A table of the study file. Unknown keys are rejected; assignments are re-validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

    @field_validator("*", mode="before")
    @classmethod
    def _strict_scalars(cls, value: Any, info: ValidationInfo) -> Any:
        field = cls.model_fields.get(info.field_name or "")
        if field is None:
            return value
        kinds = _scalar_kinds(field.annotation)
        if "other" in kinds or strict_scalar(value, kinds):
            return value
        want = " or ".join(_WANT[k] for k in ("bool", "int", "float") if k in kinds)
        raise PydanticCustomError("strict_type", "expected {want}", {"want": want})


def section_default(section: type[BaseModel], key: str) -> Any:
    """The default of ``key`` in a study-file table: the one home of that default.

    Options dataclasses of the library (``ExplainOptions``, ``AlignOptions``, ...) take their
    defaults from here, so a function called without a study behaves as a study that leaves the
    key out.
    """
    return section.model_fields[key].get_default(call_default_factory=True)

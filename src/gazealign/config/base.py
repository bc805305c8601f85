"""Shared base for study-file sections: unknown keys are errors, values are validated."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """A table of the study file. Unknown keys are rejected; assignments are re-validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)

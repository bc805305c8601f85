"""Named stages with declared inputs, cached by content key, resumable, with a manifest."""

from gazealign.pipeline.runner import Runner, StageStatus, package_versions
from gazealign.pipeline.stage import Stage, StageContext

__all__ = ["Runner", "Stage", "StageContext", "StageStatus", "package_versions"]

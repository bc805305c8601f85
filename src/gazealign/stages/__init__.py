"""The study's stages: every module of this package registers one with ``@stage``.

To add a stage, write ``gazealign/stages/<name>.py`` whose run function carries the
:func:`gazealign.pipeline.registry.stage` decorator; nothing else lists it. The run order
follows the stages' ``needs`` (see :func:`gazealign.pipeline.registry.run_order`).
"""

from __future__ import annotations

from gazealign.pipeline.registry import study_stages

__all__ = ["study_stages"]

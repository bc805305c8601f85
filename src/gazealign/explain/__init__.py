"""Network saliency: LRP through zennit, other methods through Captum, recorded reductions.

Entry point: :func:`explain` (registered methods: :func:`available_methods`); maps come back
in the model-input frame and go to the stimulus frame with :func:`to_stimulus_frame`.
"""

from gazealign.explain.base import (
    CONSERVATION_TOLERANCE,
    EXPLAINERS,
    Attribution,
    ExplainOptions,
    Explanation,
    MapRecord,
    Method,
    available_methods,
    evaluation_mode,
    explain,
    explainer,
    get_method,
    register,
)
from gazealign.explain.reduce import (
    SIGN_POLICIES,
    SignPolicy,
    apply_sign,
    sum_channels,
    to_stimulus_frame,
)

__all__ = [
    "CONSERVATION_TOLERANCE",
    "EXPLAINERS",
    "SIGN_POLICIES",
    "Attribution",
    "ExplainOptions",
    "Explanation",
    "MapRecord",
    "Method",
    "SignPolicy",
    "apply_sign",
    "available_methods",
    "evaluation_mode",
    "explain",
    "explainer",
    "get_method",
    "register",
    "sum_channels",
    "to_stimulus_frame",
]

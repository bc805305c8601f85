"""One label vocabulary (:data:`gazealign.types.LABELS`) and each dataset's codes mapped onto it.

Sources: KDEF codes (Lundqvist, Flykt, Öhman 1998) and JAFFE codes (Lyons et al. 1998), FER2013 class indices (the Kaggle
challenge's ``fer2013.csv``: 0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral),
CK+ emotion labels (0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy, 6 sadness,
7 surprise; contempt has no counterpart here) and RaFD file-name words.
"""

from __future__ import annotations

from collections.abc import Mapping

from gazealign.errors import DataError
from gazealign.types import LABELS

KDEF_CODES: dict[str, str] = {
    "AF": "afraid",
    "AN": "angry",
    "DI": "disgusted",
    "HA": "happy",
    "NE": "neutral",
    "SA": "sad",
    "SU": "surprised",
}
#: Inverse of :data:`KDEF_CODES`.
KDEF_CODE_OF: dict[str, str] = {v: k for k, v in KDEF_CODES.items()}

JAFFE_CODES: dict[str, str] = {**KDEF_CODES, "FE": "afraid"}
del JAFFE_CODES["AF"]

FER2013_CODES: dict[int, str] = {
    0: "angry",
    1: "disgusted",
    2: "afraid",
    3: "happy",
    4: "sad",
    5: "surprised",
    6: "neutral",
}

#: CK+ emotion codes; 2 (contempt) is deliberately absent: such images are reported, not used.
CKPLUS_CODES: dict[int, str] = {
    0: "neutral",
    1: "angry",
    3: "disgusted",
    4: "afraid",
    5: "happy",
    6: "sad",
    7: "surprised",
}

#: Words that name an expression in folder names and file names (lower case).
SYNONYMS: dict[str, str] = {
    **{label: label for label in LABELS},
    "fear": "afraid",
    "fearful": "afraid",
    "scared": "afraid",
    "anger": "angry",
    "mad": "angry",
    "disgust": "disgusted",
    "happiness": "happy",
    "joy": "happy",
    "smile": "happy",
    "sadness": "sad",
    "surprise": "surprised",
    "neutrality": "neutral",
    "calm": "neutral",
}


def to_label(name: str, label_map: Mapping[str, str] | None = None) -> str | None:
    """The vocabulary label of a dataset's class name or code, or None when it has none.

    ``label_map`` (from the study file) is consulted first and must map onto :data:`LABELS`;
    then the built-in synonyms (case-insensitive). Unknown names return None so the caller can
    report the file, never guess.
    """
    if label_map:
        bad = {k: v for k, v in label_map.items() if v not in LABELS}
        if bad:
            raise DataError(f"label map values must be one of {LABELS}; got {bad}")
        if name in label_map:
            return label_map[name]
    return SYNONYMS.get(name.strip().lower())

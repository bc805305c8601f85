"""The study file (TOML): one file describes a study; validated on load.

Each table of the file has its own module here (``stimuli.py``, ``model.py``, ...), so each part
of gazealign owns the keys it reads. :func:`load_study` turns a file into a :class:`StudyConfig`
and any problem into a :class:`~gazealign.errors.StudyFileError` naming the file and the key.
"""

from gazealign.config.loader import (
    StudyConfig,
    check_study,
    dump_study,
    load_study,
    parse_study,
    study_from_dict,
)

__all__ = [
    "StudyConfig",
    "check_study",
    "dump_study",
    "load_study",
    "parse_study",
    "study_from_dict",
]

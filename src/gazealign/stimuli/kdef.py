"""The Karolinska Directed Emotional Faces (KDEF) layout.

File names are ``{session A|B}{gender F|M}{id 01-35}{expression}{angle}.JPG`` in a folder per
session + gender + id, e.g. ``AF01/AF01SAS.JPG`` (Lundqvist, Flykt, Öhman 1998, *The Karolinska
Directed Emotional Faces*). A name that does not parse, or that disagrees with its folder, is
reported as ``unparseable_name`` and skipped: a loader must never guess what a misnamed file
shows.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from gazealign.stimuli.dataset import IMAGE_SUFFIXES, Dropped, ImageRecord, Scan, list_files
from gazealign.stimuli.labels import KDEF_CODES
from gazealign.stimuli.layout_registry import layout

if TYPE_CHECKING:
    from gazealign.config.stimuli import StimuliSection

ANGLES: tuple[str, ...] = ("FL", "HL", "S", "HR", "FR")
SESSIONS: tuple[str, ...] = ("A", "B")
GENDERS: tuple[str, ...] = ("F", "M")

#: The naming scheme. Codes are upper case as KDEF ships them; the extension may be any case.
KDEF_NAME = re.compile(
    r"^(?P<session>[AB])(?P<gender>[FM])(?P<number>\d{2})"
    r"(?P<expression>AF|AN|DI|HA|NE|SA|SU)(?P<angle>FL|HL|S|HR|FR)\.(?i:jpe?g)$"
)

#: The seed study's 16 test identities (8 female, 8 male), session A: the KDEF test set of the
#: 2020 Bamberg master's thesis "A Comparison between Visual Saliency Maps of Convolutional
#: Neural Networks and those of Human Beings".
THESIS_TEST_IDENTITIES: tuple[str, ...] = (
    "AF09", "AF05", "AF17", "AF04", "AF16", "AF25", "AF15", "AF30",
    "AM04", "AM06", "AM33", "AM12", "AM27", "AM32", "AM24", "AM26",
)  # fmt: skip


@dataclass(frozen=True)
class KdefName:
    session: str
    gender: str
    number: int
    expression: str  # KDEF code, e.g. "HA"
    angle: str

    @property
    def subject(self) -> str:
        """The identity across sessions, e.g. ``F01``."""
        return f"{self.gender}{self.number:02d}"

    @property
    def folder(self) -> str:
        return f"{self.session}{self.subject}"

    @property
    def label(self) -> str:
        return KDEF_CODES[self.expression]

    @property
    def stem(self) -> str:
        return f"{self.folder}{self.expression}{self.angle}"


def parse_kdef_name(name: str) -> KdefName | None:
    """Parse a KDEF file name (no folder); None when it does not follow the scheme."""
    m = KDEF_NAME.match(name)
    if m is None:
        return None
    number = int(m["number"])
    if not 1 <= number <= 35:
        return None
    return KdefName(m["session"], m["gender"], number, m["expression"], m["angle"])


def scan_kdef(
    root: Path,
    *,
    angles: Iterable[str] = ("S",),
    sessions: Iterable[str] = SESSIONS,
    genders: Iterable[str] = GENDERS,
) -> Scan:
    """Scan a KDEF tree by file name; no pixels are decoded.

    Keeps images whose angle, session and gender are selected; the rest are ``filtered``.
    Image files (by suffix) with unparseable names, names that disagree with their folder, and
    repeated ids are reported in ``dropped``; files that are not images are listed in ``ignored``.
    """
    angles, sessions, genders = tuple(angles), tuple(sessions), tuple(genders)
    for what, given, known in (
        ("angle", angles, ANGLES),
        ("session", sessions, SESSIONS),
        ("gender", genders, GENDERS),
    ):
        bad = [g for g in given if g not in known]
        if bad:
            from gazealign.errors import DataError

            raise DataError(f"unknown KDEF {what}(s) {bad}; expected some of {known}")
    records: list[ImageRecord] = []
    dropped: list[Dropped] = []
    seen: set[str] = set()
    ignored: list[str] = []
    for path in list_files(root):
        rel = path.relative_to(root).as_posix()
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            ignored.append(rel)
            continue
        parsed = parse_kdef_name(path.name)
        if parsed is None:
            dropped.append(
                Dropped(
                    rel,
                    "",
                    "unparseable_name",
                    "expected {A|B}{F|M}{01-35}{AF|AN|DI|HA|NE|SA|SU}{FL|HL|S|HR|FR}.JPG",
                )
            )
            continue
        if path.parent != root and path.parent.name != parsed.folder:
            dropped.append(
                Dropped(
                    rel,
                    parsed.stem,
                    "unparseable_name",
                    f"name says {parsed.folder} but the file is in folder {path.parent.name}",
                )
            )
            continue
        if parsed.stem in seen:
            dropped.append(
                Dropped(rel, parsed.stem, "duplicate_id", "an earlier file has the same KDEF name")
            )
            continue
        seen.add(parsed.stem)
        reasons = [
            f"{what} {value} not selected"
            for what, value, chosen in (
                ("angle", parsed.angle, angles),
                ("session", parsed.session, sessions),
                ("gender", parsed.gender, genders),
            )
            if value not in chosen
        ]
        if reasons:
            dropped.append(Dropped(rel, parsed.stem, "filtered", "; ".join(reasons)))
            continue
        records.append(
            ImageRecord(
                stimulus_id=parsed.stem,
                label=parsed.label,
                subject=parsed.subject,
                session=parsed.session,
                source_path=rel,
                path=path,
                metadata={"angle": parsed.angle, "gender": parsed.gender},
            )
        )
    return Scan(records, dropped, ignored)


@layout("kdef", description="KDEF tree: <session><gender><nn>/<code>.JPG (angles, sessions kept)")
def _scan_kdef_layout(path: Path, cfg: StimuliSection) -> Scan:
    return scan_kdef(path, angles=cfg.angles, sessions=cfg.sessions)

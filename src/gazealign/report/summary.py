"""A short plain-language summary of a study's findings, generated from its numbers.

Each function reads one tidy table (columns as in :mod:`gazealign.report.figures`) and returns
sentences; nothing is claimed that the table does not hold, and every difference is given with its
confidence interval. :func:`summarise` puts them together and also returns the key numbers as a
JSON-ready dict (written beside the report as ``summary.json``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from gazealign.compare.metric_registry import METRICS
from gazealign.report.figures import label_order


@dataclass
class Summary:
    sentences: list[str] = field(default_factory=list)
    numbers: dict[str, Any] = field(default_factory=dict)


def fmt(value: float, *, signed: bool = False, digits: int = 3) -> str:
    """A number for prose: fixed digits, a true minus sign, optional plus sign."""
    if not np.isfinite(value):
        return "n/a"
    text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return text.replace("-", "\u2212")


def ci_text(low: float, high: float, *, confidence: float = 0.95) -> str:
    return f"{confidence:.0%} CI {fmt(low, signed=True)} to {fmt(high, signed=True)}"


def _split_contrast(contrast: str) -> tuple[str, str] | None:
    parts = re.split(r"\s+(?:\u2212|-|vs\.?|minus)\s+", contrast.strip())
    return (parts[0], parts[1]) if len(parts) == 2 and all(parts) else None


def _reading(sides: tuple[str, str], overall: pd.Series) -> str:
    """What the sign of an overall MoRF AUC difference ``A - B`` means, in words."""
    a, b = sides
    low, high = float(overall["ci_low"]), float(overall["ci_high"])
    if low <= 0 <= high:
        return f"Overall, the data do not show whether the {a} or the {b} order removes the network's evidence sooner."
    first, second = (b, a) if low > 0 else (a, b)
    return (
        f"Accuracy fell faster when tiles were removed in the {first} order than in the {second} "
        f"order: the {first} order finds the tiles the network relies on sooner."
    )


def auc_sentences(table: pd.DataFrame, *, confidence: float = 0.95) -> list[str]:
    """Per contrast: the overall difference with its CI and the expressions whose CI excludes 0.

    ``table``: ``label`` (``"all"`` = every image), ``contrast`` (``"A - B"``), ``estimate``,
    ``ci_low``, ``ci_high``: differences of areas under MoRF accuracy curves.
    """
    out: list[str] = []
    for contrast in dict.fromkeys(table["contrast"].astype(str)):
        sub = table[table["contrast"].astype(str) == contrast]
        overall = sub[sub["label"].astype(str) == "all"]
        parts: list[str] = []
        if not overall.empty:
            r = overall.iloc[0]
            parts.append(
                f"Over all images the AUC difference {contrast} is "
                f"{fmt(float(r['estimate']), signed=True)} "
                f"({ci_text(float(r['ci_low']), float(r['ci_high']), confidence=confidence)})."
            )
        per_class = sub[sub["label"].astype(str) != "all"].copy()
        if not per_class.empty:
            lo = per_class["ci_low"].astype(float)
            hi = per_class["ci_high"].astype(float)
            clear = per_class[(lo > 0) | (hi < 0)]
            clear = clear.reindex(
                clear["estimate"].astype(float).abs().sort_values(ascending=False).index
            )
            unclear = [
                x
                for x in label_order(per_class["label"].astype(str))
                if x not in set(clear["label"].astype(str))
            ]
            if clear.empty:
                parts.append(f"No single expression's {contrast} interval excludes zero.")
            else:
                listed = "; ".join(
                    f"{r['label']} {fmt(float(r['estimate']), signed=True)} "
                    f"[{fmt(float(r['ci_low']), signed=True)}, {fmt(float(r['ci_high']), signed=True)}]"
                    for _, r in clear.iterrows()
                )
                overall_clear = not overall.empty and (
                    float(overall.iloc[0]["ci_low"]) > 0 or float(overall.iloc[0]["ci_high"]) < 0
                )
                lead = (
                    "The expressions that drive it"
                    if overall_clear
                    else "Expressions whose own interval excludes zero"
                )
                parts.append(f"{lead} (largest first): {listed}.")
                if unclear:
                    parts.append(f"For {', '.join(unclear)} the interval includes zero.")
        sides = _split_contrast(contrast)
        if sides is not None and not overall.empty:
            parts.append(_reading(sides, overall.iloc[0]))
        out.append(" ".join(parts))
    return out


def _ceiling_rows(sub: pd.DataFrame) -> pd.DataFrame:
    names = sub["map"].astype(str).str.lower()
    return sub[names.str.contains("ceiling") | names.str.startswith("human")]


def metric_sentences(table: pd.DataFrame) -> list[str]:
    """Per metric: each network map's score read against the human noise ceiling and baselines.

    ``table``: ``metric``, ``map``, ``value`` (+ optional CI), one row per (metric, map).
    """
    out: list[str] = []
    for metric in dict.fromkeys(table["metric"].astype(str)):
        sub = table[table["metric"].astype(str) == metric]
        ceiling = _ceiling_rows(sub)
        others = sub.drop(index=ceiling.index)
        if others.empty:
            continue
        baselines = others[
            others["map"]
            .astype(str)
            .str.lower()
            .str.contains("centre|center|uniform|shuffl|random|chance")
        ]
        networks = others.drop(index=baselines.index)
        name = metric.lower()
        lower_better = name in METRICS and not METRICS.get(name).higher_is_better
        if "higher_is_better" in sub.columns and sub["higher_is_better"].notna().any():
            lower_better = not bool(sub["higher_is_better"].iloc[0])
        direction = "lower is better" if lower_better else "higher is better"
        for _, row in networks.iterrows():
            text = f"{metric} ({direction}): {row['map']} scores {fmt(float(row['value']))}"
            if not ceiling.empty:
                c = float(ceiling.iloc[0]["value"])
                text += f" against a human noise ceiling of {fmt(c)}"
                if not lower_better and c > 0:
                    text += f" ({float(row['value']) / c:.0%} of it)"
            if not baselines.empty:
                text += "; baselines: " + ", ".join(
                    f"{b['map']} {fmt(float(b['value']))}" for _, b in baselines.iterrows()
                )
            out.append(text + ".")
    return out


def region_sentences(table: pd.DataFrame) -> list[str]:
    """Per expression, where people looked most and where the network's relevance lay most.

    ``table``: ``label``, ``region``, ``source`` (``human`` / network), ``share``. Whole-image
    regions (``face``, ``background``) are left out of the comparison of facial parts.
    """
    parts = table[~table["region"].astype(str).isin(["face", "background"])]
    if parts.empty:
        return []
    agree: list[str] = []
    differ: list[str] = []
    for label in label_order(parts["label"].astype(str).unique()):
        sub = parts[parts["label"].astype(str) == label]
        top: dict[str, tuple[str, float]] = {}
        for source, rows in sub.groupby(sub["source"].astype(str)):
            best = rows.iloc[int(np.argmax(rows["share"].to_numpy(dtype=np.float64)))]
            top[str(source)] = (str(best["region"]), float(best["share"]))
        human = next((v for k, v in top.items() if k.lower().startswith("human")), None)
        network = next((v for k, v in top.items() if not k.lower().startswith("human")), None)
        if human is None or network is None:
            continue
        name = "all images" if label == "all" else label
        if human[0] == network[0]:
            agree.append(f"{name} ({human[0]})")
        else:
            differ.append(
                f"{name}: people {human[0]} ({human[1]:.0%}), network {network[0]} ({network[1]:.0%})"
            )
    out: list[str] = []
    if differ:
        out.append(
            "The region with the largest share differs between people and the network for "
            + "; ".join(differ)
            + "."
        )
    if agree:
        out.append("It is the same region for " + ", ".join(agree) + ".")
    return out


def region_difference_sentences(table: pd.DataFrame, *, confidence: float = 0.95) -> list[str]:
    """Over all images, the regions where the network's share differs from people's, with CIs.

    ``table``: ``contrast`` (``"<method> - human"``), ``region``, ``label``, ``estimate``,
    ``ci_low``, ``ci_high``; only rows of label ``all`` (or every row when there is no label).
    """
    if "label" in table.columns:
        table = table[table["label"].astype(str) == "all"]
    out: list[str] = []
    for contrast in dict.fromkeys(table["contrast"].astype(str)):
        sub = table[table["contrast"].astype(str) == contrast]
        lo, hi = sub["ci_low"].astype(float), sub["ci_high"].astype(float)
        more = sub[lo > 0].sort_values("estimate", ascending=False)
        less = sub[hi < 0].sort_values("estimate")
        sides = _split_contrast(contrast)
        who = sides[0] if sides else contrast

        def listed(rows: pd.DataFrame) -> str:
            return ", ".join(
                f"{r['region']} ({fmt(float(r['estimate']), signed=True)}, "
                f"{ci_text(float(r['ci_low']), float(r['ci_high']), confidence=confidence)})"
                for _, r in rows.iterrows()
            )

        if more.empty and less.empty:
            out.append(
                f"Over all images no region's share differs clearly between {who} and people ({contrast})."
            )
            continue
        parts = []
        if not more.empty:
            parts.append(f"more on {listed(more)}")
        if not less.empty:
            parts.append(f"less on {listed(less)}")
        out.append(
            f"Compared with where people fixated, {who} puts its relevance (all images, "
            f"{contrast}) " + " and ".join(parts) + "."
        )
    return out


def _accuracy(counts: pd.DataFrame) -> tuple[float, int] | None:
    total = int(counts.to_numpy().sum())
    if total == 0:
        return None
    hits = sum(int(counts.loc[lab, lab]) for lab in counts.index if lab in counts.columns)
    return hits / total, total


def _test_accuracy(metrics: Mapping[str, Any]) -> float | None:
    for key in ("test_accuracy", "accuracy_test", "accuracy"):
        value = metrics.get(key)
        if isinstance(value, int | float):
            return float(value)
    test = metrics.get("test")
    if isinstance(test, Mapping) and isinstance(test.get("accuracy"), int | float):
        return float(test["accuracy"])
    return None


def _records(table: pd.DataFrame, columns: tuple[str, ...]) -> list[dict[str, Any]]:
    return [
        {str(k): v for k, v in row.items()}
        for row in table[[c for c in columns if c in table.columns]].to_dict(orient="records")
    ]


def summarise(
    *,
    auc_differences: pd.DataFrame | None = None,
    metrics: pd.DataFrame | None = None,
    region_shares: pd.DataFrame | None = None,
    region_differences: pd.DataFrame | None = None,
    train_metrics: Mapping[str, Any] | None = None,
    confusions: Mapping[str, pd.DataFrame] | None = None,
    confidence: float = 0.95,
) -> Summary:
    """Sentences and key numbers from whatever tables are present (``None`` = absent)."""
    summary = Summary()
    acc = _test_accuracy(train_metrics) if train_metrics else None
    net_counts = next((c for k, c in (confusions or {}).items() if k.startswith("network")), None)
    if acc is None and net_counts is not None:
        got = _accuracy(net_counts)
        acc = got[0] if got else None
    if acc is not None:
        n = f" of {int(net_counts.to_numpy().sum())}" if net_counts is not None else " of the"
        summary.sentences.append(f"The network recognised {acc:.1%}{n} test faces.")
        summary.numbers["test_accuracy"] = acc
    human_counts = next((c for k, c in (confusions or {}).items() if k.startswith("human")), None)
    if human_counts is not None:
        got = _accuracy(human_counts)
        if got is not None:
            summary.sentences.append(
                f"The observers named the expression correctly on {got[0]:.1%} of {got[1]} trials."
            )
            summary.numbers["human_accuracy"] = got[0]
    if auc_differences is not None and not auc_differences.empty:
        summary.sentences.extend(auc_sentences(auc_differences, confidence=confidence))
        summary.numbers["auc_differences"] = auc_differences[
            [
                c
                for c in ("label", "contrast", "estimate", "ci_low", "ci_high", "p_value")
                if c in auc_differences.columns
            ]
        ].to_dict(orient="records")
    if metrics is not None and not metrics.empty:
        summary.sentences.extend(metric_sentences(metrics))
        summary.numbers["metrics"] = metrics[
            [c for c in ("metric", "map", "value", "ci_low", "ci_high") if c in metrics.columns]
        ].to_dict(orient="records")
    if region_shares is not None and not region_shares.empty:
        summary.sentences.extend(region_sentences(region_shares))
    if region_differences is not None and not region_differences.empty:
        summary.sentences.extend(
            region_difference_sentences(region_differences, confidence=confidence)
        )
        summary.numbers["region_differences"] = _records(
            region_differences[region_differences["label"].astype(str) == "all"]
            if "label" in region_differences.columns
            else region_differences,
            ("contrast", "region", "estimate", "ci_low", "ci_high", "p_value"),
        )
    if region_shares is not None and not region_shares.empty:
        planted = region_shares[region_shares["region"].astype(str) == "planted"]
        if not planted.empty:
            summary.numbers["planted_share"] = planted[
                [
                    c
                    for c in ("label", "source", "share", "ci_low", "ci_high")
                    if c in planted.columns
                ]
            ].to_dict(orient="records")
    if not summary.sentences:
        summary.sentences.append("No results were found in this run to summarise.")
    return summary

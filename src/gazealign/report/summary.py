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
    #: The answer first: one row per network method (see :func:`headline_table`).
    table: pd.DataFrame | None = None


#: Metrics whose chance-corrected % of ceiling the headline table shows.
HEADLINE_METRICS: tuple[str, ...] = ("cc", "nss", "auc_judd")


def headline_table(
    auc_differences: pd.DataFrame | None,
    metrics: pd.DataFrame | None,
    *,
    confidence: float = 0.95,
) -> pd.DataFrame | None:
    """Per network method: human - method MoRF AUC difference (interval, p, identities), the
    interaction p and the chance-corrected % of ceiling on :data:`HEADLINE_METRICS`.

    ``auc_differences``: rows of label ``all`` and contrasts ``"human - <method>"``;
    ``metrics``: ``map``, ``metric``, ``value`` (+ ``percent_of_ceiling``). None when neither
    has a network method.

    Parameters
    ----------
    auc_differences
        The perturbation stage's AUC contrasts (or None).
    metrics
        The saliency_metrics stage's table (or None).
    confidence
        The interval level named in the columns.

    Returns
    -------
    pandas.DataFrame or None
        One row per network method.
    """
    rows: list[dict[str, str]] = []
    methods: list[str] = []
    auc = None
    if auc_differences is not None and not auc_differences.empty:
        auc = auc_differences[auc_differences["label"].astype(str) == "all"]
        for contrast in dict.fromkeys(auc["contrast"].astype(str)):
            sides = _split_contrast(contrast)
            if sides and sides[0] == "human" and sides[1] != "random":
                methods.append(sides[1])
    if metrics is not None and not methods:
        methods = [
            str(m)
            for m in dict.fromkeys(metrics["map"].astype(str))
            if not re.search("human|ceiling|centre|center|uniform|random|shuffl", m.lower())
        ]
    for method in methods:
        row: dict[str, str] = {"network method": method}
        hit = None if auc is None else auc[auc["contrast"].astype(str) == f"human - {method}"]
        if hit is not None and not hit.empty:
            r = hit.iloc[0]
            ok = _defined(r)
            row["human - network MoRF AUC"] = (
                f"{fmt(float(r['estimate']), signed=True)} "
                f"[{fmt(float(r['ci_low']), signed=True)}, {fmt(float(r['ci_high']), signed=True)}]"
                if ok
                else "undefined"
            )
            row["interval"] = _counted(r).strip(" ()") or f"{confidence:.0%} CI"
            p = r.get("p_value")
            row["p"] = "undefined" if not ok or p is None or pd.isna(p) else f"{float(p):.3g}"
            ip = r.get("interaction_p")
            row["interaction p (expression x ordering)"] = (
                "not tested" if ip is None or pd.isna(ip) else f"{float(ip):.3g}"
            )
        if metrics is not None and not metrics.empty:
            centre = metrics[metrics["map"].astype(str).str.lower().str.contains("centre|center")]
            ceiling = _ceiling_rows(metrics)
            for metric in HEADLINE_METRICS:
                mine = metrics[
                    (metrics["map"].astype(str) == method)
                    & (metrics["metric"].astype(str) == metric)
                ]
                ceil = ceiling[ceiling["metric"].astype(str) == metric]
                share = None
                if not mine.empty and not ceil.empty:
                    share = percent_of_ceiling(
                        mine.iloc[0],
                        float(ceil.iloc[0]["value"]),
                        centre[centre["metric"].astype(str) == metric],
                    )
                row[f"% of ceiling above chance, {metric}"] = (
                    "undefined" if share is None or not np.isfinite(share) else _percent(share)
                )
        rows.append(row)
    return pd.DataFrame(rows) if rows else None


def fmt(value: float, *, signed: bool = False, digits: int = 3) -> str:
    """A number for prose: fixed digits, a true minus sign, optional plus sign.

    Parameters
    ----------
    value
        The number (NaN and infinities are written ``n/a``).
    signed
        Write a plus sign on positive values.
    digits
        Decimals.

    Returns
    -------
    str
        The text.
    """
    if not np.isfinite(value):
        return "n/a"
    text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return text.replace("-", "\u2212")


def ci_text(low: float, high: float, *, confidence: float = 0.95) -> str:
    """A confidence interval for prose, e.g. ``95% CI +0.073 to +0.173``.

    Parameters
    ----------
    low, high
        The interval's bounds.
    confidence
        Its level.

    Returns
    -------
    str
        The text.
    """
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


def _defined(row: pd.Series) -> bool:
    """An estimate reads as a direction only with n >= 2 and a finite interval."""
    n = float(row["n"]) if "n" in row.index and pd.notna(row["n"]) else 2.0
    return n >= 2 and bool(np.isfinite(float(row["ci_low"])) and np.isfinite(float(row["ci_high"])))


def _counted(row: pd.Series) -> str:
    """'(112 images, 16 identities; BCa interval)' from whichever columns the row has."""
    bits = []
    if "n" in row.index and pd.notna(row["n"]):
        bits.append(f"{int(row['n'])} images")
    if "n_groups" in row.index and pd.notna(row["n_groups"]):
        unit = str(row.get("resampling_unit", "identity") or "identity")
        unit = "identities" if unit == "identity" else f"{unit} clusters"
        bits.append(f"{int(row['n_groups'])} {unit}")
    method = row.get("interval_method") if "interval_method" in row.index else None
    text = ", ".join(bits)
    if isinstance(method, str) and method:
        name = {"bca": "BCa", "percentile": "percentile"}.get(method, method)
        if bool(row.get("interval_expanded", False)):
            name += ", small-sample expanded"
        text += f"; {name} interval"
    return f" ({text})" if text else ""


def _p_text(row: pd.Series) -> str:
    parts = []
    if "p_value" in row.index and pd.notna(row["p_value"]):
        parts.append(f"p = {float(row['p_value']):.3g}")
    if "p_adjusted" in row.index and pd.notna(row["p_adjusted"]):
        method = str(row.get("p_adjust_method", "") or "")
        if method and method != "none":
            parts.append(
                f"{ {'holm': 'Holm', 'fdr_bh': 'BH'}.get(method, method) }-adjusted "
                f"p = {float(row['p_adjusted']):.3g}"
            )
    return ", ".join(parts)


def auc_sentences(table: pd.DataFrame, *, confidence: float = 0.95) -> list[str]:
    """Per contrast: the overall difference with its CI, the interaction test, and the
    expressions whose CI excludes 0.

    ``table``: ``label`` (``"all"`` = every image), ``contrast`` (``"A - B"``), ``estimate``,
    ``ci_low``, ``ci_high``: differences of areas under MoRF accuracy curves; optional ``n``,
    ``n_groups``, ``interval_method``, ``p_value``, ``p_adjusted`` and ``interaction_p`` (the
    test of whether the difference depends on the expression). "The expressions that drive
    it" is said only when the interaction test rejects at 1 - ``confidence``.

    Parameters
    ----------
    table
        The contrasts described above.
    confidence
        The interval level.

    Returns
    -------
    list of str
        The sentences.
    """
    alpha = 1 - confidence
    out: list[str] = []
    for contrast in dict.fromkeys(table["contrast"].astype(str)):
        sub = table[table["contrast"].astype(str) == contrast]
        overall = sub[sub["label"].astype(str) == "all"]
        parts: list[str] = []
        overall_defined = not overall.empty and _defined(overall.iloc[0])
        if not overall.empty:
            r = overall.iloc[0]
            if overall_defined:
                p = _p_text(r)
                parts.append(
                    f"Over all images{_counted(r)} the AUC difference {contrast} is "
                    f"{fmt(float(r['estimate']), signed=True)} "
                    f"({ci_text(float(r['ci_low']), float(r['ci_high']), confidence=confidence)}"
                    + (f"; {p}" if p else "")
                    + ")."
                )
            else:
                parts.append(
                    f"Over all images{_counted(r)} the AUC difference {contrast} is undefined "
                    "(fewer than two images or identities, or no interval)."
                )
        interaction = (
            float(sub["interaction_p"].dropna().iloc[0])
            if "interaction_p" in sub.columns and sub["interaction_p"].notna().any()
            else None
        )
        if interaction is not None:
            verdict = (
                "depends on the expression"
                if interaction < alpha
                else "does not clearly depend on the expression"
            )
            parts.append(
                f"The difference {verdict} (expression x ordering interaction, identity-blocked "
                f"permutation, p = {interaction:.3g})."
            )
        per_class = sub[sub["label"].astype(str) != "all"].copy()
        if not per_class.empty:
            defined = per_class[[_defined(r) for _, r in per_class.iterrows()]]
            undefined = sorted(
                set(per_class["label"].astype(str)) - set(defined["label"].astype(str))
            )
            lo = defined["ci_low"].astype(float)
            hi = defined["ci_high"].astype(float)
            clear = defined[(lo > 0) | (hi < 0)]
            clear = clear.reindex(
                clear["estimate"].astype(float).abs().sort_values(ascending=False).index
            )
            unclear = [
                x
                for x in label_order(defined["label"].astype(str))
                if x not in set(clear["label"].astype(str))
            ]
            if clear.empty:
                parts.append(f"No single expression's {contrast} interval excludes zero.")
            else:
                listed = "; ".join(
                    f"{r['label']} {fmt(float(r['estimate']), signed=True)} "
                    f"[{fmt(float(r['ci_low']), signed=True)}, {fmt(float(r['ci_high']), signed=True)}]"
                    + (f" ({_p_text(r)})" if _p_text(r) else "")
                    for _, r in clear.iterrows()
                )
                overall_clear = overall_defined and (
                    float(overall.iloc[0]["ci_low"]) > 0 or float(overall.iloc[0]["ci_high"]) < 0
                )
                drives = overall_clear and interaction is not None and interaction < alpha
                lead = (
                    "The expressions that drive it"
                    if drives
                    else "Expressions whose own interval excludes zero"
                )
                parts.append(f"{lead} (largest first): {listed}.")
                if unclear:
                    parts.append(f"For {', '.join(unclear)} the interval includes zero.")
            if undefined:
                parts.append(f"Undefined for {', '.join(undefined)} (n < 2 or no interval).")
        sides = _split_contrast(contrast)
        if sides is not None and overall_defined:
            parts.append(_reading(sides, overall.iloc[0]))
        out.append(" ".join(parts))
    return out


def _ceiling_rows(sub: pd.DataFrame) -> pd.DataFrame:
    names = sub["map"].astype(str).str.lower()
    return sub[names.str.contains("ceiling") | names.str.startswith("human")]


def _percent(share: float) -> str:
    return f"{share:.0%}".replace("-", "\u2212")


def percent_of_ceiling(row: pd.Series, ceiling: float, centre: pd.DataFrame) -> float | None:
    """Chance-corrected share of the ceiling, (model - chance) / (ceiling - chance).

    The stage's ``percent_of_ceiling`` (scored on held-out observers, chance = the centre bias)
    when the row has it; otherwise from the table's centre-bias row; None without a chance map.

    Parameters
    ----------
    row
        One metric row of a network map.
    ceiling
        The noise ceiling's value of that metric.
    centre
        The table's centre-bias rows (the chance level).

    Returns
    -------
    float or None
        The share in percent.
    """
    if "percent_of_ceiling" in row.index and pd.notna(row["percent_of_ceiling"]):
        return float(row["percent_of_ceiling"])
    if centre.empty:
        return None
    chance = float(centre.iloc[0]["value"])
    gap = ceiling - chance
    return None if gap == 0 or not np.isfinite(gap) else (float(row["value"]) - chance) / gap


def metric_sentences(table: pd.DataFrame) -> list[str]:
    """Per metric: each network map's score read against the human noise ceiling and baselines.

    ``table``: ``metric``, ``map``, ``value`` (+ optional CI), one row per (metric, map).

    Parameters
    ----------
    table
        The scores described above.

    Returns
    -------
    list of str
        The sentences.
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
        centre = baselines[baselines["map"].astype(str).str.lower().str.contains("centre|center")]
        for _, row in networks.iterrows():
            text = f"{metric} ({direction}): {row['map']} scores {fmt(float(row['value']))}"
            held = [
                float(row[c]) if c in row.index and pd.notna(row[c]) else float("nan")
                for c in ("held_out_score", "held_out_ceiling", "held_out_chance")
            ]
            if all(np.isfinite(v) for v in held):
                # Leave-one-out: the three numbers of the chance-corrected share stand on the
                # same held-out observers.
                text += (
                    f"; on held-out observers {fmt(held[0])} against the leave-one-out "
                    f"ceiling {fmt(held[1])} and the centre bias {fmt(held[2])}"
                )
                share = percent_of_ceiling(row, held[1], centre)
                if share is not None:
                    text += f" ({_percent(share)} of the way from the centre bias to the ceiling)"
                if not baselines.empty:
                    text += "; baselines on all observers: " + ", ".join(
                        f"{b['map']} {fmt(float(b['value']))}" for _, b in baselines.iterrows()
                    )
                out.append(text + ".")
                continue
            if not ceiling.empty:
                c = float(ceiling.iloc[0]["value"])
                text += f" against a human noise ceiling of {fmt(c)}"
                share = percent_of_ceiling(row, c, centre)
                if share is not None:
                    text += f" ({_percent(share)} of the way from the centre bias to the ceiling)"
            if not baselines.empty:
                text += "; baselines: " + ", ".join(
                    f"{b['map']} {fmt(float(b['value']))}" for _, b in baselines.iterrows()
                )
            out.append(text + ".")
    return out


#: Source name of the image-area baseline in region-share tables (a region's share of the image).
AREA_SOURCE = "image area"


def region_sentences(table: pd.DataFrame) -> list[str]:
    """Per network method and expression: where people looked most against where that
    method's relevance lay most; the image-area share of the region is the baseline.

    ``table``: ``label``, ``region``, ``source`` (``human`` / a network method /
    :data:`AREA_SOURCE`), ``share``. Whole-image regions (``face``, ``background``) are left
    out of the comparison of facial parts; ``human (dwell)`` is not compared (``human`` is).

    Parameters
    ----------
    table
        The shares described above.

    Returns
    -------
    list of str
        The sentences.
    """
    parts = table[~table["region"].astype(str).isin(["face", "background"])]
    if parts.empty:
        return []
    sources = list(dict.fromkeys(parts["source"].astype(str)))
    human_name = (
        "human"
        if "human" in sources
        else next((s for s in sources if s.lower().startswith("human")), None)
    )
    methods = [s for s in sources if not s.lower().startswith("human") and s != AREA_SOURCE]
    if human_name is None or not methods:
        return []
    area = parts[parts["source"].astype(str) == AREA_SOURCE]

    def top(rows: pd.DataFrame) -> tuple[str, float] | None:
        v = rows["share"].to_numpy(dtype=np.float64)
        if rows.empty or not np.isfinite(v).any():
            return None
        best = rows.iloc[int(np.nanargmax(v))]
        return str(best["region"]), float(best["share"])

    def area_of(label: str, region: str) -> str:
        hit = area[(area["label"].astype(str) == label) & (area["region"].astype(str) == region)]
        return f"; image area {float(hit['share'].iloc[0]):.0%}" if not hit.empty else ""

    out: list[str] = []
    for method in methods:
        agree: list[str] = []
        differ: list[str] = []
        for label in label_order(parts["label"].astype(str).unique()):
            sub = parts[parts["label"].astype(str) == label]
            human = top(sub[sub["source"].astype(str) == human_name])
            network = top(sub[sub["source"].astype(str) == method])
            if human is None or network is None:
                continue
            name = "all images" if label == "all" else label
            if human[0] == network[0]:
                agree.append(f"{name} ({human[0]}{area_of(label, human[0])})")
            else:
                differ.append(
                    f"{name}: people {human[0]} ({human[1]:.0%}{area_of(label, human[0])}), "
                    f"{method} {network[0]} ({network[1]:.0%}{area_of(label, network[0])})"
                )
        if differ:
            out.append(
                f"The region with the largest share differs between people and {method} for "
                + "; ".join(differ)
                + "."
            )
        if agree:
            out.append(f"People and {method} share the top region for " + ", ".join(agree) + ".")
    return out


def region_difference_sentences(table: pd.DataFrame, *, confidence: float = 0.95) -> list[str]:
    """Over all images, the regions where the network's share differs from people's, with CIs.

    ``table``: ``contrast`` (``"<method> - human"``), ``region``, ``label``, ``estimate``,
    ``ci_low``, ``ci_high``; only rows of label ``all`` (or every row when there is no label).

    Parameters
    ----------
    table
        The differences described above.
    confidence
        The interval level.

    Returns
    -------
    list of str
        The sentences.
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


def _all_zero_flags(metrics: pd.DataFrame | None) -> list[str]:
    """A warning per network method whose map is all zero on some images."""
    if metrics is None or "all_zero_maps" not in metrics.columns:
        return []
    rows = metrics.dropna(subset=["all_zero_maps"]).drop_duplicates("map")
    return [
        f"Warning: the {r['map']} map is all zero on {int(r['all_zero_maps'])} image(s); "
        "its scores there say nothing about where the network looks."
        for _, r in rows.iterrows()
        if float(r["all_zero_maps"]) > 0
    ]


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
    sanity_verdicts: pd.DataFrame | None = None,
    confidence: float = 0.95,
) -> Summary:
    """Sentences and key numbers from whatever tables are present (``None`` = absent).

    Parameters
    ----------
    auc_differences, metrics, region_shares, region_differences
        The comparison stages' tables (see :func:`auc_sentences`, :func:`metric_sentences`,
        :func:`region_sentences`, :func:`region_difference_sentences`).
    train_metrics
        The train stage's ``metrics.json``.
    confusions
        Confusion count tables by title (``network ...``, ``human ...``).
    sanity_verdicts
        The sanity_checks stage's verdicts.
    confidence
        The interval level.

    Returns
    -------
    Summary
        The sentences, the key numbers (for ``summary.json``) and the headline table.
    """
    summary = Summary()
    summary.table = headline_table(auc_differences, metrics, confidence=confidence)
    if summary.table is not None:
        summary.numbers["headline"] = summary.table.to_dict(orient="records")
    flagged = _all_zero_flags(metrics)
    summary.sentences.extend(flagged)
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
    if sanity_verdicts is not None and not sanity_verdicts.empty:
        summary.sentences.extend(
            f"Sanity check of {m}: {v}."
            for m, v in zip(sanity_verdicts["method"], sanity_verdicts["verdict"], strict=True)
        )
        summary.numbers["sanity_checks"] = _records(
            sanity_verdicts,
            (
                "method",
                "target_output",
                "randomised_spearman",
                "head_randomised_spearman",
                "passes_randomisation",
                "class_r",
                "passes_class_sensitivity",
            ),
        )
    if not summary.sentences:
        summary.sentences.append("No results were found in this run to summarise.")
    return summary

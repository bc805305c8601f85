"""The report's ``reproducibility`` section: versions, seeds, stage keys, the study file."""

from __future__ import annotations

from typing import Any

import pandas as pd

from gazealign.report.html import SectionContext, absent, esc, scalars_table, table_html
from gazealign.report.inputs import stage_order
from gazealign.report.sections import report_section


@report_section("reproducibility", title="Configuration, versions and seeds", order=100)
def reproducibility_section(ctx: SectionContext) -> str:
    """Package versions, seeds, stage keys and the study file as run."""
    inputs = ctx.inputs
    parts: list[str] = []
    manifest = inputs.manifest
    parts.append("<h3>Versions</h3>")
    versions = manifest.get("versions") or {}
    parts.append(
        table_html(scalars_table(versions, key="package"))
        if versions
        else absent("manifest.json lists no versions")
    )
    parts.append("<h3>Seeds</h3>")
    seed_rows: list[dict[str, Any]] = []
    if "seed" in manifest:
        seed_rows.append({"stage": "study", "name": "master seed", "seed": manifest["seed"]})
    for name in stage_order(list(inputs.stage_records), manifest):
        for seed_name, value in sorted((inputs.stage_records[name].get("seeds") or {}).items()):
            seed_rows.append({"stage": name, "name": seed_name, "seed": value})
    parts.append(
        table_html(pd.DataFrame(seed_rows)) if seed_rows else absent("no seeds were recorded")
    )
    parts.append("<h3>Stages</h3>")
    stage_rows = [
        {
            "stage": name,
            "key": rec.get("key", ""),
            "started (UTC)": rec.get("started_utc", ""),
            "duration (s)": rec.get("duration_s", ""),
            "items resumed": rec.get("items_resumed", ""),
        }
        for name in stage_order(list(inputs.stage_records), manifest)
        for rec in [inputs.stage_records[name]]
    ]
    parts.append(
        table_html(pd.DataFrame(stage_rows)) if stage_rows else absent("no finished stages")
    )
    parts.append("<h3>Study file (as run)</h3>")
    if inputs.study_toml:
        parts.append(f"<pre>{esc(inputs.study_toml)}</pre>")
    else:
        parts.append(absent("the run folder holds no study.toml"))
    return "\n".join(parts)

"""The ``explain`` stage: network saliency maps for the selected stimuli.

Artifacts::

    items/<stimulus_id>.npz   per method: <method> (model-input frame, float64),
                              <method>__stimulus (stimulus frame), <method>__record (JSON)
    maps.parquet (+ .csv)     one row per (stimulus, method): target, logit, relevance sum,
                              conservation check, parameters and steps (JSON)

A whole stage that writes its items itself, so images are explained in batches (the network
runs once per batch, not once per image) while resume stays per item: each item file is written
atomically as soon as its batch is done, and a resumed run skips the batches already complete
(batches are fixed chunks of the sorted stimulus ids, so resumed bytes equal uninterrupted ones). The
model is the train stage's checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from gazealign.errors import PipelineError
from gazealign.explain.stimuli import explain_items, records_table, targets_for
from gazealign.pipeline.artifacts import items, table
from gazealign.pipeline.registry import stage
from gazealign.pipeline.stage import StageContext
from gazealign.pipeline.store import read_arrays, write_arrays, write_table
from gazealign.stages.common import explain_options, load_trained, stage_device
from gazealign.stimuli.artifacts import read_item, read_stimuli_table


def _batches(ids: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield list(ids[start : start + size])


WRITES = (
    items(
        "maps",
        "per method: the map in the model-input frame, its stimulus-frame twin and its record",
        {
            "<method>": "(S, S) float64, model-input frame",
            "<method>__stimulus": "(rows, cols) float64, stimulus frame",
            "<method>__signed": "(S, S) float64, model-input frame, before explain.sign",
            "<method>__record": "0-d str, JSON: target, parameters, steps",
        },
        frame="model_input",
    ),
    table(
        "records",
        "one row per (stimulus, method)",
        {
            "stimulus_id": "",
            "method": "",
            "target": "class index explained",
            "target_output": "what of the target was explained: logit, contrastive or sglrp",
            "logit": "",
            "relevance_sum": "",
            "conservation_violated": "bool",
            "params": "JSON",
            "steps": "JSON",
        },
        path="maps.parquet",
    ),
)


@stage(
    "explain",
    description="network saliency maps (LRP, Captum methods) for the selected stimuli",
    reads=("explain",),
    needs=("stimuli", "train"),
    writes=WRITES,
)
def run(ctx: StageContext) -> None:
    cfg = ctx.config.explain
    stimuli_dir = ctx.input("stimuli")
    table = read_stimuli_table(stimuli_dir)
    selected = table[table["split"].isin(cfg.splits)].sort_values("stimulus_id")
    ids = [str(i) for i in selected["stimulus_id"]]
    labels = dict(zip(ids, (str(x) for x in selected["label"]), strict=True))
    if not ids:
        raise PipelineError(f"no stimuli in splits {cfg.splits} to explain")
    bundle = load_trained(ctx.input("train"))
    bundle.model.to(stage_device(ctx))
    options = explain_options(cfg)
    # Batches are fixed chunks of the full sorted id list, and a batch with any item missing is
    # recomputed whole: float results can depend on the batch's make-up (kernel choice), so this
    # keeps a resumed run byte-identical to an uninterrupted one.
    batches = list(_batches(ids, cfg.batch_size))
    todo = [b for b in batches if not all(ctx.item_path(i).exists() for i in b)]
    missing = sum(not ctx.item_path(i).exists() for i in ids)
    ctx.note("items", len(ids))
    ctx.note("items_resumed", len(ids) - missing)
    for batch in ctx.track(todo, total=len(todo), description=f"explain ({missing} images)"):
        items = [read_item(stimuli_dir, i) for i in batch]
        target = targets_for(bundle, [labels[i] for i in batch], cfg.target)
        arrays = explain_items(
            bundle,
            items,
            target,
            methods=cfg.methods,
            sign=cfg.sign,
            options=options,
            batch_size=cfg.batch_size,
            target_output=cfg.target_output,
        )
        for stimulus_id in batch:  # one atomic file per item: a kill loses at most a batch
            if not ctx.item_path(stimulus_id).exists():
                write_arrays(ctx.item_path(stimulus_id), arrays[stimulus_id])
    maps = records_table({i: read_arrays(ctx.item_path(i)) for i in ids})
    ctx.note("conservation_violated", int(maps["conservation_violated"].sum()))
    write_table(ctx.out_dir / "maps.parquet", maps)

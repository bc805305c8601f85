"""The ``train`` stage: fine-tune (or train) the network on the stimuli's identity-disjoint split.

Reads the ``stimuli`` stage (model-input images, labels, ``split``), builds the network of
``[model]``, loads ``model.weights`` if set, trains on ``train``, early-stops on ``val``, and
evaluates on ``test``. With ``model.train.feature_copies`` >= 1 and a frozen backbone it trains
on cached features of the frozen layers (:func:`gazealign.models.train.fit`); the stage's notes
record which path ran and whether its steps ran in bfloat16 (``training_path``). Writes::

    model.safetensors + model.json   the checkpoint (gazealign.models.io.load_bundle reads it)
    history.csv                      one row per epoch: losses and accuracies
    metrics.json                     test accuracy, per-class accuracy, counts, best epoch
    confusion.csv                    test confusion matrix (rows: true label, columns: predicted)
    predictions.parquet (+ .csv)     every stimulus: stimulus_id, split, label, predicted, p_<label>
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from gazealign.config.model import ModelSection
from gazealign.errors import DataError
from gazealign.models.architecture import ArchitectureSpec
from gazealign.models.augment import Augmentation
from gazealign.models.bundle import ModelBundle
from gazealign.models.io import load_weights, make_bundle, save_bundle
from gazealign.models.train import TrainConfig, evaluate, fit
from gazealign.models.vggface import VGG
from gazealign.pipeline.artifacts import other, table
from gazealign.pipeline.registry import stage
from gazealign.pipeline.stage import StageContext
from gazealign.pipeline.store import write_json, write_table, write_text
from gazealign.stages.common import CHECKPOINT, stage_device
from gazealign.stimuli.artifacts import read_item, read_stimuli_table
from gazealign.types import LABELS


def train_config(cfg: ModelSection) -> TrainConfig:
    """The :class:`TrainConfig` of a study's ``[model.train]`` table."""
    t = cfg.train
    a = t.augmentation
    aug = (
        Augmentation(
            shift_fraction=a.shift_fraction,
            zoom_fraction=a.zoom_fraction,
            shear_deg=a.shear_deg,
            flip=a.flip,
            brightness=(a.brightness_min, a.brightness_max),
        )
        if t.augment
        else None
    )
    return TrainConfig(
        epochs=t.epochs,
        batch_size=t.batch_size,
        learning_rate=t.learning_rate,
        weight_decay=t.weight_decay,
        patience=t.patience,
        freeze=t.freeze,
        augmentation=aug,
        eval_batch_size=t.eval_batch_size,
        lr_schedule=t.lr_schedule,
        channels_last=t.channels_last,
        bf16=t.bf16,
        feature_copies=t.feature_copies,
    )


def build_bundle(cfg: ModelSection, input_size_px: int, *, seed: int) -> ModelBundle:
    """A freshly initialised network for ``[model]`` (init drawn from ``seed``)."""
    spec = ArchitectureSpec(
        architecture=cfg.architecture,
        num_classes=len(LABELS),
        input_size_px=input_size_px,
        head=cfg.head,
        width=cfg.width if cfg.architecture == "small_vgg" else 1.0,
        dropout=cfg.dropout,
        depth=cfg.depth if cfg.architecture == "small_vgg" else 16,
        batchnorm=cfg.batchnorm and cfg.architecture == "small_vgg",
    )
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)  # CPU only, restored by fork_rng
        return make_bundle(spec, preprocessing=cfg.preprocessing, labels=LABELS)


def fold_batchnorm(bundle: ModelBundle) -> ModelBundle:
    """The bundle with its batch norms folded into the convs (spec updated); others unchanged."""
    model = bundle.model
    if not isinstance(model, VGG) or not model.has_batchnorm:
        return bundle
    model.eval()
    model.fold_batchnorm()
    spec = dict(bundle.metadata["architecture"]) | {"batchnorm": False}
    meta = {**bundle.metadata, "architecture": spec, "trained_with_batchnorm": True}
    return ModelBundle(model, bundle.preprocessing, bundle.input_size_px, bundle.labels, meta)


#: Fewer training images per class than this draws a warning (too few to learn a class from).
MIN_TRAIN_PER_CLASS = 5


def check_training_split(
    ctx: StageContext, train_labels: np.ndarray, counts: dict[str, int], stim_dir: Path
) -> None:
    """Refuse an empty training split; warn on classes without (or with few) training images."""
    if counts["train"] == 0:
        raise DataError(
            f"{stim_dir / 'stimuli.parquet'}: no stimulus in the 'train' split (set "
            "model.train.epochs = 0 to use the network as given)"
        )
    per_class = np.bincount(train_labels, minlength=len(LABELS))
    missing = [lab for lab, n in zip(LABELS, per_class, strict=True) if n == 0]
    if missing:
        ctx.warn(f"no training images of {', '.join(missing)}: the network cannot learn them")
    few = {
        lab: int(n) for lab, n in zip(LABELS, per_class, strict=True) if 0 < n < MIN_TRAIN_PER_CLASS
    }
    if few:
        ctx.warn(
            f"training split too small: fewer than {MIN_TRAIN_PER_CLASS} images of "
            + ", ".join(f"{lab} ({n})" for lab, n in few.items())
        )
    if counts["val"] == 0:
        ctx.warn("no validation images: no early stopping, the last epoch is kept")


def starting_network(ctx: StageContext, size: int) -> tuple[ModelBundle, dict[str, Any] | None]:
    """The network before training: a zoo network, or ``[model]``'s (weights loaded if set)."""
    from gazealign.models import zoo

    cfg = ctx.config.model
    if cfg.architecture in zoo.names():
        net = zoo.get(cfg.architecture)
        if size != net.input_size_px:
            raise DataError(
                f"{ctx.config.source}: keys 'model.architecture', 'stimuli.input_size_px': "
                f"{net.name} takes {net.input_size_px} px inputs, the stimuli are {size} px"
            )
        bundle = zoo.load(net.name)
        record: dict[str, Any] = {
            "zoo": net.name,
            "package": f"{net.package.registry}:{net.package.requirement}",
        }
        ctx.note("pretrained", record)
        return bundle, record
    bundle = build_bundle(cfg, size, seed=ctx.seed("init"))
    if cfg.weights is None:
        if cfg.train.epochs == 0:
            raise DataError(
                f"{ctx.config.source}: key 'model.train.epochs': 0 uses the network as given, "
                "but model.weights is not set and the architecture is not a zoo network"
            )
        return bundle, None
    assert isinstance(bundle.model, VGG)
    path = ctx.config.resolve(cfg.weights)
    layers = cfg.weights_layers
    if cfg.train.epochs == 0 and layers != "all":
        raise DataError(
            f"{ctx.config.source}: keys 'model.train.epochs', 'model.weights_layers': epochs = 0 "
            "uses the network as given, so every layer must come from the file "
            '(weights_layers = "all"; "backbone" leaves fc8 untrained)'
        )
    report = load_weights(bundle.model, path, layers=layers, bgr_to_rgb=cfg.keras_bgr_to_rgb)
    loaded = {"file": path.name, "loaded": len(report.loaded), "skipped": report.skipped}
    ctx.note("pretrained", loaded)
    return bundle, loaded


WRITES = (
    other("model", CHECKPOINT, "file", "the network (safetensors; model.json beside it)"),
    other(
        "history",
        "history.csv",
        "csv",
        "one row per epoch: losses and accuracies",
        {"epoch": "", "train_loss": "", "train_accuracy": "", "val_loss": "", "val_accuracy": ""},
    ),
    other(
        "metrics",
        "metrics.json",
        "json",
        "test accuracy, per-class accuracy, image and identity counts, best epoch",
    ),
    other(
        "confusion",
        "confusion.csv",
        "csv",
        "test confusion counts: one row per true label, one pred_<label> column per prediction",
        {"label": "true label", "pred_<label>": "count predicted as <label>"},
    ),
    table(
        "predictions",
        "every stimulus with the network's prediction",
        {
            "stimulus_id": "",
            "split": "",
            "label": "true label",
            "predicted": "arg-max label",
            "p_<label>": "softmax probability",
        },
    ),
)


@stage(
    "train",
    description="train the network on the identity-disjoint split",
    reads=("study.seed", "study.synthetic", "model", "stimuli.input_size_px"),
    needs=("stimuli",),
    writes=WRITES,
)
def run(ctx: StageContext) -> None:
    cfg = ctx.config.model
    size = ctx.config.stimuli.input_size_px
    stim_dir = ctx.input("stimuli")
    table = read_stimuli_table(stim_dir)
    table = table[table["split"].isin(["train", "val", "test"])].reset_index(drop=True)
    ctx.note("not_in_a_split", int(len(read_stimuli_table(stim_dir)) - len(table)))
    ids = table["stimulus_id"].astype(str).tolist()
    images = (
        np.stack(
            [
                read_item(stim_dir, i).model_image
                for i in ctx.track(ids, total=len(ids), description="load images")
            ]
        )
        if ids
        else np.zeros((0, size, size, 3), np.uint8)
    )
    if images.shape[1:] != (size, size, 3):
        raise DataError(
            f"{stim_dir}: model images are {images.shape[1:]}, expected ({size}, {size}, 3) "
            "(stimuli.input_size_px)"
        )
    labels = np.array([LABELS.index(lab) for lab in table["label"]], dtype=np.int64)
    split = table["split"].to_numpy()
    counts = {s: int((split == s).sum()) for s in ("train", "val", "test")}
    ctx.note("images", counts)
    tconf = train_config(cfg)
    trains = tconf.epochs > 0
    ctx.note("trained", trains)
    if trains:
        check_training_split(ctx, labels[split == "train"], counts, stim_dir)

    bundle, weights_record = starting_network(ctx, size)
    bundle.model.to(stage_device(ctx))
    is_ = {s: split == s for s in ("train", "val", "test")}
    if trains:
        if not isinstance(bundle.model, VGG):
            raise DataError(
                f"{ctx.config.source}: key 'model.train.epochs': the zoo network "
                f"{cfg.architecture!r} is used as given; fine-tuning it is not supported "
                "(set epochs = 0)"
            )
        result = fit(
            bundle,
            images[is_["train"]],
            labels[is_["train"]],
            images[is_["val"]],
            labels[is_["val"]],
            config=tconf,
            seed=ctx.seed("train"),
            track=ctx.track,
        )
        history, best_epoch, stopped_early = result.history, result.best_epoch, result.stopped_early
        ctx.note(
            "training_path",
            {
                "path": "cached_features" if result.feature_copies else "full",
                "feature_copies": result.feature_copies,
                "freeze": tconf.freeze,
                "bf16": result.bf16,
            },
        )
    else:
        history = pd.DataFrame(
            columns=["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy"]
        )
        best_epoch, stopped_early = None, False
    bundle = fold_batchnorm(bundle)
    ev_all = evaluate(bundle, images, labels, batch_size=tconf.eval_batch_size)
    test = is_["test"]
    ev_test = ev_all.subset(test, labels[test])  # the test images' predictions, not rerun

    metrics: dict[str, Any] = {
        "test_accuracy": None if np.isnan(ev_test.accuracy) else ev_test.accuracy,
        # JSON has no NaN: a class without test images has accuracy null
        "test_per_class_accuracy": {
            k: (None if np.isnan(v) else v) for k, v in ev_test.per_class_accuracy.items()
        },
        "train_accuracy": (
            float((ev_all.predicted[is_["train"]] == labels[is_["train"]]).mean())
            if counts["train"]
            else None
        ),
        "val_accuracy": (
            float((ev_all.predicted[is_["val"]] == labels[is_["val"]]).mean())
            if counts["val"]
            else None
        ),
        "images": counts,
        "identities": {
            s: int(table.loc[is_[s], "subject"].nunique()) for s in ("train", "val", "test")
        },
        "trained": trains,
        "best_epoch": best_epoch,
        "epochs_run": len(history),
        "stopped_early": stopped_early,
        "synthetic": ctx.config.study.synthetic,
    }
    bundle = ModelBundle(
        bundle.model,
        bundle.preprocessing,
        bundle.input_size_px,
        bundle.labels,
        {
            **bundle.metadata,
            "training": ctx.config.get("model"),
            "pretrained": weights_record,
            "metrics": metrics,
            "seeds": dict(ctx.seeds),
        },
    )
    save_bundle(bundle, ctx.out_dir / CHECKPOINT)
    write_text(ctx.out_dir / "history.csv", history.to_csv(index=False, lineterminator="\n"))
    write_json(ctx.out_dir / "metrics.json", metrics)
    write_text(
        ctx.out_dir / "confusion.csv",
        ev_test.confusion_table(LABELS).to_csv(index=False, lineterminator="\n"),
    )
    predictions = pd.DataFrame(
        {
            "stimulus_id": pd.array(ids, dtype="string"),
            "split": pd.array(split, dtype="string"),
            "label": pd.array(table["label"].astype(str).tolist(), dtype="string"),
            "predicted": pd.array([LABELS[i] for i in ev_all.predicted], dtype="string"),
        }
    )
    for j, lab in enumerate(LABELS):
        predictions[f"p_{lab}"] = ev_all.probabilities[:, j].astype(np.float64)
    write_table(ctx.out_dir / "predictions.parquet", predictions)
    ctx.note("test_accuracy", ev_test.accuracy)

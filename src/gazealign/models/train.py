"""Training and evaluation: Adam, freezing, augmentation, early stopping, metrics.

Deterministic for a seed: network init, dropout, shuffling and augmentation draw from torch
RNGs seeded inside :func:`torch.random.fork_rng`, so the caller's global RNG state is untouched
and two runs with the same seed, data and thread count give the same weights.

Frozen-backbone fine-tuning can run on cached features (``TrainConfig.feature_copies``): the
frozen leading layers are a fixed function of the image, so their output is computed once per
image (per augmented copy) and the trainable layers train on it, the "fixed feature extractor"
form of transfer learning (Yosinski et al. 2014, "How transferable are features in deep neural
networks?"; Razavian et al. 2014, "CNN features off-the-shelf").
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
import torch.nn.functional as F

from gazealign.config.base import section_default
from gazealign.config.model import TrainSection
from gazealign.models.alignment import AlignmentTargets, alignment_loss, augment_with_maps
from gazealign.models.augment import Augmentation, augment_batch
from gazealign.models.bundle import ModelBundle
from gazealign.models.device import bf16_is_fast, model_device
from gazealign.models.predict import predict
from gazealign.models.vggface import VGG

T = TypeVar("T")
Track = Callable[..., Iterator[Any]]
Freeze = Literal["none", "conv", "all_but_last_block"]


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 20
    batch_size: int = 32
    learning_rate: float = 1e-4
    weight_decay: float = 0.0
    patience: int = 5
    freeze: Freeze = "none"
    augmentation: Augmentation | None = field(default_factory=Augmentation)
    eval_batch_size: int = 64
    lr_schedule: Literal["constant", "cosine", "one_cycle"] = "constant"
    #: Network and batches in channels-last memory format while training (``[model.train]``).
    channels_last: bool = section_default(TrainSection, "channels_last")
    #: bfloat16 autocast of the training steps: true, false or "auto" (``[model.train]``).
    bf16: bool | Literal["auto"] = section_default(TrainSection, "bf16")
    #: 0: the full path; N >= 1: train on cached features of the frozen layers, N augmented
    #: copies per training image (one without augmentation). See ``[model.train]``.
    feature_copies: int = section_default(TrainSection, "feature_copies")


@dataclass
class TrainResult:
    """Per-epoch history (one row per epoch) and the epoch whose weights were kept (1-based).

    ``feature_copies``: feature copies per training image the head trained on (0: full path).
    """

    history: pd.DataFrame
    best_epoch: int
    stopped_early: bool
    feature_copies: int = 0
    #: Whether the training steps ran under bfloat16 autocast (``config.bf16`` resolved).
    bf16: bool = False


def _no_track(iterable: Iterable[T], **_: Any) -> Iterator[T]:
    yield from iterable


def set_trainable(model: VGG, freeze: Freeze) -> list[str]:
    """Freeze layers per ``freeze``; returns the names of the trainable parameters."""
    frozen_layers: set[str] = set()
    if freeze == "conv":
        frozen_layers = set(model.conv_layers)
    elif freeze == "all_but_last_block":
        last_block = model.last_conv.split("_")[0]  # "conv5"
        frozen_layers = {c for c in model.conv_layers if not c.startswith(last_block + "_")}
    elif freeze != "none":
        raise ValueError(f"unknown freeze option {freeze!r}")
    trainable = []
    for name, param in model.named_parameters():
        layer = name.split(".")[0]
        # a batch norm (bn<b>_<i>) belongs to its conv (conv<b>_<i>): frozen with it
        owner = "conv" + layer[2:] if layer.startswith("bn") else layer
        param.requires_grad_(owner not in frozen_layers)
        if param.requires_grad:
            trainable.append(name)
    return trainable


def frozen_prefix(model: VGG) -> int:
    """How many leading layers of ``model.layer_names`` have no trainable parameter.

    After :func:`set_trainable` with ``conv`` this is everything up to fc6 (convs, batch
    norms, ReLUs, pools, flatten); with ``all_but_last_block`` everything up to conv5_1; with
    ``none`` 0. These layers are a fixed function of the input while training.
    """
    for i, name in enumerate(model.layer_names):
        if any(p.requires_grad for p in getattr(model, name).parameters()):
            return i
    return len(model.layer_names)


def _run_layers(model: VGG, names: Sequence[str], x: torch.Tensor) -> torch.Tensor:
    for name in names:
        x = getattr(model, name)(x)
    return x


def _train_mode(model: VGG, prefix: int) -> None:
    """Training mode, except the frozen leading layers: their batch norms stay in eval mode
    (running statistics used and not updated), so frozen means a fixed function."""
    model.train()
    for name in model.layer_names[:prefix]:
        getattr(model, name).eval()


def frozen_features(
    bundle: ModelBundle,
    images: npt.NDArray[np.uint8] | torch.Tensor,
    prefix: int,
    *,
    batch_size: int,
    augmentation: Augmentation | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Output of the first ``prefix`` layers (eval mode, no gradients) for uint8 images.

    ``images``: (N, S, S, 3) uint8 array, or the same as an (N, 3, S, S) tensor. With
    ``augmentation`` each image is augmented once first (draws from ``generator``, in image
    order, ``batch_size`` images at a time). Returns the features on the network's device.
    """
    model = bundle.model
    if not isinstance(model, VGG):
        raise TypeError("frozen_features expects a gazealign VGG network")
    if augmentation is not None and generator is None:
        raise ValueError("augmentation needs a generator")
    x_all = (
        images
        if isinstance(images, torch.Tensor)
        else torch.from_numpy(np.ascontiguousarray(images)).permute(0, 3, 1, 2)
    )
    device = model_device(model)
    names = model.layer_names[:prefix]
    was = {name: getattr(model, name).training for name in names}
    for name in names:
        getattr(model, name).eval()
    out = []
    try:
        with torch.no_grad():
            for start in range(0, len(x_all), batch_size):
                x = x_all[start : start + batch_size].float()
                if augmentation is not None:
                    assert generator is not None
                    x = augment_batch(x, augmentation, generator)
                x = _preprocess_float(bundle, x).to(device)
                out.append(_run_layers(model, names, x))
    finally:
        for name, training in was.items():
            getattr(model, name).train(training)
    return torch.cat(out)


def _head_loss_acc(
    model: VGG, prefix: int, features: torch.Tensor, y: torch.Tensor, batch_size: int
) -> tuple[float, float]:
    """Loss and accuracy of the layers after ``prefix`` on cached features, in eval mode (what
    :func:`_eval_loss_acc` gives for the images the features came from)."""
    if not len(y):
        return float("nan"), float("nan")
    names = model.layer_names[prefix:]
    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            logits = torch.cat(
                [
                    _run_layers(model, names, features[s : s + batch_size]).float().cpu()
                    for s in range(0, len(features), batch_size)
                ]
            )
    finally:
        model.train(was_training)
    return float(F.cross_entropy(logits, y)), float((logits.argmax(1) == y).float().mean())


def lr_scheduler(
    optimiser: torch.optim.Optimizer, config: TrainConfig, steps_per_epoch: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The per-step learning-rate schedule of ``config.lr_schedule`` over all ``epochs``
    (``None``: constant). ``one_cycle``: :class:`torch.optim.lr_scheduler.OneCycleLR` with
    peak ``config.learning_rate`` (torch's defaults otherwise: 30 % warm-up from a 25th of the
    peak, cosine annealing to a 1e4th of the start, Adam's beta1 cycled 0.95 -> 0.85)."""
    total = max(1, config.epochs * steps_per_epoch)
    if config.lr_schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=total)
    if config.lr_schedule == "one_cycle":
        return torch.optim.lr_scheduler.OneCycleLR(
            optimiser, max_lr=config.learning_rate, total_steps=total
        )
    if config.lr_schedule != "constant":
        raise ValueError(f"unknown lr_schedule {config.lr_schedule!r}")
    return None


def _labels_tensor(labels: npt.ArrayLike, n_classes: int) -> torch.Tensor:
    y = torch.as_tensor(np.asarray(labels, dtype=np.int64))
    if y.numel() and (int(y.min()) < 0 or int(y.max()) >= n_classes):
        raise ValueError(
            f"labels must be class indices in [0, {n_classes}), got {y.unique().tolist()}"
        )
    return y


def _eval_loss_acc(
    bundle: ModelBundle, images: npt.NDArray[np.uint8], y: torch.Tensor, batch_size: int
) -> tuple[float, float]:
    logits = torch.from_numpy(predict(bundle, images, batch_size=batch_size))
    loss = float(F.cross_entropy(logits, y)) if len(y) else float("nan")
    acc = float((logits.argmax(1) == y).float().mean()) if len(y) else float("nan")
    return loss, acc


def fit(
    bundle: ModelBundle,
    train_images: npt.NDArray[np.uint8],
    train_labels: npt.ArrayLike,
    val_images: npt.NDArray[np.uint8] | None = None,
    val_labels: npt.ArrayLike | None = None,
    *,
    config: TrainConfig,
    seed: int,
    track: Track = _no_track,
    alignment: AlignmentTargets | None = None,
) -> TrainResult:
    """Train ``bundle.model`` in place on (N, S, S, 3) uint8 images and class indices.

    Each epoch: shuffle, augment (if configured), Adam steps on cross-entropy (learning rate
    per :func:`lr_scheduler`: constant, cosine-annealed to 0 or one-cycle over all
    ``epochs``); then the loss and
    accuracy on the validation images. The kept weights are those of the best validation epoch
    (highest accuracy, then lowest loss); training stops after ``patience`` epochs without a
    better one. Without validation images every epoch is trained and the last one kept.

    With ``alignment`` (human maps of the training images, in their order) the loss is the
    alignment objective of :mod:`gazealign.models.alignment` instead (the maps get the images'
    augmentation); the history then also has ``train_cross_entropy`` and ``train_alignment``.
    With weight 0 it is plain cross-entropy, trained exactly as without ``alignment``.

    Frozen leading layers (``config.freeze``; :func:`frozen_prefix`) run in eval mode on every
    path: their batch norms neither use batch statistics nor update their running ones. With
    ``config.feature_copies`` N >= 1 their output is cached: N augmented copies of every
    training image (one unaugmented copy without augmentation; draws from the seeded generator
    before the first epoch), and the validation images once; epoch e trains the remaining
    layers on copy (e - 1) mod N, with the same shuffling, dropout draws, batches and
    optimiser steps as the full path. Without augmentation the result equals the full path's
    within float rounding. Not with an alignment objective (it needs input gradients).

    With ``config.channels_last`` the network and its batches are in channels-last memory
    format while training (faster convolutions on CPUs); the network is returned in the
    contiguous format either way. With ``config.bf16`` (true, or "auto" on a device with
    native bf16) each step's forward pass runs under :func:`torch.autocast` to bfloat16 (its
    backward follows); the loss, the weights, Adam's state and the validation passes stay in
    float32 (mixed precision: Micikevicius et al. 2018, "Mixed precision training"; bfloat16
    needs no loss scaling, Kalamkar et al. 2019, "A study of BFLOAT16 for deep learning
    training").
    """
    model = bundle.model
    if not isinstance(model, VGG):
        raise TypeError("fit expects a gazealign VGG network")
    n_classes = len(bundle.labels)
    y_train = _labels_tensor(train_labels, n_classes)
    if len(y_train) != len(train_images) or len(y_train) == 0:
        raise ValueError(f"{len(train_images)} training images but {len(y_train)} labels")
    if alignment is not None and len(alignment.has_map) != len(y_train):
        raise ValueError(f"{len(alignment.has_map)} human maps for {len(y_train)} training images")
    has_val = val_images is not None and val_labels is not None and len(val_images) > 0
    y_val = _labels_tensor(val_labels if has_val and val_labels is not None else [], n_classes)
    trainable = set_trainable(model, config.freeze)
    prefix = frozen_prefix(model)
    cached = config.feature_copies > 0
    if cached and prefix == 0:
        raise ValueError(
            f"feature_copies = {config.feature_copies} needs frozen leading layers; "
            f"freeze = {config.freeze!r} freezes none"
        )
    if cached and alignment is not None and alignment.config.weight > 0:
        raise ValueError(
            "feature_copies: cached features cannot train an alignment objective (it needs "
            "gradients with respect to the input); use feature_copies = 0"
        )
    memory_format = torch.channels_last if config.channels_last else torch.contiguous_format
    model.to(memory_format=memory_format)  # before the optimiser: it holds the parameters
    device = model_device(model)
    bf16 = _use_bf16(config.bf16, device, alignment)
    params = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.Adam(params, lr=config.learning_rate, weight_decay=config.weight_decay)
    steps_per_epoch = -(-len(y_train) // config.batch_size)
    schedule = lr_scheduler(optimiser, config, steps_per_epoch)
    x_all = torch.from_numpy(np.ascontiguousarray(train_images)).permute(0, 3, 1, 2)
    # Batches are drawn, augmented and preprocessed on the CPU (the same draws on any device),
    # then moved to the network's device.
    y_dev = y_train.to(device)
    rows: list[dict[str, Any]] = []
    best: tuple[float, float] | None = None  # (accuracy, -loss), larger is better
    best_state: dict[str, torch.Tensor] | None = None
    best_epoch, since_best, stopped_early = config.epochs, 0, False
    cuda = [device.index or 0] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):  # the caller's generators are restored after
        torch.default_generator.manual_seed(seed)
        if cuda:  # dropout on a GPU draws from its generator
            torch.cuda.manual_seed(seed)
        generator = torch.Generator().manual_seed(seed)
        copies: list[torch.Tensor] = []
        val_features: torch.Tensor | None = None
        if cached:
            n_copies = config.feature_copies if config.augmentation is not None else 1
            copies = [
                frozen_features(
                    bundle,
                    x_all,
                    prefix,
                    batch_size=config.eval_batch_size,
                    augmentation=config.augmentation,
                    generator=generator,
                )
                for _ in track(range(n_copies), total=n_copies, description="features")
            ]
            if has_val:
                assert val_images is not None
                val_features = frozen_features(
                    bundle, val_images, prefix, batch_size=config.eval_batch_size
                )
        head = model.layer_names[prefix:]
        for epoch in track(range(1, config.epochs + 1), total=config.epochs, description="train"):
            _train_mode(model, prefix)
            order = torch.randperm(len(y_train), generator=generator)
            total_loss, correct = 0.0, 0
            total_ce, total_align = 0.0, 0.0
            for start in range(0, len(order), config.batch_size):
                idx = order[start : start + config.batch_size]
                if cached:
                    with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                        logits = _run_layers(model, head, copies[(epoch - 1) % len(copies)][idx])
                    loss = F.cross_entropy(logits.float(), y_dev[idx])
                else:
                    x = x_all[idx].float()
                    aligned = alignment is not None and alignment.config.weight > 0
                    maps = alignment.human_maps[idx] if aligned and alignment is not None else None
                    if config.augmentation is not None:
                        if maps is None:
                            x = augment_batch(x, config.augmentation, generator)
                        else:
                            x, maps = augment_with_maps(x, maps, config.augmentation, generator)
                    x = _preprocess_float(bundle, x).to(device)
                    x = x.contiguous(memory_format=memory_format)
                    if maps is not None and alignment is not None:
                        has_map = alignment.has_map[idx].to(device)
                        parts = alignment_loss(
                            model, x, y_dev[idx], maps.to(device), has_map, alignment.config
                        )
                        logits, loss = parts.logits, parts.total
                        total_ce += float(parts.cross_entropy.detach()) * len(idx)
                        total_align += float(parts.alignment.detach()) * len(idx)
                    else:
                        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
                            logits = model(x)
                        loss = F.cross_entropy(logits.float(), y_dev[idx])
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                optimiser.step()
                if schedule is not None:
                    schedule.step()
                total_loss += float(loss.detach()) * len(idx)
                correct += int((logits.detach().argmax(1) == y_dev[idx]).sum())
            row: dict[str, Any] = {
                "epoch": epoch,
                "train_loss": total_loss / len(y_train),
                "train_accuracy": correct / len(y_train),
            }
            if alignment is not None and alignment.config.weight > 0:
                row |= {
                    "train_cross_entropy": total_ce / len(y_train),
                    "train_alignment": total_align / len(y_train),
                }
            if has_val:
                assert val_images is not None
                if val_features is not None:
                    val_loss, val_acc = _head_loss_acc(
                        model, prefix, val_features, y_val, config.eval_batch_size
                    )
                else:
                    val_loss, val_acc = _eval_loss_acc(
                        bundle, val_images, y_val, config.eval_batch_size
                    )
                row |= {"val_loss": val_loss, "val_accuracy": val_acc}
                score = (val_acc, -val_loss)
                if best is None or score > best:
                    best, best_epoch, since_best = score, epoch, 0
                    best_state = copy.deepcopy(model.state_dict())
                else:
                    since_best += 1
            rows.append(row)
            if has_val and since_best >= config.patience:
                stopped_early = True
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    if not has_val:
        best_epoch = len(rows)
    model.to(memory_format=torch.contiguous_format)  # saved and explained as usual
    model.eval()
    history = pd.DataFrame(rows)
    history["trainable_parameters"] = sum(
        p.numel() for n, p in model.named_parameters() if n in trainable
    )
    return TrainResult(history, best_epoch, stopped_early, len(copies) if cached else 0, bf16)


def _use_bf16(
    choice: bool | Literal["auto"], device: torch.device, alignment: AlignmentTargets | None
) -> bool:
    """``TrainConfig.bf16`` resolved for ``device``: "auto" is bf16 where it is native."""
    aligned = alignment is not None and alignment.config.weight > 0
    if choice == "auto":
        return bf16_is_fast(device) and not aligned
    if choice and aligned:
        raise ValueError(
            "bf16 = true cannot train an alignment objective (it differentiates input "
            "gradients); use bf16 = false or 'auto'"
        )
    return bool(choice)


def _preprocess_float(bundle: ModelBundle, x_255: torch.Tensor) -> torch.Tensor:
    """The bundle's preprocessing on (N, 3, H, W) float images in [0, 255]."""
    return bundle.preprocess_float(x_255)


@dataclass(frozen=True)
class Evaluation:
    """Accuracy, per-class accuracy and the confusion matrix (rows true, columns predicted)."""

    accuracy: float
    per_class_accuracy: dict[str, float]
    confusion: npt.NDArray[np.int64]
    probabilities: npt.NDArray[np.float32]
    predicted: npt.NDArray[np.int64]

    def confusion_table(self, labels: Sequence[str]) -> pd.DataFrame:
        table = pd.DataFrame(self.confusion, columns=[f"pred_{lab}" for lab in labels])
        table.insert(0, "label", list(labels))
        return table

    def subset(self, mask: npt.ArrayLike, labels: npt.ArrayLike) -> Evaluation:
        """The evaluation of the images ``mask`` selects (``labels``: their true classes), from
        the predictions already made: the network does not run again."""
        keep = np.asarray(mask, dtype=bool)
        names = list(self.per_class_accuracy)
        return _evaluation(names, labels, self.predicted[keep], self.probabilities[keep])


def _evaluation(
    names: Sequence[str],
    labels: npt.ArrayLike,
    pred: npt.NDArray[np.int64],
    probs: npt.NDArray[np.float32],
) -> Evaluation:
    n_classes = len(names)
    y = np.asarray(labels, dtype=np.int64)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (y, pred), 1)
    per_class = {
        lab: float(confusion[i, i] / confusion[i].sum()) if confusion[i].sum() else float("nan")
        for i, lab in enumerate(names)
    }
    accuracy = float((pred == y).mean()) if len(y) else float("nan")
    return Evaluation(accuracy, per_class, confusion, probs, pred)


def evaluate(
    bundle: ModelBundle,
    images: npt.NDArray[np.uint8],
    labels: npt.ArrayLike,
    *,
    batch_size: int = 64,
    bf16: bool = False,
) -> Evaluation:
    """Accuracy, per-class accuracy (NaN for a class without images) and confusion matrix."""
    logits = predict(bundle, images, batch_size=batch_size, bf16=bf16)
    probs = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    pred = logits.argmax(1).astype(np.int64) if len(logits) else np.zeros(0, np.int64)
    return _evaluation(bundle.labels, labels, pred, probs.astype(np.float32))

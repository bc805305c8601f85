"""Training, evaluation, augmentation, batched prediction and the ``train`` stage."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
import torch

from gazealign.config import study_from_dict
from gazealign.coords import CropResize
from gazealign.models import train as train_module
from gazealign.models.architecture import ArchitectureSpec
from gazealign.models.augment import Augmentation, augment_batch
from gazealign.models.io import load_bundle, make_bundle
from gazealign.models.predict import predict
from gazealign.models.train import TrainConfig, evaluate, fit, lr_scheduler, set_trainable
from gazealign.pipeline.artifacts import problems
from gazealign.pipeline.registry import get_stage
from gazealign.pipeline.stage import StageContext
from gazealign.pipeline.store import read_json, read_table, write_arrays, write_table
from gazealign.stages.common import CHECKPOINT
from gazealign.stimuli.artifacts import AOI_REGIONS, item_arrays
from gazealign.types import LABELS

SIZE = 32


def toy_images(n_per_class: int, seed: int) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]:
    """Class k: a bright square at one of 7 positions on a noisy background (easy to learn)."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for k in range(7):
        for _ in range(n_per_class):
            im = rng.integers(0, 60, (SIZE, SIZE, 3)).astype(np.uint8)
            r, c = 4 + 8 * (k // 3), 4 + 8 * (k % 3)
            im[r : r + 8, c : c + 8] = 230
            images.append(im)
            labels.append(k)
    return np.stack(images), np.array(labels, dtype=np.int64)


def tiny_bundle(seed: int = 0) -> object:
    torch.manual_seed(seed)
    spec = ArchitectureSpec("small_vgg", 7, SIZE, head="thesis", width=1 / 8, dropout=0.0)
    return make_bundle(spec, preprocessing="thesis", labels=LABELS)


def test_augment_is_seeded_and_identity_when_off() -> None:
    x = torch.from_numpy(toy_images(1, 0)[0]).permute(0, 3, 1, 2).float()
    aug = Augmentation()
    a = augment_batch(x, aug, torch.Generator().manual_seed(3))
    b = augment_batch(x, aug, torch.Generator().manual_seed(3))
    c = augment_batch(x, aug, torch.Generator().manual_seed(4))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.shape == x.shape and float(a.min()) >= 0 and float(a.max()) <= 255
    none = Augmentation(
        shift_fraction=0, zoom_fraction=0, shear_deg=0, flip=False, brightness=(1, 1)
    )
    assert torch.allclose(augment_batch(x, none, torch.Generator()), x, atol=1e-3)
    flip_only = Augmentation(
        shift_fraction=0, zoom_fraction=0, shear_deg=0, flip=True, brightness=(1, 1)
    )
    out = augment_batch(x, flip_only, torch.Generator().manual_seed(0))
    for i in range(len(x)):  # each image is either itself or its mirror image
        same, mirrored = (
            torch.allclose(out[i], x[i], atol=1e-3),
            torch.allclose(out[i], x[i].flip(-1), atol=1e-3),
        )
        assert same or mirrored


def test_augment_brightness_scales_pixels() -> None:
    x = torch.full((4, 3, 8, 8), 100.0)
    aug = Augmentation(
        shift_fraction=0, zoom_fraction=0, shear_deg=0, flip=False, brightness=(0.5, 0.5)
    )
    assert torch.allclose(
        augment_batch(x, aug, torch.Generator()), torch.full_like(x, 50.0), atol=1e-3
    )


def test_predict_batched_equals_one_pass_and_bf16_agrees() -> None:
    bundle = tiny_bundle()
    images, _ = toy_images(3, 1)
    whole = predict(bundle, images, batch_size=len(images))  # type: ignore[arg-type]
    for bs in (1, 5):
        np.testing.assert_allclose(
            predict(bundle, images, batch_size=bs), whole, rtol=1e-5, atol=1e-6
        )  # type: ignore[arg-type]
    with torch.no_grad():
        direct = bundle.model.eval()(bundle.preprocess(images)).numpy()  # type: ignore[attr-defined]
    np.testing.assert_allclose(whole, direct, rtol=1e-5, atol=1e-6)
    fast = predict(bundle, images, batch_size=8, bf16=True, channels_last=True)  # type: ignore[arg-type]
    assert fast.dtype == np.float32 and fast.shape == whole.shape
    np.testing.assert_allclose(fast, whole, atol=0.05 * np.abs(whole).max())


def test_freeze_options() -> None:
    model = tiny_bundle().model  # type: ignore[attr-defined]
    assert all(n.startswith("fc") for n in set_trainable(model, "conv"))
    trainable = {n.split(".")[0] for n in set_trainable(model, "all_but_last_block")}
    assert trainable == {"conv5_1", "conv5_2", "conv5_3", "fc6", "fc7", "fc8"}
    assert len(set_trainable(model, "none")) == len(list(model.parameters()))


def test_fit_is_deterministic_for_a_seed() -> None:
    x, y = toy_images(4, 2)
    conf = TrainConfig(
        epochs=2,
        batch_size=8,
        learning_rate=3e-3,
        augmentation=Augmentation(),
        lr_schedule="cosine",
    )
    runs = []
    for _ in range(2):
        bundle = tiny_bundle()
        result = fit(bundle, x, y, x[:7], y[:7], config=conf, seed=5)  # type: ignore[arg-type]
        runs.append((bundle, result))
    (b1, r1), (b2, r2) = runs
    for k, v in b1.model.state_dict().items():  # type: ignore[attr-defined]
        assert torch.equal(v, b2.model.state_dict()[k])  # type: ignore[attr-defined]
    pd.testing.assert_frame_equal(r1.history, r2.history)
    cols = ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy"]
    assert list(r1.history.columns[:5]) == cols


def test_one_cycle_changes_the_learning_rate_every_step() -> None:
    """one_cycle: warm-up from a 25th of learning_rate to learning_rate over the first 30 % of
    the steps, then down to far below the start; constant keeps it."""
    steps_per_epoch, epochs = 5, 4
    rates = {}
    for schedule in ("constant", "one_cycle"):
        param = torch.nn.Parameter(torch.zeros(1))
        optimiser = torch.optim.Adam([param], lr=2e-3)
        conf = TrainConfig(epochs=epochs, learning_rate=2e-3, lr_schedule=schedule)  # type: ignore[arg-type]
        scheduler = lr_scheduler(optimiser, conf, steps_per_epoch)
        seen = []
        for _ in range(epochs * steps_per_epoch):
            seen.append(optimiser.param_groups[0]["lr"])
            optimiser.step()
            if scheduler is not None:
                scheduler.step()
        rates[schedule] = np.array(seen)
    assert np.all(rates["constant"] == 2e-3)
    lr = rates["one_cycle"]
    assert np.all(np.diff(lr) != 0)  # a new rate every step
    assert lr[0] == pytest.approx(2e-3 / 25)
    peak = int(np.argmax(lr))
    assert lr[peak] == pytest.approx(2e-3, rel=1e-3) and peak == round(0.3 * len(lr)) - 1
    assert np.all(np.diff(lr[: peak + 1]) > 0) and np.all(np.diff(lr[peak:]) < 0)
    assert lr[-1] < lr[0] / 10


def test_fit_with_one_cycle_steps_its_schedule_to_the_end() -> None:
    """A whole fit on one_cycle (every step of every epoch), deterministic for a seed, and the
    network comes back in the contiguous memory format after channels-last training."""
    x, y = toy_images(2, 2)
    conf = TrainConfig(
        epochs=3, batch_size=4, learning_rate=2e-3, lr_schedule="one_cycle", patience=3
    )
    states = []
    for _ in range(2):
        bundle = tiny_bundle()
        fit(bundle, x, y, x[:7], y[:7], config=conf, seed=1)  # type: ignore[arg-type]
        model = bundle.model  # type: ignore[attr-defined]
        assert all(p.is_contiguous() for p in model.parameters())
        states.append(model.state_dict())
    for k, v in states[0].items():
        assert torch.equal(v, states[1][k]), k


def test_channels_last_training_agrees_with_the_contiguous_format() -> None:
    """The same steps in either memory format: losses and predictions agree to float rounding
    (Adam's normalised steps carry a rounding difference of a near-zero gradient into a
    weight at up to the learning rate, so weights are compared at that scale)."""
    x, y = toy_images(2, 3)
    conf = TrainConfig(epochs=2, batch_size=4, learning_rate=1e-4, augmentation=None)
    runs = {}
    for channels_last in (False, True):
        bundle = tiny_bundle()
        run = TrainConfig(**{**vars(conf), "channels_last": channels_last})
        result = fit(bundle, x, y, config=run, seed=2)  # type: ignore[arg-type]
        runs[channels_last] = (bundle, result)
    (b0, r0), (b1, r1) = runs[False], runs[True]
    pd.testing.assert_frame_equal(r0.history, r1.history, rtol=1e-4)
    np.testing.assert_allclose(predict(b1, x), predict(b0, x), rtol=1e-3, atol=1e-4)  # type: ignore[arg-type]
    for k, v in b0.model.state_dict().items():  # type: ignore[attr-defined]
        torch.testing.assert_close(b1.model.state_dict()[k], v, rtol=0, atol=2 * 8 * 1e-4, msg=k)  # type: ignore[attr-defined]


def test_bf16_training_is_deterministic_and_near_float32(monkeypatch: pytest.MonkeyPatch) -> None:
    """bf16 autocast steps: the same weights for a seed; losses near float32's (bf16 keeps
    8 mantissa bits: relative rounding 2**-8 per op); the network stays float32; "auto" on a
    device without native bf16 is float32, bit for bit."""
    x, y = toy_images(2, 3)
    conf = TrainConfig(epochs=2, batch_size=4, learning_rate=1e-4, augmentation=None)
    runs = {}
    for name, choice in (("fp32", False), ("bf16", True), ("bf16 again", True)):
        bundle = tiny_bundle()
        result = fit(
            bundle, x, y, x[:7], y[:7], config=TrainConfig(**{**vars(conf), "bf16": choice}), seed=2
        )  # type: ignore[arg-type]
        runs[name] = (bundle, result)
    (b0, r0), (b1, r1), (b2, r2) = runs["fp32"], runs["bf16"], runs["bf16 again"]
    assert (r0.bf16, r1.bf16) == (False, True)
    pd.testing.assert_frame_equal(r1.history, r2.history)
    for k, v in b1.model.state_dict().items():  # type: ignore[attr-defined]
        assert v.dtype == b0.model.state_dict()[k].dtype, k  # type: ignore[attr-defined]
        assert torch.equal(v, b2.model.state_dict()[k]), k  # type: ignore[attr-defined]
    assert not torch.equal(b1.model.fc8.weight, b0.model.fc8.weight)  # type: ignore[attr-defined]
    np.testing.assert_allclose(r1.history["train_loss"], r0.history["train_loss"], rtol=0.02)
    np.testing.assert_allclose(r1.history["val_loss"], r0.history["val_loss"], rtol=0.02)

    monkeypatch.setattr(train_module, "bf16_is_fast", lambda device: False)
    bundle = tiny_bundle()
    result = fit(
        bundle, x, y, x[:7], y[:7], config=TrainConfig(**{**vars(conf), "bf16": "auto"}), seed=2
    )  # type: ignore[arg-type]
    assert result.bf16 is False
    for k, v in bundle.model.state_dict().items():  # type: ignore[attr-defined]
        assert torch.equal(v, b0.model.state_dict()[k]), k  # type: ignore[attr-defined]
    monkeypatch.setattr(train_module, "bf16_is_fast", lambda device: True)
    auto = fit(
        tiny_bundle(),
        x,
        y,
        config=TrainConfig(**{**vars(conf), "epochs": 1, "bf16": "auto"}),
        seed=2,
    )  # type: ignore[arg-type]
    assert auto.bf16 is True


@pytest.mark.slow
def test_fit_learns_and_keeps_the_best_validation_epoch() -> None:
    x, y = toy_images(8, 2)
    xv, yv = toy_images(3, 3)
    xt, yt = toy_images(3, 4)
    # 15 epochs: the net reaches 100 % with 1 or 2 threads (8 epochs left it at 71 % with 1
    # thread, so the outcome depended on the thread count an earlier test had set)
    conf = TrainConfig(epochs=15, batch_size=16, learning_rate=3e-3, patience=15, augmentation=None)
    bundle = tiny_bundle()
    result = fit(bundle, x, y, xv, yv, config=conf, seed=5)  # type: ignore[arg-type]
    history = result.history
    assert history["val_accuracy"].iloc[result.best_epoch - 1] == history["val_accuracy"].max()
    ev = evaluate(bundle, xt, yt)  # type: ignore[arg-type]
    assert ev.accuracy >= 0.9, history
    assert ev.confusion.sum() == len(yt) and np.trace(ev.confusion) == round(ev.accuracy * len(yt))


def test_frozen_layers_do_not_move() -> None:
    x, y = toy_images(2, 2)
    bundle = tiny_bundle()
    before = {k: v.clone() for k, v in bundle.model.state_dict().items()}  # type: ignore[attr-defined]
    fit(bundle, x, y, config=TrainConfig(epochs=1, freeze="conv", augmentation=None), seed=1)  # type: ignore[arg-type]
    after = bundle.model.state_dict()  # type: ignore[attr-defined]
    assert all(torch.equal(before[k], after[k]) for k in before if k.startswith("conv"))
    assert not torch.equal(before["fc8.weight"], after["fc8.weight"])


def test_evaluate_confusion_and_per_class() -> None:
    bundle = tiny_bundle()
    images, labels = toy_images(2, 6)
    ev = evaluate(bundle, images, labels)  # type: ignore[arg-type]
    logits = predict(bundle, images)  # type: ignore[arg-type]
    expected = np.zeros((7, 7), np.int64)
    for t, p in zip(labels, logits.argmax(1), strict=True):
        expected[t, p] += 1
    np.testing.assert_array_equal(ev.confusion, expected)
    for i, lab in enumerate(LABELS):
        assert ev.per_class_accuracy[lab] == expected[i, i] / 2
    np.testing.assert_allclose(ev.probabilities.sum(1), 1.0, rtol=1e-5)


def test_an_evaluation_of_a_subset_is_that_of_its_images() -> None:
    bundle = tiny_bundle()
    images, labels = toy_images(3, 7)
    mask = np.arange(len(labels)) % 3 == 1
    whole = evaluate(bundle, images, labels)  # type: ignore[arg-type]
    part = whole.subset(mask, labels[mask])
    alone = evaluate(bundle, images[mask], labels[mask])  # type: ignore[arg-type]
    assert part.accuracy == alone.accuracy
    assert part.per_class_accuracy == alone.per_class_accuracy
    np.testing.assert_array_equal(part.confusion, alone.confusion)
    np.testing.assert_array_equal(part.predicted, alone.predicted)
    np.testing.assert_allclose(part.probabilities, alone.probabilities, rtol=1e-5, atol=1e-6)


# --- the stage --------------------------------------------------------------------------------


def write_toy_stimuli(stage_dir: Path) -> pd.DataFrame:
    """A finished ``stimuli`` stage folder with toy images: 6 identities, 3 splits."""
    rows = []
    split_of = {0: "train", 1: "train", 2: "train", 3: "val", 4: "test", 5: "held_out"}
    for subject, split in split_of.items():
        images, labels = toy_images(2, 10 + subject)
        for j, (im, lab) in enumerate(zip(images, labels, strict=True)):
            sid = f"S{subject}_{LABELS[lab]}_{j % 2}"
            aois = {r: np.zeros((SIZE, SIZE), bool) for r in AOI_REGIONS}
            write_arrays(
                stage_dir / "items" / f"{sid}.npz",
                item_arrays(im, im, CropResize.identity(SIZE, SIZE), aois),
            )
            rows.append(
                {"stimulus_id": sid, "label": LABELS[lab], "subject": f"S{subject}", "session": "A",
                 "split": split, "source_path": "", "rows": SIZE, "cols": SIZE}
            )  # fmt: skip
    table = pd.DataFrame(rows).astype({"rows": "int64", "cols": "int64"})
    write_table(stage_dir / "stimuli.parquet", table)
    return table


def run_stage(
    tmp_path: Path, name: str, stim_dir: Path, train: dict[str, object] | None = None
) -> Path:
    config = study_from_dict(
        {
            "study": {"seed": 3, "run_dir": "run"},
            "stimuli": {"input_size_px": SIZE},
            "comparison": {"perturbation": {"tile_px": 8}},  # a tile fits the small input
            "model": {
                "architecture": "small_vgg",
                "width": 0.125,
                "dropout": 0.0,
                "train": {"epochs": 3, "batch_size": 8, "learning_rate": 3e-3, "augment": False}
                | (train or {}),
            },
        },
        base_dir=tmp_path,
    )
    out = tmp_path / name
    out.mkdir()
    ctx = StageContext(config, "train", out, {"stimuli": stim_dir})
    get_stage("train").run(ctx)  # type: ignore[misc]
    NOTES[name] = ctx.notes
    return out


#: The notes of each run_stage call, by its name.
NOTES: dict[str, dict[str, object]] = {}


def test_train_stage_writes_its_artifacts_deterministically(tmp_path: Path) -> None:
    stim_dir = tmp_path / "stimuli"
    table = write_toy_stimuli(stim_dir)
    out = run_stage(tmp_path, "a", stim_dir)
    metrics = read_json(out / "metrics.json")
    assert metrics["images"] == {"train": 42, "val": 14, "test": 14}
    assert metrics["identities"] == {"train": 3, "val": 1, "test": 1}
    history = pd.read_csv(out / "history.csv")
    assert 1 <= len(history) <= 3 and metrics["epochs_run"] == len(history)
    confusion = pd.read_csv(out / "confusion.csv")
    assert list(confusion["label"]) == list(LABELS) and confusion.iloc[:, 1:].to_numpy().sum() == 14
    preds = read_table(out / "predictions.parquet")
    assert list(preds.columns) == ["stimulus_id", "split", "label", "predicted"] + [
        f"p_{lab}" for lab in LABELS
    ]
    assert len(preds) == len(table) - 14  # held_out identities are not predicted
    test = preds[preds["split"] == "test"]
    assert metrics["test_accuracy"] == pytest.approx((test["label"] == test["predicted"]).mean())
    assert problems(get_stage("train").writes, out) == []  # it keeps its contract
    # the checkpoint reproduces the predictions
    bundle = load_bundle(out / CHECKPOINT)
    ids = preds["stimulus_id"].tolist()
    from gazealign.stimuli.artifacts import read_item

    images = np.stack([read_item(stim_dir, i).model_image for i in ids])
    probs = torch.softmax(torch.from_numpy(predict(bundle, images)), 1).numpy()
    np.testing.assert_allclose(
        probs, preds[[f"p_{lab}" for lab in LABELS]].to_numpy(), rtol=1e-5, atol=1e-7
    )
    assert bundle.metadata["metrics"]["test_accuracy"] == metrics["test_accuracy"]
    # same seed, same bytes
    again = run_stage(tmp_path, "b", stim_dir)
    for name in (
        "model.safetensors",
        "model.json",
        "history.csv",
        "metrics.json",
        "predictions.parquet",
    ):
        assert (out / name).read_bytes() == (again / name).read_bytes(), name


def test_train_stage_trains_on_the_study_device(tmp_path: Path, fake_cuda: list[str]) -> None:
    stim_dir = tmp_path / "stimuli"
    write_toy_stimuli(stim_dir)
    out = run_stage(tmp_path, "a", stim_dir)
    assert fake_cuda == ["VGG"]
    record = read_json(out / "metrics.json")
    assert record["trained"]


def bn_bundle(seed: int = 0, dropout: float = 0.3) -> object:
    """A tiny small_vgg with batch norm and dropout (both must behave alike on both paths)."""
    torch.manual_seed(seed)
    spec = ArchitectureSpec(
        "small_vgg", 7, SIZE, head="thesis", width=1 / 8, dropout=dropout, depth=11, batchnorm=True
    )
    return make_bundle(spec, preprocessing="thesis", labels=LABELS)


@pytest.mark.parametrize("freeze", ["conv", "all_but_last_block"])
def test_cached_features_equal_the_full_frozen_path(freeze: str) -> None:
    x, y = toy_images(5, 2)
    xv, yv = toy_images(2, 3)
    results = {}
    for copies in (0, 1):
        bundle = bn_bundle()
        before = {k: v.clone() for k, v in bundle.model.state_dict().items()}  # type: ignore[attr-defined]
        conf = TrainConfig(
            epochs=4,
            batch_size=8,
            learning_rate=3e-3,
            patience=10,
            freeze=freeze,  # type: ignore[arg-type]
            augmentation=None,
            eval_batch_size=16,
            lr_schedule="cosine",
            feature_copies=copies,
        )
        result = fit(bundle, x, y, xv, yv, config=conf, seed=5)  # type: ignore[arg-type]
        state = bundle.model.state_dict()  # type: ignore[attr-defined]
        results[copies] = (state, result)
        frozen_block = "conv" if freeze == "conv" else ("conv1", "conv2", "conv3", "conv4")
        for k in before:  # frozen convs and their batch norms (running stats too) do not move
            layer = k.split(".")[0].replace("bn", "conv")
            if layer.startswith(frozen_block):
                assert torch.equal(before[k], state[k]), k
        assert not torch.equal(before["fc8.weight"], state["fc8.weight"])
    (full, r_full), (cached, r_cached) = results[0], results[1]
    assert r_full.feature_copies == 0 and r_cached.feature_copies == 1
    assert r_full.best_epoch == r_cached.best_epoch
    for k, v in full.items():
        torch.testing.assert_close(cached[k], v, rtol=1e-4, atol=1e-5, msg=k)
    pd.testing.assert_frame_equal(r_full.history, r_cached.history, rtol=1e-4)


def test_cached_features_with_augmentation_are_seeded_and_use_every_copy() -> None:
    x, y = toy_images(3, 2)
    conf = TrainConfig(
        epochs=3, batch_size=8, freeze="conv", augmentation=Augmentation(), feature_copies=3
    )
    runs = []
    for seed in (5, 5, 6):
        bundle = tiny_bundle()
        result = fit(bundle, x, y, config=conf, seed=seed)  # type: ignore[arg-type]
        runs.append((bundle.model.state_dict(), result))  # type: ignore[attr-defined]
    (a, ra), (b, _), (c, _) = runs
    assert ra.feature_copies == 3
    assert all(torch.equal(v, b[k]) for k, v in a.items())
    assert not torch.equal(a["fc8.weight"], c["fc8.weight"])
    # the copies differ from each other (augmented once each, in order from one generator)
    model = tiny_bundle().model  # type: ignore[attr-defined]
    set_trainable(model, "conv")
    from gazealign.models.train import frozen_features, frozen_prefix

    prefix = frozen_prefix(model)
    assert model.layer_names[prefix] == "fc6"
    gen = torch.Generator().manual_seed(5)
    bundle = tiny_bundle()
    f1 = frozen_features(
        bundle, x, prefix, batch_size=8, augmentation=Augmentation(), generator=gen
    )  # type: ignore[arg-type]
    f2 = frozen_features(
        bundle, x, prefix, batch_size=8, augmentation=Augmentation(), generator=gen
    )  # type: ignore[arg-type]
    plain = frozen_features(bundle, x, prefix, batch_size=8)  # type: ignore[arg-type]
    assert f1.shape == plain.shape == (len(x), model.fc6.in_features)
    assert not torch.equal(f1, f2) and not torch.equal(f1, plain)


def test_cached_features_need_a_frozen_backbone() -> None:
    x, y = toy_images(1, 2)
    with pytest.raises(ValueError, match="freezes none"):
        fit(tiny_bundle(), x, y, config=TrainConfig(epochs=1, feature_copies=2), seed=1)  # type: ignore[arg-type]
    with pytest.raises(Exception, match="feature_copies = 2 caches"):
        study_from_dict({"model": {"train": {"feature_copies": 2}}})
    study = study_from_dict({"model": {"train": {"feature_copies": 2, "freeze": "conv"}}})
    assert study.model.train.feature_copies == 2
    assert study_from_dict({}).model.train.feature_copies == TrainConfig().feature_copies == 0


def test_train_stage_records_the_cached_features_path(tmp_path: Path, fake_cuda: list[str]) -> None:
    stim_dir = tmp_path / "stimuli"
    write_toy_stimuli(stim_dir)
    out = run_stage(tmp_path, "a", stim_dir, train={"freeze": "conv", "feature_copies": 2})
    assert fake_cuda == ["VGG"]  # on study.device (auto: the fake GPU)
    notes = NOTES["a"]
    assert notes["training_path"] == {
        "path": "cached_features",
        "feature_copies": 1,
        "freeze": "conv",
        "bf16": False,
    }
    full = run_stage(tmp_path, "b", stim_dir, train={"freeze": "conv"})
    assert NOTES["b"]["training_path"]["path"] == "full"  # type: ignore[index]
    # no augmentation in run_stage: both paths give the same network
    a, b = load_bundle(out / CHECKPOINT), load_bundle(full / CHECKPOINT)
    for k, v in a.model.state_dict().items():
        torch.testing.assert_close(v, b.model.state_dict()[k], rtol=1e-4, atol=1e-5)

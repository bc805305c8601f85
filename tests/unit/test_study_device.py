"""``study.device``: resolved the same way for every stage, refused at load when it cannot be
met, recorded by the stages, and never part of a stage's cache key."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from gazealign.cli import main
from gazealign.config import load_study, study_from_dict
from gazealign.demo import DEMO_STUDY
from gazealign.errors import GazeAlignError, StudyFileError
from gazealign.models.device import resolve_device
from gazealign.pipeline import Runner, StageContext
from gazealign.stages import study_stages
from gazealign.stages.common import stage_device


def no_cuda(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)


def test_resolution_without_a_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    no_cuda(monkeypatch)
    assert resolve_device("auto") == torch.device("cpu")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(GazeAlignError, match="no usable CUDA GPU"):
        resolve_device("cuda")
    with pytest.raises(GazeAlignError, match="unknown device 'tpu'"):
        resolve_device("tpu")


def test_resolution_with_a_gpu(fake_cuda: list[str]) -> None:
    assert resolve_device("auto") == torch.device("cuda")
    assert resolve_device("cuda") == torch.device("cuda")
    assert resolve_device("cpu") == torch.device("cpu")


def test_cuda_without_a_gpu_is_refused_at_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    no_cuda(monkeypatch)
    study = tmp_path / "study.toml"
    study.write_text('[study]\ndevice = "cuda"\n', encoding="utf-8")
    with pytest.raises(StudyFileError) as err:
        load_study(study)
    message = str(err.value)
    assert "study.device" in message and "no usable CUDA GPU" in message
    with pytest.raises(SystemExit) as exit_:  # the command line: one message, exit code 2
        main(["status", str(study)])
    assert exit_.value.code == 2
    stderr = capsys.readouterr().err
    assert "no usable CUDA GPU" in stderr and "Traceback" not in stderr
    for ok in ("auto", "cpu"):
        assert study_from_dict({"study": {"device": ok}}).study.device == ok


def test_cuda_is_accepted_where_torch_sees_a_gpu(fake_cuda: list[str]) -> None:
    assert study_from_dict({"study": {"device": "cuda"}}).study.device == "cuda"


def test_the_old_perturbation_key_says_where_it_moved() -> None:
    with pytest.raises(StudyFileError, match=r"moved to the \[study\] table"):
        study_from_dict({"comparison": {"perturbation": {"device": "cpu"}}})


@pytest.mark.parametrize(("setting", "gpu", "expected"), [
    ("auto", False, "cpu"), ("auto", True, "cuda"), ("cpu", True, "cpu"), ("cuda", True, "cuda"),
])  # fmt: skip
def test_a_stage_records_the_device_it_resolved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, setting: str, gpu: bool, expected: str
) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: gpu)
    config = study_from_dict({"study": {"device": setting}}, base_dir=tmp_path)
    ctx = StageContext(config=config, stage="explain", out_dir=tmp_path / "out", inputs={})
    assert stage_device(ctx) == expected
    assert ctx.notes["device"] == expected


def test_the_device_enters_no_stage_key(tmp_path: Path, fake_cuda: list[str]) -> None:
    def keys(device: str) -> dict[str, str]:
        study = {**DEMO_STUDY, "study": {**DEMO_STUDY["study"], "device": device}}
        config = study_from_dict(study, base_dir=tmp_path)
        return Runner(config, study_stages(), versions={}).keys

    cpu = keys("cpu")
    assert keys("cuda") == cpu and keys("auto") == cpu
    # while a key that matters does change them
    other = {**DEMO_STUDY, "study": {**DEMO_STUDY["study"], "seed": 99}}
    assert (
        Runner(study_from_dict(other, base_dir=tmp_path), study_stages(), versions={}).keys["train"]
        != cpu["train"]
    )

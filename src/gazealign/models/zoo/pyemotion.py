"""PyEmotion 1.0.0's expression network (``NetworkV2``), loaded from the package's state dict.

The original (``PyEmotion/networks.py``, MIT licence): four blocks of reflection pad 1, 3x3 conv
(stride 1, 2, 2, 2; 32, 64, 128, 256 channels), batch norm, ReLU; then fc 9216 -> 256, ReLU,
fc 256 -> 7 and a sigmoid. Input 48x48 grey: the face crop converted with OpenCV's BGR2GRAY,
resized to 48x48, ``ToTensor`` (/255) and ``Normalize(0.5, 0.5)`` (preset ``grey_pm1``).
Classes ``{0: Angry, 1: Disgust, 2: Fear, 3: Happy, 4: Sad, 5: Surprise, 6: Neutral}``
(``PyEmotion/main.py``). The final sigmoid is left out: the module returns its input, the
logits that LRP explains (the sigmoid is monotonic, so the predicted class is unchanged).

The weights are ``PyEmotion/model/main_model.pkl`` inside the wheel, a dict whose ``network``
entry is the state dict; it is read with ``torch.load(weights_only=True)`` (tensors only,
nothing in it is executed).
"""

from __future__ import annotations

import pickle
from collections.abc import Mapping
from pathlib import Path

import torch
from torch import nn

from gazealign.errors import DataError
from gazealign.models.zoo.layers import Reorder
from gazealign.models.zoo.registry import Package, PackageFile, ZooNet, register

WEIGHTS = PackageFile(
    "PyEmotion/model/main_model.pkl",
    "d2789940007ee6175130fefd3ed9a523a1afa4475fbdafbf64f2948db6c29537",
)
#: The package's classes in its output order, as gazealign names them.
LABELS_AS = {
    "Angry": "angry",
    "Disgust": "disgusted",
    "Fear": "afraid",
    "Happy": "happy",
    "Sad": "sad",
    "Surprise": "surprised",
    "Neutral": "neutral",
}


def _block(channels_in: int, channels_out: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ReflectionPad2d(1),
        nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=0),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(),
    )


class PyEmotionNet(nn.Module):
    """``NetworkV2(in_c=1, nl=32, out_f=7)`` without its sigmoid; logits in gazealign's order.

    Submodule names equal the original's, so the package's state dict loads key for key.
    """

    def __init__(self, order: list[int]) -> None:
        super().__init__()
        self.conv_1 = _block(1, 32, 1)
        self.conv_2 = _block(32, 64, 2)
        self.conv_3 = _block(64, 128, 2)
        self.conv_4 = _block(128, 256, 2)
        self.linear = nn.Sequential(nn.Linear(256 * 6 * 6, 256), nn.ReLU(), nn.Linear(256, 7))
        self.reorder = Reorder(order)

    def forward_original(self, x: torch.Tensor) -> torch.Tensor:
        """Logits in the package's class order."""
        x = self.conv_4(self.conv_3(self.conv_2(self.conv_1(x))))
        return self.linear(x.reshape(x.shape[0], -1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.reorder(self.forward_original(x))


def read(paths: Mapping[str, Path]) -> dict[str, torch.Tensor]:
    path = paths[WEIGHTS.member]
    try:
        record = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError) as exc:
        raise DataError(f"{path}: not PyEmotion's state dict ({exc})") from None
    if not isinstance(record, Mapping) or not isinstance(record.get("network"), Mapping):
        raise DataError(f"{path}: expected a dict with a 'network' state dict")
    return {str(k): v for k, v in record["network"].items()}


NET = register(
    ZooNet(
        name="pyemotion",
        description="PyEmotion 1.0.0: plain CNN, 4 conv blocks with batch norm, 48x48 grey",
        package=Package(
            registry="pypi",
            name="PyEmotion",
            version="1.0.0",
            archive="PyEmotion-1.0.0-py3-none-any.whl",
            sha256="a916d66b40d95e63ad898bac290818b15d8da8ba521f80131d35e6c2aa2fa2a0",
            license="MIT",
        ),
        files=(WEIGHTS,),
        input_size_px=48,
        preprocessing="grey_pm1",
        labels_as=LABELS_AS,
        module=PyEmotionNet,
        read=read,
        layers="4 x (reflection pad, conv 3x3, batch norm, ReLU), fc 256, fc 7",
        reference="PyEmotion (Karthick Nagarajan), https://github.com/karthicknagarajan/PyEmotion",
    )
)

"""LRP (zennit) images per second next to a plain forward + backward pass on the same network.

Usage::

    python benchmarks/lrp_throughput.py                       # small VGG (width 0.25, 64 px)
    python benchmarks/lrp_throughput.py --width 1 --size 224  # VGG16 at 224 px (slow on CPU)

Each configuration is timed ``--repeats`` times, interleaved (so a busy machine slows all of
them alike), after one warm-up; the median is reported. The plain pass is forward, then
``backward()`` of the target logit (input and weight gradients); "forward + input gradient"
is the same without the weight gradients (what captum's gradient methods compute). Each
composite runs twice: ``zennit`` (its Gradient attributor: rule hooks + modified backward, the
reference) and ``auto`` (the fused pass of :mod:`gazealign.explain.lrp_fused` where it applies,
zennit elsewhere; the engine that ran is printed). The last table gives, per composite, the
largest difference between the two paths' maps over the batch, relative to each map's largest
absolute value.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from gazealign.explain import ExplainOptions, explain
from gazealign.explain.lrp import COMPOSITES, composite_relevance, make_composite
from gazealign.models.bundle import ModelBundle
from gazealign.models.small import small_vgg
from gazealign.types import LABELS


def plain(model: torch.nn.Module, x: torch.Tensor, targets: torch.Tensor) -> None:
    x = x.detach().requires_grad_(True)
    out = model(x)
    out.gather(1, targets.view(-1, 1)).sum().backward()


def input_gradient(model: torch.nn.Module, x: torch.Tensor, targets: torch.Tensor) -> None:
    x = x.detach().requires_grad_(True)
    torch.autograd.grad(model(x).gather(1, targets.view(-1, 1)).sum(), x)


def lrp_maps(
    name: str, bundle: ModelBundle, engine: str, x: torch.Tensor, targets: torch.Tensor
) -> tuple[torch.Tensor, dict[str, str]]:
    options = ExplainOptions()
    bounds = bundle.input_bounds()
    composite, _ = make_composite(name, options, bounds, bundle.model)
    _, relevance, record = composite_relevance(
        bundle.model, x, targets, composite, options, bounds, engine=engine
    )
    return relevance, record


def lrp(
    name: str, bundle: ModelBundle, engine: str
) -> Callable[[torch.nn.Module, torch.Tensor, torch.Tensor], None]:
    def run(model: torch.nn.Module, x: torch.Tensor, targets: torch.Tensor) -> None:
        lrp_maps(name, bundle, engine, x, targets)

    return run


def end_to_end(
    bundle: ModelBundle,
) -> Callable[[torch.nn.Module, torch.Tensor, torch.Tensor], None]:
    """``explain()`` as the stage calls it: preprocessing, a no-grad forward for the logits and
    targets, LRP, channel sum and sign policy (input: uint8 images)."""

    def run(model: torch.nn.Module, x: torch.Tensor, targets: torch.Tensor) -> None:
        images = x.clamp(-128, 127).add(128).to(torch.uint8).permute(0, 2, 3, 1).numpy()
        explain(bundle, images, method="lrp_epsilon_plus_flat", target=targets.numpy(),
                batch_size=len(images))  # fmt: skip

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--width", type=float, default=0.25, help="width multiplier (1 = VGG16)")
    ap.add_argument("--size", type=int, default=64, help="input size, px")
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 16])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = small_vgg(len(LABELS), width=args.width, input_size_px=args.size).eval()
    bundle = ModelBundle(model, "vggface", args.size)
    methods: dict[str, Callable[[torch.nn.Module, torch.Tensor, torch.Tensor], None]] = {
        "forward+backward": plain,
        "forward + input gradient": input_gradient,
    }
    for n in COMPOSITES:
        methods[f"lrp_{n} zennit"] = lrp(n, bundle, "zennit")
        methods[f"lrp_{n} auto"] = lrp(n, bundle, "auto")
    methods["explain() lrp_epsilon_plus_flat, end to end"] = end_to_end(bundle)
    print(
        f"net: small_vgg width {args.width}, {args.size} px, float32, CPU threads {args.threads}, "
        f"torch {torch.__version__}"
    )
    print("| batch | method | images/s | cost vs forward+backward |")
    print("|---|---|---|---|")
    for batch in args.batches:
        x = torch.randn(batch, 3, args.size, args.size) * 60
        targets = torch.arange(batch) % len(LABELS)
        times: dict[str, list[float]] = {m: [] for m in methods}
        for fn in methods.values():  # warm-up
            fn(model, x, targets)
        for _ in range(args.repeats):
            for name, fn in methods.items():
                t0 = time.perf_counter()
                fn(model, x, targets)
                times[name].append(time.perf_counter() - t0)
        base = statistics.median(times["forward+backward"])
        for name in methods:
            t = statistics.median(times[name])
            print(f"| {batch} | {name} | {batch / t:.1f} | {t / base:.2f}x |")
    x = torch.randn(max(args.batches), 3, args.size, args.size) * 60
    targets = torch.arange(len(x)) % len(LABELS)
    print()
    print(
        f"| composite | engine (auto) | max rel. map difference, auto vs zennit (batch {len(x)}) |"
    )
    print("|---|---|---|")
    for n in COMPOSITES:
        reference, _ = lrp_maps(n, bundle, "zennit", x, targets)
        fast, record = lrp_maps(n, bundle, "auto", x, targets)
        scale = reference.abs().flatten(1).amax(dim=1)
        diff = ((fast - reference).abs().flatten(1).amax(dim=1) / scale).max()
        print(f"| {n} | {record['engine']} | {float(diff):.1e} |")


if __name__ == "__main__":
    main()

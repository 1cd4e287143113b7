"""Speed of ``inkstroke.write`` with the shipped model: a 60-character line and a
one-page letter of about 1,500 characters (targets: 1 s and 30 s on 2 cores),
then where the line's time goes: decoding every draw, and the two readers'
scores, all in this one process (``write`` shares them out between
``INKSTROKE_WORKERS`` processes, default two: see ``default_workers``).

    python benchmarks/write_speed.py [--threads 2] [--model RUN] [--candidates N]
    INKSTROKE_WORKERS=1 python benchmarks/write_speed.py   # all in one process
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from inkstroke.write.api import (
    DEFAULT_CANDIDATES,
    IMAGE_READER_WEIGHT,
    SEPARATE_LETTERS_BONUS,
    _acceptable,
    _trim,
    candidate_pool,
    contender_scores,
    default_guidance,
    default_temperature,
    default_workers,
    letters_apart,
    load_generator,
    write,
)

LINE = "Pack my box with five dozen liquor jugs, said the old sailor"  # 60 characters
LETTER = (
    "Dear Margaret,\n"
    "Thank you for your kind letter, which reached me on a grey Tuesday morning and cheered the whole "
    "house. The garden has finally woken up after the long winter: the apple trees are in blossom, the "
    "beans are climbing their poles, and the old cat sleeps all afternoon in the warm corner by the shed. "
    "We walked to the harbour on Sunday and watched the fishing boats come in, gulls shrieking above "
    "them, while the children counted the crates of mackerel and argued about the names of the boats. "
    "Father is well, though he complains that his knee tells him about the weather two days before the "
    "radio does. He has started writing his memoirs in a blue notebook and reads us a page every evening; "
    "the chapter about his first job at the printing works made us laugh until we cried. I have taken up "
    "drawing again, mostly birds and boats, and I am slowly learning to be patient with watercolours. "
    "Do you still play the piano? I remember the summer you tried to teach me a duet and we gave up after "
    "three bars because neither of us could stop giggling. Please write soon and tell me everything about "
    "the new flat, the city, your work and the friends you have made. We all send our love, and the cat "
    "sends a slow blink of approval. Next month we hope to visit Aunt Ruth by the lake, if the old car "
    "survives the hills; she has promised us fresh bread, long walks and far too many stories about our "
    "grandmother, and we shall bring her the blue jug she admired at Easter.\n"
    "With warm wishes,\nAnna"
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default=None)
    ap.add_argument("--candidates", type=int, default=None, help="draws per word (default: write's)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    print(f"this machine: {calibrate():.0f} GFLOP/s on the decoder's largest matmul (192 x 128 x 512, "
          f"fp32); compare machines by it")
    t0 = time.perf_counter()
    load_generator(args.model)
    print(f"model load: {time.perf_counter() - t0:.2f} s (once per process); torch threads {args.threads}; "
          f"processes {default_workers()}")
    assert len(LINE) == 60, len(LINE)
    kw = {} if args.candidates is None else {"candidates": args.candidates}
    write("warm up", model=args.model, **kw)
    print(f"candidates per word: {write('x', model=args.model, **kw).settings['candidates']}")
    # the line over seven seeds: on a shared 2-core machine one run can be a fifth slower than the next
    for name, text, seeds in (("60-character line", LINE, 7), (f"{len(LETTER)}-character letter", LETTER, 3)):
        times = []
        for seed in range(seeds):
            t0 = time.perf_counter()
            doc = write(text, model=args.model, seed=seed, **kw)
            times.append(time.perf_counter() - t0)
        print(f"{name}: median {sorted(times)[seeds // 2]:.2f} s over {seeds} seeds "
              f"(min {min(times):.2f}, max {max(times):.2f}); {len(doc.pages)} page(s)")
    parts(args.model, args.candidates or DEFAULT_CANDIDATES)


def calibrate() -> float:
    """Speed of the matmul that dominates decoding (a full batch of rows through
    an MLP layer), best of 20 runs of 50: a yardstick for the figures above,
    which move with the machine (a factor of two between the VMs measured)."""
    a, w = torch.randn(192, 128), torch.randn(512, 128)
    best = float("inf")
    with torch.inference_mode():
        for _ in range(20):
            t0 = time.perf_counter()
            for _ in range(50):
                torch.nn.functional.linear(a, w)
            best = min(best, (time.perf_counter() - t0) / 50)
    return 2 * 192 * 128 * 512 / best / 1e9


def parts(model: str | None, n: int) -> None:
    """The line's stages, timed one by one as ``write`` runs them (fastest of 3
    seeds): the image reader reads every draw, the stroke recogniser (motion
    tokens included) only the draws that can still win."""
    from inkstroke.recognize.api import load_recognizer_cached
    from inkstroke.recognize.image import load_image_reader_cached

    gen, rec, reader = load_generator(model), load_recognizer_cached(None), load_image_reader_cached()
    asked = [w for w in LINE.split() for _ in range(n)]
    best: dict[str, float] = {}
    per_step = float("inf")
    for seed in range(3):
        t = [time.perf_counter()]
        inks = gen.generate(asked, temperature=default_temperature(gen), guidance=default_guidance(gen), seed=seed)
        t.append(time.perf_counter())
        steps = max(ink.num_points for ink in inks)  # about the decoding steps: a point a step
        per_step = min(per_step, (t[1] - t[0]) / steps)
        widths = [gen.text_tok.expected_width(w) for w in asked]
        ok = np.array([_acceptable(ink, w) for ink, w in zip(inks, widths)])
        inks = [_trim(ink, w) for ink, w in zip(inks, widths)]
        c = candidate_pool(inks, LINE.split(), n, ok)
        image = IMAGE_READER_WEIGHT * reader.score(c.inks, c.texts)
        t.append(time.perf_counter())
        bonus = SEPARATE_LETTERS_BONUS * letters_apart(c.inks, c.texts)
        contender_scores(rec, c.inks, c.texts, image, bonus, c.ok, c.groups)
        t.append(time.perf_counter())
        for k, name in enumerate(("decoding", "image reader", "stroke recogniser")):
            best[name] = min(best.get(name, float("inf")), t[k + 1] - t[k])
    print(f"the line's {len(asked)} draws: " + ", ".join(f"{k} {v:.2f} s" for k, v in best.items())
          + f"; decoding {per_step * 1e3:.1f} ms a step")


if __name__ == "__main__":
    main()

"""Looking inside: cross-attention heatmaps (stroke step × character)."""

from __future__ import annotations

import numpy as np
import torch

from inkstroke.sample.generate import Generator


@torch.no_grad()
def attention_maps(gen: Generator, text: str, **options) -> tuple[np.ndarray, str]:
    """Cross-attention weights (layers, heads, steps, characters) of a sample of
    ``text``, re-run teacher-forced; the null slot is dropped."""
    ink = gen.generate([text], **options)[0]
    text = gen.check_text(text)
    tokens = gen.stroke_tok.encode(ink, prepared=True)
    m = gen.model
    from inkstroke.train.data import char_positions

    ids = gen.text_tok.encode(text)
    chars = torch.as_tensor(ids)[None]
    char_x = torch.as_tensor(char_positions(gen.text_tok, ids, None))[None]
    memory, mmask = m.encode(chars, char_x, torch.ones_like(chars, dtype=torch.bool))
    t = torch.as_tensor(tokens)
    d = torch.stack([gen.centers[t[:, 0], 0], gen.centers[t[:, 1], 1]], -1)
    continuous = m.cfg.head == "mdn"
    rows = torch.cat([d, t[:, 2:].float()], -1) if continuous else t.float()
    prev = torch.cat([torch.zeros(1, 3), rows])[None]
    pos = torch.cat([torch.zeros(1, 2), d.cumsum(0)])[None]
    text_t = (chars, char_x, torch.ones_like(chars, dtype=torch.bool))
    _, weights = m.decode(m.embed_steps(prev, pos, text=text_t), memory, mmask, want_weights=True)
    w = torch.stack([x[0] for x in weights]).numpy()  # (layers, heads, T, 1 + L)
    return w[..., 1:], text


def attention_figure(weights: np.ndarray, text: str):
    """A matplotlib figure of ``weights`` from :func:`attention_maps`: one
    heatmap per layer and head, each titled with its diagonality."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    layers, heads = weights.shape[:2]
    rho = head_diagonality(weights)
    fig, axes = plt.subplots(layers, heads, figsize=(2.2 * heads + 1, 1.8 * layers + 0.6), squeeze=False)
    for i in range(layers):
        for j in range(heads):
            ax = axes[i][j]
            ax.imshow(weights[i, j].T, aspect="auto", origin="lower", cmap="magma", interpolation="nearest")
            ax.set_yticks(range(len(text)))
            ax.set_yticklabels(list(text), fontsize=6)
            ax.set_xticks([])
            ax.set_title(f"layer {i} head {j}  ρ {rho[i, j]:.2f}", fontsize=7)
    fig.supxlabel("stroke step")
    fig.supylabel("character")
    fig.tight_layout()
    return fig


def _spearman(w: np.ndarray) -> float:
    from scipy.stats import spearmanr

    if w.shape[1] < 2 or w.shape[0] < 3 or np.ptp(w.argmax(1)) == 0:
        return float("nan")  # too short, or stuck on one character: no order to measure
    return float(spearmanr(np.arange(w.shape[0]), w.argmax(1)).statistic)


def diagonality(weights: np.ndarray) -> float:
    """How monotonic the attention is: the Spearman correlation between the step
    index and the attended character (argmax of the head-averaged last layer).

    Averaging heads hides a diagonal that one head carries while the others
    look elsewhere (at a word's start, at the next space): see
    :func:`head_diagonality`."""
    return _spearman(weights[-1].mean(0))


def head_diagonality(weights: np.ndarray) -> np.ndarray:
    """(layers, heads) Spearman correlation between step and attended character, per head."""
    return np.array([[_spearman(head) for head in layer] for layer in weights])

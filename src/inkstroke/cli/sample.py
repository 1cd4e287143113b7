"""``inkstroke sample`` and ``inkstroke attention``: a checkpoint's raw output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import typer

from inkstroke.errors import InkstrokeError


def sample(
    checkpoint: Path = typer.Option(..., "--checkpoint", help="Run folder of inkstroke train."),
    text: list[str] = typer.Option(..., "--text", help="Text to write; repeat for a batch."),
    output: Path = typer.Option(..., "-o", help="svg, png, gif, json, inkml (a batch adds -N)."),
    temperature: float = typer.Option(0.8, "--temperature"),
    top_k: int | None = typer.Option(None, "--top-k"),
    top_p: float | None = typer.Option(None, "--top-p"),
    bias: float = typer.Option(0.0, "--bias"),
    guidance: float = typer.Option(0.0, "--guidance", help="Classifier-free guidance: >0 follows the text more closely."),
    seed: int = typer.Option(0, "--seed"),
    prime: Path | None = typer.Option(None, "--prime", help="Ink (json/inkml) whose style to continue; needs --prime-text."),
    prime_text: str | None = typer.Option(None, "--prime-text"),
) -> None:
    """Sample raw lines from a checkpoint (no layout)."""
    from inkstroke.io import read_ink
    from inkstroke.render import save_ink
    from inkstroke.sample.generate import Generator

    gen = Generator.from_checkpoint(checkpoint)
    primer = None
    if prime is None and prime_text is not None:
        raise InkstrokeError("--prime-text says what the --prime ink says; give --prime too")
    if prime is not None:
        if not prime_text:
            raise InkstrokeError("--prime needs --prime-text (what the priming ink says)")
        primer = (read_ink(prime), prime_text)
    inks = gen.generate(text, prime=primer, temperature=temperature, top_k=top_k, top_p=top_p,
                        bias=bias, seed=seed, guidance=guidance)
    for k, ink in enumerate(inks):
        path = output if len(inks) == 1 else output.with_name(f"{output.stem}-{k + 1}{output.suffix}")
        save_ink(ink, path)
        typer.echo(f"wrote {path}")


def attention(
    checkpoint: Path = typer.Option(..., "--checkpoint"),
    text: str = typer.Option(..., "--text"),
    output: Path = typer.Option(..., "-o", help="PNG heatmap: stroke step x character, per layer and head."),
    seed: int = typer.Option(0, "--seed"),
    temperature: float = typer.Option(0.6, "--temperature"),
) -> None:
    """Plot the cross-attention of a sample of TEXT."""
    from inkstroke.io.container import atomic_write_bytes, check_output_path
    from inkstroke.sample.generate import Generator
    from inkstroke.sample.inspect import (
        attention_figure,
        attention_maps,
        diagonality,
        head_diagonality,
    )

    check_output_path(output, (".png",))
    gen = Generator.from_checkpoint(checkpoint)
    w, text = attention_maps(gen, text, seed=seed, temperature=temperature)
    fig = attention_figure(w, text)
    atomic_write_bytes(output, lambda f: fig.savefig(f, format="png", dpi=110))
    rho = head_diagonality(w)
    typer.echo(f"wrote {output}; diagonality (Spearman of step and attended character):")
    for i, row in enumerate(rho):
        typer.echo(f"  layer {i}: " + "  ".join(f"head {j} {r:+.2f}" for j, r in enumerate(row)))
    typer.echo(f"  last layer, heads averaged {diagonality(w):+.3f}")
    if not np.isnan(rho).all():
        i, j = np.unravel_index(np.nanargmax(rho), rho.shape)
        typer.echo(f"  most diagonal: layer {i} head {j} ({rho[i, j]:+.3f})")
    else:
        typer.echo("  no head moves through the characters (nan: the sample is too short or stuck on one)")

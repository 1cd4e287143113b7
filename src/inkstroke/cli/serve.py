"""``inkstroke serve``: the studio, a local web app (see docs/studio.md)."""

from __future__ import annotations

import os
from pathlib import Path

import typer

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "inkstroke" / "studio"


def serve(
    host: str = typer.Option(
        "127.0.0.1", "--host", help="Address to listen on; the default reaches this computer only."
    ),
    port: int = typer.Option(8000, "--port", help="TCP port."),
    data: Path | None = typer.Option(
        None,
        "--data",
        help="Folder of the sample database (default: ~/.local/share/inkstroke/studio).",
        show_default=False,
    ),
    model: Path | None = typer.Option(
        None, "--model", help="A checkpoint of inkstroke train instead of the shipped model."
    ),
    max_text: int = typer.Option(200, "--max-text", help="Characters per live line or sample."),
    max_page_text: int = typer.Option(
        2000, "--max-page-text", help="Characters per laid-out document."
    ),
    max_generations: int = typer.Option(
        8, "--max-generations", help="Generations running at once; more get HTTP 429."
    ),
    max_body: int = typer.Option(
        2_000_000, "--max-body", help="Bytes per request body; more get HTTP 413."
    ),
    stream_timeout: float = typer.Option(
        60.0, "--stream-timeout", help="Seconds one live stream may run."
    ),
    hanzi_data: str | None = typer.Option(
        None,
        "--hanzi-data",
        help="hanzi-writer-data folder or .tgz for Chinese mode (default: the cached npm package).",
    ),
) -> None:
    """Run the studio: type and watch it written live, or collect your own handwriting."""
    import uvicorn

    from inkstroke.errors import InkstrokeError
    from inkstroke.studio.app import StudioConfig, create_app

    for name, value in (
        ("--max-text", max_text),
        ("--max-page-text", max_page_text),
        ("--max-generations", max_generations),
        ("--max-body", max_body),
        ("--stream-timeout", stream_timeout),
    ):
        if value <= 0:
            raise InkstrokeError(f"{name} must be positive, got {value}")
    if model is not None and not model.exists():
        raise InkstrokeError(f"{model}: no such checkpoint")
    local = host in LOOPBACK
    cfg = StudioConfig(
        data=data or default_data_dir(),
        model=model,
        max_text=max_text,
        max_page_text=max_page_text,
        max_generations=max_generations,
        max_body=max_body,
        stream_timeout=stream_timeout,
        hanzi_source=hanzi_data,
        # on loopback, refuse other Host names: a web page cannot rebind a name to this server
        allowed_hosts=["127.0.0.1", "localhost", "[::1]", "::1"] if local else ["*"],
    )
    app = create_app(cfg)
    studio = app.state.studio
    if studio.model_error:
        typer.echo(f"warning: {studio.model_error}; only Chinese and collect modes work", err=True)
    if not local:
        typer.echo(
            f"warning: listening on {host}: anyone who can reach it can use the studio", err=True
        )
    typer.echo(f"samples in {studio.store.path}")
    typer.echo(f"open http://{'[' + host + ']' if ':' in host else host}:{port}/")
    uvicorn.run(app, host=host, port=port, log_level="warning")

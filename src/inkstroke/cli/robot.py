"""``inkstroke robot``: G-code, plotter SVG and arm trajectories, and a simulated arm.

INK is a JSON or InkML ink, ``DATASET.inks:INDEX``, or a brush trajectory JSON
from the calligraphy engine. Everything is checked (fit on the paper, speeds,
reach) before a file is written; a problem is one line on stderr and exit 2.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

app = typer.Typer(
    help="Plotter G-code and SVG, robot-arm trajectories, simulated writing.", no_args_is_help=True
)

INK_HELP = "A .json or .inkml ink, DATASET.inks:INDEX, or a brush trajectory .json."
PAPER = typer.Option("A4", "--paper", help="A2-A6, letter, legal, or WIDTHxHEIGHT in mm.")
ORIENTATION = typer.Option("portrait", "--orientation", help="portrait or landscape.")
MARGIN = typer.Option(10.0, "--margin", help="Margin on every side, mm.")
SCALE = typer.Option(None, "--scale", help="mm per ink unit (default: fill the printable area).")
HEIGHT = typer.Option(None, "--height", help="Height of the ink on paper, mm (instead of --scale).")
ALIGN = typer.Option("center", "--align", help="center or top-left of the printable area.")
OPTIMIZE = typer.Option(
    None,
    "--optimize/--keep-order",
    help="Reorder (and reverse) strokes for short travel. Default: yes for plotters, no for arms and brushes.",
)


def _placed(
    ink: str, paper: str, orientation: str, margin: float, scale, height, align, origin=(0.0, 0.0)
):
    from inkstroke.robot.brush import read_motion
    from inkstroke.robot.frame import Paper, place

    sheet = Paper.parse(paper, orientation=orientation, margin_mm=margin, origin_mm=origin)
    return place(read_motion(ink), sheet, scale=scale, height_mm=height, align=align), sheet


def _ordered(ink, start, optimize):
    from inkstroke.robot.order import plan_order

    ordered, before, after = plan_order(ink, start, optimize)
    if after < before:
        typer.echo(f"pen-up travel {before:.1f} mm -> {after:.1f} mm after reordering strokes")
    else:
        typer.echo(f"pen-up travel {before:.1f} mm (stroke order kept)")
    return ordered


GCODE_SUFFIXES = (".gcode", ".nc", ".ngc", ".gc", ".g")
WAYPOINT_SUFFIXES = (".csv", ".json")


def _write_text(path: Path, text: str) -> None:
    from inkstroke.io.container import atomic_write_bytes

    data = text.encode("utf-8")
    atomic_write_bytes(path, lambda f: f.write(data))


@app.command()
def gcode(
    ink: str = typer.Argument(..., help=INK_HELP),
    output: Path = typer.Option(..., "-o", "--output", help="G-code file to write."),
    profile: str = typer.Option(
        "grbl-servo",
        "--profile",
        help="Shipped plotter profile (grbl-servo, grbl-z) or a JSON file.",
    ),
    feed: float | None = typer.Option(
        None, "--feed", help="Drawing feed rate, mm/min (default: the profile's)."
    ),
    paper: str = PAPER,
    orientation: str = ORIENTATION,
    margin: float = MARGIN,
    scale: float | None = SCALE,
    height: float | None = HEIGHT,
    align: str = ALIGN,
    offset: tuple[float, float] = typer.Option(
        (0.0, 0.0), "--offset", help="Paper's bottom-left corner on the bed, mm."
    ),
    optimize: bool | None = OPTIMIZE,
) -> None:
    """G-code for a GRBL pen plotter: G21/G90, G0/G1 with feeds, pen by servo or Z."""
    from inkstroke.io.container import check_output_path
    from inkstroke.robot.gcode import PlotterProfile, to_gcode

    check_output_path(output, GCODE_SUFFIXES)
    machine = PlotterProfile.load(profile)
    placed, sheet = _placed(ink, paper, orientation, margin, scale, height, align, offset)
    placed = _ordered(placed, (-offset[0], -offset[1]), optimize)
    _write_text(output, to_gcode(placed, sheet, machine, feed))
    typer.echo(
        f"wrote {output}: {len(placed.strokes)} strokes on {sheet.describe()}, profile {machine.name}"
    )


@app.command()
def svg(
    ink: str = typer.Argument(..., help=INK_HELP),
    output: Path = typer.Option(
        ..., "-o", "--output", help="SVG file to write (mm units, for vpype/AxiDraw)."
    ),
    pen_width: float = typer.Option(0.3, "--pen-width", help="Pen width, mm."),
    paper: str = PAPER,
    orientation: str = ORIENTATION,
    margin: float = MARGIN,
    scale: float | None = SCALE,
    height: float | None = HEIGHT,
    align: str = ALIGN,
    optimize: bool | None = OPTIMIZE,
) -> None:
    """Plotter SVG in millimetres: one polyline per stroke in one layer."""
    from inkstroke.io.container import check_output_path
    from inkstroke.robot.plotter_svg import plotter_svg

    check_output_path(output, (".svg",))
    placed, sheet = _placed(ink, paper, orientation, margin, scale, height, align)
    placed = _ordered(placed, (0.0, sheet.height_mm), optimize)  # plotters home at the top-left
    _write_text(output, plotter_svg(placed, sheet, pen_width))
    typer.echo(f"wrote {output}: {len(placed.strokes)} strokes on {sheet.describe()}")


def _plan_args(given: dict) -> dict:
    """The arguments of :func:`_plan` out of a command's locals()."""
    return {k: given[k] for k in _plan.__code__.co_varnames[: _plan.__code__.co_argcount]}


def _plan(
    ink,
    arm,
    paper,
    orientation,
    margin,
    scale,
    height,
    align,
    optimize,
    speed,
    travel_speed,
    accel,
    approach,
    retreat,
    press,
    dt,
    dip_every,
    inkstone,
    stone_radius,
    stone_press,
    drags,
):
    """Profile, paper and trajectory for the arm commands (all checks happen here)."""
    from inkstroke.errors import InkstrokeError
    from inkstroke.robot.arm import ArmProfile, Inkstone, Motion, plan_arm
    from inkstroke.robot.frame import is_depth_ink

    profile = ArmProfile.load(arm)
    placed, sheet = _placed(ink, paper, orientation, margin, scale, height, align)
    placed = _ordered(placed, (0.0, 0.0), bool(optimize))
    motion = Motion(
        draw_speed_mm_s=speed,
        travel_speed_mm_s=travel_speed,
        accel_mm_s2=accel,
        approach_mm=approach,
        retreat_mm=retreat,
        pen_press_mm=press,
        dt_s=dt,
    )
    every = (1 if is_depth_ink(placed) else 0) if dip_every is None else dip_every
    if every < 0:
        raise InkstrokeError(f"--dip-every must be 0 (never) or more, got {every}")
    stone = None
    if every:
        kwargs = {
            "radius_mm": stone_radius,
            "press_mm": stone_press,
            "drags": drags,
            "every": every,
        }
        if inkstone is None:
            stone = Inkstone.beside(sheet, **kwargs)
        else:
            stone = Inkstone(center_mm=inkstone, **kwargs)
    return profile, sheet, plan_arm(placed, sheet, profile, motion, stone)


ARM = typer.Option("panda", "--arm", help="Shipped arm profile (panda) or a JSON file.")
SPEED = typer.Option(40.0, "--speed", help="Drawing speed, mm/s.")
TRAVEL = typer.Option(150.0, "--travel-speed", help="Pen-up travel speed, mm/s.")
ACCEL = typer.Option(800.0, "--accel", help="Acceleration limit, mm/s².")
APPROACH = typer.Option(
    10.0, "--approach", help="Height the tip comes down from onto a stroke, mm."
)
RETREAT = typer.Option(10.0, "--retreat", help="Height the tip lifts to after a stroke, mm.")
PRESS = typer.Option(0.0, "--press", help="Pen: how far below the paper surface to push, mm.")
DT = typer.Option(0.01, "--dt", help="Time between waypoints, s.")
DIP_EVERY = typer.Option(
    None,
    "--dip-every",
    help="Re-ink after every N strokes; 0 never (default: 1 for brushes, 0 for pens).",
)
INKSTONE = typer.Option(
    None,
    "--inkstone",
    help="Inkstone centre X Y on the paper frame, mm (default: beside the sheet).",
)
STONE_RADIUS = typer.Option(30.0, "--stone-radius", help="Inkstone radius, mm.")
STONE_PRESS = typer.Option(
    3.0, "--stone-press", help="How deep the brush presses on the stone, mm."
)
DRAGS = typer.Option(4, "--drags", help="Drags towards the rim per dip.")


@app.command()
def trajectory(
    ink: str = typer.Argument(..., help=INK_HELP),
    output: Path = typer.Option(..., "-o", "--output", help="Waypoints to write: .csv or .json."),
    arm: str = ARM,
    paper: str = PAPER,
    orientation: str = ORIENTATION,
    margin: float = MARGIN,
    scale: float | None = SCALE,
    height: float | None = HEIGHT,
    align: str = ALIGN,
    optimize: bool | None = OPTIMIZE,
    speed: float = SPEED,
    travel_speed: float = TRAVEL,
    accel: float = ACCEL,
    approach: float = APPROACH,
    retreat: float = RETREAT,
    press: float = PRESS,
    dt: float = DT,
    dip_every: int | None = DIP_EVERY,
    inkstone: tuple[float, float] | None = INKSTONE,
    stone_radius: float = STONE_RADIUS,
    stone_press: float = STONE_PRESS,
    drags: int = DRAGS,
) -> None:
    """Time-stamped arm waypoints (base frame, m): position, tool quaternion, pen state."""
    from inkstroke.io.container import check_output_path

    check_output_path(output, WAYPOINT_SUFFIXES)
    _, sheet, traj = _plan(**_plan_args(locals()))
    traj.write(output)
    typer.echo(f"wrote {output}: {len(traj)} waypoints, {traj.t[-1]:.1f} s, on {sheet.describe()}")


@app.command()
def simulate(
    ink: str = typer.Argument(..., help=INK_HELP),
    report: Path = typer.Option(
        ..., "--report", help="JSON report to write (rms_mm, max_mm, unreachable, ...)."
    ),
    image: Path | None = typer.Option(
        None, "--image", help="PNG of what the simulated tip traced on the paper."
    ),
    output: Path | None = typer.Option(
        None, "-o", "--output", help="Also write the waypoints (.csv or .json)."
    ),
    arm: str = ARM,
    paper: str = PAPER,
    orientation: str = ORIENTATION,
    margin: float = MARGIN,
    scale: float | None = SCALE,
    height: float | None = HEIGHT,
    align: str = ALIGN,
    optimize: bool | None = OPTIMIZE,
    speed: float = SPEED,
    travel_speed: float = TRAVEL,
    accel: float = ACCEL,
    approach: float = APPROACH,
    retreat: float = RETREAT,
    press: float = PRESS,
    dt: float = DT,
    dip_every: int | None = DIP_EVERY,
    inkstone: tuple[float, float] | None = INKSTONE,
    stone_radius: float = STONE_RADIUS,
    stone_press: float = STONE_PRESS,
    drags: int = DRAGS,
) -> None:
    """Write INK with a simulated Franka Panda (PyBullet) and report how well it followed."""
    from rich.progress import Progress

    from inkstroke.io.container import check_output_path
    from inkstroke.robot.simulate import simulate as run
    from inkstroke.robot.simulate import trace_image

    # every output is checked before minutes of simulation, so none is left alone
    check_output_path(report, (".json",))
    if image is not None:
        check_output_path(image, (".png",))
    if output is not None:
        check_output_path(output, WAYPOINT_SUFFIXES)
    profile, sheet, traj = _plan(**_plan_args(locals()))
    if output is not None:
        traj.write(output)
    with Progress(transient=True) as bar:
        task = bar.add_task(f"simulating {len(traj)} waypoints", total=len(traj))
        sim = run(
            traj, profile, sheet, progress=lambda done, total: bar.update(task, completed=done)
        )
    _write_text(report, json.dumps(sim.report, indent=2) + "\n")
    if image is not None:
        picture = trace_image(sim, traj, sheet)
        from inkstroke.io.container import atomic_write_bytes

        atomic_write_bytes(image, lambda f: picture.save(f, format="PNG"))
    r = sim.report
    typer.echo(
        f"{r['waypoints']} waypoints, {r['duration_s']:.1f} s: tracking error RMS {r['rms_mm']:.3f} mm, "
        f"max {r['max_mm']:.3f} mm; unreachable {r['unreachable']}; "
        f"smallest joint-limit margin {r['joint_margin_min_rad']:.3f} rad ({r['joint_margin_min_joint']})"
    )
    if r["unreachable"]:
        typer.echo(
            f"error: {r['unreachable']} waypoints are out of the arm's reach (see {report})",
            err=True,
        )
        raise typer.Exit(1)

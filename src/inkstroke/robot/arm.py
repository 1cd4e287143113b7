"""Robot-arm trajectories: time-stamped tool-tip waypoints that write an ink.

The planner turns a placed ink (paper frame, mm) into *moves*: vertical
approaches and retreats, straight pen-up travel at a safe height, the strokes
themselves, and for a brush the ink-dipping routine. Each move starts and ends
at rest and is timed like a GRBL planner does it: the speed through a corner
is limited by a junction deviation, and forward and backward passes keep every
change of speed within the acceleration limit, so each segment follows a
trapezoidal (or triangular) speed profile. Moves are then sampled every
``dt`` seconds.

Waypoints are in the arm's base frame, in metres, with a constant tool
orientation (a quaternion, x y z w) and a pen state that is true while the
tip touches the paper. A brush's press depth lowers the tip below the paper
surface by that many millimetres.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.ink import Ink
from inkstroke.robot.frame import Paper, is_depth_ink
from inkstroke.robot.machine import load_profile_data, require

TRAJECTORY_FORMAT = "inkstroke-arm-trajectory"
COLUMNS = ["t_s", "x_m", "y_m", "z_m", "qx", "qy", "qz", "qw", "pen", "segment", "stroke"]


@dataclass(frozen=True)
class ArmProfile:
    """An arm, its tool, its reach and its limits, and where the paper lies before it."""

    name: str
    urdf: str
    end_effector_link: int
    arm_joints: tuple[int, ...]
    finger_joints: tuple[int, ...]
    rest_pose: tuple[float, ...]
    tool_length_mm: float
    tool_quaternion: tuple[float, float, float, float]
    paper_center_m: tuple[float, float, float]
    paper_yaw_deg: float
    reach: dict
    max_speed_mm_s: float
    max_accel_mm_s2: float
    max_depth_mm: float
    description: str = ""

    @classmethod
    def load(cls, spec: str | Path = "panda") -> ArmProfile:
        data, where = load_profile_data(spec, "arm")
        reach = data.get("reach")
        if not isinstance(reach, dict):
            raise InkstrokeError(f"{where}: 'reach' must be an object")
        reach = {
            k: require(reach, k, f"{where}: reach")
            for k in ("min_radius_m", "max_radius_m", "min_z_m", "max_z_m")
        }
        quat = np.asarray(require(data, "tool_quaternion_xyzw", where, list), dtype=float)
        if quat.shape != (4,) or not np.isclose(np.linalg.norm(quat), 1.0, atol=1e-6):
            raise InkstrokeError(
                f"{where}: 'tool_quaternion_xyzw' must be a unit quaternion [x, y, z, w]"
            )
        center = require(data, "paper_center_m", where, list)
        if len(center) != 3:
            raise InkstrokeError(f"{where}: 'paper_center_m' must be [x, y, z]")
        arm_joints = tuple(int(j) for j in require(data, "arm_joints", where, list))
        finger_joints = tuple(int(j) for j in data.get("finger_joints", []))
        rest = tuple(float(v) for v in require(data, "rest_pose", where, list))
        if len(rest) != len(arm_joints) + len(finger_joints):
            raise InkstrokeError(f"{where}: 'rest_pose' needs one value per arm and finger joint")
        return cls(
            name=str(data.get("name", spec)),
            urdf=str(require(data, "urdf", where, str)),
            end_effector_link=int(require(data, "end_effector_link", where)),
            arm_joints=arm_joints,
            finger_joints=finger_joints,
            rest_pose=rest,
            tool_length_mm=require(data, "tool_length_mm", where, positive=True),
            tool_quaternion=tuple(float(v) for v in quat),
            paper_center_m=tuple(float(v) for v in center),
            paper_yaw_deg=require(data, "paper_yaw_deg", where),
            reach=reach,
            max_speed_mm_s=require(data, "max_speed_mm_s", where, positive=True),
            max_accel_mm_s2=require(data, "max_accel_mm_s2", where, positive=True),
            max_depth_mm=require(data, "max_depth_mm", where, positive=True),
            description=str(data.get("description", "")),
        )

    def paper_to_base(self, points_mm: np.ndarray, paper: Paper) -> np.ndarray:
        """Paper-frame (x, y, z) mm to base-frame metres; the sheet's centre sits at
        ``paper_center_m`` and its x axis points along ``paper_yaw_deg``."""
        yaw = np.radians(self.paper_yaw_deg)
        rot = np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])
        local = (points_mm[:, :2] - (paper.width_mm / 2, paper.height_mm / 2)) / 1000.0
        xy = local @ rot.T + self.paper_center_m[:2]
        return np.column_stack([xy, self.paper_center_m[2] + points_mm[:, 2] / 1000.0])

    def base_to_paper(self, points_m: np.ndarray, paper: Paper) -> np.ndarray:
        yaw = np.radians(self.paper_yaw_deg)
        rot = np.array([[np.cos(yaw), -np.sin(yaw)], [np.sin(yaw), np.cos(yaw)]])
        xy = (points_m[:, :2] - self.paper_center_m[:2]) @ rot * 1000.0 + (
            paper.width_mm / 2,
            paper.height_mm / 2,
        )
        return np.column_stack([xy, (points_m[:, 2] - self.paper_center_m[2]) * 1000.0])


@dataclass(frozen=True)
class Motion:
    """Speeds (mm/s), acceleration (mm/s²), heights above the paper (mm) and sampling."""

    draw_speed_mm_s: float = 40.0
    travel_speed_mm_s: float = 150.0
    accel_mm_s2: float = 800.0
    approach_mm: float = 10.0  # the tip comes straight down from this height onto a stroke
    retreat_mm: float = 10.0  # and goes straight up to this one after it
    junction_mm: float = 0.05  # GRBL's junction deviation: how fast corners are taken
    pen_press_mm: float = 0.0  # how far below the surface a pen is pushed while drawing
    dt_s: float = 0.01


@dataclass(frozen=True)
class Inkstone:
    """Where and how the brush is re-inked: press at the centre to flatten the tip, then
    drag out towards the rim in ``drags`` directions, each reaching less far."""

    center_mm: tuple[float, float]  # paper frame; usually off the sheet
    radius_mm: float = 30.0
    surface_mm: float = 0.0  # height of the ink surface above the paper
    press_mm: float = 3.0
    drags: int = 4
    last_extent: float = 0.4  # the last drag reaches this fraction of the radius
    every: int = 1  # re-ink after every N strokes

    @classmethod
    def beside(cls, paper: Paper, **kwargs) -> Inkstone:
        """An inkstone just off the right edge of the sheet, level with its middle."""
        radius = kwargs.get("radius_mm", cls.radius_mm)
        return cls(center_mm=(paper.width_mm + radius + 10.0, paper.height_mm / 2), **kwargs)


@dataclass
class ArmTrajectory:
    """Sampled waypoints; ``position_mm`` is the paper frame, ``position_m`` the base frame."""

    t: np.ndarray
    position_mm: np.ndarray
    position_m: np.ndarray
    quaternion: tuple[float, float, float, float]
    pen: np.ndarray
    segment: np.ndarray
    stroke: np.ndarray
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.t)

    def rows(self) -> list[list]:
        qx, qy, qz, qw = self.quaternion
        return [
            [
                round(float(t), 6),
                *(round(float(v), 7) for v in p),
                qx,
                qy,
                qz,
                qw,
                int(pen),
                str(seg),
                int(k),
            ]
            for t, p, pen, seg, k in zip(
                self.t, self.position_m, self.pen, self.segment, self.stroke, strict=True
            )
        ]

    def to_json(self) -> dict:
        return {
            "format": TRAJECTORY_FORMAT,
            "version": 1,
            **self.meta,
            "columns": COLUMNS,
            "waypoints": self.rows(),
        }

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(COLUMNS)
        writer.writerows(self.rows())
        return buf.getvalue()

    def write(self, path: str | Path) -> None:
        """Write as ``.csv`` or ``.json``, chosen by the suffix; never a partial file."""
        from inkstroke.io.container import atomic_write_bytes

        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            data = self.to_csv().encode()
        elif suffix == ".json":
            data = (json.dumps(self.to_json(), ensure_ascii=False) + "\n").encode()
        else:
            raise InkstrokeError(
                f"{path}: write a trajectory as .csv or .json, not {suffix or 'no suffix'}"
            )
        atomic_write_bytes(path, lambda f: f.write(data))


@dataclass
class _Move:
    points: np.ndarray  # (k, 3) paper frame, mm
    speed: float
    segment: str
    stroke: int = -1


MIN_DT_S, MAX_DT_S = 1e-3, 1.0  # the waypoints' time step, s
MAX_DRAGS = 32  # drags towards the inkstone's rim per dip


def check_limits(motion: Motion, profile: ArmProfile) -> None:
    """Raise before planning if a speed, acceleration or height is out of bounds."""
    checks = [
        ("draw speed", motion.draw_speed_mm_s, profile.max_speed_mm_s, "mm/s"),
        ("travel speed", motion.travel_speed_mm_s, profile.max_speed_mm_s, "mm/s"),
        ("acceleration", motion.accel_mm_s2, profile.max_accel_mm_s2, "mm/s²"),
    ]
    for what, value, limit, unit in checks:
        if not 0 < value <= limit:
            raise InkstrokeError(
                f"{what} {value:g} {unit} is beyond the limits of arm {profile.name} (0 < {what} <= {limit:g} {unit})"
            )
    for what, value in [
        ("approach height", motion.approach_mm),
        ("retreat height", motion.retreat_mm),
        ("junction deviation", motion.junction_mm),
    ]:
        if not value > 0:
            raise InkstrokeError(f"{what} must be positive, got {value:g}")
    # a waypoint each millisecond is a fast arm controller's rate; finer steps only
    # make millions of waypoints (a 1e-9 s step planned for minutes)
    if not MIN_DT_S <= motion.dt_s <= MAX_DT_S:
        raise InkstrokeError(f"time step must lie between {MIN_DT_S:g} and {MAX_DT_S:g} s, got {motion.dt_s:g}")
    if motion.pen_press_mm < 0:
        raise InkstrokeError(f"pen press must not be negative, got {motion.pen_press_mm:g} mm")


def plan_arm(
    ink: Ink,
    paper: Paper,
    profile: ArmProfile,
    motion: Motion = Motion(),
    inkstone: Inkstone | None = None,
) -> ArmTrajectory:
    """Waypoints that write a placed ink (paper frame, mm), re-inking a brush if asked.

    Limits, the press depth and the reach are all checked before any waypoint
    is produced; the first violation raises :class:`InkstrokeError`.
    """
    if ink.units != "mm":
        raise InkstrokeError(
            f"an arm trajectory needs an ink placed on paper in mm, got units {ink.units!r}"
        )
    if not ink.strokes:
        raise InkstrokeError("the ink has no strokes to write")
    check_limits(motion, profile)
    depths = ink.pressures if is_depth_ink(ink) else [np.zeros(len(s)) for s in ink.strokes]
    deepest = max(float(d.max()) for d in depths) + motion.pen_press_mm
    if deepest > profile.max_depth_mm:
        raise InkstrokeError(
            f"the tool would press {deepest:.2f} mm into the paper, more than the {profile.max_depth_mm:g} mm arm {profile.name} allows"
        )
    if inkstone is not None:
        if (
            inkstone.every < 1
            or not 1 <= inkstone.drags <= MAX_DRAGS
            or inkstone.radius_mm <= 0
            or inkstone.press_mm < 0
        ):
            raise InkstrokeError(
                f"inkstone: every must be at least 1, drags from 1 to {MAX_DRAGS}, radius positive, press not negative"
            )
        if not 0 < inkstone.last_extent <= 1:
            raise InkstrokeError(
                f"inkstone: last_extent must lie in (0, 1], got {inkstone.last_extent:g}"
            )

    moves: list[_Move] = []
    pos: list[np.ndarray] = []

    def go(target, speed: float, segment: str, stroke: int = -1) -> None:
        target = np.asarray(target, dtype=np.float64)
        if pos:
            moves.append(_Move(np.vstack([pos[-1], target]), speed, segment, stroke))
            pos[-1] = target
        else:
            pos.append(target)

    def dip() -> None:
        cx, cy = inkstone.center_mm
        zs = inkstone.surface_mm
        go((cx, cy, zs + motion.approach_mm), motion.travel_speed_mm_s, "travel")
        for k in range(inkstone.drags):
            frac = 1.0 - (1.0 - inkstone.last_extent) * k / max(inkstone.drags - 1, 1)
            angle = 2 * np.pi * k / inkstone.drags
            edge = (
                cx + frac * inkstone.radius_mm * np.cos(angle),
                cy + frac * inkstone.radius_mm * np.sin(angle),
            )
            go((cx, cy, zs - inkstone.press_mm), motion.draw_speed_mm_s, "dip")
            # the tip rises off the stone as it reaches the rim, which shapes it to a point
            go((*edge, zs), motion.draw_speed_mm_s, "dip")
            go((*edge, zs + motion.retreat_mm), motion.draw_speed_mm_s, "dip")
            go((cx, cy, zs + motion.retreat_mm), motion.travel_speed_mm_s, "dip")

    for i, (stroke, depth) in enumerate(zip(ink.strokes, depths, strict=True)):
        if inkstone is not None and i % inkstone.every == 0:
            dip()
        z = -(depth + motion.pen_press_mm)
        path = np.column_stack([stroke, z])
        go((*path[0, :2], motion.approach_mm), motion.travel_speed_mm_s, "travel")
        go(path[0], motion.draw_speed_mm_s, "approach", i)
        if len(path) > 1:
            moves.append(_Move(path, motion.draw_speed_mm_s, "draw", i))
            pos[-1] = path[-1]
        go((*path[-1, :2], motion.retreat_mm), motion.draw_speed_mm_s, "retreat", i)

    _check_reach(moves, paper, profile)
    start = moves[0].points[:1]
    times, points, segments, strokes = [np.zeros(1)], [start], [moves[0].segment], [moves[0].stroke]
    clock = 0.0
    for move in moves:
        tau, pts = _sample_move(
            move.points, move.speed, motion.accel_mm_s2, motion.junction_mm, motion.dt_s
        )
        if len(tau) == 0:
            continue
        times.append(clock + tau)
        points.append(pts)
        segments += [move.segment] * len(tau)
        strokes += [move.stroke] * len(tau)
        clock += tau[-1]
    position_mm = np.vstack(points)
    segment = np.array(segments)
    pen = (position_mm[:, 2] <= 1e-9) & (segment != "dip")
    position_m = profile.paper_to_base(position_mm, paper)
    meta = {
        "frame": "arm base",
        "units": {"t": "s", "position": "m"},
        "arm": profile.name,
        "tool_length_mm": profile.tool_length_mm,
        "paper": {
            "name": paper.name,
            "width_mm": paper.width_mm,
            "height_mm": paper.height_mm,
            "center_m": list(profile.paper_center_m),
            "yaw_deg": profile.paper_yaw_deg,
        },
        "motion": {k: getattr(motion, k) for k in motion.__dataclass_fields__},
        "inkstone": None
        if inkstone is None
        else {k: getattr(inkstone, k) for k in inkstone.__dataclass_fields__},
        "text": ink.text,
    }
    return ArmTrajectory(
        t=np.concatenate(times),
        position_mm=position_mm,
        position_m=position_m,
        quaternion=profile.tool_quaternion,
        pen=pen,
        segment=segment,
        stroke=np.array(strokes),
        meta=meta,
    )


def _check_reach(moves: list[_Move], paper: Paper, profile: ArmProfile) -> None:
    """Raise at the first move end outside the arm's reach envelope (a hollow cylinder)."""
    r = profile.reach
    for move in moves:
        base = profile.paper_to_base(move.points, paper)
        radius = np.hypot(base[:, 0], base[:, 1])
        bad = (
            (radius < r["min_radius_m"])
            | (radius > r["max_radius_m"])
            | (base[:, 2] < r["min_z_m"])
            | (base[:, 2] > r["max_z_m"])
        )
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            x, y, z = move.points[k]
            what = f"stroke {move.stroke}" if move.stroke >= 0 else f"the {move.segment} move"
            raise InkstrokeError(
                f"arm {profile.name} cannot reach {what} at paper ({x:.1f}, {y:.1f}, {z:.1f}) mm = base "
                f"({base[k, 0]:.3f}, {base[k, 1]:.3f}, {base[k, 2]:.3f}) m: it reaches "
                f"{r['min_radius_m']:g}-{r['max_radius_m']:g} m from its axis at heights "
                f"{r['min_z_m']:g}-{r['max_z_m']:g} m"
            )


def _sample_move(
    points: np.ndarray, vmax: float, accel: float, junction: float, dt: float
) -> tuple[np.ndarray, np.ndarray]:
    """Times in (0, T] every ``dt`` (and T itself) and the points reached then,
    for a polyline run from rest to rest within the speed and acceleration limits."""
    keep = np.ones(len(points), dtype=bool)
    keep[1:] = np.linalg.norm(np.diff(points, axis=0), axis=1) > 1e-9
    points = points[keep]
    if len(points) < 2:
        return np.zeros(0), np.zeros((0, 3))
    d = np.diff(points, axis=0)
    length = np.linalg.norm(d, axis=1)
    unit = d / length[:, None]
    n = len(length)
    v = np.full(n + 1, vmax)
    v[0] = v[-1] = 0.0
    if n > 1:  # GRBL's junction speed: v² = a·δ·sin(θ/2) / (1 − sin(θ/2))
        sin_half = np.sqrt(np.clip(0.5 * (1.0 + np.sum(unit[:-1] * unit[1:], axis=1)), 0.0, 1.0))
        v[1:-1] = np.minimum(
            vmax, np.sqrt(accel * junction * sin_half / np.maximum(1.0 - sin_half, 1e-12))
        )
    for i in range(n - 1, -1, -1):
        v[i] = min(v[i], np.sqrt(v[i + 1] ** 2 + 2 * accel * length[i]))
    for i in range(n):
        v[i + 1] = min(v[i + 1], np.sqrt(v[i] ** 2 + 2 * accel * length[i]))
    v0, v1 = v[:-1], v[1:]
    peak = np.minimum(vmax, np.sqrt((2 * accel * length + v0**2 + v1**2) / 2))
    d1 = (peak**2 - v0**2) / (2 * accel)
    d3 = (peak**2 - v1**2) / (2 * accel)
    d2 = np.maximum(length - d1 - d3, 0.0)
    t1, t3 = (peak - v0) / accel, (peak - v1) / accel
    t2 = np.where(peak > 0, d2 / np.maximum(peak, 1e-12), 0.0)
    seg_start = np.concatenate([[0.0], np.cumsum(t1 + t2 + t3)])
    total = seg_start[-1]
    tau = np.arange(1, int(np.floor(total / dt)) + 1) * dt
    if len(tau) == 0 or total - tau[-1] > 1e-9:
        tau = np.append(tau, total)
    i = np.clip(np.searchsorted(seg_start, tau, side="right") - 1, 0, n - 1)
    local = tau - seg_start[i]
    a1, a2 = np.minimum(local, t1[i]), np.clip(local - t1[i], 0.0, t2[i])
    a3 = np.clip(local - t1[i] - t2[i], 0.0, t3[i])
    s = v0[i] * a1 + accel * a1**2 / 2 + peak[i] * a2 + peak[i] * a3 - accel * a3**2 / 2
    s = np.minimum(s, length[i])
    return tau, points[i] + unit[i] * s[:, None]

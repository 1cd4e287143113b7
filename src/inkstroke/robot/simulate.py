"""A simulated arm writes the trajectory, so that it is checked before hardware is.

Two headless PyBullet worlds hold the same arm. In the first, a kinematic
copy solves inverse kinematics for every waypoint: PyBullet's damped
least-squares IK with joint limits, re-solved from its own answer until the
residual vanishes, with the previous solution as the rest pose so that the
arm moves continuously instead of jumping between IK branches. A waypoint is
*unreachable* when the residual stays above a tolerance. In the second world
the arm has mass and motors: joint targets (interpolated between waypoints,
with their velocities fed forward) drive POSITION_CONTROL under gravity, and
the tool tip is measured where the trajectory says it should be. The
difference is the tracking error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from inkstroke.errors import InkstrokeError
from inkstroke.robot.arm import ArmProfile, ArmTrajectory
from inkstroke.robot.frame import Paper

SIM_HZ = 960.0  # physics steps per second; the 240 Hz default lags visibly at writing speeds


@dataclass
class Simulation:
    """What the simulated arm did: per-waypoint tip positions and errors, and the report."""

    tip_m: np.ndarray  # (N, 3) measured tool tip, base frame
    tip_mm: np.ndarray  # the same, paper frame
    error_mm: np.ndarray  # (N,) distance from the commanded tip
    ik_residual_mm: np.ndarray  # (N,)
    joints: np.ndarray  # (N, J) commanded arm joint angles
    report: dict


def _import_pybullet():
    """pybullet prints its build date on stderr, from C, when imported: keep it out of
    the one-line error contract of the CLI."""
    import os
    import sys

    if "pybullet" in sys.modules:
        return sys.modules["pybullet"]
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import pybullet
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return pybullet


def _quat_rotate(q, v) -> np.ndarray:
    x, y, z, w = q
    r = np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )
    return r @ np.asarray(v, dtype=np.float64)


def simulate(
    traj: ArmTrajectory,
    profile: ArmProfile,
    paper: Paper,
    reach_tol_mm: float = 1.0,
    progress: Callable[[int, int], None] | None = None,
) -> Simulation:
    """Run the arm along ``traj``; ``progress(done, total)`` is called as waypoints pass."""
    import pybullet_data

    pb = _import_pybullet()

    if len(traj) == 0:
        raise InkstrokeError("the trajectory has no waypoints")
    urdf = f"{pybullet_data.getDataPath()}/{profile.urdf}"
    kin = pb.connect(pb.DIRECT)
    dyn = pb.connect(pb.DIRECT)
    try:
        robots = {}
        for client in (kin, dyn):
            try:
                robots[client] = pb.loadURDF(urdf, useFixedBase=True, physicsClientId=client)
            except pb.error:
                raise InkstrokeError(f"arm {profile.name}: cannot load {urdf}") from None
        movable = [
            j
            for j in range(pb.getNumJoints(robots[kin], physicsClientId=kin))
            if pb.getJointInfo(robots[kin], j, physicsClientId=kin)[2] != pb.JOINT_FIXED
        ]
        if movable != sorted(profile.arm_joints + profile.finger_joints):
            raise InkstrokeError(
                f"arm {profile.name}: movable joints of {profile.urdf} are {movable}, "
                f"the profile lists {list(profile.arm_joints + profile.finger_joints)}"
            )
        info = [pb.getJointInfo(robots[kin], j, physicsClientId=kin) for j in movable]
        lower = np.array([i[8] for i in info])
        upper = np.array([i[9] for i in info])
        max_force = np.array([i[10] for i in info])
        names = [i[1].decode() for i in info]
        arm_idx = [movable.index(j) for j in profile.arm_joints]
        joints, residual = _solve_ik(pb, kin, robots[kin], movable, lower, upper, traj, profile)
        tips = _drive(pb, dyn, robots[dyn], movable, max_force, joints, traj, profile, progress)
    finally:
        pb.disconnect(kin)
        pb.disconnect(dyn)

    error = np.linalg.norm(tips - traj.position_m, axis=1) * 1000.0
    unreachable = residual > reach_tol_mm
    margins = np.minimum(joints - lower, upper - joints)[:, arm_idx]
    worst = int(np.argmin(margins.min(axis=0)))
    drawing = traj.pen
    rms = lambda e: float(np.sqrt(np.mean(e**2))) if len(e) else 0.0  # noqa: E731
    report = {
        "arm": profile.name,
        "waypoints": len(traj),
        "duration_s": round(float(traj.t[-1]), 3),
        "rms_mm": round(rms(error), 4),
        "max_mm": round(float(error.max()), 4),
        "draw_rms_mm": round(rms(error[drawing]), 4),
        "draw_max_mm": round(float(error[drawing].max()), 4) if drawing.any() else 0.0,
        "unreachable": int(unreachable.sum()),
        "first_unreachable": int(np.flatnonzero(unreachable)[0]) if unreachable.any() else None,
        "ik_residual_max_mm": round(float(residual.max()), 5),
        "joint_margin_min_rad": round(float(margins.min()), 4),
        "joint_margin_min_joint": names[arm_idx[worst]],
        "joint_margins_rad": {
            names[j]: round(float(m), 4) for j, m in zip(arm_idx, margins.min(axis=0), strict=True)
        },
        "reach_tolerance_mm": reach_tol_mm,
        "physics_hz": SIM_HZ,
    }
    return Simulation(
        tip_m=tips,
        tip_mm=profile.base_to_paper(tips, paper),
        error_mm=error,
        ik_residual_mm=residual,
        joints=joints,
        report=report,
    )


def _tool_offset(profile: ArmProfile) -> np.ndarray:
    """Base-frame vector from the end-effector link to the tool tip."""
    return _quat_rotate(profile.tool_quaternion, (0.0, 0.0, profile.tool_length_mm / 1000.0))


def _solve_ik(pb, client, robot, movable, lower, upper, traj, profile):
    """Joint angles for every waypoint, and the remaining tip error of each (mm)."""
    ee = profile.end_effector_link
    offset = _tool_offset(profile)
    quat = list(profile.tool_quaternion)
    ranges = list(upper - lower)
    current = list(profile.rest_pose)

    def set_joints(values) -> None:
        for j, v in zip(movable, values, strict=True):
            pb.resetJointState(robot, j, v, physicsClientId=client)

    set_joints(current)
    joints = np.zeros((len(traj), len(movable)))
    residual = np.zeros(len(traj))
    for k, tip in enumerate(traj.position_m):
        target = tip - offset
        last = np.inf
        for _ in range(12):
            current = list(
                pb.calculateInverseKinematics(
                    robot,
                    ee,
                    target,
                    quat,
                    lowerLimits=list(lower),
                    upperLimits=list(upper),
                    jointRanges=ranges,
                    restPoses=current,
                    maxNumIterations=100,
                    residualThreshold=1e-7,
                    physicsClientId=client,
                )
            )
            set_joints(current)
            state = pb.getLinkState(
                robot, ee, computeForwardKinematics=True, physicsClientId=client
            )
            err = float(np.linalg.norm(np.asarray(state[4]) - target))
            if err < 1e-6 or err > 0.99 * last:  # converged, or stuck out of reach
                break
            last = err
        # The tip is what writes: an orientation error moves it too.
        reached = np.asarray(state[4]) + _quat_rotate(
            state[5], (0.0, 0.0, profile.tool_length_mm / 1000.0)
        )
        residual[k] = float(np.linalg.norm(reached - tip)) * 1000.0
        joints[k] = np.clip(current, lower, upper)
    return joints, residual


def _drive(pb, client, robot, movable, max_force, joints, traj, profile, progress):
    """Follow the joint targets in real (simulated) time; the measured tip at each waypoint."""
    pb.setGravity(0, 0, -9.81, physicsClientId=client)
    pb.setTimeStep(1.0 / SIM_HZ, physicsClientId=client)
    for j, v in zip(movable, joints[0], strict=True):
        pb.resetJointState(robot, j, v, physicsClientId=client)
    ee, length = profile.end_effector_link, profile.tool_length_mm / 1000.0
    tips = np.zeros((len(traj), 3))
    clock, h = float(traj.t[0]), 1.0 / SIM_HZ
    every = max(len(traj) // 100, 1)
    for k in range(len(traj)):
        if k > 0:
            t0, t1 = float(traj.t[k - 1]), float(traj.t[k])
            velocity = (joints[k] - joints[k - 1]) / max(t1 - t0, 1e-9)
            while clock < t1 - 1e-9:
                clock += h
                a = min(max((clock - t0) / max(t1 - t0, 1e-9), 0.0), 1.0)
                target = (1 - a) * joints[k - 1] + a * joints[k]
                pb.setJointMotorControlArray(
                    robot,
                    movable,
                    pb.POSITION_CONTROL,
                    targetPositions=list(target),
                    targetVelocities=list(velocity),
                    forces=list(max_force),
                    physicsClientId=client,
                )
                pb.stepSimulation(physicsClientId=client)
        state = pb.getLinkState(robot, ee, computeForwardKinematics=True, physicsClientId=client)
        tips[k] = np.asarray(state[4]) + _quat_rotate(state[5], (0.0, 0.0, length))
        if progress is not None and (k % every == 0 or k == len(traj) - 1):
            progress(k + 1, len(traj))
    return tips


def trace_image(
    sim: Simulation,
    traj: ArmTrajectory,
    paper: Paper,
    px_per_mm: float = 4.0,
    contact_mm: float = 0.5,
    pen_width_mm: float = 0.5,
):
    """A picture of the sheet on the table: the commanded strokes in pale blue, and in
    black what the simulated tip traced while within ``contact_mm`` of the paper (as
    wide as a brush pressed that deep). An inkstone, if used, is drawn beside the sheet
    with the drags the tip made on it."""
    from PIL import Image, ImageDraw

    lo, hi = np.zeros(2), np.array([paper.width_mm, paper.height_mm])
    stone = traj.meta.get("inkstone")
    if stone is not None:
        reach = stone["radius_mm"] + 5.0
        lo = np.minimum(lo, np.asarray(stone["center_mm"]) - reach)
        hi = np.maximum(hi, np.asarray(stone["center_mm"]) + reach)
    size = np.ceil((hi - lo) * px_per_mm).astype(int)
    image = Image.new("RGB", (int(size[0]), int(size[1])), (232, 232, 228))
    draw = ImageDraw.Draw(image)

    def px(p) -> tuple[float, float]:
        return (p[0] - lo[0]) * px_per_mm, (hi[1] - p[1]) * px_per_mm

    draw.rectangle([px((0, paper.height_mm)), px((paper.width_mm, 0))], fill="white")
    x0, y0, x1, y1 = paper.printable
    draw.rectangle([px((x0, y1)), px((x1, y0))], outline=(225, 225, 225))
    if stone is not None:
        cx, cy = stone["center_mm"]
        r = stone["radius_mm"]
        draw.ellipse(
            [px((cx - r, cy + r)), px((cx + r, cy - r))], fill=(120, 120, 125), outline=(60, 60, 60)
        )

    def stroke_line(a, b, width_mm: float, colour) -> None:
        width = max(1, round(width_mm * px_per_mm))
        draw.line([px(a), px(b)], fill=colour, width=width)
        if width > 2:  # round joints, or a thick line looks cut into slices
            rx, ry = px(b)
            draw.ellipse(
                [rx - width / 2, ry - width / 2, rx + width / 2, ry + width / 2], fill=colour
            )

    for k in range(1, len(traj)):
        if traj.pen[k] and traj.pen[k - 1]:
            stroke_line(traj.position_mm[k - 1], traj.position_mm[k], 1.0, (150, 190, 255))
    tip = sim.tip_mm
    surface = stone["surface_mm"] if stone is not None else 0.0
    for k in range(1, len(tip)):
        on_stone = traj.segment[k] == "dip"
        level = surface if on_stone else 0.0
        if tip[k, 2] <= level + contact_mm and tip[k - 1, 2] <= level + contact_mm:
            width = max(pen_width_mm, level - tip[k, 2])
            stroke_line(tip[k - 1], tip[k], width, (20, 20, 20) if not on_stone else (10, 10, 30))
    return image

"""Learned brush control: the ``inkstroke/BrushWrite-v0`` Gymnasium environment
and its stroke-level form ``inkstroke/BrushKnots-v0`` (registered on
import), Stable-Baselines3 agents and a neural brush model."""

import gymnasium

ENV_ID = "inkstroke/BrushWrite-v0"
KNOTS_ENV_ID = "inkstroke/BrushKnots-v0"  # the stroke-level form: one step a knot

if ENV_ID not in gymnasium.registry:
    gymnasium.register(ENV_ID, entry_point="inkstroke.rl.env:BrushWriteEnv")
if KNOTS_ENV_ID not in gymnasium.registry:
    gymnasium.register(KNOTS_ENV_ID, entry_point="inkstroke.rl.knot_env:KnotWriteEnv")

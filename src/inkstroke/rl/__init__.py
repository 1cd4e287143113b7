"""Learned brush control: the ``inkstroke/BrushWrite-v0`` Gymnasium environment
(registered on import), Stable-Baselines3 agents and a neural brush model."""

import gymnasium

ENV_ID = "inkstroke/BrushWrite-v0"

if ENV_ID not in gymnasium.registry:
    gymnasium.register(ENV_ID, entry_point="inkstroke.rl.env:BrushWriteEnv")

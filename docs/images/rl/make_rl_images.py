"""The picture in docs/rl.md: held-out characters written by each method,
the Kaiti target in pale red under the ink.

    python docs/images/rl/make_rl_images.py
"""

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from inkstroke.calligraphy import brush
from inkstroke.calligraphy.metrics import iou
from inkstroke.calligraphy.profiles import default_trajectory
from inkstroke.calligraphy.targets import start_lines, target_image
from inkstroke.rl.agent import DEFAULT_AGENT, held_out_characters, load_agent, optimised_motion
from inkstroke.rl.knot_agent import DEFAULT_KNOT_AGENT

SIZE = 192
OUT = Path(__file__).resolve().parent / "held-out.png"


def panel(density: np.ndarray, target: np.ndarray) -> np.ndarray:
    rgb = np.full(density.shape + (3,), 255.0)
    rgb[..., 1:] -= 90 * target[..., None]
    return (rgb * (1 - density[..., None])).clip(0, 255).astype(np.uint8)


def main() -> None:
    move_agent, knot_agent = load_agent(DEFAULT_AGENT), load_agent(DEFAULT_KNOT_AGENT)
    methods = {
        "medians": lambda c, t: default_trajectory(start_lines(c), char=c),
        "PPO, per move": lambda c, t: move_agent.write(c),
        "knot agent": lambda c, t: knot_agent.write(c, t),
        "optimised, 10 steps": lambda c, t: optimised_motion(c, t, 10),
    }
    chars = [held_out_characters(20)[i] for i in (0, 4, 10, 17)]
    font = ImageFont.load_default(size=15)
    head, foot = 24, 22
    cell = SIZE + foot
    sheet = Image.new("RGB", (SIZE * len(methods), head + cell * len(chars)), "white")
    draw = ImageDraw.Draw(sheet)
    for j, name in enumerate(methods):
        draw.text((j * SIZE + 6, 4), name, fill="black", font=font)
    for i, c in enumerate(chars):
        target = target_image(c, 256)
        small = target_image(c, SIZE)
        for j, write in enumerate(methods.values()):
            motion = write(c, target)
            score = iou(brush.render(motion, 256), target)
            tile = Image.fromarray(panel(brush.render(motion, SIZE), small))
            sheet.paste(tile, (j * SIZE, head + i * cell))
            draw.text(
                (j * SIZE + 6, head + i * cell + SIZE), f"IoU {score:.3f}", fill="black", font=font
            )
    sheet.save(OUT)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

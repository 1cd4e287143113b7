"""Brush calligraphy: a virtual ink brush and the motion that writes a glyph with it.

``brush`` (numpy) and ``torch_brush`` (differentiable) turn (t, x, y, z)
motion into ink; ``profiles`` makes default motion from centre lines;
``optimize`` fits the motion to a target glyph (``targets``), scored by
``metrics``; ``trajectory`` is the JSON a robot reads. See docs/calligraphy.md.
"""

"""A short, bounded load test on loopback: 20 streams at once, zero errors.

The 60-second version with the shipped model is ``benchmarks/studio_latency.py``.
"""

import os

import pytest

from inkstroke.errors import InkstrokeError
from inkstroke.studio.app import StudioConfig
from inkstroke.studio.loadtest import run_load


def test_twenty_concurrent_streams_for_eight_seconds(tmp_path):
    from test_studio_app import running, untrained_model

    model = untrained_model(tmp_path / "model")
    cfg = StudioConfig(data=tmp_path / "data", model=model, max_generations=20)
    with running(cfg) as (url, app):
        report = run_load(url, streams=20, seconds=8, texts=("hi", "ink", "pen"), pid=os.getpid())
        assert app.state.studio.slots.active == 0
    print(report)
    assert report["errors"] == 0, report["first_errors"]
    assert report["completed"] >= 20
    memory = [m for _, m in report["rss_mb"]]
    assert memory[-1] - memory[min(2, len(memory) - 1)] < 100  # MB: no growth with every stream


def test_the_load_test_refuses_other_hosts():
    with pytest.raises(InkstrokeError, match="only runs against this computer"):
        run_load("http://example.com:8000", streams=1, seconds=1)

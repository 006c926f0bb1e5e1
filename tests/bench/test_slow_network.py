"""bench/slow_network.py's far server: a smart-HTTP git server behind the proxy, in a process of its own, so that
the benchmark's process counts only its own CPU (bench/scrape.py --network)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.repos import git, make_repo

BENCH = Path(__file__).resolve().parents[2] / "bench"


def slow_network_module():
    """bench/slow_network.py (bench/ is a folder of scripts, not a package), imported once."""
    if (module := sys.modules.get("slow_network")) is None:
        spec = importlib.util.spec_from_file_location("slow_network", BENCH / "slow_network.py")
        assert spec is not None and spec.loader is not None
        module = sys.modules["slow_network"] = importlib.util.module_from_spec(spec)  # its dataclass needs it there
        spec.loader.exec_module(module)
    return module


@pytest.mark.timeout(60)
def test_far_server_serves_clones_from_its_own_process_and_ends_with_the_block(tmp_path: Path) -> None:
    served = tmp_path / "served"
    served.mkdir()
    make_repo(served, "group1", [("2025-01-10T12:00:00+00:00", {"reports/README.md": b"# Our report\n"})])

    with slow_network_module().far_git_server(served, rtt=0.002, mbit=1000) as server:
        before = server.cpu()
        git("clone", "-q", f"{server.url}group1.git", str(tmp_path / "clone"), cwd=tmp_path)
        after = server.cpu()
        assert server.process.pid != os.getpid()
        assert server.process.poll() is None

    assert (tmp_path / "clone" / "reports" / "README.md").read_bytes() == b"# Our report\n"
    assert after[1] > before[1]  # the http-backends ran, and were counted, over there
    assert server.process.returncode is not None
    with pytest.raises(subprocess.CalledProcessError):  # nothing serves that URL any more
        git("ls-remote", f"{server.url}group1.git", cwd=tmp_path)

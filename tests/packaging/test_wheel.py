"""MASK as a user installs it: the wheel, in a fresh virtual environment outside the repository.

The migrations, templates and static files must travel inside the package: an editable checkout finds files
beside the source that a wheel does not have. The fresh environment borrows the test environment's third-party
packages (a `.pth` line; `pip check` proves the wheel's requirements are met by them) so that the test needs no
network, but MASK itself comes only from the wheel.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.redirect.servers import free_port

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.slow


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment, outside the repository, with MASK installed from its wheel; its bin directory."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # build from a copy: a build leaves build/ and *.egg-info behind
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "var", "build", "*.egg-info", "__pycache__", "test-artifacts", "site"
        ),
    )
    dist = work / "dist"
    _run(
        sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", dist, source, cwd=work
    )
    wheels = list(dist.glob("mask-*.whl"))
    assert len(wheels) == 1, wheels
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)
    python = venv / "bin" / "python"
    purelib = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=work).strip())
    # Third-party packages from the test environment; no .pth of that directory runs (so no editable MASK).
    (purelib / "borrowed-dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheels[0], cwd=work)
    _run(sys.executable, "-m", "pip", "--python", python, "check", cwd=work)
    located = _run(python, "-c", "import mask; print(mask.__file__)", cwd=work)
    assert str(venv) in located, f"mask imported from {located}, not from the installed wheel"
    return venv / "bin"


def test_the_installed_wheel_migrates_and_serves_from_outside_the_repository(installed: Path, tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith("MASK_")}
    env.update({"MASK_ENV": "test", "MASK_LOG_LEVEL": "warning", "PYTHONPATH": ""})
    output = _run(installed / "mask", "migrate", cwd=tmp_path, env=env)
    assert "up to date" in output
    assert (tmp_path / "var" / "mask.db").is_file()

    port = free_port()
    server = subprocess.Popen(
        [installed / "mask", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "mask serve did not answer /health"
            time.sleep(0.2)
        # What only package data provides: the dashboard's templates and assets, the API docs' assets.
        assert httpx.get(f"{base}/app/login").status_code == 200
        docs = httpx.get(f"{base}/docs")
        assert docs.status_code == 200
        assert "cdn" not in docs.text.lower()
        signup = httpx.get(f"{base}/app/signup")
        assert signup.status_code == 200
    finally:
        os.killpg(server.pid, 15)
        server.wait(30)

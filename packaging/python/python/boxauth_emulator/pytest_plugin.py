"""pytest fixtures for the Box auth emulator (registered through the `pytest11` entry point).

- `box_emulator_proc`: one emulator for the session (each pytest-xdist worker has its own
  session, so its own emulator on its own free port).
- `box_emulator`: that emulator, reset before the test (codes, tokens, clock, faults, log).
- `box_emulator_factory`: `box_emulator_factory(config_toml=..., args=[...])` starts an emulator
  of your own world, stopped after the test.

`--box-emulator-url URL` or the variable `BOX_EMULATOR_URL` attaches to an emulator already
running (a container, say) instead of starting one.
"""

import os

import pytest

from . import Emulator


def pytest_addoption(parser):
    group = parser.getgroup("boxauth-emulator")
    group.addoption("--box-emulator-url", default=os.environ.get("BOX_EMULATOR_URL"),
                    help="use the Box emulator running at this URL instead of starting one")
    group.addoption("--box-emulator-arg", action="append", default=[],
                    help="an extra flag for `boxauth emulator` (repeatable), e.g. --tls")


@pytest.fixture(scope="session")
def box_emulator_proc(request):
    """The session's emulator (started, or attached with --box-emulator-url)."""
    url = request.config.getoption("--box-emulator-url")
    if url:
        emulator = Emulator.attach(url)
    else:
        emulator = Emulator.start(*request.config.getoption("--box-emulator-arg"))
    yield emulator
    emulator.stop()


@pytest.fixture
def box_emulator(box_emulator_proc):
    """The session's emulator, reset before this test."""
    box_emulator_proc.reset()
    return box_emulator_proc


@pytest.fixture
def box_emulator_factory():
    """Starts emulators of custom worlds: `factory(config_toml=TEXT, args=[...])`."""
    started = []

    def start(config_toml=None, args=()):
        emulator = Emulator.start(*args, config_toml=config_toml)
        started.append(emulator)
        return emulator

    yield start
    for emulator in started:
        emulator.stop()

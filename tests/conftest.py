import atexit
import os
import pathlib
import shutil
import tempfile

import pytest

# One persistent XLA compilation cache for the whole run, inherited by every subprocess the tests start
# (CLI runs, the device dry runs, the multi-process and kill -9 tests): they compile the same tiny training
# and augmentation programs again and again, and a hit skips XLA's compile (the device-script dry run:
# 60 s cold, 20 s warm). Fresh per run and removed at exit, so no test reads another run's executables;
# a cached executable is the one XLA would build, so results are unchanged.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="difcon-jax-test-xla-cache-")
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")

# XLA's optimisations off by default, in the tests and every subprocess they start: the tests' tiny networks and
# short runs spend their time compiling, and an unoptimised compile is the faster (tests/models/test_resnet1d.py
# 40 s against 78 s). The Rietveld and Pawley fits run long enough for the optimised code to win (test_fit.py, then
# holding test_mixtures.py's tests too: 203 s against 297 s, one process each, side by side, 2026-12-07): their
# modules are marked ``xla_optimised``.
# Set per test, not at a module's import — set there, it held for every test a pytest-xdist worker ran after
# collecting that module, the fits' included.
os.environ.setdefault("JAX_DISABLE_MOST_OPTIMIZATIONS", "true")

SHARED = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _xla_optimisations(request):
    import jax

    before = jax.config.read("jax_disable_most_optimizations")
    jax.config.update("jax_disable_most_optimizations", request.node.get_closest_marker("xla_optimised") is None)
    yield
    jax.config.update("jax_disable_most_optimizations", before)


@pytest.fixture
def shared_data():
    if not SHARED.is_dir():
        pytest.skip("../shared/data is absent")
    return SHARED


@pytest.fixture(scope="session")
def tiny_table(tmp_path_factory):
    """One tiny peak table (the test structures written in code) for every training test of the run; read
    only, so sharing it is safe."""
    from tests.helpers.train import make_table

    return make_table(str(tmp_path_factory.mktemp("tiny") / "table"))

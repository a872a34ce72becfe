"""The command keeps XLA's compiled programs on disk between runs (cli/common.use_compilation_cache)."""

import os
import subprocess
import sys

import pytest

from difcon_jax import cli

PROBE = ("from difcon_jax.cli.common import use_compilation_cache as u; d = u(); "
         "import jax, jax.numpy as jnp; jax.jit(lambda x: x * 2 + 1)(jnp.ones(3)).block_until_ready(); print(d)")


def _run(env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith("JAX_COMPILATION_CACHE")
           and not k.startswith("JAX_PERSISTENT_CACHE")}
    env.update(env_extra)
    r = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.strip().splitlines()[-1]


def test_a_compiled_program_is_written_to_the_cache_folder(tmp_path):
    folder = tmp_path / "xla"
    assert _run({"DIFCON_JAX_CACHE": str(folder)}) == str(folder)
    assert any(folder.iterdir()), "nothing was cached"


def test_the_default_folder_is_under_the_user_cache(tmp_path, monkeypatch):
    import jax

    from difcon_jax.cli.common import use_compilation_cache

    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.delenv("DIFCON_JAX_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    set_ = {}
    monkeypatch.setattr(jax.config, "update", lambda k, v: set_.__setitem__(k, v))  # not this test process's cache
    assert use_compilation_cache() == str(tmp_path / "difcon-jax" / "xla")
    assert (tmp_path / "difcon-jax" / "xla").is_dir() and set_["jax_compilation_cache_dir"] == str(
        tmp_path / "difcon-jax" / "xla")


def test_off_and_a_folder_jax_was_given_are_respected(tmp_path):
    assert _run({"DIFCON_JAX_CACHE": "off"}) == "None"
    given = tmp_path / "given"
    assert _run({"JAX_COMPILATION_CACHE_DIR": str(given), "DIFCON_JAX_CACHE": str(tmp_path / "ours")}) == str(given)
    assert not (tmp_path / "ours").exists()


def test_the_console_script_turns_it_on_before_the_command(monkeypatch):
    calls = []
    monkeypatch.setattr(cli, "use_compilation_cache", lambda: calls.append("cache"))
    monkeypatch.setattr(cli, "main", lambda: calls.append("main") or 0)
    with pytest.raises(SystemExit) as e:
        cli.entry()
    assert e.value.code == 0 and calls == ["cache", "main"]

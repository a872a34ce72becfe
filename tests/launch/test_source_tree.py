"""The package run from a checkout that was never installed (``PYTHONPATH=.``), as ``launch/device_train.sh`` runs
on a lent accelerator where nothing can be installed: the packaged configs still load."""

import json
import os
import subprocess
import sys
import sysconfig

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_a_checkout_that_was_never_installed_loads_its_packaged_configs(tmp_path):
    # -S: no site-packages processing, so no .pth file and no editable-install finder maps configs/ for us;
    # the installed dependencies are reached through PYTHONPATH alone (which reads no .pth files)
    purelib, platlib = sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]
    env = {k: v for k, v in os.environ.items() if k not in ("XLA_FLAGS", "PYTHONPATH")}
    env.update(PYTHONPATH=os.pathsep.join([ROOT, purelib, platlib]), JAX_PLATFORMS="cpu")
    code = ("import json, difcon_jax.config as c, difcon_jax.configs as p; cfg = c.load_config('difcon_gpu'); "
            "print(json.dumps([c.CONFIG_DIR, p.__file__, list(cfg.model.widths), c.config_names()]))")
    res = subprocess.run([sys.executable, "-S", "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    config_dir, init, widths, names = json.loads(res.stdout.strip().splitlines()[-1])
    assert config_dir == os.path.join(ROOT, "configs") and init == os.path.join(ROOT, "configs", "__init__.py")
    assert widths and {"difcon", "difcon_gpu", "quickstart"} <= set(names)

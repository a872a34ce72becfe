"""``difcon-jax calibrate``: a model folder's calibration fitted again on simulated validation patterns (what
parameters brought back from an accelerator call need), its library's frequencies kept, bad input one line each."""

import json

from difcon_jax.config import default_config_path, load_config
from tests.helpers.train import tiny_overrides


def test_calibrate_fits_a_folder_again_and_keeps_its_library_frequency(tiny_table, tmp_path, capsys):
    from difcon_jax.cli import main
    from difcon_jax.inference.model_dir import export_model
    from difcon_jax.train.loop import train

    wd, model = tmp_path / "wd", tmp_path / "model"
    train(load_config(default_config_path("quickstart"), tiny_overrides(tiny_table, steps=1, batch=4)), str(wd))
    export_model(str(wd), str(model))
    frequency = [1 / 230] * 230
    (model / "calibration.json").write_text(json.dumps({"temperature": 9.0, "uncertain_below": 0.99,
                                                        "library_frequency": frequency}))
    assert main(["calibrate", "--model", str(model), "--table", tiny_table]) == 0
    assert "calibration.json: temperature" in capsys.readouterr().out
    calib = json.loads((model / "calibration.json").read_text())
    assert calib["library_frequency"] == frequency and calib["temperature"] != 9.0
    assert "validation" in calib["fitted_on"] and 0.0 <= calib["uncertain_below"] <= 1.0
    first = (model / "calibration.json").read_text()
    assert main(["calibrate", "--model", str(model), "--table", tiny_table]) == 0  # deterministic
    assert (model / "calibration.json").read_text() == first
    capsys.readouterr()
    assert main(["calibrate", "--model", str(tmp_path / "none"), "--table", tiny_table]) != 0
    assert main(["calibrate", "--model", str(model), "--table", str(tmp_path / "no_table")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 2 and "none" in err[0] and "no_table" in err[1]

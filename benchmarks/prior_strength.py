"""The strength β of a model's natural-prior correction, fitted on simulated validation patterns of the table it was
trained on (`difcon_jax.evaluate.calibration.refit_prior_strength`; measured patterns are never used).

    python benchmarks/prior_strength.py --model difcon_jax/pretrained/difcon_cpu --table runs/real_fill [--write]

Prints the summed NLL of the three heads for each β tried and a final JSON line; ``--write`` stores β in the model
folder's ``calibration.json`` (``natural_prior_strength``, with the curve it was chosen from).
"""

from __future__ import annotations

import argparse
import json

from difcon_jax.data.prepare import prepare_table
from difcon_jax.evaluate.calibration import refit_prior_strength, write_calibration
from difcon_jax.inference.model_dir import PACKAGED_MODEL
from difcon_jax.inference.predictor import Predictor


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=PACKAGED_MODEL)
    ap.add_argument("--table", required=True, help="the peak table the model was trained on")
    ap.add_argument("--n", type=int, default=2000, help="validation structures rendered")
    ap.add_argument("--write", action="store_true", help="store the fitted β in the model's calibration.json")
    args = ap.parse_args()
    predictor = Predictor.load(args.model)
    before = predictor.calibration.get("natural_prior_strength", 1.0)
    predictor.cfg.data.table = args.table
    calib = refit_prior_strength(predictor, prepare_table(predictor.cfg, args.model), n=args.n)  # heads as trained
    for beta, nll in calib["prior_strength_nll"].items():
        print(f"beta {beta:.3f}  summed NLL {nll:.5f}")
    if args.write:
        print(f"wrote {write_calibration(args.model, calib)}")
    curve = calib["prior_strength_nll"]
    print(json.dumps({"benchmark": "prior_strength", "model": args.model,
                      "fitted_on": calib["prior_strength_fitted_on"], "beta_before": before, "beta": calib["natural_prior_strength"], "nll_at_1": curve[1.0],
                      "nll_at_beta": curve[calib["natural_prior_strength"]], "written": args.write}))


if __name__ == "__main__":
    main()

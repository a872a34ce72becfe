"""The shipped network continued on one lent accelerator with rows in which no structure type stands for its group.

Model G recognises the structure types it was taught rather than reading symmetry from a pattern: a held-out
structure whose type the training split holds 50 times or more is answered SG 0.64, one whose type it never saw 0.11
(`evaluate`'s isotype table; results/network_axes/README.md, 2026-12-06). This is difcon_gpu_continue.py (G's own
recipe: batch 1,024, peak rate 1e-3, warm start from the packaged parameters) on the real table plus 50 pyxtal
crystals of every space group — random Wyckoff sets and cells, many types per group — drawn twice as often as a real
row (27 % of the draws). Build the table and carry it packed:

    difcon-jax dataset synth --fill-from runs/real_all --min-per-group 20 --add-per-group 50 \\
        --out runs/real_types --workers 2                                  # 8.5 min on two cores
    difcon-jax dataset pack runs/real_types --max-peaks 90 --out runs/real_types_90.npz
    DIFCON_CONFIG=configs/difcon_gpu_types.py bash launch/device_train.sh runs/real_types_90.npz

then calibrate on the same table, evaluate on runs/real_fill (the axes' rows every earlier model was scored on) and
judge by the isotype table's "0 isotypes" column beside the usual goals; ship only if it wins.
"""

from difcon_jax.configs import difcon_gpu_continue


def get_config():
    c = difcon_gpu_continue.get_config()
    c.data.source_weights = tuple(c.data.source_weights) + ("synth:=2",)  # pyxtal rows (ids 'synth:seed:index')
    return c

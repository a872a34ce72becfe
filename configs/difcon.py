"""DIFCON at paper scale: Barlow Twins + hierarchical heads, on-device augmentation (GPU/TPU sized).

Every other training config imports this one and changes what differs. Override any field on the command
line: ``difcon-jax train --config configs/difcon.py --workdir DIR --config.batch_size=1024``.
"""

import ml_collections

from difcon_jax.configs import augment_invariance, augment_table1


def get_config():
    c = ml_collections.ConfigDict()
    c.mode = "difcon"  # cnn_static | cnn_aug | difcon | simclr
    c.seed = 0
    # a model folder or training directory whose parameters start a fresh run (warm start: new optimiser and
    # schedule; a checkpoint in WORKDIR still wins, so a warm-started run resumes as any other)
    c.init_from = ""
    c.num_steps = 200_000
    c.batch_size = 512  # global, split over all devices of all hosts
    c.log_every = 100
    c.ckpt_every = 5000
    c.ckpt_keep_period = 0  # > 0: also keep every checkpoint whose step is a multiple (learning curves)
    c.tensorboard = False  # needs the [tensorboard] extra; a JSON-lines log is always written
    # wall-clock budget of the training loop in seconds (0: none). Checked at each log step; when spent, training
    # stops there with a checkpoint and the run goes on (calibration, library, evaluation) as if num_steps were
    # reached — a lent accelerator's one call must come back with a model whatever its unmeasured speed. The
    # learning-rate schedule is num_steps' and is cut short (the log says so)
    c.train_seconds = 0.0

    c.data = ml_collections.ConfigDict()
    c.data.table = ""  # a peak table (difcon-jax dataset ...); empty: synthesise into WORKDIR/data
    c.data.synth_count = 200_000
    c.data.synth_seed = 0
    c.data.synth_max_atoms = 64
    c.data.workers = 16
    c.data.max_peaks = 128
    c.data.test_fraction = 0.1  # held-out structures: the equivariance test set
    c.data.validation_fraction = 0.1  # held-out structures for calibration only
    c.data.static_seed = 1  # cnn_static: the fixed augmentation of each structure
    # Structure sampling: P(structure) ∝ n_sg^(power − 1), n_sg = training structures of its space group.
    # 1 = natural frequencies, 0 = every space group equally often, 0.5 = tempered (square root).
    c.data.sampling_power = 1.0
    # Source weights: ('amcsd=5',) draws the rows whose source id contains 'amcsd' 5× as often (data/draw.py);
    # the prior correction (inference/prior.py) undoes the draw's space-group mass with them
    c.data.source_weights = ()

    c.augment = augment_table1.get_config()

    c.model = ml_collections.ConfigDict()
    c.model.widths = (64, 128, 256, 512)
    c.model.blocks = (2, 2, 2, 2)
    c.model.stem_features = 64
    c.model.stem_kernel = 15
    c.model.stem_stride = 4
    c.model.kernel = 7
    c.model.attention_layers = 0  # global self-attention blocks after the ResNet stages (models/resnet1d.py)
    c.model.attention_heads = 4
    # > 0: the encoder reads the pattern resampled onto this many bins uniform in ln sin θ, where ratios of
    # d-spacings are distances (models/log_axis.py), from 2θ = log_sin_from degrees; 0: the 2θ grid as it is
    c.model.log_sin_bins = 0
    c.model.log_sin_from = 3.0
    c.model.projector_dims = (2048, 2048, 2048)
    c.model.head_hidden = 512
    c.model.head_mlp = ()  # widths of a residual branch beside the heads' trunk (models/resnet1d.ResidualHead)
    # hidden widths of a flat 230-way space-group head beside the hierarchical ones (models/resnet1d.FlatHead;
    # `difcon-jax flat-head` fits one on a trained model's frozen representation)
    c.model.flat_head = ()
    c.model.lattice_head = False  # regress the Niggli-reduced primitive cell too (needs a table with reduced cells)
    c.model.dtype = "float32"  # encoder compute dtype; "bfloat16" on GPU/TPU (params and losses stay float32)

    c.loss = ml_collections.ConfigDict()
    c.loss.w_cs = 1.0
    c.loss.w_eg = 1.0
    c.loss.w_sg = 1.0
    c.loss.w_cell = 1.0  # lattice head's L1 (train/losses.lattice_loss), when model.lattice_head
    c.loss.w_repr = 0.1  # Barlow Twins weight in the joint phase
    c.loss.tau = 5e-3  # Eq. 7 off-diagonal weight
    c.loss.temperature = 0.1  # SimCLR only
    c.loss.schedule = "joint"  # or "pretrain_finetune": representation only for pretrain_steps
    c.loss.pretrain_steps = 0
    c.loss.classify_both_views = False  # two-view modes: classification loss on view b too (averaged)

    c.optim = ml_collections.ConfigDict()
    c.optim.name = "adamw"
    c.optim.learning_rate = 1e-3
    c.optim.warmup_steps = 2000
    c.optim.final_lr_fraction = 0.01
    c.optim.weight_decay = 1e-4
    c.optim.grad_clip = 1.0
    # "all", or "heads": the encoder and projector frozen (no gradient, no update, no weight decay) — new heads
    # trained on a trained encoder's features at ~0.4 of a full step's cost per pattern (train/step.FROZEN_FOR_HEADS)
    c.optim.trainable = "all"

    c.eval = ml_collections.ConfigDict()
    c.eval.num_structures = 2000
    c.eval.batch_size = 256
    # Evaluators (difcon_jax/evaluate/evaluators.py) run after training, by `evaluate`, `experiment` and
    # `curve`, and every `every_steps` steps during training (0 = only at the end): the learning curve.
    # "training" scores training structures under the training augmentation (fit, beside the held-out axes).
    c.eval.axes = ("equivariance", "invariance", "training")
    c.eval.every_steps = 0
    # held-out structures rendered by the independent lab simulator (`evaluate` always reports this axis and
    # the textbook phases; list them in eval.axes to have training report them too)
    c.eval.cross_simulator_structures = 500
    # the invariance axis: the model's own augmentation with these held-out sources and ranges (the grid and
    # input path stay the model's); embedded so a saved config.json carries its test ranges with it
    held_out = augment_invariance.get_config()
    c.eval.invariance = ml_collections.ConfigDict({"sources": held_out.sources, "ranges": held_out.ranges})
    # Reference library (difcon_jax/evaluate/library.py): representations of training structures searched
    # by cosine similarity and blended into predict's probabilities. 0 views = no library.
    c.eval.library_views = 0
    c.eval.library_max_structures = 0  # 0 = every training structure
    c.eval.library_sources = ()  # substrings of source ids to keep (e.g. "amcsd"); () = every source
    c.eval.library_extra_splits = ()  # held-out splits added after calibration (1 test, 2 validation)
    c.eval.library_k = 10
    c.eval.library_tau = 0.02
    c.eval.library_alpha = 0.5
    return c

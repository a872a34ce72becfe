"""Flax (linen) models: a 1D ResNet encoder for 12,000-bin patterns and the DIFCON heads.

Linen keeps parameters a plain pytree, so the train step stays a pure function of ``(state, batch, key)``.
GroupNorm instead of BatchNorm: no mutable batch statistics, identical results under any data sharding.
"""

from __future__ import annotations

from typing import Any, Sequence

import flax.linen as nn
import jax.numpy as jnp

from difcon_jax.models.heads import NUM_CRYSTAL_SYSTEMS, NUM_SPACE_GROUPS, REDUCED_CELL_PRIOR, SG_PER_SYSTEM
from difcon_jax.models.log_axis import resample_log_sin


def _groups(c: int) -> int:
    return max(1, min(8, c // 4))


class ResBlock1D(nn.Module):
    """Pre-activation basic block: (GN → GELU → conv) × 2 with a projected shortcut when shapes change."""

    features: int
    stride: int = 1
    kernel: int = 7
    dtype: Any = jnp.float32  # compute dtype (bf16 on accelerators); parameters stay float32

    @nn.compact
    def __call__(self, x):
        y = nn.gelu(nn.GroupNorm(num_groups=_groups(x.shape[-1]), dtype=self.dtype, name="norm1")(x))
        shortcut = x
        if self.stride != 1 or x.shape[-1] != self.features:
            shortcut = nn.Conv(self.features, (1,), strides=(self.stride,), use_bias=False, dtype=self.dtype,
                               name="shortcut")(y)
        y = nn.Conv(self.features, (self.kernel,), strides=(self.stride,), use_bias=False, dtype=self.dtype,
                    name="conv1")(y)
        y = nn.gelu(nn.GroupNorm(num_groups=_groups(self.features), dtype=self.dtype, name="norm2")(y))
        y = nn.Conv(self.features, (self.kernel,), use_bias=False, dtype=self.dtype, name="conv2",
                    kernel_init=nn.initializers.variance_scaling(0.1, "fan_in", "normal"))(y)
        return shortcut + y


def position_features(length: int, num: int = 8) -> jnp.ndarray:
    """Fixed sinusoidal features float[length, 2·num] of each token's place on the 2θ grid (0 … 1 over the
    pattern): convolutions and a mean pool cannot tell where a peak is, only what is near it, and a
    d-spacing is a place."""
    t = (jnp.arange(length, dtype=jnp.float32) + 0.5) / length
    freqs = jnp.pi * 2.0 ** jnp.arange(num, dtype=jnp.float32)
    return jnp.concatenate([jnp.sin(t[:, None] * freqs), jnp.cos(t[:, None] * freqs)], axis=-1)


class GlobalAttentionBlock(nn.Module):
    """Pre-norm transformer block over the encoder's last feature map [B, L, C]: every place of the pattern
    attends to every other, so peaks far apart (the ratios of d-spacings that decide a space group) meet in
    one layer. The attention (queries, keys, values) sees :func:`position_features`; the residual stream does not.

    The output projections start at zero, so a new block is the identity: a network trained without it
    warm-starts into one with it and gives the same answers at step 0.
    """

    heads: int = 4
    mlp_ratio: int = 2
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x):
        c = x.shape[-1]
        pos = position_features(x.shape[-2]).astype(self.dtype)
        pos = jnp.broadcast_to(pos, x.shape[:-1] + pos.shape[-1:])
        y = jnp.concatenate([nn.LayerNorm(dtype=self.dtype, name="norm1")(x), pos], axis=-1)
        y = nn.MultiHeadDotProductAttention(num_heads=self.heads, qkv_features=c, out_features=c, dtype=self.dtype,
                                            out_kernel_init=nn.initializers.zeros, name="attention")(y)
        x = x + y
        y = nn.gelu(nn.Dense(self.mlp_ratio * c, dtype=self.dtype, name="mlp_in")(nn.LayerNorm(dtype=self.dtype,
                                                                                                  name="norm2")(x)))
        return x + nn.Dense(c, dtype=self.dtype, kernel_init=nn.initializers.zeros, name="mlp_out")(y)


class ResNet1D(nn.Module):
    """Encoder: profile float[B, N] → representation float[B, widths[-1]] (float32 whatever ``dtype``).

    Early downsampling (a strided stem conv then max-pool) takes the N bins to N/(stem_stride·2) before
    the residual stages; each later stage halves the length again. GELU as in the paper's Fig. 5.
    ``attention_layers`` :class:`GlobalAttentionBlock` s (``attention{i}``) then relate the whole pattern
    before the mean pool (0: the plain ResNet). Modules are named (``stem_conv``, ``stage{i}_block{j}``,
    ``final_norm``): the names are the exported params' keys.
    """

    widths: Sequence[int] = (32, 64, 128, 256)
    blocks: Sequence[int] = (2, 2, 2, 2)
    stem_features: int = 32
    stem_kernel: int = 15
    stem_stride: int = 4
    kernel: int = 7
    attention_layers: int = 0
    attention_heads: int = 4
    #: > 0: the profile is first resampled onto this many bins uniform in ln sin θ (models/log_axis.py: ratios of
    #: d-spacings become distances) over 2θ from ``log_sin_from`` to the top of ``two_theta_range`` (the model
    #: grid's span, set by :func:`build_model` from the augmentation's grid)
    log_sin_bins: int = 0
    log_sin_from: float = 3.0
    two_theta_range: Sequence[float] = (0.0, 90.0)
    dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x):
        if self.log_sin_bins:
            x = resample_log_sin(x, self.log_sin_bins, self.two_theta_range, self.log_sin_from)
        x = x[..., None].astype(self.dtype)  # [B, N, 1]
        x = nn.Conv(self.stem_features, (self.stem_kernel,), strides=(self.stem_stride,), use_bias=False,
                    dtype=self.dtype, name="stem_conv")(x)
        x = nn.max_pool(nn.gelu(nn.GroupNorm(num_groups=_groups(self.stem_features), dtype=self.dtype,
                                             name="stem_norm")(x)), (3,), strides=(2,), padding="SAME")
        for i, (w, n) in enumerate(zip(self.widths, self.blocks)):
            for j in range(n):
                x = ResBlock1D(w, stride=2 if (j == 0 and i > 0) else 1, kernel=self.kernel, dtype=self.dtype,
                               name=f"stage{i}_block{j}")(x)
        for i in range(self.attention_layers):
            x = GlobalAttentionBlock(heads=self.attention_heads, dtype=self.dtype, name=f"attention{i}")(x)
        x = nn.gelu(nn.GroupNorm(num_groups=_groups(x.shape[-1]), dtype=self.dtype, name="final_norm")(x))
        return jnp.mean(x.astype(jnp.float32), axis=1)


class MLP(nn.Module):
    """Dense layers of widths ``dims`` with GELU between them (none after the last): the projector and head
    bodies."""
    dims: Sequence[int]

    @nn.compact
    def __call__(self, x):
        for i, d in enumerate(self.dims):
            x = nn.Dense(d)(x)
            if i < len(self.dims) - 1:
                x = nn.gelu(nn.LayerNorm()(x))
        return x


class ResidualHead(nn.Module):
    """A wider, deeper branch beside the heads' one-layer trunk: LayerNorm, then Dense(w) → LayerNorm → GELU for
    each width of ``dims``, then a Dense back to the trunk's width initialised to zero — added to the trunk's
    output, so a trained model grown by it (a warm start) answers exactly as before at step 0."""
    dims: Sequence[int]
    out: int

    @nn.compact
    def __call__(self, h):
        x = nn.LayerNorm(name="in_norm")(h)
        for i, d in enumerate(self.dims):
            x = nn.gelu(nn.LayerNorm(name=f"norm{i}")(nn.Dense(d, name=f"dense{i}")(x)))
        return nn.Dense(self.out, kernel_init=nn.initializers.zeros, name="out")(x)


class FlatHead(nn.Module):
    """A flat 230-way space-group head read straight from the representation h: LayerNorm, then Dense(w) →
    LayerNorm → GELU (→ dropout while fitted) for each width of ``dims``, then Dense(230) logits (index = number
    − 1). Beside the hierarchical heads p(CS)·p(SG | CS), not instead of them (:mod:`difcon_jax.models.heads`,
    :func:`~difcon_jax.models.heads.combined_space_group_log_probs`): fitted on the shipped network's frozen h it
    answered held-out and measured patterns better than the hierarchical heads, and best together with them
    (results/network_axes/README.md, "A flat space-group head")."""
    dims: Sequence[int]
    dropout: float = 0.1

    @nn.compact
    def __call__(self, h, train: bool = False):
        x = nn.LayerNorm(name="in_norm")(h)
        for i, d in enumerate(self.dims):
            x = nn.gelu(nn.LayerNorm(name=f"norm{i}")(nn.Dense(d, name=f"dense{i}")(x)))
            x = nn.Dropout(self.dropout, deterministic=not train)(x)
        return nn.Dense(NUM_SPACE_GROUPS, name="out")(x)


class DifconModel(nn.Module):
    """Encoder + projector (Barlow Twins / SimCLR z) + the paper's 8 heads.

    Returns a dict keyed like the labels and the probabilities (:data:`difcon_jax.models.heads.HEADS`):
    ``representation`` h [B, D]; ``projection`` z [B, proj[-1]]; logits ``crystal_system`` [B, 7],
    ``extinction_group`` [B, n_eg] and ``space_group``, a tuple of 7 arrays (head k over crystal system k's
    space groups); with ``lattice_head``, ``reduced_cell`` [B, 6]: the Niggli-reduced primitive cell as
    (ln a, ln b, ln c, cos α, cos β, cos γ), a, b, c in Å (:func:`decode_reduced_cell`).
    """

    encoder: ResNet1D
    num_extinction_groups: int
    projector_dims: Sequence[int] = (512, 512, 512)
    head_hidden: int = 256
    lattice_head: bool = False
    #: widths of a :class:`ResidualHead` added to the classification heads' trunk (empty: none). The shipped
    #: network's heads fit its own features less well than a wider head on the same features does
    #: (results/network_axes/README.md, "Wider heads on the frozen encoder").
    head_mlp: Sequence[int] = ()
    #: hidden widths of a :class:`FlatHead` beside the hierarchical heads (empty: none)
    flat_head: Sequence[int] = ()

    @nn.compact
    def __call__(self, x):
        h = self.encoder(x)
        z = MLP(tuple(self.projector_dims), name="projector")(h)
        t = nn.gelu(nn.Dense(self.head_hidden, name="head_trunk")(h))
        if self.head_mlp:
            t = t + ResidualHead(tuple(self.head_mlp), self.head_hidden, name="head_residual")(h)
        return {
            "representation": h,
            "projection": z,
            # module names (cs_head, …) are the exported params' keys: unchanged
            "crystal_system": nn.Dense(NUM_CRYSTAL_SYSTEMS, name="cs_head")(t),
            "extinction_group": nn.Dense(self.num_extinction_groups, name="eg_head")(t),
            "space_group": tuple(nn.Dense(n, name=f"sg_head_{k}")(t) for k, n in enumerate(SG_PER_SYSTEM)),
            **({"reduced_cell": self.reduced_cell(h)} if self.lattice_head else {}),
            **({"space_group_flat": FlatHead(tuple(self.flat_head), name="sg_flat")(h)} if self.flat_head else {}),
        }

    def reduced_cell(self, h):
        """The lattice head: its own hidden layer (a cell is not a class), started at a typical reduced cell
        (4.5, 6, 8.5 Å, 90°) so a warm start begins with small losses."""
        u = nn.gelu(nn.Dense(self.head_hidden, name="cell_trunk")(h))
        return nn.Dense(6, name="cell_head", kernel_init=nn.initializers.zeros,
                        bias_init=lambda *_: jnp.array(REDUCED_CELL_PRIOR, jnp.float32))(u)


#: Fields of ``cfg.model`` that belong to the model around the encoder; every other field is a ResNet1D field.
MODEL_FIELDS = ("projector_dims", "head_hidden", "lattice_head", "head_mlp", "flat_head")


def build_model(cfg_model, num_extinction_groups: int, two_theta_range=None) -> DifconModel:
    """The model of ``cfg.model``, field by field: ``projector_dims``, ``head_hidden``, ``lattice_head``,
    ``head_mlp`` and ``flat_head`` for :class:`DifconModel`, the rest (widths, blocks, stem_*, kernel, dtype …)
    for :class:`ResNet1D`
    by name. ``dtype`` ('float32' or 'bfloat16') is the encoder's compute dtype (parameters, heads and losses stay
    float32). ``two_theta_range``: the input grid's span in degrees 2θ (the augmentation's; it places the ln sin θ
    axis of ``log_sin_bins``). An unknown field is a ValueError naming it."""
    fields = {k: tuple(v) if isinstance(v, (list, tuple)) else v for k, v in dict(cfg_model).items()}
    if two_theta_range is not None:
        fields["two_theta_range"] = tuple(float(v) for v in two_theta_range)
    outer = {k: fields.pop(k) for k in MODEL_FIELDS if k in fields}
    fields["dtype"] = jnp.dtype(fields.get("dtype", "float32"))
    known = set(ResNet1D.__dataclass_fields__) - {"parent", "name"}
    unknown = sorted(set(fields) - known)
    if unknown:
        raise ValueError(f"model config: unknown field(s) {', '.join(unknown)} (ResNet1D takes {', '.join(sorted(known))}; "
                         f"the heads take {', '.join(MODEL_FIELDS)})")
    if fields.get("log_sin_bins"):
        lo, hi = fields.get("two_theta_range", ResNet1D.two_theta_range)
        start = max(float(fields.get("log_sin_from", ResNet1D.log_sin_from)), float(lo))
        if not start < float(hi) < 180.0:  # the axis runs from model.log_sin_from to the grid's top
            raise ValueError(f"model.log_sin_from = {start}°: the ln sin θ axis needs it below the grid's top "
                             f"(augment.two_theta_max = {hi}°, itself below 180°)")
    return DifconModel(encoder=ResNet1D(**fields), num_extinction_groups=num_extinction_groups, **outer)

"""``predict --plot`` draws each profile on the model's own grid: a peak measured at 31.7° is drawn at 31.7°
with the packaged model (0–90°), not at 4/3 of it as a plot that assumed 0–120° did."""

import numpy as np

from difcon_jax.cli import main
from difcon_jax.inference import predict_files


def test_predict_plot_draws_peaks_where_they_were_measured(tmp_path, monkeypatch):
    figures = []
    monkeypatch.setattr(predict_files, "atomic_savefig", lambda fig, path, dpi=100: figures.append(fig) or path)
    x = np.arange(10, 89, 0.02)
    y = 3 + 800 * np.exp(-0.5 * ((x - 31.7) / 0.05) ** 2) + 300 * np.exp(-0.5 * ((x - 45.5) / 0.05) ** 2)
    f = tmp_path / "p.xy"
    f.write_text("# wavelength: 1.54184\n" + "\n".join(f"{a:.2f} {b:.1f}" for a, b in zip(x, y)))
    assert main(["predict", str(f), "--no-verify", "--plot", str(tmp_path / "p.png")]) == 0
    line = figures[0].axes[0].lines[0]
    xs, ys = line.get_xdata(), line.get_ydata()
    assert abs(xs[np.argmax(ys)] - 31.7) < 0.05 and xs.max() < 90.0

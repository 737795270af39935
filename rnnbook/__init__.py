"""rnnbook: vanilla recurrent neural networks from scratch in NumPy.

The package behind the book *Recurrent Neural Networks from Scratch*. Every
chapter of the book runs this code at build time.

>>> import numpy as np, rnnbook as rb
>>> rng = np.random.default_rng(0)
>>> params = rb.init_params(1, 16, 1, scheme="xavier", rng=rng)
>>> x = rng.normal(size=(8, 25, 1))
>>> cache = rb.forward(params, x)
>>> loss, dy = rb.mse_loss(cache.y, np.zeros_like(x))
>>> grads = rb.backward(params, cache, dy)
>>> clipped, norm = rb.clip_grad_norm(grads, max_norm=1.0)
"""

from importlib.metadata import PackageNotFoundError, version

from . import analysis, feedback, gru, interactive, lstm, notebook, plots, reference
from .analysis import (
    PCA,
    W_hh_gradient_double_sum,
    chunked_bptt,
    geometric_rate,
    grad_norm_vs_lag,
    hidden_pca,
    jacobian_norms,
    jacobian_product,
    last_step_gradients,
    local_jacobians,
    lyapunov_factor,
    peak_memory,
    power_norms,
    recall_score,
    train_recall,
    wilson_interval,
)
from .baselines import (
    SinePrior,
    bayes_exact_predict,
    bayes_forecast,
    bayes_predict,
    fit_linear,
    predict_linear,
    sine_prior,
)
from .clip import clip_grad_norm, clip_grad_value, global_norm
from .data import (
    RecallTask,
    SineWaves,
    Split,
    book_split,
    book_task,
    first_step_floor,
    fit_ar,
    fresh_test,
    persistence,
    predict_ar,
    recall_batches,
    recall_task,
    seed_config,
    sine_waves,
    split,
)
from .experiment import (
    Run,
    Summary,
    baseline_mse,
    baseline_predictions,
    curves,
    geometric_mean,
    mean_and_se,
    over_seeds,
    paired_difference,
    sequence_mse,
    step_mse,
    summarize,
    train_run,
)
from .generation import dominant_frequency, generate, generate_ar
from .gradcheck import gradcheck, numerical_gradient, relative_error
from .gru import GRUParams
from .init import (
    critical_gain,
    init_params,
    largest_singular_value,
    mean_field,
    orthogonal,
    pytorch_default,
    scaled_normal,
    spectral_radius,
    xavier_normal,
    xavier_uniform,
)
from .loss import mse_loss, recall_loss
from .lstm import LSTMParams
from .optim import SGD, Adam, Schedule, cosine_decay, linear_warmup
from .params import Params, model_of
from .rnn import ForwardCache, RNNParams, backward, bptt, forward
from .train import DivergenceError, History, evaluate, fit
from .window import WindowParams, init_window, window_features

try:
    __version__ = version("rnnbook")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "feedback",
    "dominant_frequency",
    "gru",
    "lstm",
    "GRUParams",
    "LSTMParams",
    "critical_gain",
    "mean_field",
    "pytorch_default",
    "SinePrior",
    "bayes_exact_predict",
    "bayes_forecast",
    "bayes_predict",
    "fit_linear",
    "predict_linear",
    "sine_prior",
    "sequence_mse",
    "WindowParams",
    "init_window",
    "window_features",
    "linear_warmup",
    "cosine_decay",
    "Schedule",
    "model_of",
    "Params",
    "paired_difference",
    "mean_and_se",
    "geometric_mean",
    "recall_batches",
    "fresh_test",
    "analysis",
    "interactive",
    "notebook",
    "plots",
    "reference",
    "chunked_bptt",
    "peak_memory",
    "Adam",
    "DivergenceError",
    "ForwardCache",
    "PCA",
    "W_hh_gradient_double_sum",
    "History",
    "RNNParams",
    "RecallTask",
    "Run",
    "SGD",
    "SineWaves",
    "Split",
    "Summary",
    "backward",
    "baseline_mse",
    "baseline_predictions",
    "book_split",
    "book_task",
    "bptt",
    "clip_grad_norm",
    "clip_grad_value",
    "curves",
    "evaluate",
    "fit",
    "fit_ar",
    "first_step_floor",
    "forward",
    "generate",
    "generate_ar",
    "geometric_rate",
    "global_norm",
    "grad_norm_vs_lag",
    "gradcheck",
    "hidden_pca",
    "init_params",
    "jacobian_norms",
    "jacobian_product",
    "largest_singular_value",
    "last_step_gradients",
    "local_jacobians",
    "lyapunov_factor",
    "mse_loss",
    "numerical_gradient",
    "orthogonal",
    "over_seeds",
    "persistence",
    "power_norms",
    "predict_ar",
    "recall_loss",
    "recall_score",
    "train_recall",
    "wilson_interval",
    "recall_task",
    "relative_error",
    "scaled_normal",
    "seed_config",
    "sine_waves",
    "spectral_radius",
    "step_mse",
    "summarize",
    "train_run",
    "split",
    "xavier_normal",
    "xavier_uniform",
]

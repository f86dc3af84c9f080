# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # hep-pnn tutorial: from events to a trained parametric neural network
#
# This notebook walks through the whole chain on a laptop, offline, in about a minute:
# make HEPMASS-like events, look at them, train a Baldi pNN and an AffinePNN, see why
# balanced batches and the background-mass assignment matter, compare conditioning
# mechanisms, evaluate, write scores into ROOT and Parquet files, and export to ONNX.
# Every size is tiny so that it runs in the test suite; the numbers it prints are
# therefore rough. The same calls at the published data sizes are compared with the
# published results in docs/results.md.
#
# ## Why a parametric neural network?
#
# A search for a new particle X of unknown mass m scans many mass hypotheses. The classic
# approach trains one classifier per hypothesis, so the signal at 750 GeV never helps the
# classifier at 1000 GeV, and a mass between the trained ones has no classifier at all. A
# **parametric neural network** (pNN, Baldi et al., arXiv:1601.07913) is one classifier
# f(x, m) of the event features x *and* the hypothesised mass m: it is trained on signal
# at every available mass at once and can be evaluated at any m, including masses it never
# saw (interpolation). The AffinePNN (Anzalone, Diotalevi, Bonacorsi, arXiv:2202.00424)
# feeds m to every hidden layer through a learnt scale and shift, which interpolates
# better.

# %% [markdown]
# ## Setup
#
# Everything below uses the public `hep_pnn` API. `WORK` is a folder for the files the
# tutorial writes (run directories, event files, scores, the ONNX model); re-running the
# notebook replaces them. `SEED` fixes every random choice: the same seed gives the same
# events and, on the same machine, the same trained networks.

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

import hep_pnn

WORK = Path("tutorial-output")
WORK.mkdir(exist_ok=True)
SEED = 1
print("hep-pnn", hep_pnn.__version__)

# %% [markdown]
# ## 1. The data: HEPMASS-like events
#
# The HEPMASS data set (Baldi et al. 2016, UCI 347) holds simulated collisions in which a
# heavy resonance X decays to a top-quark pair (signal) or Standard-Model tt̄ production
# happens (background), in the lepton + jets final state. Each event has 27 standardised
# features `f0 … f26`: the lepton, the missing transverse energy, up to four jets with
# b-tags (low-level), and five reconstructed invariant masses (high-level), the last being
# m_WWbb, the mass of the whole system. hep-pnn ships a fast generator that produces
# events with the same features, meaning and standardisation at **any** mass
# (docs/generator.md). Here: 2,000 signal events at each of the five published masses and
# 12,000 background events (90 % tt̄, 10 % W+jets).

# %%
from hep_pnn.data import FEATURE_DESCRIPTIONS, HEPMASS_MASSES, generate

events = generate(
    masses=HEPMASS_MASSES, n_signal_per_mass=2000, n_background=12000, seed=SEED
)
print(events)
print("signal masses:", events.signal_masses.tolist())
print("processes:", events.process_names)
print({name: FEATURE_DESCRIPTIONS[name] for name in ("f0", "f3", "f22", "f26")})

# %% [markdown]
# The result is an `EventTable`: a `features` matrix plus a label (1 = signal), a mass
# column, an event weight and a process code for every event. The mass of a signal event
# is the X mass it was generated at. A background event has no true mass; the generator
# gives it one drawn from the signal masses (as HEPMASS does) and the trainer re-draws it
# (section 4).
#
# The features that separate signal from background depend on the mass. m_WWbb (`f26`)
# peaks near the resonance mass for signal, while the background falls steeply; the
# lepton pT (`f0`) grows with the mass. The plot below shows both, in standardised units.

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for ax, feature in zip(axes, ("f26", "f0"), strict=True):
    column = events.column(feature)
    bins = np.linspace(*np.percentile(column, [0.5, 99.5]), 50)
    background = events.background()
    ax.hist(background.column(feature), bins=bins, density=True, color="0.7",
            label="background (tt̄, W+jets)")
    for mass in (500, 1000, 1500):
        ax.hist(events.signal(mass=mass).column(feature), bins=bins, density=True,
                histtype="step", linewidth=2, label=f"signal, m = {mass} GeV")
    ax.set_xlabel(f"{feature}: {FEATURE_DESCRIPTIONS[feature]} (standardised)")
    ax.set_ylabel("density")
axes[0].legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# ## 2. Files: `pnn generate`, and reading real HEPMASS files
#
# The same generator is a command, `pnn generate`, which writes Parquet, ROOT or the
# HEPMASS CSV layout. Here we call it through the current Python interpreter (in a
# terminal you would just type `pnn generate ...`) to make a second, independent sample
# (another seed) that plays the role of "data files" for the rest of the tutorial.

# %%
import subprocess
import sys

files = WORK / "events.parquet"
command = [sys.executable, "-m", "hep_pnn", "generate", "-o", str(files),
           "--masses", "500,750,1000,1250,1500", "--signal", "10000",
           "--background", "60000", "--seed", "2", "--no-progress", "--overwrite"]
print(subprocess.run(command, capture_output=True, text=True, check=True).stdout)

# %% [markdown]
# `read_events` reads CSV, Parquet and ROOT files and recognises the HEPMASS layouts by
# their columns (`hep_pnn.data.DataDescription` maps any other column names). If you have
# downloaded the real HEPMASS files (`all_train.csv.gz`, `all_test.csv.gz` from UCI),
# `read_hepmass` reads them (caching a Parquet copy on first use) and every cell below
# works on them unchanged; the cell only does so if the file is there.

# %%
from hep_pnn.data import read_events, read_hepmass

table = read_events([files])
print(len(table), "events read from", files.name, "; features", table.feature_names[:3], "…")
real = Path("all_test.csv.gz")
if real.exists():
    print(read_hepmass(real))

# %% [markdown]
# ## 3. A Baldi pNN and an AffinePNN
#
# A network is built from a `ModelConfig`; `preset` gives the published ones. The Baldi
# pNN concatenates the mass to the input features (`conditioning="concat"`,
# `placement="input"`); the AffinePNN multiplies and shifts every hidden layer's output by
# learnt linear functions of m (`conditioning="affine"`, `placement="every"`). The
# published networks have hidden layers 300-150-100-50; to keep this notebook fast we use
# 64-32 (any preset field can be overridden).

# %%
from hep_pnn.data import FEATURE_NAMES
from hep_pnn.models import build_model, describe_model, preset

for name in ("pnn", "affine"):
    config = preset(name, hidden=(64, 32))
    print(describe_model(build_model(config, feature_names=FEATURE_NAMES, seed=SEED)))
    print()

# %% [markdown]
# Training goes through an *experiment*: a data section (generated events or files), a
# model section and a training section, the same content as the YAML file `pnn train`
# reads (docs/training.md). `train_experiment` writes a run directory (the best model,
# the history, a checkpoint) and returns the trained run. The helper below builds one
# experiment on our event file, with the published training recipe (Adam, learning rate
# 1e-3, batch 1024, balanced batches) and few epochs; `model` overrides network options
# and `training_masses` keeps only the signal at those masses for training (the test
# sample keeps every mass).


# %%
from hep_pnn.training import ExperimentConfig, train_experiment


def experiment(preset_name, *, epochs=4, training_masses=None, path=files, model=None,
               **training):
    """An experiment on the event file: 75 % training, 25 % test (stratified, seeded)."""
    return ExperimentConfig.model_validate({
        "data": {"source": "files", "paths": [str(path)], "test_fraction": 0.25,
                 "seed": SEED, "signal_masses": training_masses},
        "model": {"preset": preset_name, "options": {"hidden": [64, 32], **(model or {})}},
        "training": {"epochs": epochs, "seed": SEED, **training},
    })


runs = {}
for name in ("pnn", "affine"):
    runs[name] = train_experiment(experiment(name), WORK / "runs" / name,
                                  overwrite=True, progress=False)
    print(name, runs[name].history[["epoch", "train_loss", "val_loss", "val_auc_mean"]]
          .round(4).to_string(index=False), sep="\n")

# %% [markdown]
# Each row is one epoch: the training and validation losses and the mean of the
# per-mass validation AUCs. The run keeps the epoch with the best mean validation AUC.
# With this little data and four epochs both networks are still learning (both drop out a
# quarter of the units in training, as the published networks did, so the training loss
# lies above the validation loss), and the AffinePNN learns more slowly; at the published size
# it matches the pNN at the training masses and interpolates far better between them
# (docs/results.md, studies 1 and 3, and the pretrained models of section 9). `plot_history` draws the same numbers:

# %%
from hep_pnn.evaluation import plot_history

fig, axes = plt.subplots(1, 2, figsize=(16, 6))
for ax, (name, run) in zip(axes, runs.items(), strict=True):
    plot_history(run.history, ax=ax)
    ax.set_title(name)
fig.tight_layout()

# %% [markdown]
# The trained model is a *scorer*: `predict(features, mass)` returns the signal
# probability of each event at a mass hypothesis. Scoring the same signal events at
# several hypotheses shows what "parametric" means: the score is highest when the
# hypothesis is close to the mass the events were made at, and the background's score
# falls as the hypothesis moves away from the tt̄ threshold. Our tiny networks have not
# learnt this sharply yet, so this cell uses the AffinePNN shipped with the package
# (published recipe, 400,000 generated events, 8 epochs; section 9); `runs["affine"].model`
# offers the same `predict`.

# %%
from hep_pnn.zoo import load_zoo_model

pretrained = load_zoo_model("affine-hepmass")
hypotheses = np.arange(400, 1651, 50)
fig, ax = plt.subplots(figsize=(7, 4.5))
for mass in (750, 1250):
    signal = table.signal(mass=mass)
    mean_score = [pretrained.predict(signal.features, h).mean() for h in hypotheses]
    ax.plot(hypotheses, mean_score, marker="o", label=f"signal made at {mass} GeV")
background = table.background()
ax.plot(hypotheses, [pretrained.predict(background.features, h).mean() for h in hypotheses],
        color="0.5", label="background")
ax.set_xlabel("mass hypothesis m [GeV]")
ax.set_ylabel("mean score (pretrained AffinePNN)")
ax.legend()
fig.tight_layout()

# %% [markdown]
# ## 4. Balanced batches and the background-mass assignment
#
# Two choices of the training recipe decide whether a pNN works when the signal masses are
# not equally populated (HEPMASS-IMB has 350k signal events at 500 GeV and 1.4k at
# 1500 GeV):
#
# * **balanced batches** (`sampler: balanced`): every mini-batch is half signal, split
#   equally between the signal masses, and half background, so a rare mass is seen as
#   often as a common one;
# * **the background mass**: background events have no true mass, so they get a
#   hypothesis m during training. If background masses follow a different distribution
#   than the signal masses the network is fed, m alone tells signal from background and
#   the network learns that shortcut. hep-pnn therefore draws them like the signal the
#   sampler presents (`identical_weighting: sampler`, the default); `frequency` draws them
#   by the signal counts in the file, the naive choice.
#
# The small experiment below makes imbalanced events (5,000 signal events at 500 GeV,
# only 50 at 1500 GeV, none in between, as in the tail of HEPMASS-IMB) and trains the
# Baldi pNN on them three times:
#
# * **naive**: plain shuffled batches, no per-mass weights, background masses drawn by the
#   file's signal counts (99 % of the background at 500 GeV);
# * **balanced, frequency**: balanced batches, but background masses still drawn by the
#   file's counts, so in a batch the background is almost all at 500 GeV while the signal
#   is half at 1500 GeV: the mass alone now hints at the label;
# * **balanced, sampler** (the default): balanced batches and background masses drawn
#   like the signal the sampler feeds.
#
# Each run takes about a second.

# %%
from hep_pnn.data import write_events

imbalanced = generate(masses=[500.0, 1500.0], n_signal_per_mass={500.0: 5000, 1500.0: 50},
                      n_background=15000, seed=3)
imbalanced_file = WORK / "imbalanced.parquet"
write_events(imbalanced, imbalanced_file, overwrite=True)
recipes = {
    "naive": {"sampler": "plain", "weights": {"normalise": "none", "use_event_weights": False},
              "background_mass": {"identical_weighting": "frequency"}},
    "balanced, frequency": {"sampler": "balanced",
                            "background_mass": {"identical_weighting": "frequency"}},
    "balanced, sampler": {"sampler": "balanced",
                          "background_mass": {"identical_weighting": "sampler"}},
}
interpolation = {
    name: train_experiment(experiment("pnn", path=imbalanced_file, epochs=8, **training),
                           WORK / "runs" / f"imbalanced-{index}", overwrite=True,
                           progress=False)
    for index, (name, training) in enumerate(recipes.items())
}

# %% [markdown]
# To measure the AUC at masses that are not in the file, `auc_vs_mass` needs signal
# events at each mass of the grid; `generator_signal_factory` makes them with the
# generator (seeded per mass). The background is the test background of our main event
# file, scored at each hypothesis.
#
# The naive run learns the 1500 GeV signal poorly (50 of the 20,000 events in the file,
# with no weight to compensate): its AUC stops rising at about 0.90–0.94 from 1000 GeV
# on, where the balanced runs reach 0.95–0.99. Drawing the background masses by the
# file's counts costs the balanced run up to 0.005 at each mass from 750 GeV up here; at
# the published data size the
# same mismatch made the network rank signal *below* background at 750 GeV (AUC 0.613
# against 0.894, docs/training.md, "Background masses").

# %%
from hep_pnn.evaluation import auc_vs_mass, plot_auc_vs_mass
from hep_pnn.evaluation.command import generator_signal_factory

grid = np.arange(500, 1501, 125)
signal_factory = generator_signal_factory(n_signal=1000, seed=SEED)
test = runs["affine"].load_test_data()
curves = {
    name: auc_vs_mass(run.model, masses=grid, signal_factory=signal_factory,
                      background=test.background())
    for name, run in interpolation.items()
}
fig, ax = plt.subplots(figsize=(8, 6))
plot_auc_vs_mass(curves, training_masses={name: [500, 1500] for name in curves}, ax=ax)
ax.set_title("pNN trained on 500 and 1500 GeV (5000 : 50 signal events)", fontsize=14)
pd.DataFrame({name: curve.set_index("mass")["roc_auc"] for name, curve in curves.items()}).round(3)

# %% [markdown]
# ## 5. Conditioning mechanisms
#
# How the mass enters the network is a choice of *mechanism* (`concat`, `bias`, `scale`,
# `affine`) and *placement* (`input`, `every` hidden layer, `output`: the last hidden
# layer only). They are all one contract (`hep_pnn.models.conditioning.Conditioning`)
# collected in the registry `CONDITIONINGS`, so a new mechanism is one class and one
# registry entry (docs/models.md). The table counts the parameters each combination adds
# to the 64-32 network; the `conditioning` study (`pnn study conditioning`,
# docs/results.md) trains all twelve.

# %%
from hep_pnn.models import CONDITIONINGS, ModelConfig

base = build_model(ModelConfig(conditioning="none", hidden=(64, 32)),
                   feature_names=FEATURE_NAMES, seed=SEED)
n_base = sum(p.numel() for p in base.parameters())
rows = {}
for mechanism in CONDITIONINGS:
    rows[mechanism] = {}
    for placement in ("input", "every", "output"):
        net = build_model(ModelConfig(conditioning=mechanism, placement=placement,
                                      hidden=(64, 32)),
                          feature_names=FEATURE_NAMES, seed=SEED)
        rows[mechanism][placement] = sum(p.numel() for p in net.parameters()) - n_base
print(f"mass-blind network: {n_base:,} parameters; extra parameters per mechanism:")
pd.DataFrame(rows).T

# %% [markdown]
# A mechanism and a placement are two model options of an experiment. The cell below
# trains the four mechanisms (concatenation at the input as in Baldi's pNN, the others
# after every hidden layer as in the AffinePNN) on signal at 500 and 1500 GeV only (no
# dropout, six epochs), and gives the test AUC
# at every mass, three of them never seen in training. At this size all four
# interpolate about equally well; the differences the `conditioning` study finds (e.g.
# concatenation only before the output layer at 0.76 mean AUC, bias and affine
# conditioning at every layer at 0.91–0.93; docs/results.md) need more data.

# %%
from hep_pnn.evaluation import evaluate_masses

placements = {"concat": "input", "bias": "every", "scale": "every", "affine": "every"}
conditioning_auc = {}
for mechanism, placement in placements.items():
    options = {"conditioning": mechanism, "placement": placement, "dropout": 0.0}
    run = train_experiment(experiment("affine", epochs=6, training_masses=[500, 1500],
                                      model=options),
                           WORK / "runs" / f"conditioning-{mechanism}", overwrite=True,
                           progress=False)
    frame = evaluate_masses(run.model, run.load_test_data()).frame
    conditioning_auc[f"{mechanism} ({placement})"] = frame.set_index("mass")["roc_auc"]
pd.DataFrame(conditioning_auc).T.round(3)

# %% [markdown]
# ## 6. Evaluation
#
# `evaluate_run` computes, on the run's held-out test events, the per-mass metrics (ROC
# AUC, the headline number, and its weighted version, background rejection at fixed
# signal efficiency, ...), the mass sculpting (how a cut on the score reshapes the
# background m_WWbb distribution) and a 2-D map of the hidden representation; with a grid
# and a signal factory it adds the AUC on a fine mass grid, including masses between the
# trained ones. `pnn evaluate RUN_DIR` does the same and writes the plots.

# %%
from hep_pnn.evaluation import evaluate_run

fine_grid = np.arange(500, 1501, 50)
evaluations = {
    name: evaluate_run(run, name=name, grid=fine_grid, signal_factory=signal_factory,
                       seed=SEED)
    for name, run in runs.items()
}
pd.DataFrame({name: ev.metrics.frame.set_index("mass")["roc_auc"]
              for name, ev in evaluations.items()}).round(4)

# %% [markdown]
# ROC curves (signal efficiency against background efficiency) of the AffinePNN at each
# test mass, and the distribution of its score for signal and background at 750 GeV. The
# low masses are the hard ones: the signal there looks most like tt̄ background.

# %%
from hep_pnn.evaluation import plot_roc, plot_score_distribution

fig, axes = plt.subplots(1, 2, figsize=(16, 7))
affine = evaluations["affine"]
plot_roc(affine.metrics, ax=axes[0])
plot_score_distribution(affine.metrics.samples[750.0], ax=axes[1])
fig.tight_layout()

# %% [markdown]
# The AUC on the fine grid: one pNN serves every mass between 500 and 1500 GeV, with
# fresh signal generated at each grid point (the dots mark the training masses).

# %%
fig, ax = plt.subplots(figsize=(8, 6))
plot_auc_vs_mass({name: ev.grid for name, ev in evaluations.items()},
                 training_masses={name: HEPMASS_MASSES for name in evaluations}, ax=ax)
fig.tight_layout()

# %% [markdown]
# **Sculpting.** Analyses fit the m_WWbb distribution after a cut on the score; a cut
# that makes the background look like a peak at the hypothesis would fake a signal. The
# plot compares the background m_WWbb shape before and after a cut keeping 50 % of the
# signal at 1000 GeV, with the Jensen–Shannon divergence between the two (0 = unchanged).
# A pNN uses m_WWbb heavily, so the cut keeps the background near the hypothesis and the
# shape changes a lot: a fit of m_WWbb after such a cut must model the sculpted
# background (or use a score decorrelated from the mass).

# %%
from hep_pnn.evaluation import plot_sculpting

result = next(r for r in affine.sculpting if r.mass == 1000.0)
fig, ax = plt.subplots(figsize=(8, 6))
plot_sculpting(result, ax=ax)
print(f"JS divergence at 1000 GeV: {result.js_divergence:.3f}")

# %% [markdown]
# **Hidden representation.** The activations that feed the output layer, projected on
# their two principal components, coloured by the event's mass hypothesis (left) and by
# signal or background (right): the network arranges events by mass and separates signal
# along a direction that depends on the mass.

# %%
from hep_pnn.evaluation import plot_representation

fig, axes = plt.subplots(1, 2, figsize=(17, 7))
plot_representation(affine.representation, color_by="mass", ax=axes[0])
plot_representation(affine.representation, color_by="label", ax=axes[1])
fig.tight_layout()

# %% [markdown]
# ## 7. Scores into your ROOT and Parquet files: `pnn apply`
#
# An analysis needs the score of every event of its own files at every mass hypothesis.
# `apply_scores` (the function behind `pnn apply`) streams the input files chunk by
# chunk, scores each chunk at each mass and writes one column `score_m<mass>` per
# hypothesis: to Parquet, CSV, or a ROOT tree to use as a friend of the input tree. Here
# the input is a ROOT file written from our events; the model is the AffinePNN's run
# directory.

# %%
from hep_pnn.apply import apply_scores

root_input = WORK / "events.root"
write_events(table, root_input, overwrite=True)
for output in (WORK / "scores.root", WORK / "scores.parquet"):
    summary = apply_scores(WORK / "runs" / "affine", [root_input], masses="500,750,1000",
                           output=output, overwrite=True)
    print(f"{summary.events:,} events × {summary.columns} → {summary.output}")
pd.read_parquet(WORK / "scores.parquet").head()

# %% [markdown]
# The ROOT output holds the tree `pnn_scores` with one entry per input entry, in the same
# order, so it can be added as a friend of the input tree. Reading it back with uproot:

# %%
import uproot

with uproot.open(WORK / "scores.root") as handle:
    print(handle["pnn_scores"].arrays(library="pd").describe().loc[["count", "mean"]])

# %% [markdown]
# ## 8. Export to ONNX
#
# `export_onnx` (`pnn export RUN_DIR -o model.onnx`) writes the network as an ONNX graph
# with inputs `features` (n × 27, raw) and `mass` (n, GeV) and the signal probability as
# output; the preprocessing is inside the graph. Any ONNX runtime (C++, CMSSW, athena,
# onnxruntime in Python) can run it; below we check it against the PyTorch model.

# %%
import onnxruntime

from hep_pnn.models.onnx import export_onnx

onnx_file = export_onnx(runs["affine"].model, WORK / "affine.onnx", overwrite=True)
session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
features = test.features[:1000]
mass = np.full(len(features), 1000.0, dtype=np.float32)
(onnx_score,) = session.run(None, {"features": features, "mass": mass})
torch_score = runs["affine"].model.predict(features, mass)
print("inputs:", [i.name for i in session.get_inputs()],
      "; largest difference to PyTorch:", float(np.abs(onnx_score - torch_score).max()))

# %% [markdown]
# ## 9. Pretrained models
#
# The package ships models trained at the published recipe on the built-in generator
# (`pnn zoo list`, docs/zoo.md). They load in one line and are ready for `predict`,
# `pnn apply` and `pnn evaluate` (after `pnn zoo export NAME -o DIR`). The zoo's AffinePNN
# (`pretrained` above) is much better than the tiny one trained here; `describe_card`
# prints what `pnn zoo show` prints: the recipe, seed, generator version and test AUC.

# %%
from hep_pnn.zoo import describe_card, list_models, model_card, per_mass_auc

print([card.name for card in list_models()])
print(describe_card(model_card("affine-hepmass")))
pd.DataFrame({"tutorial affine": per_mass_auc(runs["affine"].model, test),
              "pretrained affine-hepmass": per_mass_auc(pretrained, test)}).round(4)

# %% [markdown]
# ## Where next
#
# * `pnn demo`: the same chain at a larger size, with an HTML report.
# * `pnn train experiment.yaml` / `pnn evaluate` / `pnn report`: the command-line
#   workflow (docs/training.md, docs/evaluation.md).
# * `pnn study NAME`: the published studies (docs/studies.md).

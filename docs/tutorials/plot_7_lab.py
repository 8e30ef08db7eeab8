"""
Experimenting with losses in the lab
====================================

The lab trains one model per loss with everything else equal (the data split, the initial weights, the
optimiser, the batch order, the seeds) and records every epoch: the training and validation cost, the task
metrics on a clean validation set, and the gradient norm. Here a linear model on the diabetes data with gross
outliers in its training targets, trained by the NumPy backend (the losses' closed-form gradients), compares
squared error with Huber's loss, the Cauchy loss, and a sweep of Huber's delta.
"""

import matplotlib.pyplot as plt
import numpy as np

import losskit as lk

result = lk.lab.run("outliers", losses="mse,cauchy", sweep={"huber": {"delta": [0.3, 1, 3]}},
                    model="linear", backend="numpy", epochs=40, seeds=3)

# %%
# The final metrics
# -----------------
# Mean and spread over the seeds, on the clean validation set; the written reading says which differences are
# larger than the seed-to-seed spread.
for row in result.rows():
    cells = ", ".join(f"{cell['key']} {cell['mean']:.2f} ± {cell['std']:.2f}" for cell in row["cells"])
    print(f"{row['loss']:18} {cells}")
print()
print("\n".join(result.reading[:3]))

# %%
# Reading the learning dynamics
# -----------------------------
# Each loss's own cost is on its own scale, so the curves are compared by their shape; the metric is on one scale
# for all. Under squared error the outliers keep pulling the fit after the clean points are fitted, and the
# validation error climbs again; the robust losses settle.
fig, (cost, metric) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
for label in result.losses:
    runs = result.runs_of(label)
    epochs = runs[0].history["epoch"]
    own = np.mean([run.history["val_cost"] for run in runs], axis=0)
    mae = np.mean([run.history["mae"] for run in runs], axis=0)
    cost.plot(epochs, own / own[0], label=label)
    metric.plot(epochs, mae, label=label)
cost.set_title("validation cost, relative to epoch 0")
metric.set_title("validation MAE (the target's units)")
for ax in (cost, metric):
    ax.set_xlabel("epoch")
metric.legend()
mse_mae = np.mean([run.history["mae"] for run in result.runs_of("mse")], axis=0)
assert mse_mae[-1] > mse_mae.min() + 2  # under squared error the validation error climbs again after its best epoch

# %%
# The same from the command line, with a report (``report.html``) that draws all of this and the sweep::
#
#     losskit lab outliers --losses mse,cauchy --model linear --seeds 3
#     losskit lab sweep huber --param delta=0.3,1,3 --losses mse --model linear --seeds 3

"""Write the example CSV files of the README from scikit-learn's bundled data sets.

- ``diabetes_outliers.csv``: the diabetes regression data, 5% of its targets shifted by +1000 (gross
  outliers, as a broken sensor or a unit mix-up would make);
- ``fraud_like.csv``: the breast-cancer data with the malignant class subsampled to 5% (an
  imbalanced binary target).

Run: ``.venv/bin/python examples/make_csv.py``
"""

from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes

HERE = Path(__file__).parent


def write(path: Path, columns: dict) -> None:
    names = list(columns)
    rows = zip(*(np.asarray(columns[name]) for name in names))
    lines = [",".join(names)] + [",".join(f"{v:.6g}" for v in row) for row in rows]
    path.write_text("\n".join(lines) + "\n")


def main() -> None:
    rng = np.random.default_rng(0)
    diabetes = load_diabetes()
    y = diabetes.target.copy()
    y[rng.choice(y.size, size=y.size // 20, replace=False)] += 1000.0
    write(HERE / "diabetes_outliers.csv", {**dict(zip(diabetes.feature_names, diabetes.data.T)), "progression": y})

    cancer = load_breast_cancer()
    malignant = np.flatnonzero(cancer.target == 0)
    benign = np.flatnonzero(cancer.target == 1)
    keep = np.sort(np.r_[benign, rng.choice(malignant, size=len(benign) // 19, replace=False)])
    features = {name.replace(" ", "_"): cancer.data[keep, i] for i, name in enumerate(cancer.feature_names[:5])}
    write(HERE / "fraud_like.csv", {**features, "malignant": 1 - cancer.target[keep]})


if __name__ == "__main__":
    main()

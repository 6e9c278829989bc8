"""babysit watching a Keras 3 run (torch backend) on sklearn's digits.

Run: python examples/keras_digits.py [--log run.jsonl] [--lr 1e-3] [--epochs 5]
then: babysit diagnose run.jsonl   (or babysit watch run.jsonl in another terminal while it runs)
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("KERAS_BACKEND", "torch")  # before keras is imported: its layers are torch modules

import keras
from sklearn.datasets import load_digits

from babysit.integrations.keras import BabysitCallback


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", default="run.jsonl")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()
    keras.utils.set_random_seed(0)
    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype("float32")
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(64, activation="relu"),
                              keras.layers.Dense(10)])
    model.compile(optimizer=keras.optimizers.Adam(args.lr), metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    babysit = BabysitCallback(log=args.log, num_classes=10, overwrite=True)
    model.fit(x[:1400], y[:1400], batch_size=64, epochs=args.epochs, verbose=0,
              validation_data=(x[1400:], y[1400:]), callbacks=[babysit])
    for finding in babysit.monitor.findings if babysit.monitor else []:
        print(f"{finding.severity}: {finding.rule}: {finding.message}")
    print(f"log: {args.log}")


if __name__ == "__main__":
    main()

"""Data sources, validation and preprocessing."""

from babysit.data.dataset import Dataset
from babysit.data.loaders import load_data
from babysit.data.preprocess import PREPROCESS, input_stats, preprocess

__all__ = ["PREPROCESS", "Dataset", "input_stats", "load_data", "preprocess"]

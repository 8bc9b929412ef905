"""Data sets shipped with widedeep: the census (UCI Adult) data with its
ready-made wide & deep columns, and California housing for regression.

    features, labels = widedeep.datasets.load_adult("train")
    wide, deep = widedeep.datasets.census_columns()

See data/README.md for sources and licences.
"""

import csv
import gzip
import os

import numpy as np

DATA_DIR = os.path.join(os.path.dirname(__file__), "data")

CENSUS_NUMERIC = ["age", "fnlwgt", "education_num", "capital_gain", "capital_loss",
                  "hours_per_week"]
CENSUS_LABEL = "income_bracket"


def read_csv(path, numeric=(), label=None):
    """{column: array} of a (gzipped) CSV with a header row; `numeric` columns as
    float32 (int columns too, as the census tutorial reads them), the rest as
    strings; `label` split off and returned second (or None)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    cols = list(zip(*rows)) if rows else [()] * len(header)
    data = {}
    for name, values in zip(header, cols):
        data[name] = (np.array(values, dtype=np.float32) if name in numeric
                      else np.array(values, dtype=str))
    labels = data.pop(label) if label is not None else None
    return data, labels


def load_adult(split="train"):
    """The census data: (features {column: array}, labels int64 [n], 1 for '>50K').

    Args:
      split: 'train' (32,561 rows) or 'test' (16,281 rows).
    """
    if split not in ("train", "test"):
        raise ValueError(f"load_adult: split must be 'train' or 'test', got {split!r}")
    features, income = read_csv(os.path.join(DATA_DIR, f"adult.{split}.csv.gz"),
                                CENSUS_NUMERIC, CENSUS_LABEL)
    return features, (np.char.rstrip(income, ".") == ">50K").astype(np.int64)


def census_columns():
    """(wide, deep) feature columns of TF's wide & deep census tutorial."""
    import widedeep.feature_column as fc
    vocab = fc.categorical_column_with_vocabulary_list
    education = vocab("education", [
        "Bachelors", "HS-grad", "11th", "Masters", "9th", "Some-college", "Assoc-acdm",
        "Assoc-voc", "7th-8th", "Doctorate", "Prof-school", "5th-6th", "10th", "1st-4th",
        "Preschool", "12th"])
    marital_status = vocab("marital_status", [
        "Married-civ-spouse", "Divorced", "Married-spouse-absent", "Never-married",
        "Separated", "Married-AF-spouse", "Widowed"])
    relationship = vocab("relationship", [
        "Husband", "Not-in-family", "Wife", "Own-child", "Unmarried", "Other-relative"])
    workclass = vocab("workclass", [
        "Self-emp-not-inc", "Private", "State-gov", "Federal-gov", "Local-gov", "?",
        "Self-emp-inc", "Without-pay", "Never-worked"])
    occupation = fc.categorical_column_with_hash_bucket("occupation", hash_bucket_size=1000)
    age = fc.numeric_column("age")
    age_buckets = fc.bucketized_column(age, [18, 25, 30, 35, 40, 45, 50, 55, 60, 65])
    wide = [education, marital_status, relationship, workclass, occupation, age_buckets,
            fc.crossed_column(["education", "occupation"], hash_bucket_size=1000),
            fc.crossed_column([age_buckets, "education", "occupation"], hash_bucket_size=1000)]
    deep = [age, fc.numeric_column("education_num"), fc.numeric_column("capital_gain"),
            fc.numeric_column("capital_loss"), fc.numeric_column("hours_per_week"),
            fc.indicator_column(workclass), fc.indicator_column(education),
            fc.indicator_column(marital_status), fc.indicator_column(relationship),
            fc.embedding_column(occupation, dimension=8)]
    return wide, deep


def load_california_housing():
    """(features {column: float32 array}, labels float32 [n]: median house value
    in $100,000)."""
    names = ["MedInc", "HouseAge", "AveRooms", "AveBedrms", "Population", "AveOccup",
             "Latitude", "Longitude", "MedHouseVal"]
    features, labels = read_csv(os.path.join(DATA_DIR, "california_housing.csv.gz"), names,
                                "MedHouseVal")
    return features, labels

"""The export test model's columns, shared by the TF fixture generator and our
tests: `columns(fc, vocab_file)` with `fc` TensorFlow's `tf.feature_column` or
`widedeep.feature_column` (they take the same calls)."""

EDUCATION = ["Bachelors", "HS-grad", "11th", "Masters", "9th", "Some-college", "Assoc-acdm",
             "Assoc-voc", "7th-8th", "Doctorate", "Prof-school", "5th-6th", "10th", "1st-4th",
             "Preschool", "12th"]
RELATIONSHIP = ["Husband", "Not-in-family", "Wife", "Own-child", "Unmarried", "Other-relative"]
RAW_KEYS = ["age", "education", "hours_per_week", "occupation", "relationship"]


def columns(fc, vocab_file):
    """(wide, deep); `vocab_file` holds RELATIONSHIP, one per line."""
    age = fc.numeric_column("age")
    education = fc.categorical_column_with_vocabulary_list("education", EDUCATION)
    occupation = fc.categorical_column_with_hash_bucket("occupation", 50)
    relationship = fc.categorical_column_with_vocabulary_file("relationship", vocab_file,
                                                              num_oov_buckets=1)
    age_b = fc.bucketized_column(age, [25, 35, 45, 55])
    wide = [education, occupation, relationship, age_b,
            fc.crossed_column(["education", "occupation"], 100)]
    deep = [age, fc.numeric_column("hours_per_week"), fc.indicator_column(education),
            fc.indicator_column(relationship), fc.embedding_column(occupation, 3)]
    return wide, deep

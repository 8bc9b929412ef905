"""Writes tests/reference/fixtures/hash.npz with TensorFlow 2.15.

Run in the reference venv, from the project root:

    .refenv/bin/python tests/reference/generate_hash.py

Holds 2,000+ strings (empty, ASCII, accented, CJK, emoji, NUL bytes, lengths
0-300 bytes, so every branch of Fingerprint64 runs) as one UTF-8 buffer plus
offsets (no pickle), TF's tf.fingerprint of each (uint64), its
to_hash_bucket_fast for several bucket counts, and sparse_cross_hashed of
string x int64 x string crosses for several num_buckets and hash keys.
"""

import os

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import tensorflow as tf  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "fixtures", "hash.npz")
BUCKETS = [1, 2, 10, 1000, 2**31 - 1]
CROSSES = [(0, None), (1000, None), (7, 12345), (2**20, 2**62 + 5)]


def strings(rng):
    alphabet = list("abcdefXYZ0189 -_.,") + ["é", "ß", "日", "本", "🙂", "\x00", "\n"]
    out = ["", "a", "hello", "world", "HS-grad", "Bachelors", "naïve", "日本語", "emoji🙂"]
    for n in list(range(0, 80)) + list(rng.integers(0, 300, 1930)):
        s = "".join(rng.choice(alphabet, int(n)))
        while len(s.encode()) > 300:
            s = s[:-1]
        out.append(s)
    return out


def main():
    rng = np.random.default_rng(2015)
    strs = strings(rng)
    enc = [s.encode("utf-8") for s in strs]
    offsets = np.concatenate([[0], np.cumsum([len(e) for e in enc])]).astype(np.int64)
    fp = tf.fingerprint(tf.constant(enc)).numpy()
    out = {"buf": np.frombuffer(b"".join(enc), np.uint8), "offsets": offsets,
           "fingerprint64": np.frombuffer(fp.tobytes(), "<u8").copy(),
           "buckets": np.array(BUCKETS, np.int64)}
    for b in BUCKETS:
        out[f"bucket_{b}"] = tf.strings.to_hash_bucket_fast(enc, b).numpy()
    # Crosses over a batch of 40: a ragged string feature, an int64 one, a dense string one.
    batch = 40
    # (strings are stored as their positions in the list above)
    idx, vals = [], []
    for r in range(batch):
        for j in range(int(rng.integers(0, 3))):
            idx.append((r, j))
            vals.append(int(rng.integers(0, 50)))
    ints = rng.integers(-5, 10**12, (batch, 2)).astype(np.int64)
    dense = rng.integers(0, 60, (batch, 1))
    out.update(cross_indices=np.array(idx, np.int64).reshape(-1, 2),
               cross_value_ids=np.array(vals, np.int64), cross_ints=ints, cross_dense_ids=dense)
    sp = tf.SparseTensor(np.array(idx, np.int64).reshape(-1, 2),
                         tf.constant([enc[i] for i in vals]), [batch, 2])
    dense_t = tf.constant([[enc[i] for i in row] for row in dense])
    for k, (nb, key) in enumerate(CROSSES):
        kw = {} if key is None else {"hash_key": key}
        res = tf.sparse.cross_hashed([sp, tf.constant(ints), dense_t], num_buckets=nb, **kw)
        out[f"cross{k}_indices"] = res.indices.numpy()
        out[f"cross{k}_values"] = res.values.numpy()
    out["cross_buckets"] = np.array([nb for nb, _ in CROSSES], np.int64)
    out["cross_keys"] = np.array([0xDECAFCAFFE if key is None else key for _, key in CROSSES],
                                 np.uint64)
    np.savez_compressed(OUT, **out)
    print(f"wrote {len(strs)} strings to {OUT}")


if __name__ == "__main__":
    main()

"""deja on Spark: near-duplicate documents of a DataFrame, with the pairs and clusters that
``deja corpus`` finds on one machine for the same settings.

- ``near_duplicates(df)`` → ``(a, b, similarity)``: the verified pairs, ``a`` before ``b``.
- ``clusters(df)`` → ``(id, representative)``: every document of a cluster of two or more.
- ``dedup(df)`` → ``df`` without the documents that are not their cluster's representative.

How it runs (nothing that grows with the corpus goes to the driver):

1. ``mapInArrow``: each partition's texts are sketched by the Rust core in one pass
   (``Sketcher.sketch``): band keys and compact shingle sets, kept (persisted) with the row's
   position in the DataFrame (``monotonically_increasing_id``: partition, then row).
2. The band keys are the shuffle: rows grouped by key are the LSH buckets (kept). A bucket of
   at most ``max_bucket`` rows gives its pairs; the pairs are deduplicated, joined with both
   sets (the sets are shuffled once, by position, and that shuffle serves both joins) and
   verified by exact Jaccard in the executors (``deja.verify``). A larger bucket (thousands of
   identical documents) is not expanded: its rows and sets go to one task that joins them as
   ``deja corpus`` does (``deja.join_buckets``), about one comparison per row. Whether there is
   such a bucket is asked first (a count of at most one row), so that a corpus without one
   does not pay for that join; this runs the sketch and the band grouping when
   ``near_duplicates`` is called, not when its result is first used.
3. Clusters: connected components of the verified pairs by alternating large-star and
   small-star steps (Kiveris et al., 2014) in DataFrame operations; each converges on the
   smallest position of its component, so the representative is the first document in
   DataFrame order, as ``deja corpus`` picks the first in input order.

Ids should be unique (``dedup`` drops by id). The DataFrame's order decides representatives:
for a DataFrame read from files it is the files' order.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

import deja

__all__ = ["clusters", "dedup", "near_duplicates"]

_PAIRS = T.StructType(
    [
        T.StructField("a", T.LongType(), False),
        T.StructField("b", T.LongType(), False),
        T.StructField("similarity", T.DoubleType(), False),
    ]
)


# The options of deja corpus (Sketcher's), with its defaults.
_DEFAULTS = {
    "num_perm": 128,
    "shingle_size": 5,
    "seed": 1,
    "words": "alnum",
    "sketch": "oph",
    "recall": 0.95,
    "bands": None,
    "rows": None,
}


def _sketcher_args(threshold, options):
    unknown = set(options) - set(_DEFAULTS)
    if unknown:
        raise TypeError(f"unexpected options: {', '.join(sorted(unknown))}")
    return {**_DEFAULTS, **options, "threshold": threshold}


def _set_bytes(sets):
    """deja's list<uint32> sets as one Spark ``binary`` value each (the u32s, little-endian):
    Spark moves, caches and shuffles a binary value as one block, an ``array<int>`` element by
    element."""
    offsets = sets.offsets.to_numpy()
    values = sets.values.to_numpy()[offsets[0] : offsets[-1]]
    return pa.Array.from_buffers(
        pa.binary(),
        len(sets),
        [None, pa.py_buffer(((offsets - offsets[0]) * 4).astype(np.int32)), pa.py_buffer(values)],
    )


def _uint32_sets(column):
    """A ``binary`` column of ``_set_bytes`` (Arrow binary or large_binary) as the list<uint32>
    deja reads."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    wide = pa.types.is_large_binary(column.type)
    _, offsets, data = column.buffers()
    n = len(column)
    offsets = np.frombuffer(offsets, np.int64 if wide else np.int32)[
        column.offset : column.offset + n + 1
    ]
    values = np.frombuffer(data, np.uint8)[offsets[0] : offsets[-1]].view(np.uint32)
    return pa.ListArray.from_arrays(
        pa.array((offsets - offsets[0]) // 4, pa.int32()), pa.array(values, pa.uint32())
    )


def _int_lists(offsets, values):
    """A list<int64> Arrow array for Spark from offsets and a uint64 numpy buffer."""
    return pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(values.view(np.int64)))


def _sketch(df, text_col, id_col, args):
    """(row, id, keys, set) per document: position, id, band keys, compact shingle set (as
    bytes)."""
    id_type = df.schema[id_col].dataType
    schema = T.StructType(
        [
            T.StructField("row", T.LongType(), False),
            T.StructField("id", id_type, True),
            T.StructField("keys", T.ArrayType(T.LongType(), False), False),
            T.StructField("set", T.BinaryType(), False),
        ]
    )

    def sketch_batches(batches):
        sk = deja.Sketcher(**args)
        for batch in batches:
            n = batch.num_rows
            keys, sets = sk.sketch(batch.column("text"))
            key_offsets = np.arange(0, n * sk.bands + 1, sk.bands, dtype=np.int32)
            yield pa.RecordBatch.from_arrays(
                [
                    batch.column("row"),
                    batch.column("id"),
                    _int_lists(key_offsets, keys.reshape(-1)),
                    _set_bytes(sets),
                ],
                names=["row", "id", "keys", "set"],
            )

    indexed = df.select(
        F.monotonically_increasing_id().alias("row"),
        F.col(id_col).alias("id"),
        F.col(text_col).alias("text"),
    )
    return indexed.mapInArrow(sketch_batches, schema).persist(StorageLevel.MEMORY_AND_DISK)


def _verify_batches(threshold):
    def verify_batches(batches):
        for batch in batches:
            n = batch.num_rows
            sets = pa.concat_arrays(
                [_uint32_sets(batch.column("sa")), _uint32_sets(batch.column("sb"))]
            )
            idx = np.arange(n, dtype=np.uint32)
            pairs, sims = deja.verify(np.stack([idx, idx + n], axis=1), sets, threshold)
            i = pairs[:, 0].astype(np.int64)
            yield pa.RecordBatch.from_arrays(
                [
                    pa.array(batch.column("a").to_numpy()[i]),
                    pa.array(batch.column("b").to_numpy()[i]),
                    pa.array(sims),
                ],
                names=["a", "b", "similarity"],
            )

    return verify_batches


def _join_bucket(threshold):
    def join_bucket(table):
        table = table.sort_by("pos")
        rows = table.column("row").to_numpy()
        sets = _uint32_sets(table.column("set"))
        pairs, sims = deja.join_buckets([np.arange(len(rows), dtype=np.uint32)], sets, threshold)
        return pa.table(
            {
                "a": pa.array(rows[pairs[:, 0]], pa.int64()),
                "b": pa.array(rows[pairs[:, 1]], pa.int64()),
                "similarity": pa.array(sims, pa.float64()),
            }
        )

    return join_bucket


def _row_pairs(df, text_col, id_col, threshold, max_bucket, args):
    """The sketched rows and the verified pairs of row positions (a < b)."""
    if text_col not in df.columns or id_col not in df.columns:
        raise deja.DejaError(f"the DataFrame has no column {text_col!r} or {id_col!r}")
    if max_bucket is not None and max_bucket < 2:
        raise deja.DejaError(f"max_bucket must be ≥ 2, got {max_bucket}")
    deja.Sketcher(**args)  # bad options fail here, on the driver, with the CLI's message
    sketched = _sketch(df, text_col, id_col, args)
    entries = sketched.select("row", F.explode("keys").alias("key")).where(F.col("key") != 0)
    buckets = (
        entries.groupBy("key")
        .agg(F.array_sort(F.array_distinct(F.collect_list("row"))).alias("members"))
        .where(F.size("members") >= 2)
    )
    # Read twice (the check for large buckets, then the pairs): kept, not shuffled twice.
    buckets = buckets.persist(StorageLevel.MEMORY_AND_DISK)
    # One small job (a count of at most one row) decides whether the large-bucket join runs:
    # it would shuffle every set once more, for buckets that most corpora do not have.
    large = None
    if max_bucket is not None:
        large = buckets.where(F.size("members") > max_bucket)
        if large.limit(1).count() == 0:
            large = None
    small = buckets if large is None else buckets.where(F.size("members") <= max_bucket)
    candidates = (
        small.select(F.explode("members").alias("a"), "members")
        .select("a", F.explode(F.filter("members", lambda x: x > F.col("a"))).alias("b"))
        .distinct()
    )
    sets = sketched.select("row", "set")
    with_sets = candidates.join(
        sets.withColumnRenamed("row", "a").withColumnRenamed("set", "sa"), "a"
    ).join(sets.withColumnRenamed("row", "b").withColumnRenamed("set", "sb"), "b")
    pairs = with_sets.mapInArrow(_verify_batches(threshold), _PAIRS)
    if large is not None:
        large = (
            large.select("members")
            .distinct()
            .select(F.xxhash64("members").alias("bucket"), F.posexplode("members"))
            .withColumnRenamed("col", "row")
            .join(sets, "row")
        )
        joined = large.groupBy("bucket").applyInArrow(_join_bucket(threshold), _PAIRS)
        pairs = pairs.unionByName(joined).dropDuplicates(["a", "b"])
    return sketched, pairs


def near_duplicates(
    df: DataFrame,
    text_col: str = "text",
    id_col: str = "id",
    threshold: float = 0.8,
    *,
    num_perm: int = 128,
    shingle_size: int = 5,
    seed: int = 1,
    words: str = "alnum",
    sketch: str = "oph",
    recall: float = 0.95,
    bands: int | None = None,
    rows: int | None = None,
    max_bucket: int | None = 256,
) -> DataFrame:
    """The near-duplicate pairs of ``df``: a DataFrame ``(a, b, similarity)`` of ids, ``a``
    before ``b`` in DataFrame order, exact Jaccard of the compact shingle sets ≥ threshold:
    the pairs ``deja corpus`` lists for the same texts and settings.

    Options are ``deja corpus``'s (``Sketcher``'s). An LSH bucket of more than ``max_bucket``
    documents (thousands of copies of an error page) is not expanded into its pairs: for its
    documents the pairs listed are those that join each to its cluster inside the bucket
    (each copy paired with the first: a linear number, as ``deja corpus`` lists them), which
    give the same clusters. ``max_bucket=None`` lists every verified pair (``--all-pairs``),
    at a cost quadratic in the largest bucket.

    The sketch and the band grouping run (and are kept) when this is called: it asks whether
    any bucket is over ``max_bucket`` (a count, nothing else goes to the driver). The pairs
    are computed when the result is used.
    """
    args = _sketcher_args(
        threshold,
        {
            "num_perm": num_perm,
            "shingle_size": shingle_size,
            "seed": seed,
            "words": words,
            "sketch": sketch,
            "recall": recall,
            "bands": bands,
            "rows": rows,
        },
    )
    sketched, pairs = _row_pairs(df, text_col, id_col, threshold, max_bucket, args)
    return _with_ids(pairs, sketched, [("a", "a"), ("b", "b")]).select("a", "b", "similarity")


def _with_ids(frame, sketched, columns):
    """Replaces row positions in ``columns`` ``(position column, id column name)`` by ids."""
    ids = sketched.select("row", "id")
    for col, name in columns:
        frame = frame.join(
            ids.withColumnRenamed("row", col).withColumnRenamed("id", f"_{name}"), col
        ).drop(col)
    for _col, name in columns:
        frame = frame.withColumnRenamed(f"_{name}", name)
    return frame


def _components(edges):
    """Connected components of ``edges (a, b)``: ``(node, root)`` for every node of a component
    of two or more, root = its smallest node (alternating large-star and small-star)."""
    e = edges.select(F.col("b").alias("u"), F.col("a").alias("v")).localCheckpoint()
    while True:
        # Large-star: each node's larger neighbours move to the smallest of its neighbourhood.
        both = e.unionByName(e.select(F.col("v").alias("u"), F.col("u").alias("v")))
        low = both.groupBy("u").agg(F.least(F.min("v"), F.col("u")).alias("m"))
        e = (
            both.where(F.col("v") > F.col("u"))
            .join(low, "u")
            .select(F.col("v").alias("u"), F.col("m").alias("v"))
            .distinct()
        )
        # Small-star: each node and its smaller neighbours move to the smallest of them.
        low = e.groupBy("u").agg(F.min("v").alias("m"))
        e = (
            e.join(low, "u")
            .select(F.col("v").alias("u"), F.col("m").alias("v"))
            .where(F.col("u") != F.col("v"))
            .unionByName(low.select("u", F.col("m").alias("v")))
            .distinct()
            .localCheckpoint()
        )
        # Stars: every node has one parent, and no parent has one.
        parents = e.select(F.col("v").alias("u")).distinct()
        if (
            e.join(parents, "u").limit(1).count() == 0
            and e.groupBy("u").count().where(F.col("count") > 1).limit(1).count() == 0
        ):
            break
    roots = e.select(F.col("v").alias("u"), "v").distinct()
    return e.unionByName(roots).select(F.col("u").alias("node"), F.col("v").alias("root"))


def clusters(
    df: DataFrame,
    text_col: str = "text",
    id_col: str = "id",
    threshold: float = 0.8,
    **options,
) -> DataFrame:
    """The clusters of ``df``'s near-duplicates: a DataFrame ``(id, representative)`` with a row
    for every document of a cluster of two or more (the representative included, paired with
    itself). The representative is the cluster's first document in DataFrame order, as in
    ``deja corpus``; the clusters are its clusters for the same settings. Options as for
    ``near_duplicates``; the components are computed here (a few Spark jobs per step)."""
    max_bucket = options.pop("max_bucket", 256)
    args = _sketcher_args(threshold, options)
    sketched, pairs = _row_pairs(df, text_col, id_col, threshold, max_bucket, args)
    comps = _components(pairs.select("a", "b"))
    return _with_ids(comps, sketched, [("node", "id"), ("root", "representative")]).select(
        "id", "representative"
    )


def dedup(
    df: DataFrame,
    text_col: str = "text",
    id_col: str = "id",
    threshold: float = 0.8,
    **options,
) -> DataFrame:
    """``df`` without the documents that are near-duplicates of an earlier one: one document per
    cluster (its representative) is kept, as ``deja dedup`` keeps it. Rows are matched by
    ``id_col``, which should be unique. Options as for ``near_duplicates``."""
    c = clusters(df, text_col, id_col, threshold, **options)
    drop = c.where(F.col("id") != F.col("representative")).select(F.col("id").alias("_deja_id"))
    return df.join(drop, df[id_col] == drop["_deja_id"], "left_anti")

"""deja: find text that says the same thing twice.

The Python frontend of the deja library (Rust; the same engine as the ``deja`` command):

- ``doc(text)`` / ``strip(text)``: redundant paragraphs inside one document (``deja doc``).
- ``corpus(records)`` / ``dedup(records)``: near-duplicate documents, clusters and repeated
  paragraphs across a corpus (``deja corpus`` / ``deja dedup``), over an iterable of str,
  ``(id, text)`` pairs or dicts, or a pyarrow table.
- Building blocks, vectorised over numpy and Arrow: ``Sketcher`` (signatures, band keys,
  compact shingle sets), ``candidates``, ``verify``, ``join_buckets``, ``near_duplicates``,
  ``jaccard``.
- ``deja.spark``: the same near-duplicates, clusters and dedup on Spark DataFrames.

Results are those of the CLI for the same settings; errors raise ``DejaError`` with the CLI's
messages. The work runs without the GIL, on all cores.
"""

from ._native import (
    DejaError,
    Sketcher,
    __version__,
    candidates,
    corpus,
    dedup,
    doc,
    jaccard,
    join_buckets,
    near_duplicates,
    strip,
    verify,
)

__all__ = [
    "DejaError",
    "Sketcher",
    "__version__",
    "candidates",
    "corpus",
    "dedup",
    "doc",
    "jaccard",
    "join_buckets",
    "near_duplicates",
    "strip",
    "verify",
]

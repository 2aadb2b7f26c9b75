"""Type stubs of deja's native module (``deja._native``), re-exported by ``deja``."""

from collections.abc import Iterable, Sequence
from typing import Any, Literal, TypedDict

import numpy as np
import numpy.typing as npt
from typing_extensions import TypeAlias

__version__: str

Id: TypeAlias = str | int
Markup: TypeAlias = Literal["auto", "markdown", "rst", "asciidoc", "text"]
Words: TypeAlias = Literal["alnum", "unicode"]
SketchKind: TypeAlias = Literal["oph", "minhash"]
VerifyKind: TypeAlias = Literal["exact", "estimate"]

class DejaError(ValueError):
    """An input or option deja cannot use; the message is the CLI's."""

# --- deja doc: the fields of the JSON contract (DESIGN §5) -------------------------------

class Paragraph(TypedDict):
    index: int
    start: int
    end: int
    line: int
    kind: str

class SentenceRef(TypedDict):
    start: int
    end: int
    line: int

class Evidence(TypedDict):
    paragraph: int
    start: int
    end: int
    line: int
    score: float
    sentence: SentenceRef | None

class Finding(TypedDict, total=False):
    kind: Literal["duplicate", "near_duplicate", "restatement"]
    paragraph: int
    start: int
    end: int
    line: int
    score: float
    sources: list[Evidence]
    explain: dict[str, Any]

class DocReport(TypedDict, total=False):
    id: Id
    bytes: int
    paragraphs: list[Paragraph]
    findings: list[Finding]
    near_misses: list[dict[str, Any]]

def doc(
    text: str,
    *,
    id: Id | None = None,
    markup: Markup = "auto",
    threshold: float = 0.55,
    near_duplicate_threshold: float = 0.5,
    duplicate_threshold: float = 0.9,
    shingle_size: int = 3,
    min_content_words: int = 4,
    lang: str = "english",
    explain: bool = False,
    near_miss: float | None = None,
) -> DocReport:
    """The report of ``deja doc`` on one text: ``documents[0]`` of ``--format json``.

    ``markup="auto"`` reads the text as the CLI reads a file named ``id`` (by its extension
    and content), or as Markdown when there is no ``id`` (as stdin).
    """

def strip(
    text: str,
    *,
    id: Id | None = None,
    markup: Markup = "auto",
    threshold: float = 0.55,
    near_duplicate_threshold: float = 0.5,
    duplicate_threshold: float = 0.9,
    shingle_size: int = 3,
    min_content_words: int = 4,
    lang: str = "english",
) -> str:
    """``text`` without its redundant paragraphs (``deja doc --strip``)."""

# --- deja corpus / dedup -------------------------------------------------------------------

class Pair(TypedDict):
    a: Id
    b: Id
    similarity: float

class Cluster(TypedDict):
    representative: Id
    members: list[Id]

class RepeatedParagraph(TypedDict):
    text: str
    count: int
    documents: list[Id]

class CorpusReport(TypedDict):
    version: int
    documents: int
    threshold: float
    num_perm: int
    bands: int
    rows: int
    shingle_size: int
    implied_threshold: float
    candidate_probability: float
    verify: str
    candidates: int
    pair_count: int
    cluster_count: int
    duplicate_documents: int
    repeated_paragraph_count: int
    pairs: list[Pair]
    clusters: list[Cluster]
    repeated_paragraphs: list[RepeatedParagraph]

Record: TypeAlias = str | tuple[Id, str] | dict[str, Any]
Records: TypeAlias = Iterable[Record] | Any  # or an Arrow table / record batch reader

def corpus(
    records: Records,
    *,
    threshold: float = 0.8,
    num_perm: int = 128,
    shingle_size: int = 5,
    seed: int = 1,
    words: Words = "alnum",
    sketch: SketchKind = "oph",
    recall: float = 0.95,
    bands: int | None = None,
    rows: int | None = None,
    verify: VerifyKind = "exact",
    memory: str | None = None,
    min_repeat: int = 3,
    min_paragraph_words: int = 2,
    paragraphs: bool = True,
    text_field: str = "text",
    id_field: str = "id",
) -> CorpusReport:
    """Near-duplicate pairs, clusters and repeated paragraphs: ``deja corpus --format json``.

    ``records``: str (id = position), ``(id, text)`` pairs, dicts with ``text_field`` and
    ``id_field`` (id = position when absent), or an Arrow table / record batches with those
    columns.
    """

def dedup(
    records: Records,
    *,
    threshold: float = 0.8,
    num_perm: int = 128,
    shingle_size: int = 5,
    seed: int = 1,
    words: Words = "alnum",
    sketch: SketchKind = "oph",
    recall: float = 0.95,
    bands: int | None = None,
    rows: int | None = None,
    verify: VerifyKind = "exact",
    memory: str | None = None,
    strip_repeated_paragraphs: int | None = None,
    min_paragraph_words: int = 2,
    text_field: str = "text",
    id_field: str = "id",
) -> Any:
    """``records`` without near-duplicates (``deja dedup``): the first of each cluster kept.

    A list of the kept records, or for an Arrow table its kept rows (``table.take``).
    ``strip_repeated_paragraphs=N`` also takes out of the kept texts every paragraph found in
    N or more documents, except in the first document that has it
    (``--strip-repeated-paragraphs N``); a record so changed comes back as a new str, dict
    (a shallow copy) or (id, text) pair, the others as given.
    """

# --- building blocks -----------------------------------------------------------------------

Texts: TypeAlias = Sequence[str] | Any  # or a pyarrow string array / chunked array

class Sketcher:
    """Signatures, band keys and compact shingle sets of many texts, as ``deja corpus``
    computes them for the same settings."""

    num_perm: int
    shingle_size: int
    bands: int
    rows: int

    def __init__(
        self,
        num_perm: int = 128,
        shingle_size: int = 5,
        seed: int = 1,
        *,
        words: Words = "alnum",
        sketch: SketchKind = "oph",
        threshold: float = 0.8,
        recall: float = 0.95,
        bands: int | None = None,
        rows: int | None = None,
    ) -> None: ...
    def signatures(self, texts: Texts) -> npt.NDArray[np.uint32]:
        """``(len(texts), num_perm)`` MinHash / one-permutation signatures."""
    def band_keys(self, texts: Texts) -> npt.NDArray[np.uint64]:
        """``(len(texts), bands)`` LSH band keys (0 for a text without words)."""
    def shingle_sets(self, texts: Texts) -> Any:
        """A ``pyarrow.LargeListArray`` of ``uint32``: each text's compact shingle set."""
    def sketch(self, texts: Texts) -> tuple[npt.NDArray[np.uint64], Any]:
        """``(band_keys, shingle_sets)`` in one pass over the texts."""

def candidates(
    band_keys: npt.NDArray[np.uint64], *, max_bucket: int | None = 256
) -> tuple[npt.NDArray[np.uint32], list[npt.NDArray[np.uint32]]]:
    """``(pairs, large_buckets)``: the ``(m, 2)`` pairs (``a < b``, sorted) of rows sharing a
    band key in buckets of at most ``max_bucket`` rows, and the larger buckets whole (for
    ``join_buckets``). ``max_bucket=None`` expands every bucket."""

def verify(
    pairs: npt.ArrayLike | Sequence[tuple[int, int]],
    sets: Any,
    threshold: float = 0.8,
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.float64]]:
    """The pairs whose exact Jaccard of compact sets is ≥ threshold, and their similarity."""

def join_buckets(
    large_buckets: Sequence[npt.ArrayLike],
    sets: Any,
    threshold: float = 0.8,
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.float64]]:
    """The verified pairs joining each row of each large bucket to its cluster in the bucket."""

def near_duplicates(
    band_keys: npt.NDArray[np.uint64],
    sets: Any,
    threshold: float = 0.8,
    *,
    max_bucket: int | None = 256,
) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.float64]]:
    """The verified pairs ``deja corpus`` lists for these band keys and sets, sorted."""

def jaccard(a: Sequence[int], b: Sequence[int]) -> float:
    """Exact Jaccard similarity of two sets of compact hashes."""

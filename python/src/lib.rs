//! `deja._native`: the Python frontend of the deja library (DESIGN §7, STYLE §9).
//!
//! A thin layer: every result is computed by the `deja` crate; this file only converts at the
//! edge — Python records and Arrow/numpy buffers in, JSON-contract dicts and numpy/Arrow
//! arrays out — releases the GIL around the work (rayon runs inside), and turns library
//! errors into `deja.DejaError` and panics into `RuntimeError`.

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, UInt32Type, UInt64Type};
use arrow_array::{Array, ArrayRef, LargeListArray, RecordBatch, UInt32Array};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field};
use deja::batch::{self, BatchSketcher, CompactSets};
use deja::corpus::{parse_size, CorpusBuilder, CorpusOptions, SketchMethod, SketchParams};
use deja::findings::{DocAnalyzer, DocOptions, DocReport};
use deja::index::Banding;
use deja::input::Document;
use deja::report::{write_corpus, Format};
use deja::segment::{prose, Markup};
use deja::shingle::WordSplit;
use deja::strip::RepeatStripper;
use deja::verify::{ScoredPair, VerifyMode};
use numpy::ndarray::Array2;
use numpy::{IntoPyArray, PyArray1, PyArray2, PyReadonlyArray2};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString, PyTuple};
use pyo3_arrow::input::{AnyArray, AnyRecordBatch};
use pyo3_arrow::PyArray;
use serde_json::Value;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

pyo3::create_exception!(
    _native,
    DejaError,
    PyValueError,
    "An input or option deja cannot use; the message is the CLI's."
);

fn err(e: deja::Error) -> PyErr {
    DejaError::new_err(e.to_string())
}

fn option_err(msg: String) -> PyErr {
    err(deja::Error::Option(msg))
}

/// Runs `f`, turning a Rust panic into a Python `RuntimeError` (a panic is a bug: it must not
/// take the interpreter down or escape as a `BaseException`).
fn guard<T>(f: impl FnOnce() -> PyResult<T>) -> PyResult<T> {
    std::panic::catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let msg = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(PyRuntimeError::new_err(format!(
            "deja: internal error (a bug, please report it): {msg}"
        )))
    })
}

/// Parses a choice the way the CLI's flag does (`--words alnum`).
fn choice<T: Copy>(flag: &str, value: &str, options: &[(&str, T)]) -> PyResult<T> {
    options
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(value))
        .map(|&(_, v)| v)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|(n, _)| *n).collect();
            option_err(format!(
                "--{flag}: {value:?} is not one of {}",
                names.join(", ")
            ))
        })
}

fn sketch_params(
    num_perm: usize,
    shingle_size: usize,
    seed: u64,
    words: &str,
    sketch: &str,
) -> PyResult<SketchParams> {
    Ok(SketchParams {
        method: choice(
            "sketch",
            sketch,
            &[
                ("oph", SketchMethod::Oph),
                ("minhash", SketchMethod::Minhash),
            ],
        )?,
        k: shingle_size,
        num_perm,
        seed,
        split: choice(
            "words",
            words,
            &[("alnum", WordSplit::Alnum), ("unicode", WordSplit::Unicode)],
        )?,
    })
}

// ---------------------------------------------------------------------------------------
// Texts in: a pyarrow string array (zero-copy) or a sequence of str.

/// Texts borrowed from Arrow string arrays or from Python str objects (Python ≥ 3.10), or
/// copied out of them (Python 3.9).
enum Texts<'py> {
    Arrow(Vec<ArrayRef>),
    Python(Vec<Bound<'py, PyString>>),
    Owned(Vec<String>),
}

// In the stable ABI from Python 3.10 (PyO3 declares it only for abi3 builds of ≥ 3.10), and
// exported by every CPython 3: called only when the running Python is ≥ 3.10.
extern "C" {
    fn PyUnicode_AsUTF8AndSize(
        unicode: *mut pyo3::ffi::PyObject,
        size: *mut pyo3::ffi::Py_ssize_t,
    ) -> *const std::os::raw::c_char;
}

/// The UTF-8 text of `s`, read in place: CPython keeps it with the str (computed once), so
/// it lives as long as `s`.
fn utf8_in_place<'a>(s: &'a Bound<'_, PyString>) -> PyResult<&'a str> {
    let mut size: pyo3::ffi::Py_ssize_t = 0;
    // SAFETY: `s` is a live str and we hold the GIL (a `Bound`); on success the buffer is
    // valid UTF-8 of `size` bytes owned by `s`, which is immutable and outlives `'a`.
    unsafe {
        let data = PyUnicode_AsUTF8AndSize(s.as_ptr(), &mut size);
        if data.is_null() {
            return Err(PyErr::fetch(s.py()));
        }
        let bytes = std::slice::from_raw_parts(data.cast::<u8>(), size as usize);
        Ok(std::str::from_utf8_unchecked(bytes))
    }
}

impl<'py> Texts<'py> {
    fn from_py(obj: &Bound<'py, PyAny>) -> PyResult<Texts<'py>> {
        if obj.hasattr("__arrow_c_array__")? || obj.hasattr("__arrow_c_stream__")? {
            let array: AnyArray = obj.extract()?;
            let reader = array.into_reader()?;
            let mut chunks = Vec::new();
            for chunk in reader {
                let chunk = chunk.map_err(|e| PyValueError::new_err(e.to_string()))?;
                string_array(&chunk, "texts")?;
                chunks.push(chunk);
            }
            return Ok(Texts::Arrow(chunks));
        }
        if obj.is_instance_of::<PyString>() {
            return Err(PyTypeError::new_err(
                "texts: expected a sequence of str or a pyarrow string array, got one str",
            ));
        }
        let mut strs = Vec::new();
        for (i, item) in obj.try_iter()?.enumerate() {
            let item = item?;
            let s = item.cast_into::<PyString>().map_err(|e| {
                PyTypeError::new_err(format!(
                    "texts[{i}]: expected str, got {}",
                    type_name(e.into_inner().as_any())
                ))
            })?;
            strs.push(s);
        }
        if obj.py().version_info() >= (3, 10) {
            return Ok(Texts::Python(strs));
        }
        let owned = strs
            .iter()
            .map(|s| s.to_cow().map(|c| c.into_owned()))
            .collect::<PyResult<_>>()?;
        Ok(Texts::Owned(owned))
    }

    /// Every text as a `&str` (a null is an empty text).
    fn strs(&self) -> PyResult<Vec<&str>> {
        Ok(match self {
            Texts::Owned(v) => v.iter().map(String::as_str).collect(),
            Texts::Python(v) => v.iter().map(utf8_in_place).collect::<PyResult<_>>()?,
            Texts::Arrow(chunks) => {
                let mut out = Vec::new();
                for c in chunks {
                    push_strs(c, &mut out);
                }
                out
            }
        })
    }
}

fn type_name(obj: &Bound<PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// Checks that `a` holds strings.
fn string_array(a: &ArrayRef, what: &str) -> PyResult<()> {
    match a.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(()),
        t => Err(PyTypeError::new_err(format!(
            "{what}: expected an Arrow string array, got {t}"
        ))),
    }
}

fn push_strs<'a>(a: &'a ArrayRef, out: &mut Vec<&'a str>) {
    match a.data_type() {
        DataType::Utf8 => out.extend(a.as_string::<i32>().iter().map(|s| s.unwrap_or(""))),
        DataType::LargeUtf8 => out.extend(a.as_string::<i64>().iter().map(|s| s.unwrap_or(""))),
        DataType::Utf8View => out.extend(a.as_string_view().iter().map(|s| s.unwrap_or(""))),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Building blocks.

/// Signatures, band keys and compact shingle sets of many texts at once, with the shingles,
/// permutations, seed and banding of ``deja corpus`` (the same values it computes).
#[pyclass(frozen, module = "deja")]
struct Sketcher {
    inner: BatchSketcher,
}

#[pymethods]
impl Sketcher {
    #[new]
    #[pyo3(signature = (num_perm=128, shingle_size=5, seed=1, *, words="alnum", sketch="oph",
                        threshold=0.8, recall=0.95, bands=None, rows=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        num_perm: usize,
        shingle_size: usize,
        seed: u64,
        words: &str,
        sketch: &str,
        threshold: f64,
        recall: f64,
        bands: Option<usize>,
        rows: Option<usize>,
    ) -> PyResult<Self> {
        let params = sketch_params(num_perm, shingle_size, seed, words, sketch)?;
        let inner = match (bands, rows) {
            (Some(bands), Some(rows)) => BatchSketcher::new(params, Banding { bands, rows }),
            (None, None) => BatchSketcher::for_threshold(params, threshold, recall),
            _ => return Err(option_err("--bands and --rows go together".into())),
        }
        .map_err(err)?;
        Ok(Sketcher { inner })
    }

    /// Slots per signature.
    #[getter]
    fn num_perm(&self) -> usize {
        self.inner.params().num_perm
    }

    /// Words per shingle.
    #[getter]
    fn shingle_size(&self) -> usize {
        self.inner.params().k
    }

    /// Number of LSH bands (columns of ``band_keys``).
    #[getter]
    fn bands(&self) -> usize {
        self.inner.banding().bands
    }

    /// Signature slots per band.
    #[getter]
    fn rows(&self) -> usize {
        self.inner.banding().rows
    }

    fn __repr__(&self) -> String {
        let p = self.inner.params();
        let b = self.inner.banding();
        format!(
            "Sketcher(num_perm={}, shingle_size={}, seed={}, words={:?}, sketch={:?}, bands={}, rows={})",
            p.num_perm,
            p.k,
            p.seed,
            match p.split {
                WordSplit::Alnum => "alnum",
                WordSplit::Unicode => "unicode",
            },
            match p.method {
                SketchMethod::Oph => "oph",
                SketchMethod::Minhash => "minhash",
            },
            b.bands,
            b.rows
        )
    }

    /// ``numpy.uint32`` array of shape ``(len(texts), num_perm)``: each text's signature.
    fn signatures<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<u32>>> {
        guard(|| {
            let texts = Texts::from_py(texts)?;
            let np = self.inner.params().num_perm;
            let strs = texts.strs()?;
            let flat = py.detach(|| self.inner.signatures(&strs));
            let n = strs.len();
            matrix(py, flat, n, np)
        })
    }

    /// ``numpy.uint64`` array of shape ``(len(texts), bands)``: each text's LSH band keys
    /// (0 in every band for a text without words, which is nobody's candidate).
    fn band_keys<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyArray2<u64>>> {
        guard(|| {
            let texts = Texts::from_py(texts)?;
            let bands = self.inner.banding().bands;
            let strs = texts.strs()?;
            let flat = py.detach(|| self.inner.band_keys(&strs));
            let n = strs.len();
            matrix(py, flat, n, bands)
        })
    }

    /// ``pyarrow.LargeListArray`` of ``uint32``: each text's compact shingle set (high 32 bits
    /// of its shingle hashes, sorted, without repeats), what ``verify`` compares.
    fn shingle_sets<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        guard(|| {
            let texts = Texts::from_py(texts)?;
            let strs = texts.strs()?;
            let sets = py.detach(|| self.inner.shingle_sets(&strs));
            sets_to_arrow(py, sets)
        })
    }

    /// ``(band_keys, shingle_sets)`` in one pass over the texts.
    fn sketch<'py>(
        &self,
        py: Python<'py>,
        texts: &Bound<'py, PyAny>,
    ) -> PyResult<(Bound<'py, PyArray2<u64>>, Bound<'py, PyAny>)> {
        guard(|| {
            let texts = Texts::from_py(texts)?;
            let bands = self.inner.banding().bands;
            let strs = texts.strs()?;
            let (keys, sets) = py.detach(|| self.inner.sketch(&strs));
            let n = strs.len();
            Ok((matrix(py, keys, n, bands)?, sets_to_arrow(py, sets)?))
        })
    }
}

/// A row-major buffer as an `n × cols` numpy array, without a copy.
fn matrix<T: numpy::Element>(
    py: Python<'_>,
    flat: Vec<T>,
    n: usize,
    cols: usize,
) -> PyResult<Bound<'_, PyArray2<T>>> {
    let a = Array2::from_shape_vec((n, cols), flat)
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    Ok(a.into_pyarray(py))
}

fn sets_to_arrow(py: Python<'_>, sets: CompactSets) -> PyResult<Bound<'_, PyAny>> {
    let field = Arc::new(Field::new("item", DataType::UInt32, false));
    let offsets = OffsetBuffer::new(ScalarBuffer::from(sets.offsets));
    let values = Arc::new(UInt32Array::from(sets.values));
    let list = LargeListArray::try_new(field, offsets, values, None)
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    // pyarrow imports the array through the Arrow PyCapsule interface, without a copy.
    let array = PyArray::from_array_ref(Arc::new(list)).into_pyobject(py)?;
    py.import("pyarrow")?.getattr("array")?.call1((array,))
}

/// Reads a `(m, 2)` array of document indices (numpy, or a sequence of pairs).
fn read_pairs(obj: &Bound<PyAny>) -> PyResult<Vec<(u32, u32)>> {
    if let Ok(a) = obj.extract::<PyReadonlyArray2<u32>>() {
        let v = a.as_array();
        if v.ncols() != 2 {
            return Err(PyValueError::new_err(format!(
                "pairs: expected shape (m, 2), got {:?}",
                v.shape()
            )));
        }
        return Ok(v.rows().into_iter().map(|r| (r[0], r[1])).collect());
    }
    let np = obj.py().import("numpy")?;
    let converted = np.call_method1("asarray", (obj, "uint32"))?;
    let as2d = converted.call_method1("reshape", ((-1i64, 2i64),))?;
    let a: PyReadonlyArray2<u32> = as2d.extract()?;
    Ok(a.as_array()
        .rows()
        .into_iter()
        .map(|r| (r[0], r[1]))
        .collect())
}

/// The rows of a ``(n, bands)`` uint64 array as one row-major slice (a copy only when the
/// array is not C-contiguous).
fn keys_of<'a>(
    band_keys: &'a PyReadonlyArray2<'_, u64>,
    owned: &'a mut Vec<u64>,
) -> (&'a [u64], usize) {
    let view = band_keys.as_array();
    let bands = view.ncols();
    match band_keys.as_slice() {
        Ok(s) => (s, bands),
        Err(_) => {
            *owned = view.iter().copied().collect();
            (owned, bands)
        }
    }
}

/// `max_bucket` from Python: `None` expands every bucket.
fn max_bucket_of(max_bucket: Option<usize>) -> usize {
    max_bucket.unwrap_or(usize::MAX)
}

/// Pairs as a numpy `(m, 2)` uint32 array.
fn pairs_array(
    py: Python<'_>,
    pairs: impl Iterator<Item = (u32, u32)>,
) -> PyResult<Bound<'_, PyArray2<u32>>> {
    let flat: Vec<u32> = pairs.flat_map(|(a, b)| [a, b]).collect();
    let m = flat.len() / 2;
    matrix(py, flat, m, 2)
}

/// Candidates and the buckets too large to expand.
type Candidates<'py> = (Bound<'py, PyArray2<u32>>, Bound<'py, PyList>);

/// Candidates of the rows of ``band_keys`` that agree in at least one band:
/// ``(pairs, large_buckets)``. ``pairs``: ``numpy.uint32`` of shape ``(m, 2)``, rows
/// ``(a, b)`` with ``a < b``, sorted, from buckets of at most ``max_bucket`` rows;
/// ``large_buckets``: the larger buckets whole (a list of sorted ``numpy.uint32`` arrays, each
/// once), for ``join_buckets``. ``max_bucket=None`` expands every bucket (quadratic in its size).
#[pyfunction]
#[pyo3(signature = (band_keys, *, max_bucket=Some(deja::corpus::MAX_BUCKET)))]
fn candidates<'py>(
    py: Python<'py>,
    band_keys: PyReadonlyArray2<'py, u64>,
    max_bucket: Option<usize>,
) -> PyResult<Candidates<'py>> {
    guard(|| {
        let mut owned = Vec::new();
        let (keys, bands) = keys_of(&band_keys, &mut owned);
        let c = py
            .detach(|| batch::candidates(keys, bands, max_bucket_of(max_bucket)))
            .map_err(err)?;
        let pairs = pairs_array(py, c.pairs.into_iter())?;
        let buckets: Vec<Bound<'py, PyArray1<u32>>> = c
            .large_buckets
            .into_iter()
            .map(|b| b.into_pyarray(py))
            .collect();
        Ok((pairs, PyList::new(py, buckets)?))
    })
}

/// Reads buckets: a sequence of 1-d arrays (or sequences) of row indices.
fn read_buckets(obj: &Bound<PyAny>) -> PyResult<Vec<Vec<u32>>> {
    let np = obj.py().import("numpy")?;
    obj.try_iter()?
        .map(|b| {
            let a = np.call_method1("asarray", (b?, "uint32"))?;
            let a: numpy::PyReadonlyArray1<u32> = a.extract()?;
            Ok(a.as_array().to_vec())
        })
        .collect()
}

/// Verified pairs of ``sets`` as numpy arrays.
fn verified_arrays(py: Python<'_>, kept: Vec<ScoredPair>) -> PyResult<Verified<'_>> {
    let sims: Vec<f64> = kept.iter().map(|p| p.similarity).collect();
    Ok((
        pairs_array(py, kept.iter().map(|p| (p.a, p.b)))?,
        sims.into_pyarray(py),
    ))
}

/// Joins the rows of each large bucket (from ``candidates``) on its own, as ``deja corpus``
/// does: ``(pairs, similarity)``, the verified pairs that join each row to its cluster inside
/// the bucket (about one per row when the bucket is one cluster; identical sets join after one
/// comparison). With the verified pairs of the small buckets they give the clusters of
/// verifying every pair; a pair may repeat across buckets.
#[pyfunction]
#[pyo3(signature = (large_buckets, sets, threshold=0.8))]
fn join_buckets<'py>(
    py: Python<'py>,
    large_buckets: &Bound<'py, PyAny>,
    sets: PyArray,
    threshold: f64,
) -> PyResult<Verified<'py>> {
    guard(|| {
        let buckets = read_buckets(large_buckets)?;
        let slices = set_slices(sets.array())?;
        let kept = py
            .detach(|| batch::join_buckets(&buckets, &slices, threshold))
            .map_err(err)?;
        verified_arrays(py, kept)
    })
}

/// The verified pairs of the rows of ``band_keys`` and ``sets`` (from ``Sketcher.sketch``):
/// ``(pairs, similarity)``, exactly the pairs ``deja corpus`` lists for the same texts and
/// settings (``max_bucket=None`` as ``--all-pairs``), sorted. ``candidates`` + ``verify`` +
/// ``join_buckets`` in one call.
#[pyfunction]
#[pyo3(signature = (band_keys, sets, threshold=0.8, *, max_bucket=Some(deja::corpus::MAX_BUCKET)))]
fn near_duplicates<'py>(
    py: Python<'py>,
    band_keys: PyReadonlyArray2<'py, u64>,
    sets: PyArray,
    threshold: f64,
    max_bucket: Option<usize>,
) -> PyResult<Verified<'py>> {
    guard(|| {
        let mut owned = Vec::new();
        let (keys, bands) = keys_of(&band_keys, &mut owned);
        let slices = set_slices(sets.array())?;
        let (kept, _) = py
            .detach(|| {
                batch::near_duplicates(keys, bands, &slices, threshold, max_bucket_of(max_bucket))
            })
            .map_err(err)?;
        verified_arrays(py, kept)
    })
}

/// The sets of an Arrow list array of uint32 as slices (no copy).
fn set_slices(sets: &ArrayRef) -> PyResult<Vec<&[u32]>> {
    fn slices<O: arrow_array::OffsetSizeTrait>(
        list: &arrow_array::GenericListArray<O>,
    ) -> PyResult<Vec<&[u32]>> {
        let values = list
            .values()
            .as_primitive_opt::<UInt32Type>()
            .ok_or_else(|| PyTypeError::new_err("sets: expected a list array of uint32"))?;
        let values: &[u32] = values.values();
        let offsets = list.value_offsets();
        Ok(offsets
            .windows(2)
            .map(|w| &values[w[0].as_usize()..w[1].as_usize()])
            .collect())
    }
    match sets.data_type() {
        DataType::List(_) => slices(sets.as_list::<i32>()),
        DataType::LargeList(_) => slices(sets.as_list::<i64>()),
        t => Err(PyTypeError::new_err(format!(
            "sets: expected a list array of uint32 (as Sketcher.shingle_sets gives), got {t}"
        ))),
    }
}

/// Verified pairs and their similarities.
type Verified<'py> = (Bound<'py, PyArray2<u32>>, Bound<'py, PyArray1<f64>>);

/// Keeps the candidate ``pairs`` whose exact Jaccard of compact ``sets`` is ≥ ``threshold``:
/// ``(pairs, similarity)``, a ``numpy.uint32 (k, 2)`` and a ``numpy.float64 (k,)`` array, in
/// the given order.
#[pyfunction]
#[pyo3(signature = (pairs, sets, threshold=0.8))]
fn verify<'py>(
    py: Python<'py>,
    pairs: &Bound<'py, PyAny>,
    sets: PyArray,
    threshold: f64,
) -> PyResult<Verified<'py>> {
    guard(|| {
        let pairs = read_pairs(pairs)?;
        let slices = set_slices(sets.array())?;
        let kept = py
            .detach(|| batch::verify_pairs(&pairs, &slices, threshold))
            .map_err(err)?;
        verified_arrays(py, kept)
    })
}

/// Exact Jaccard similarity of two sets of compact hashes (any order; repeats ignored).
#[pyfunction]
fn jaccard(a: Vec<u32>, b: Vec<u32>) -> f64 {
    batch::jaccard(a, b)
}

// ---------------------------------------------------------------------------------------
// deja doc.

#[allow(clippy::too_many_arguments)]
fn doc_report(
    py: Python<'_>,
    text: &str,
    id: Option<&Bound<PyAny>>,
    markup: &str,
    threshold: f64,
    near_duplicate_threshold: f64,
    duplicate_threshold: f64,
    shingle_size: usize,
    min_content_words: usize,
    lang: &str,
    explain: bool,
    near_miss: Option<f64>,
) -> PyResult<DocReport> {
    let id = match id {
        Some(id) => py_to_json(id, "id")?,
        None => Value::String("-".into()),
    };
    let markup = match markup.to_ascii_lowercase().as_str() {
        // As the CLI: a file's name and content tell; text without a name is Markdown.
        "auto" => match id.as_str() {
            Some(name) if name != "-" => Markup::detect(name, text),
            _ => Markup::Markdown,
        },
        m => choice(
            "markup",
            m,
            &[
                ("markdown", Markup::Markdown),
                ("rst", Markup::Rst),
                ("asciidoc", Markup::AsciiDoc),
                ("text", Markup::Text),
            ],
        )?,
    };
    let opts = DocOptions {
        shingle_size: shingle_size.max(1),
        restatement_threshold: threshold,
        near_duplicate_threshold,
        duplicate_threshold,
        min_content_words,
        language: lang.to_string(),
        explain,
        near_miss: near_miss.unwrap_or(DocOptions::default_near_miss(threshold)),
        ..DocOptions::default()
    };
    let analyzer = DocAnalyzer::new(opts).map_err(err)?;
    Ok(py.detach(|| analyzer.analyze_prose(id, &prose(text, markup))))
}

/// Parses JSON text with Python's json module (what the CLI prints, as Python values).
fn json_loads<'py>(py: Python<'py>, json: &[u8]) -> PyResult<Bound<'py, PyAny>> {
    let s = std::str::from_utf8(json).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    py.import("json")?.call_method1("loads", (s,))
}

/// The report of ``deja doc`` on one text: a dict with the fields of the JSON contract
/// (``id``, ``bytes``, ``paragraphs``, ``findings``; ``near_misses`` with ``explain``).
#[pyfunction]
#[pyo3(signature = (text, *, id=None, markup="auto", threshold=0.55, near_duplicate_threshold=0.5,
                    duplicate_threshold=0.9, shingle_size=3, min_content_words=4,
                    lang="english", explain=false, near_miss=None))]
#[allow(clippy::too_many_arguments)]
fn doc<'py>(
    py: Python<'py>,
    text: &str,
    id: Option<&Bound<'py, PyAny>>,
    markup: &str,
    threshold: f64,
    near_duplicate_threshold: f64,
    duplicate_threshold: f64,
    shingle_size: usize,
    min_content_words: usize,
    lang: &str,
    explain: bool,
    near_miss: Option<f64>,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let report = doc_report(
            py,
            text,
            id,
            markup,
            threshold,
            near_duplicate_threshold,
            duplicate_threshold,
            shingle_size,
            min_content_words,
            lang,
            explain,
            near_miss,
        )?;
        let json =
            serde_json::to_vec(&report).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        json_loads(py, &json)
    })
}

/// ``text`` without its redundant paragraphs (``deja doc --strip``).
#[pyfunction]
#[pyo3(signature = (text, *, id=None, markup="auto", threshold=0.55, near_duplicate_threshold=0.5,
                    duplicate_threshold=0.9, shingle_size=3, min_content_words=4,
                    lang="english"))]
#[allow(clippy::too_many_arguments)]
fn strip(
    py: Python<'_>,
    text: &str,
    id: Option<&Bound<'_, PyAny>>,
    markup: &str,
    threshold: f64,
    near_duplicate_threshold: f64,
    duplicate_threshold: f64,
    shingle_size: usize,
    min_content_words: usize,
    lang: &str,
) -> PyResult<String> {
    guard(|| {
        let report = doc_report(
            py,
            text,
            id,
            markup,
            threshold,
            near_duplicate_threshold,
            duplicate_threshold,
            shingle_size,
            min_content_words,
            lang,
            false,
            None,
        )?;
        Ok(report.stripped(text))
    })
}

// ---------------------------------------------------------------------------------------
// deja corpus / dedup.

/// A document id as the JSON value the CLI would print: str, int, float, bool.
fn py_to_json(obj: &Bound<PyAny>, what: &str) -> PyResult<Value> {
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if obj.is_instance_of::<pyo3::types::PyBool>() {
        return Ok(Value::Bool(obj.extract()?));
    }
    if let Ok(i) = obj.extract::<i64>() {
        return Ok(Value::from(i));
    }
    if let Ok(i) = obj.extract::<u64>() {
        return Ok(Value::from(i));
    }
    if let Ok(f) = obj.extract::<f64>() {
        if let Some(n) = serde_json::Number::from_f64(f) {
            return Ok(Value::Number(n));
        }
    }
    Err(PyTypeError::new_err(format!(
        "{what}: expected str or int, got {}",
        type_name(obj)
    )))
}

/// Texts sketched together before their memory is dropped, as the CLI's chunks.
const CHUNK_BYTES: usize = 2 << 20;

struct CorpusRun {
    builder: CorpusBuilder,
    chunk: Vec<Document>,
    bytes: usize,
}

impl CorpusRun {
    fn push(&mut self, py: Python<'_>, doc: Document) -> PyResult<()> {
        self.bytes += doc.text.len();
        self.chunk.push(doc);
        if self.bytes >= CHUNK_BYTES {
            self.flush(py)?;
        }
        Ok(())
    }

    fn flush(&mut self, py: Python<'_>) -> PyResult<()> {
        let chunk = std::mem::take(&mut self.chunk);
        self.bytes = 0;
        let builder = &mut self.builder;
        // Notices (duplicate ids, empty documents) are warnings: the documents still count.
        py.detach(|| builder.add_documents(&chunk)).map_err(err)?;
        Ok(())
    }
}

fn record_err(i: usize, msg: String) -> PyErr {
    DejaError::new_err(format!("record {i}: {msg}"))
}

/// Feeds `records` to `run`: an Arrow table / record batches (columns `text_field`,
/// `id_field`), or an iterable of str, (id, text) pairs or dicts. Returns the records when
/// `keep` (for dedup), else an empty list.
fn feed<'py>(
    py: Python<'py>,
    run: &mut CorpusRun,
    records: &Bound<'py, PyAny>,
    text_field: &str,
    id_field: &str,
    keep: bool,
) -> PyResult<Vec<Bound<'py, PyAny>>> {
    let mut kept = Vec::new();
    if records.hasattr("__arrow_c_stream__")? || records.hasattr("__arrow_c_array__")? {
        let batches: AnyRecordBatch = records.extract()?;
        let mut n = 0usize;
        for batch in batches.into_reader()? {
            let batch = batch.map_err(|e| PyValueError::new_err(e.to_string()))?;
            n = feed_batch(py, run, &batch, text_field, id_field, n)?;
        }
        return Ok(kept);
    }
    let text_key = PyString::new(py, text_field);
    let id_key = PyString::new(py, id_field);
    for (i, rec) in records.try_iter()?.enumerate() {
        let rec = rec?;
        let (id, text) = if let Ok(s) = rec.cast::<PyString>() {
            (Value::from(i), s.to_cow()?.into_owned())
        } else if let Ok(d) = rec.cast::<PyDict>() {
            let text = d
                .get_item(&text_key)?
                .ok_or_else(|| record_err(i, format!("missing field {text_field:?}")))?;
            let text = text
                .cast::<PyString>()
                .map_err(|_| record_err(i, format!("field {text_field:?} is not a string")))?
                .to_cow()?
                .into_owned();
            let id = match d.get_item(&id_key)? {
                Some(id) if !id.is_none() => py_to_json(&id, &format!("record {i}: id"))?,
                _ => Value::from(i),
            };
            (id, text)
        } else if rec.is_instance_of::<PyTuple>() || rec.is_instance_of::<PyList>() {
            let (id, text): (Bound<PyAny>, Bound<PyAny>) = rec
                .extract()
                .map_err(|_| record_err(i, "expected an (id, text) pair".into()))?;
            let text = text
                .cast::<PyString>()
                .map_err(|_| record_err(i, "text is not a string".into()))?
                .to_cow()?
                .into_owned();
            (py_to_json(&id, &format!("record {i}: id"))?, text)
        } else {
            return Err(PyTypeError::new_err(format!(
                "record {i}: expected str, (id, text) or dict, got {}",
                type_name(&rec)
            )));
        };
        if keep {
            kept.push(rec);
        }
        run.push(py, Document { id, text })?;
    }
    Ok(kept)
}

/// Adds the rows of one Arrow record batch; returns the index of the next row.
fn feed_batch(
    py: Python<'_>,
    run: &mut CorpusRun,
    batch: &RecordBatch,
    text_field: &str,
    id_field: &str,
    first: usize,
) -> PyResult<usize> {
    let text = batch.column_by_name(text_field).ok_or_else(|| {
        err(deja::Error::Option(format!(
            "table has no column {text_field:?} (text_field)"
        )))
    })?;
    string_array(text, text_field)?;
    let mut texts = Vec::with_capacity(batch.num_rows());
    push_strs(text, &mut texts);
    let ids: Vec<Value> = match batch.column_by_name(id_field) {
        None => (first..first + batch.num_rows()).map(Value::from).collect(),
        Some(col) => arrow_ids(col, id_field, first)?,
    };
    for (i, (t, id)) in texts.into_iter().zip(ids).enumerate() {
        if text.is_null(i) {
            return Err(record_err(
                first + i,
                format!("field {text_field:?} is null"),
            ));
        }
        run.push(
            py,
            Document {
                id,
                text: t.to_string(),
            },
        )?;
    }
    Ok(first + batch.num_rows())
}

/// Ids of an Arrow column of strings or integers (a null id is the row number).
fn arrow_ids(col: &ArrayRef, name: &str, first: usize) -> PyResult<Vec<Value>> {
    let row = |i: usize| Value::from(first + i);
    if matches!(
        col.data_type(),
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    ) {
        let mut strs = Vec::new();
        push_strs(col, &mut strs);
        return Ok(strs
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                if col.is_null(i) {
                    row(i)
                } else {
                    Value::from(s)
                }
            })
            .collect());
    }
    if col.data_type() == &DataType::UInt64 {
        let ints = col.as_primitive::<UInt64Type>();
        return Ok((0..ints.len())
            .map(|i| {
                if ints.is_null(i) {
                    row(i)
                } else {
                    Value::from(ints.value(i))
                }
            })
            .collect());
    }
    if col.data_type().is_integer() {
        // Every other integer type fits in an i64.
        let ints = arrow_cast::cast(col, &DataType::Int64)
            .map_err(|e| PyTypeError::new_err(format!("column {name:?}: {e}")))?;
        let ints = ints.as_primitive::<Int64Type>();
        return Ok((0..ints.len())
            .map(|i| {
                if ints.is_null(i) {
                    row(i)
                } else {
                    Value::from(ints.value(i))
                }
            })
            .collect());
    }
    Err(PyTypeError::new_err(format!(
        "column {name:?}: ids must be strings or integers, got {}",
        col.data_type()
    )))
}

#[allow(clippy::too_many_arguments)]
fn corpus_report<'py>(
    py: Python<'py>,
    records: &Bound<'py, PyAny>,
    threshold: f64,
    num_perm: usize,
    shingle_size: usize,
    seed: u64,
    words: &str,
    sketch: &str,
    recall: f64,
    bands: Option<usize>,
    rows: Option<usize>,
    verify: &str,
    memory: Option<&str>,
    min_repeat: usize,
    min_paragraph_words: usize,
    paragraphs: bool,
    text_field: &str,
    id_field: &str,
    keep: bool,
) -> PyResult<(
    deja::corpus::CorpusReport,
    deja::group::ParagraphCounter,
    Vec<Bound<'py, PyAny>>,
)> {
    if bands.is_some() != rows.is_some() {
        return Err(option_err("--bands and --rows go together".into()));
    }
    let mut opts = CorpusOptions {
        sketch: sketch_params(num_perm, shingle_size, seed, words, sketch)?,
        threshold,
        recall,
        banding: bands.zip(rows),
        verify: choice(
            "verify",
            verify,
            &[
                ("exact", VerifyMode::Exact),
                ("estimate", VerifyMode::Estimate),
            ],
        )?,
        min_repeat,
        min_paragraph_words,
        paragraphs,
        ..CorpusOptions::default()
    };
    if let Some(m) = memory {
        opts.memory = parse_size(m).map_err(err)?;
    }
    let mut run = CorpusRun {
        builder: CorpusBuilder::new(opts).map_err(err)?,
        chunk: Vec::new(),
        bytes: 0,
    };
    let kept = feed(py, &mut run, records, text_field, id_field, keep)?;
    run.flush(py)?;
    let (report, counts) = py.detach(|| run.builder.finish()).map_err(err)?;
    Ok((report, counts, kept))
}

/// Near-duplicate documents and repeated paragraphs of ``records``: a dict with the fields of
/// ``deja corpus --format json`` (summary, ``pairs``, ``clusters``, ``repeated_paragraphs``).
#[pyfunction]
#[pyo3(signature = (records, *, threshold=0.8, num_perm=128, shingle_size=5, seed=1,
                    words="alnum", sketch="oph", recall=0.95, bands=None, rows=None,
                    verify="exact", memory=None, min_repeat=3, min_paragraph_words=2,
                    paragraphs=true, text_field="text", id_field="id"))]
#[allow(clippy::too_many_arguments)]
fn corpus<'py>(
    py: Python<'py>,
    records: &Bound<'py, PyAny>,
    threshold: f64,
    num_perm: usize,
    shingle_size: usize,
    seed: u64,
    words: &str,
    sketch: &str,
    recall: f64,
    bands: Option<usize>,
    rows: Option<usize>,
    verify: &str,
    memory: Option<&str>,
    min_repeat: usize,
    min_paragraph_words: usize,
    paragraphs: bool,
    text_field: &str,
    id_field: &str,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let (report, _, _) = corpus_report(
            py,
            records,
            threshold,
            num_perm,
            shingle_size,
            seed,
            words,
            sketch,
            recall,
            bands,
            rows,
            verify,
            memory,
            min_repeat,
            min_paragraph_words,
            paragraphs,
            text_field,
            id_field,
            false,
        )?;
        let mut json = Vec::new();
        write_corpus(&mut json, &report, Format::Json, false)
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        json_loads(py, &json)
    })
}

/// ``records`` without their near-duplicates (``deja dedup``): one record per cluster, the
/// first in input order. A list of the kept records (the objects given), or for an Arrow
/// table the table's kept rows (``table.take``); ``strip_repeated_paragraphs=N`` also strips
/// paragraphs found in N or more documents from the kept texts (`deja::strip`).
#[pyfunction]
#[pyo3(signature = (records, *, threshold=0.8, num_perm=128, shingle_size=5, seed=1,
                    words="alnum", sketch="oph", recall=0.95, bands=None, rows=None,
                    verify="exact", memory=None, strip_repeated_paragraphs=None,
                    min_paragraph_words=2, text_field="text", id_field="id"))]
#[allow(clippy::too_many_arguments)]
fn dedup<'py>(
    py: Python<'py>,
    records: &Bound<'py, PyAny>,
    threshold: f64,
    num_perm: usize,
    shingle_size: usize,
    seed: u64,
    words: &str,
    sketch: &str,
    recall: f64,
    bands: Option<usize>,
    rows: Option<usize>,
    verify: &str,
    memory: Option<&str>,
    strip_repeated_paragraphs: Option<usize>,
    min_paragraph_words: usize,
    text_field: &str,
    id_field: &str,
) -> PyResult<Bound<'py, PyAny>> {
    guard(|| {
        let arrow =
            records.hasattr("__arrow_c_stream__")? || records.hasattr("__arrow_c_array__")?;
        if arrow && !records.hasattr("take")? {
            return Err(PyTypeError::new_err(
                "dedup: an Arrow input must be a table (or record batch) with .take(), \
                 to return its kept rows",
            ));
        }
        let (report, counts, kept) = corpus_report(
            py,
            records,
            threshold,
            num_perm,
            shingle_size,
            seed,
            words,
            sketch,
            recall,
            bands,
            rows,
            verify,
            memory,
            3,
            min_paragraph_words,
            strip_repeated_paragraphs.is_some(),
            text_field,
            id_field,
            !arrow,
        )?;
        let dropped = report.dropped();
        let stripper = strip_repeated_paragraphs
            .map(|min| RepeatStripper::new(&report, &counts, min_paragraph_words, min));
        let kept_docs = (0..dropped.len() as u32).filter(|&i| !dropped[i as usize]);
        if arrow {
            let rows: Vec<u64> = kept_docs.clone().map(u64::from).collect();
            let table = records.call_method1("take", (rows.into_pyarray(py),))?;
            return match &stripper {
                Some(s) => strip_column(py, &table, s, kept_docs, text_field),
                None => Ok(table),
            };
        }
        let mut out = Vec::with_capacity(kept.len());
        for (doc, rec) in kept.into_iter().enumerate() {
            if dropped[doc] {
                continue;
            }
            out.push(match &stripper {
                Some(s) => strip_record(py, rec, s, doc as u32, text_field)?,
                None => rec,
            });
        }
        Ok(PyList::new(py, out)?.into_any())
    })
}

/// A kept record with repeated paragraphs stripped from its text: a new str, dict (a shallow
/// copy) or (id, text) pair when something was taken out, the record itself otherwise; the
/// caller's records are never changed.
fn strip_record<'py>(
    py: Python<'py>,
    rec: Bound<'py, PyAny>,
    stripper: &RepeatStripper,
    doc: u32,
    text_field: &str,
) -> PyResult<Bound<'py, PyAny>> {
    if let Ok(s) = rec.cast::<PyString>() {
        return Ok(match stripper.strip(&s.to_cow()?, doc) {
            Some(t) => PyString::new(py, &t.text).into_any(),
            None => rec,
        });
    }
    if let Ok(d) = rec.cast::<PyDict>() {
        let Some(text) = d.get_item(text_field)? else {
            return Ok(rec);
        };
        let Some(t) = stripper.strip(&text.cast::<PyString>()?.to_cow()?, doc) else {
            return Ok(rec);
        };
        let copy = d.copy()?;
        copy.set_item(text_field, t.text)?;
        return Ok(copy.into_any());
    }
    // An (id, text) tuple or list, as `feed` accepted it.
    let (id, text): (Bound<PyAny>, Bound<PyString>) = rec.extract()?;
    let Some(t) = stripper.strip(&text.to_cow()?, doc) else {
        return Ok(rec);
    };
    let pair = (id, PyString::new(py, &t.text));
    Ok(if rec.is_instance_of::<PyList>() {
        PyList::new(py, [pair.0, pair.1.into_any()])?.into_any()
    } else {
        PyTuple::new(py, [pair.0, pair.1.into_any()])?.into_any()
    })
}

/// `table` (the kept rows, in order) with repeated paragraphs stripped from its text column.
fn strip_column<'py>(
    py: Python<'py>,
    table: &Bound<'py, PyAny>,
    stripper: &RepeatStripper,
    docs: impl Iterator<Item = u32>,
    text_field: &str,
) -> PyResult<Bound<'py, PyAny>> {
    let column = table.call_method1("column", (text_field,))?;
    let texts: Vec<String> = column.call_method0("to_pylist")?.extract()?;
    let stripped: Vec<String> = texts
        .into_iter()
        .zip(docs)
        .map(|(t, doc)| stripper.strip(&t, doc).map_or(t, |s| s.text))
        .collect();
    let pyarrow = py.import("pyarrow")?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("type", column.getattr("type")?)?;
    let array = pyarrow.call_method("array", (stripped,), Some(&kwargs))?;
    let index = table
        .getattr("schema")?
        .call_method1("get_field_index", (text_field,))?;
    table.call_method1("set_column", (index, text_field, array))
}

/// Panics on purpose: lets the tests check that a panic becomes a `RuntimeError`.
#[pyfunction]
fn _panic_for_tests() -> PyResult<()> {
    guard(|| panic!("on purpose"))
}

/// The native module: `deja/__init__.py` re-exports it.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("DejaError", m.py().get_type::<DejaError>())?;
    m.add_class::<Sketcher>()?;
    m.add_function(wrap_pyfunction!(doc, m)?)?;
    m.add_function(wrap_pyfunction!(strip, m)?)?;
    m.add_function(wrap_pyfunction!(corpus, m)?)?;
    m.add_function(wrap_pyfunction!(dedup, m)?)?;
    m.add_function(wrap_pyfunction!(candidates, m)?)?;
    m.add_function(wrap_pyfunction!(verify, m)?)?;
    m.add_function(wrap_pyfunction!(join_buckets, m)?)?;
    m.add_function(wrap_pyfunction!(near_duplicates, m)?)?;
    m.add_function(wrap_pyfunction!(jaccard, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

//! Printers of `deja corpus` (DESIGN §5): json, jsonl and human, all fed by one
//! [`CorpusReport`]. Ids are written as the input's own JSON values; similarities are
//! rounded to 4 decimals; order is input order, so output never depends on thread count.

use super::{excerpt, Format, JSON_VERSION};
use crate::corpus::CorpusReport;
use std::io::{self, Write};

/// Writes `report` in `format`; `color` only affects the human format.
pub fn write_corpus(
    out: &mut dyn Write,
    report: &CorpusReport,
    format: Format,
    color: bool,
) -> io::Result<()> {
    match format {
        Format::Json => write_json(out, report),
        Format::Jsonl => write_jsonl(out, report),
        Format::Human => write_human(out, report, color),
        Format::Sarif | Format::Github | Format::Html => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "--format sarif and github report findings of `doc` and `check`; corpus writes human, json or jsonl",
        )),
    }
}

fn round4(x: f64) -> f64 {
    (x * 10_000.0).round() / 10_000.0
}

/// The summary fields shared by the json object and the jsonl `summary` record.
fn summary_fields(out: &mut Vec<u8>, r: &CorpusReport) -> io::Result<()> {
    let b = r.banding;
    write!(
        out,
        "\"documents\": {}, \"threshold\": {}, \"num_perm\": {}, \"bands\": {}, \"rows\": {}, \
         \"shingle_size\": {}, \"implied_threshold\": {}, \"candidate_probability\": {}, \
         \"verify\": \"{}\", \"candidates\": {}, \"pair_count\": {}, \"cluster_count\": {}, \
         \"duplicate_documents\": {}, \"repeated_paragraph_count\": {}, \"all_pairs\": {}, \
         \"large_buckets\": {}",
        r.documents(),
        r.threshold,
        r.params.num_perm,
        b.bands,
        b.rows,
        r.params.k,
        round4(b.implied_threshold()),
        round4(b.probability(r.threshold)),
        r.verify.as_str(),
        r.stats.candidates,
        r.pairs.len(),
        r.clusters.len(),
        r.clusters.iter().map(|c| c.len() - 1).sum::<usize>(),
        r.repeated_paragraphs.len(),
        r.max_bucket == usize::MAX,
        r.stats.large_buckets,
    )
}

fn write_pair(out: &mut Vec<u8>, r: &CorpusReport, i: usize, typed: bool) -> io::Result<()> {
    let p = &r.pairs[i];
    write!(
        out,
        "{{{}\"a\": {}, \"b\": {}, \"similarity\": {}}}",
        if typed { "\"type\": \"pair\", " } else { "" },
        r.id_json(p.a),
        r.id_json(p.b),
        round4(p.similarity)
    )
}

fn write_ids(out: &mut Vec<u8>, r: &CorpusReport, docs: &[u32]) {
    out.push(b'[');
    for (i, &d) in docs.iter().enumerate() {
        if i > 0 {
            out.extend_from_slice(b", ");
        }
        out.extend_from_slice(r.id_json(d).as_bytes());
    }
    out.push(b']');
}

fn write_cluster(out: &mut Vec<u8>, r: &CorpusReport, i: usize, typed: bool) -> io::Result<()> {
    let c = &r.clusters[i];
    write!(
        out,
        "{{{}\"representative\": {}, \"members\": ",
        if typed { "\"type\": \"cluster\", " } else { "" },
        r.id_json(c[0])
    )?;
    write_ids(out, r, c);
    out.push(b'}');
    Ok(())
}

fn write_paragraph(out: &mut Vec<u8>, r: &CorpusReport, i: usize, typed: bool) -> io::Result<()> {
    let p = &r.repeated_paragraphs[i];
    if typed {
        out.extend_from_slice(b"{\"type\": \"repeated_paragraph\", \"text\": ");
    } else {
        out.extend_from_slice(b"{\"text\": ");
    }
    serde_json::to_writer(&mut *out, &p.text)?;
    write!(out, ", \"count\": {}, \"documents\": ", p.count)?;
    write_ids(out, r, &p.documents()?);
    out.push(b'}');
    Ok(())
}

/// Records are formatted into a buffer that goes to `out` in large writes: a report can
/// list millions of ids, too many for a write call (through `dyn Write`) each.
struct Buffered<'a> {
    out: &'a mut dyn Write,
    buf: Vec<u8>,
}

impl<'a> Buffered<'a> {
    fn new(out: &'a mut dyn Write) -> Self {
        Buffered {
            out,
            buf: Vec::with_capacity(1 << 17),
        }
    }

    /// Hands the buffer to `out` once it is full enough.
    fn flush_when_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= 1 << 16 {
            self.out.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Hands `out` what is left.
    fn finish(self) -> io::Result<()> {
        self.out.write_all(&self.buf)
    }
}

/// A record writer: the item `i` of one of the report's lists, `typed` for jsonl.
type Item = fn(&mut Vec<u8>, &CorpusReport, usize, bool) -> io::Result<()>;

/// One JSON object: summary fields, then `pairs`, `clusters`, `repeated_paragraphs`.
pub fn write_json(out: &mut dyn Write, r: &CorpusReport) -> io::Result<()> {
    let mut w = Buffered::new(out);
    write!(w.buf, "{{\"version\": {JSON_VERSION}, ")?;
    summary_fields(&mut w.buf, r)?;
    let lists: [(&str, usize, Item); 3] = [
        ("pairs", r.pairs.len(), write_pair),
        ("clusters", r.clusters.len(), write_cluster),
        (
            "repeated_paragraphs",
            r.repeated_paragraphs.len(),
            write_paragraph,
        ),
    ];
    for (name, n, item) in lists {
        write!(w.buf, ",\n \"{name}\": [")?;
        for i in 0..n {
            w.buf
                .extend_from_slice(if i == 0 { b"\n  " } else { b",\n  " });
            item(&mut w.buf, r, i, false)?;
            w.flush_when_full()?;
        }
        w.buf.extend_from_slice(if n == 0 { b"]" } else { b"\n ]" });
    }
    w.buf.extend_from_slice(b"}\n");
    w.finish()
}

/// One JSON record per line: the summary, then every pair, cluster and repeated paragraph.
pub fn write_jsonl(out: &mut dyn Write, r: &CorpusReport) -> io::Result<()> {
    let mut w = Buffered::new(out);
    write!(
        w.buf,
        "{{\"type\": \"summary\", \"version\": {JSON_VERSION}, "
    )?;
    summary_fields(&mut w.buf, r)?;
    w.buf.extend_from_slice(b"}\n");
    let lists: [(usize, Item); 3] = [
        (r.pairs.len(), write_pair),
        (r.clusters.len(), write_cluster),
        (r.repeated_paragraphs.len(), write_paragraph),
    ];
    for (n, item) in lists {
        for i in 0..n {
            item(&mut w.buf, r, i, true)?;
            w.buf.push(b'\n');
            w.flush_when_full()?;
        }
    }
    w.finish()
}

/// Items listed per section in the human format.
const HUMAN_LIMIT: usize = 20;

/// A readable summary, the largest clusters and the most repeated paragraphs.
pub fn write_human(out: &mut dyn Write, r: &CorpusReport, color: bool) -> io::Result<()> {
    let paint = |code: &str, s: &str| {
        if color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    };
    let b = r.banding;
    let dups: usize = r.clusters.iter().map(|c| c.len() - 1).sum();
    writeln!(
        out,
        "{} documents: {} near-duplicate pairs (Jaccard ≥ {}, {}), {} clusters, {} documents \
         to drop; {} repeated paragraphs",
        r.documents(),
        paint("1", &r.pairs.len().to_string()),
        r.threshold,
        r.verify.as_str(),
        r.clusters.len(),
        dups,
        r.repeated_paragraphs.len()
    )?;
    writeln!(
        out,
        "  LSH {} bands × {} rows of {} permutations, {}-word shingles: implied threshold {:.3}, \
         P(candidate | J = {}) = {:.3}; {} candidates",
        b.bands,
        b.rows,
        r.params.num_perm,
        r.params.k,
        b.implied_threshold(),
        r.threshold,
        b.probability(r.threshold),
        r.stats.candidates
    )?;
    if r.stats.large_buckets > 0 {
        writeln!(
            out,
            "  {} band buckets of more than {} documents: their documents' pairs are those that \
             joined each to its cluster (--all-pairs lists every pair)",
            r.stats.large_buckets, r.max_bucket
        )?;
    }
    let id = |d: u32| r.id_json(d).to_string();
    if !r.clusters.is_empty() {
        let mut order: Vec<usize> = (0..r.clusters.len()).collect();
        order.sort_by_key(|&i| (std::cmp::Reverse(r.clusters[i].len()), i));
        writeln!(out, "{}", paint("1", "clusters (largest first):"))?;
        for &i in order.iter().take(HUMAN_LIMIT) {
            let c = &r.clusters[i];
            let shown: Vec<String> = c.iter().skip(1).take(8).map(|&d| id(d)).collect();
            writeln!(
                out,
                "  {} ← {}{}",
                paint("36", &id(c[0])),
                shown.join(", "),
                if c.len() > 9 {
                    format!(", … ({} in all)", c.len())
                } else {
                    String::new()
                }
            )?;
        }
        if order.len() > HUMAN_LIMIT {
            writeln!(out, "  … and {} more clusters", order.len() - HUMAN_LIMIT)?;
        }
    }
    if !r.repeated_paragraphs.is_empty() {
        writeln!(
            out,
            "{}",
            paint("1", "repeated paragraphs (most documents first):")
        )?;
        for p in r.repeated_paragraphs.iter().take(HUMAN_LIMIT) {
            writeln!(
                out,
                "  {} docs  \"{}\"",
                paint("1;33", &format!("{:>6}", p.count)),
                excerpt(&p.text, 80)
            )?;
        }
        if r.repeated_paragraphs.len() > HUMAN_LIMIT {
            writeln!(
                out,
                "  … and {} more",
                r.repeated_paragraphs.len() - HUMAN_LIMIT
            )?;
        }
    }
    Ok(())
}

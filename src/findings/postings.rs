//! The inverted indexes of the judging loop (features → earlier paragraphs) and the rarity
//! weights of content features.

use super::{Role, Unit};
use ahash::AHashMap;

/// An inverted index of one kind of feature over the prose paragraphs, filled in document
/// order: all features are known before the first paragraph is judged, so each gets a dense
/// id and room for all its postings up front, and lookups in the judging loop index arrays.
pub(super) struct Postings {
    /// Postings of feature `id`: `entries[start[id]..start[id + 1]]`, the paragraphs that
    /// have it, in order; the first `added[id]` of them are those added so far.
    start: Vec<usize>,
    added: Vec<u32>,
    entries: Vec<u32>,
}

/// The feature ids of each paragraph (empty unless prose), in the order of its features.
pub(super) struct FeatureIds {
    ids: Vec<u32>,
    /// Paragraph j's ids are `ids[starts[j]..starts[j + 1]]`.
    starts: Vec<usize>,
}

impl FeatureIds {
    pub(super) fn of(&self, j: usize) -> &[u32] {
        &self.ids[self.starts[j]..self.starts[j + 1]]
    }
}

impl Postings {
    /// An empty index for the `features` of the prose units (each list without repeats), and
    /// the ids of every unit's features.
    pub(super) fn new<'a>(
        units: &'a [Unit],
        features: impl Fn(&'a Unit) -> [&'a [u64]; 2],
    ) -> (Self, FeatureIds) {
        let mut id_of: AHashMap<u64, u32> = AHashMap::new();
        let mut count: Vec<u32> = Vec::new();
        let mut ids = FeatureIds {
            ids: Vec::new(),
            starts: vec![0],
        };
        for u in units {
            if u.role == Role::Prose {
                for &f in features(u).into_iter().flatten() {
                    let next = id_of.len() as u32;
                    let id = *id_of.entry(f).or_insert(next);
                    if id == next {
                        count.push(0);
                    }
                    count[id as usize] += 1;
                    ids.ids.push(id);
                }
            }
            ids.starts.push(ids.ids.len());
        }
        let mut start = Vec::with_capacity(count.len() + 1);
        let mut total = 0;
        start.push(0);
        for &c in &count {
            total += c as usize;
            start.push(total);
        }
        let postings = Postings {
            start,
            added: vec![0; count.len()],
            entries: vec![0; total],
        };
        (postings, ids)
    }

    /// Number of distinct features.
    pub(super) fn len(&self) -> usize {
        self.added.len()
    }

    /// Paragraphs with feature `id` added so far.
    pub(super) fn so_far(&self, id: u32) -> &[u32] {
        let from = self.start[id as usize];
        &self.entries[from..from + self.added[id as usize] as usize]
    }

    /// Paragraphs before `j` with feature `id` (all of them once paragraphs up to j are added).
    pub(super) fn before(&self, id: u32, j: usize) -> &[u32] {
        let list = self.so_far(id);
        &list[..list.partition_point(|&i| (i as usize) < j)]
    }

    /// Paragraphs the feature occurs in, in the whole document.
    pub(super) fn document_frequency(&self, id: u32) -> usize {
        self.start[id as usize + 1] - self.start[id as usize]
    }

    /// Adds paragraph `j` (after all earlier ones) to the postings of its features `ids`.
    pub(super) fn add(&mut self, ids: &[u32], j: usize) {
        for &id in ids {
            let at = self.start[id as usize] + self.added[id as usize] as usize;
            self.entries[at] = j as u32;
            self.added[id as usize] += 1;
        }
    }
}

/// Rarity weights of content features within one document: `sqrt(ln((N + 1) / df))` over the
/// N prose paragraphs, so the topic's own words count for less than rarer words and pairs
/// (the square root keeps a paraphrase's few new words from outweighing all the rest).
pub(super) struct Weights {
    by_id: Vec<f64>,
}

impl Weights {
    pub(super) fn new(units: &[Unit], features: &Postings) -> Self {
        let n = units.iter().filter(|u| u.role == Role::Prose).count() as f64;
        let by_id = (0..features.len() as u32)
            .map(|id| {
                ((n + 1.0) / features.document_frequency(id) as f64)
                    .ln()
                    .sqrt()
            })
            .collect();
        Weights { by_id }
    }

    pub(super) fn of(&self, id: u32) -> f64 {
        self.by_id[id as usize]
    }

    pub(super) fn total(&self, ids: &[u32]) -> f64 {
        ids.iter()
            .map(|&id| self.of(id))
            .sum::<f64>()
            .max(f64::MIN_POSITIVE)
    }

    /// Mean of the weighted containment of unigrams and of bigrams in `known`.
    pub(super) fn containment(
        &self,
        unigrams: &[u32],
        bigrams: &[u32],
        known: impl Fn(u32) -> bool,
    ) -> f64 {
        let share = |features: &[u32]| {
            let (mut hit, mut all) = (0.0, 0.0);
            for &id in features {
                let w = self.of(id);
                all += w;
                if known(id) {
                    hit += w;
                }
            }
            if all > 0.0 {
                Some(hit / all)
            } else {
                None
            }
        };
        match (share(unigrams), share(bigrams)) {
            (Some(a), Some(b)) => (a + b) / 2.0,
            (Some(a), None) => a,
            _ => 0.0,
        }
    }
}

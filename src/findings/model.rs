//! The restatement model: logistic regression over standardised [`Features`], its weights
//! trained by `benches/restatement/train.py` on `../shared/eval/doc-real-dev` and written to
//! `weights.rs` (regenerate, never edit by hand).

use super::features::{Features, NAMES};
use super::weights;

/// Default probability threshold: the best F1 with precision ≥ 0.8 leave-one-site-out.
pub(super) const THRESHOLD: f64 = weights::THRESHOLD;

/// The probability that a paragraph with `features` is a restatement, and what each feature
/// added to the log-odds.
pub(super) fn probability(features: &Features) -> (f64, [f64; NAMES.len()]) {
    let mut contributions = [0.0; NAMES.len()];
    let mut z = weights::BIAS;
    for (k, &x) in features.0.iter().enumerate() {
        let c = weights::WEIGHT[k] * (x - weights::MEAN[k]) / weights::SCALE[k];
        contributions[k] = c;
        z += c;
    }
    (1.0 / (1.0 + (-z).exp()), contributions)
}

/// The most probability `features` can reach whatever the values of the `unknown` features,
/// given as `(index, least, most)` (their current values are ignored).
pub(super) fn probability_bound(features: &Features, unknown: &[(usize, f64, f64)]) -> f64 {
    let contribution =
        |k: usize, x: f64| weights::WEIGHT[k] * (x - weights::MEAN[k]) / weights::SCALE[k];
    let mut z = weights::BIAS;
    for (k, &x) in features.0.iter().enumerate() {
        z += match unknown.iter().find(|u| u.0 == k) {
            Some(&(_, least, most)) => contribution(k, least).max(contribution(k, most)),
            None => contribution(k, x),
        };
    }
    1.0 / (1.0 + (-z).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_are_for_these_features() {
        assert_eq!(weights::FEATURES, NAMES);
        assert!(weights::SCALE.iter().all(|&s| s > 0.0));
        assert!((0.0..1.0).contains(&THRESHOLD));
    }

    #[test]
    fn contributions_add_up_to_the_log_odds() {
        let f = Features(std::array::from_fn(|k| weights::MEAN[k] + k as f64 / 10.0));
        let (p, c) = probability(&f);
        let z = weights::BIAS + c.iter().sum::<f64>();
        assert!((p - 1.0 / (1.0 + (-z).exp())).abs() < 1e-12);
        // The bound over a feature's range holds every value in it.
        let unknown = [(3, -1.0, 2.0), (7, 0.0, 1.0)];
        let bound = probability_bound(&f, &unknown);
        for (a, b) in [(-1.0, 0.0), (2.0, 1.0), (0.5, 0.5), (-1.0, 1.0), (2.0, 0.0)] {
            let mut g = f.clone();
            g.0[3] = a;
            g.0[7] = b;
            assert!(probability(&g).0 <= bound + 1e-15);
        }
        let at_mean = probability(&Features(weights::MEAN));
        assert!((at_mean.0 - 1.0 / (1.0 + (-weights::BIAS).exp())).abs() < 1e-12);
    }
}

//! The restatement model: logistic regression over standardised [`Features`], its weights
//! trained by `scripts/train_restatement.py` on `../shared/eval/doc-real-dev` and written to
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
        let at_mean = probability(&Features(weights::MEAN));
        assert!((at_mean.0 - 1.0 / (1.0 + (-weights::BIAS).exp())).abs() < 1e-12);
    }
}

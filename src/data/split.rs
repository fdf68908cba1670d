//! The random hold-out split: which points are kept out of the fit to score it.
//!
//! One function serves the CLI (`--holdout-frac`) and the page ("Hold out (%)"): the
//! same data, fraction and seed give the same split everywhere (the draws are u64, so
//! wasm32's 32-bit usize does not change them).

use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::{CsvError, Dataset, MIN_POINTS};

/// Mixed into the seed so the split's stream is not the fit's own.
const SPLIT_STREAM: u64 = 0x5EED_0F_5B11_7000;

/// How many of `n` points a fraction holds out: round(frac·n), at least 1 when frac > 0.
pub fn holdout_count(n: usize, frac: f64) -> usize {
    if !(frac > 0.0) || n == 0 {
        return 0;
    }
    ((frac * n as f64).round() as usize).clamp(1, n)
}

/// Whether each of `n` points is held out: `holdout_count(n, frac)` of them, chosen
/// uniformly at random by `seed` (a partial Fisher-Yates shuffle of the indices).
pub fn holdout_mask(n: usize, frac: f64, seed: u64) -> Vec<bool> {
    let k = holdout_count(n, frac);
    let mut idx: Vec<usize> = (0..n).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ SPLIT_STREAM);
    for i in 0..k {
        let j = i + rng.random_range(0..(n - i) as u64) as usize;
        idx.swap(i, j);
    }
    let mut mask = vec![false; n];
    for &i in &idx[..k] {
        mask[i] = true;
    }
    mask
}

/// Checks a hold-out fraction: 0 <= frac < 1.
pub fn check_holdout_frac(frac: f64) -> Result<(), CsvError> {
    if (0.0..1.0).contains(&frac) {
        Ok(())
    } else {
        Err(CsvError::new(format!("the hold-out fraction must be at least 0 and below 1 (got {frac})")))
    }
}

impl Dataset {
    /// The points of `mask` (true: held out) as (training, held-out) data sets, labels
    /// and truth kept. Panics if the mask's length differs from the data's.
    pub fn split_by(&self, mask: &[bool]) -> (Dataset, Dataset) {
        assert_eq!(mask.len(), self.len(), "split_by: the mask has {} entries for {} points", mask.len(), self.len());
        let pick = |held: bool| {
            let (x, y) = mask.iter().zip(self.x.iter().zip(&self.y)).filter(|(m, _)| **m == held).map(|(_, (x, y))| (*x, *y)).unzip();
            Dataset { x, y, x_label: self.x_label.clone(), y_label: self.y_label.clone(), truth: self.truth }
        };
        (pick(false), pick(true))
    }

    /// The random split of `holdout_mask`, checked: the training part keeps at least
    /// `MIN_POINTS` points.
    pub fn holdout_split(&self, frac: f64, seed: u64) -> Result<(Dataset, Dataset), CsvError> {
        check_holdout_frac(frac)?;
        let (train, held) = self.split_by(&holdout_mask(self.len(), frac, seed));
        if train.len() < MIN_POINTS {
            return Err(CsvError::new(format!(
                "holding out {} of {} points leaves {} to fit; at least {MIN_POINTS} are needed",
                held.len(),
                self.len(),
                train.len()
            )));
        }
        Ok((train, held))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_split_is_reproducible_and_holds_out_the_rounded_share() {
        let a = holdout_mask(100, 0.2, 7);
        assert_eq!(a, holdout_mask(100, 0.2, 7));
        assert_eq!(a.iter().filter(|&&m| m).count(), 20);
        assert_ne!(a, holdout_mask(100, 0.2, 8));
        assert_eq!(holdout_count(10, 0.33), 3);
        assert_eq!(holdout_count(10, 0.01), 1);
        assert_eq!(holdout_count(10, 0.0), 0);
        assert!(holdout_mask(10, 0.0, 1).iter().all(|&m| !m));
    }

    /// Every point is held out about equally often over seeds (a uniform choice):
    /// 2000 seeds, 30% of 10 points, each count within 5 binomial sds of 600.
    #[test]
    fn every_point_is_equally_likely_to_be_held_out() {
        let mut count = [0usize; 10];
        for seed in 0..2000 {
            for (c, m) in count.iter_mut().zip(holdout_mask(10, 0.3, seed)) {
                *c += usize::from(m);
            }
        }
        let sd = (2000.0f64 * 0.3 * 0.7).sqrt();
        assert!(count.iter().all(|&c| (c as f64 - 600.0).abs() < 5.0 * sd), "{count:?}");
    }

    #[test]
    fn split_by_keeps_order_labels_and_every_point_once() {
        let mut d = Dataset::new((0..8).map(f64::from).collect(), (0..8).map(|i| f64::from(i) * 10.0).collect());
        d.x_label = "t".into();
        let (train, held) = d.holdout_split(0.25, 3).unwrap();
        assert_eq!((train.len(), held.len()), (6, 2));
        assert_eq!(train.x_label, "t");
        assert!(train.x.windows(2).all(|w| w[0] < w[1]) && held.x.windows(2).all(|w| w[0] < w[1]));
        for (x, y) in train.x.iter().zip(&train.y).chain(held.x.iter().zip(&held.y)) {
            assert_eq!(*y, x * 10.0);
        }
        let mut all: Vec<f64> = train.x.iter().chain(&held.x).copied().collect();
        all.sort_by(f64::total_cmp);
        assert_eq!(all, d.x);
    }

    #[test]
    fn bad_fractions_and_too_few_training_points_are_refused() {
        let d = Dataset::new(vec![1.0, 2.0, 3.0, 4.0], vec![0.0; 4]);
        for f in [-0.1, 1.0, 1.5, f64::NAN] {
            assert!(d.holdout_split(f, 0).unwrap_err().to_string().contains("hold-out fraction"), "{f}");
        }
        let e = d.holdout_split(0.5, 0).unwrap_err().to_string();
        assert!(e.contains("leaves 2 to fit"), "{e}");
        assert_eq!(d.holdout_split(0.0, 0).unwrap().1.len(), 0);
    }
}

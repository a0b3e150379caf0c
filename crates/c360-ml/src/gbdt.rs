//! A compact, deterministic gradient-boosted tree classifier: histogram binning, logistic loss,
//! second-order (Newton) leaf values with L2 regularisation, depth-limited trees, shrinkage,
//! row and column subsampling from a seeded generator, and a learned default direction for
//! missing values (NaN).
//!
//! Determinism: the only randomness is [`SplitMix64`] seeded from [`GbdtParams::seed`]; the
//! training loop is single-threaded with a fixed summation order, and ties between splits go to
//! the first feature and the lowest bin. Same rows in the same order + same params ⇒ the same
//! trees, bit for bit.
//!
//! Explanations are Saabas path contributions: walking a row down a tree, every split adds the
//! change of the node value to the split's feature, so `bias + Σ contributions = raw score`.

use serde::{Deserialize, Serialize};

use crate::{MlError, Result};

/// Hyper-parameters of [`Booster::fit`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GbdtParams {
    /// Boosting rounds (trees).
    pub n_trees: usize,
    /// Shrinkage applied to every tree's values.
    pub learning_rate: f64,
    /// Maximum depth of a tree (1 = a stump).
    pub max_depth: usize,
    /// Minimum sum of hessians (p·(1 − p)) in a child.
    pub min_child_weight: f64,
    /// Minimum rows in a child.
    pub min_samples_leaf: usize,
    /// L2 regularisation of leaf values.
    pub lambda: f64,
    /// Minimum gain of a split.
    pub gamma: f64,
    /// Fraction of rows drawn (without replacement, per tree) to grow each tree.
    pub subsample: f64,
    /// Fraction of features drawn per tree.
    pub colsample: f64,
    /// Maximum value bins per feature (2–254; missing values have their own bin).
    pub max_bins: usize,
    /// Seed of row and column sampling.
    pub seed: u64,
}

impl Default for GbdtParams {
    fn default() -> Self {
        GbdtParams {
            n_trees: 200,
            learning_rate: 0.05,
            max_depth: 4,
            min_child_weight: 1.0,
            min_samples_leaf: 10,
            lambda: 1.0,
            gamma: 0.0,
            subsample: 0.8,
            colsample: 0.8,
            max_bins: 64,
            seed: 42,
        }
    }
}

impl GbdtParams {
    fn validate(&self) -> Result<()> {
        let bad = |name: &'static str, reason: &str| {
            Err(MlError::InvalidParameter {
                name,
                reason: reason.to_string(),
            })
        };
        if self.n_trees == 0 || self.n_trees > 100_000 {
            return bad("n_trees", "must be in 1..=100000");
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return bad("learning_rate", "must be in (0, 1]");
        }
        if self.max_depth == 0 || self.max_depth > 16 {
            return bad("max_depth", "must be in 1..=16");
        }
        if !(self.min_child_weight >= 0.0 && self.min_child_weight.is_finite()) {
            return bad("min_child_weight", "must be a finite number ≥ 0");
        }
        if !(self.lambda >= 0.0 && self.lambda.is_finite()) {
            return bad("lambda", "must be a finite number ≥ 0");
        }
        if !(self.gamma >= 0.0 && self.gamma.is_finite()) {
            return bad("gamma", "must be a finite number ≥ 0");
        }
        if !(self.subsample > 0.0 && self.subsample <= 1.0) {
            return bad("subsample", "must be in (0, 1]");
        }
        if !(self.colsample > 0.0 && self.colsample <= 1.0) {
            return bad("colsample", "must be in (0, 1]");
        }
        if !(2..=254).contains(&self.max_bins) {
            return bad("max_bins", "must be in 2..=254");
        }
        Ok(())
    }
}

/// A small, fast, portable PRNG (SplitMix64). Ours rather than a crate's so that a dependency
/// upgrade can never change a trained model.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform number in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((self.next_u64() as u128 * n as u128) >> 64) as usize
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// A dense row-major matrix of feature values; NaN is a missing value.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    rows: usize,
    cols: usize,
    values: Vec<f64>,
}

impl Matrix {
    /// A matrix of `rows × cols` from row-major `values`.
    pub fn new(rows: usize, cols: usize, values: Vec<f64>) -> Result<Matrix> {
        if rows.checked_mul(cols) != Some(values.len()) {
            return Err(MlError::InvalidParameter {
                name: "values",
                reason: format!("{} values for {rows} × {cols}", values.len()),
            });
        }
        Ok(Matrix { rows, cols, values })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Number of columns.
    pub fn cols(&self) -> usize {
        self.cols
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.values[i * self.cols..(i + 1) * self.cols]
    }

    /// Value at row `i`, column `j`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.values[i * self.cols + j]
    }

    /// The rows `indices`, in that order.
    pub fn select_rows(&self, indices: &[usize]) -> Matrix {
        let mut values = Vec::with_capacity(indices.len() * self.cols);
        for &i in indices {
            values.extend_from_slice(self.row(i));
        }
        Matrix {
            rows: indices.len(),
            cols: self.cols,
            values,
        }
    }
}

/// A split of a tree node: `x[feature] <= threshold` (or missing, when `missing_left`) goes left.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// Feature index.
    pub feature: usize,
    /// Rows with a value ≤ threshold go left.
    #[serde(with = "crate::serde_util::exact_f64")]
    pub threshold: f64,
    /// Whether rows with a missing value go left.
    pub missing_left: bool,
    /// Index of the left child in [`Tree::nodes`].
    pub left: usize,
    /// Index of the right child.
    pub right: usize,
    /// Loss reduction of the split (for gain importance).
    #[serde(with = "crate::serde_util::exact_f64")]
    pub gain: f64,
}

/// A node: its value (shrunk Newton step; a leaf's output) and, unless a leaf, its split.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// The node's value in log-odds (already multiplied by the learning rate).
    #[serde(with = "crate::serde_util::exact_f64")]
    pub value: f64,
    /// Sum of hessians of the training rows that reached the node.
    #[serde(with = "crate::serde_util::exact_f64")]
    pub cover: f64,
    /// The split; `None` for a leaf.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<Split>,
}

/// One regression tree; node 0 is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Nodes, root first.
    pub nodes: Vec<Node>,
}

impl Tree {
    fn leaf_index(&self, row: &[f64]) -> usize {
        let mut i = 0;
        while let Some(split) = &self.nodes[i].split {
            i = if goes_left(split, row[split.feature]) {
                split.left
            } else {
                split.right
            };
        }
        i
    }

    /// The tree's output for `row`.
    pub fn predict(&self, row: &[f64]) -> f64 {
        self.nodes[self.leaf_index(row)].value
    }
}

fn goes_left(split: &Split, x: f64) -> bool {
    if x.is_nan() {
        split.missing_left
    } else {
        x <= split.threshold
    }
}

/// A trained binary classifier: `P(y = 1) = sigmoid(base_score + Σ trees)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Booster {
    /// The parameters it was trained with.
    pub params: GbdtParams,
    /// Number of features it expects, in order.
    pub n_features: usize,
    /// Initial log-odds (of the training base rate).
    #[serde(with = "crate::serde_util::exact_f64")]
    pub base_score: f64,
    /// The trees.
    pub trees: Vec<Tree>,
}

/// Logistic function.
pub fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// Per-feature binning of the training data: the sorted cut values (a value `v` is in bin
/// `1 + #{cuts < v}`), bin 0 holding missing values.
struct Binned {
    cuts: Vec<Vec<f64>>,
    /// Column-major bin indices: `bins[f * rows + r]`.
    bins: Vec<u8>,
    rows: usize,
}

impl Binned {
    fn new(x: &Matrix, max_bins: usize) -> Binned {
        let rows = x.rows();
        let mut cuts = Vec::with_capacity(x.cols());
        let mut bins = vec![0u8; rows * x.cols()];
        for f in 0..x.cols() {
            let mut values: Vec<f64> = (0..rows)
                .map(|r| x.get(r, f))
                .filter(|v| !v.is_nan())
                .collect();
            values.sort_by(f64::total_cmp);
            let mut distinct = values.clone();
            distinct.dedup();
            // Cuts are upper bounds of all bins but the last, so the maximum is never a cut.
            let feature_cuts: Vec<f64> = if distinct.len() <= max_bins {
                distinct[..distinct.len().saturating_sub(1)].to_vec()
            } else {
                let mut c: Vec<f64> = (1..max_bins)
                    .map(|i| values[i * values.len() / max_bins])
                    .collect();
                c.dedup();
                if c.last() == distinct.last() {
                    c.pop();
                }
                c
            };
            for r in 0..rows {
                let v = x.get(r, f);
                bins[f * rows + r] = if v.is_nan() {
                    0
                } else {
                    1 + feature_cuts.partition_point(|&c| c < v) as u8
                };
            }
            cuts.push(feature_cuts);
        }
        Binned { cuts, bins, rows }
    }

    fn n_bins(&self, f: usize) -> usize {
        self.cuts[f].len() + 2
    }
}

#[derive(Clone, Copy, Default)]
struct Bin {
    g: f64,
    h: f64,
    n: u32,
}

/// Histograms of one node, feature-major, with the bin offsets of each feature.
#[derive(Clone)]
struct Hist {
    bins: Vec<Bin>,
}

struct Grower<'a> {
    data: &'a Binned,
    offsets: Vec<usize>,
    total_bins: usize,
    grad: &'a [f64],
    hess: &'a [f64],
    features: Vec<usize>,
    params: &'a GbdtParams,
    nodes: Vec<Node>,
}

struct Best {
    gain: f64,
    feature: usize,
    bin: usize,
    missing_left: bool,
}

impl Grower<'_> {
    fn histogram(&self, rows: &[u32]) -> Hist {
        let mut bins = vec![Bin::default(); self.total_bins];
        for &f in &self.features {
            let column = &self.data.bins[f * self.data.rows..(f + 1) * self.data.rows];
            let hist = &mut bins[self.offsets[f]..self.offsets[f] + self.data.n_bins(f)];
            for &r in rows {
                let b = &mut hist[column[r as usize] as usize];
                b.g += self.grad[r as usize];
                b.h += self.hess[r as usize];
                b.n += 1;
            }
        }
        Hist { bins }
    }

    fn subtract(parent: &Hist, child: &Hist) -> Hist {
        Hist {
            bins: parent
                .bins
                .iter()
                .zip(&child.bins)
                .map(|(p, c)| Bin {
                    g: p.g - c.g,
                    h: p.h - c.h,
                    n: p.n - c.n,
                })
                .collect(),
        }
    }

    fn score(&self, g: f64, h: f64) -> f64 {
        g * g / (h + self.params.lambda)
    }

    fn best_split(&self, hist: &Hist, g: f64, h: f64, n: u32) -> Option<Best> {
        let p = self.params;
        let parent = self.score(g, h);
        let mut best: Option<Best> = None;
        for &f in &self.features {
            let bins = &hist.bins[self.offsets[f]..self.offsets[f] + self.data.n_bins(f)];
            let missing = bins[0];
            // Splits after value bin b (1 ..= last − 1): left = bins 1..=b (+ missing?).
            let mut acc = Bin::default();
            for (b, bin) in bins.iter().enumerate().take(bins.len() - 1).skip(1) {
                acc.g += bin.g;
                acc.h += bin.h;
                acc.n += bin.n;
                for missing_left in [false, true] {
                    let (gl, hl, nl) = if missing_left {
                        (acc.g + missing.g, acc.h + missing.h, acc.n + missing.n)
                    } else {
                        (acc.g, acc.h, acc.n)
                    };
                    let (gr, hr, nr) = (g - gl, h - hl, n - nl);
                    if hl < p.min_child_weight
                        || hr < p.min_child_weight
                        || (nl as usize) < p.min_samples_leaf.max(1)
                        || (nr as usize) < p.min_samples_leaf.max(1)
                    {
                        continue;
                    }
                    let gain = 0.5 * (self.score(gl, hl) + self.score(gr, hr) - parent) - p.gamma;
                    if gain > 1e-12 && best.as_ref().is_none_or(|b| gain > b.gain) {
                        best = Some(Best {
                            gain,
                            feature: f,
                            bin: b,
                            missing_left,
                        });
                    }
                }
            }
        }
        best
    }

    /// Grows the subtree of `rows` (whose histogram is `hist`) and returns its node index.
    fn grow(&mut self, rows: &mut [u32], hist: Hist, depth: usize) -> usize {
        let (g, h) = rows.iter().fold((0.0, 0.0), |(g, h), &r| {
            (g + self.grad[r as usize], h + self.hess[r as usize])
        });
        let value = -g / (h + self.params.lambda) * self.params.learning_rate;
        let index = self.nodes.len();
        self.nodes.push(Node {
            value,
            cover: h,
            split: None,
        });
        if depth >= self.params.max_depth {
            return index;
        }
        let Some(best) = self.best_split(&hist, g, h, rows.len() as u32) else {
            return index;
        };
        let column =
            &self.data.bins[best.feature * self.data.rows..(best.feature + 1) * self.data.rows];
        let left_of = |r: u32| {
            let b = column[r as usize] as usize;
            if b == 0 {
                best.missing_left
            } else {
                b <= best.bin
            }
        };
        // Stable partition: left rows first, in their original order.
        let (left, right): (Vec<u32>, Vec<u32>) = rows.iter().partition(|&&r| left_of(r));
        let n_left = left.len();
        rows[..n_left].copy_from_slice(&left);
        rows[n_left..].copy_from_slice(&right);
        let (left_rows, right_rows) = rows.split_at_mut(n_left);
        let (left_hist, right_hist) = if left_rows.len() <= right_rows.len() {
            let small = self.histogram(left_rows);
            let large = Self::subtract(&hist, &small);
            (small, large)
        } else {
            let small = self.histogram(right_rows);
            let large = Self::subtract(&hist, &small);
            (large, small)
        };
        drop(hist);
        let left = self.grow(left_rows, left_hist, depth + 1);
        let right = self.grow(right_rows, right_hist, depth + 1);
        self.nodes[index].split = Some(Split {
            feature: best.feature,
            threshold: self.data.cuts[best.feature][best.bin - 1],
            missing_left: best.missing_left,
            left,
            right,
            gain: best.gain,
        });
        index
    }
}

impl Booster {
    /// Trains on `x` with labels `y` (0 or 1).
    pub fn fit(x: &Matrix, y: &[f64], params: &GbdtParams) -> Result<Booster> {
        params.validate()?;
        if x.rows() != y.len() {
            return Err(MlError::InvalidParameter {
                name: "y",
                reason: format!("{} labels for {} rows", y.len(), x.rows()),
            });
        }
        if x.rows() == 0 || x.cols() == 0 {
            return Err(MlError::InsufficientData("no rows or no features".into()));
        }
        if y.iter().any(|&v| v != 0.0 && v != 1.0) {
            return Err(MlError::InvalidParameter {
                name: "y",
                reason: "labels must be 0 or 1".into(),
            });
        }
        let positives = y.iter().sum::<f64>();
        let rate = (positives / y.len() as f64).clamp(1e-6, 1.0 - 1e-6);
        let base_score = (rate / (1.0 - rate)).ln();

        let data = Binned::new(x, params.max_bins);
        let mut offsets = Vec::with_capacity(x.cols());
        let mut total_bins = 0;
        for f in 0..x.cols() {
            offsets.push(total_bins);
            total_bins += data.n_bins(f);
        }
        let n = x.rows();
        let mut raw = vec![base_score; n];
        let mut grad = vec![0.0; n];
        let mut hess = vec![0.0; n];
        let mut rng = SplitMix64::new(params.seed);
        let n_cols = ((x.cols() as f64 * params.colsample).ceil() as usize).clamp(1, x.cols());
        let mut trees = Vec::with_capacity(params.n_trees);
        for _ in 0..params.n_trees {
            for i in 0..n {
                let p = sigmoid(raw[i]);
                grad[i] = p - y[i];
                hess[i] = (p * (1.0 - p)).max(1e-16);
            }
            let mut rows: Vec<u32> = if params.subsample < 1.0 {
                (0..n as u32)
                    .filter(|_| rng.next_f64() < params.subsample)
                    .collect()
            } else {
                (0..n as u32).collect()
            };
            if rows.is_empty() {
                rows.push(rng.below(n) as u32);
            }
            let mut features: Vec<usize> = (0..x.cols()).collect();
            if n_cols < x.cols() {
                rng.shuffle(&mut features);
                features.truncate(n_cols);
                features.sort_unstable();
            }
            let mut grower = Grower {
                data: &data,
                offsets: offsets.clone(),
                total_bins,
                grad: &grad,
                hess: &hess,
                features,
                params,
                nodes: Vec::new(),
            };
            let hist = grower.histogram(&rows);
            grower.grow(&mut rows, hist, 0);
            let tree = Tree {
                nodes: grower.nodes,
            };
            for (i, r) in raw.iter_mut().enumerate() {
                *r += tree.predict(x.row(i));
            }
            trees.push(tree);
        }
        Ok(Booster {
            params: params.clone(),
            n_features: x.cols(),
            base_score,
            trees,
        })
    }

    /// Raw score (log-odds) of one row.
    pub fn predict_raw(&self, row: &[f64]) -> f64 {
        self.trees
            .iter()
            .fold(self.base_score, |acc, t| acc + t.predict(row))
    }

    /// P(y = 1) of one row.
    pub fn predict_proba(&self, row: &[f64]) -> f64 {
        sigmoid(self.predict_raw(row))
    }

    /// P(y = 1) of every row of `x`.
    pub fn predict_matrix(&self, x: &Matrix) -> Vec<f64> {
        (0..x.rows())
            .map(|i| self.predict_proba(x.row(i)))
            .collect()
    }

    /// Saabas path contributions of one row, in log-odds: returns `(bias, per-feature)` with
    /// `bias + Σ per-feature = predict_raw(row)` (up to rounding).
    pub fn contributions(&self, row: &[f64]) -> (f64, Vec<f64>) {
        let mut bias = self.base_score;
        let mut contrib = vec![0.0; self.n_features];
        for tree in &self.trees {
            let mut i = 0;
            bias += tree.nodes[0].value;
            while let Some(split) = &tree.nodes[i].split {
                let next = if goes_left(split, row[split.feature]) {
                    split.left
                } else {
                    split.right
                };
                contrib[split.feature] += tree.nodes[next].value - tree.nodes[i].value;
                i = next;
            }
        }
        (bias, contrib)
    }

    /// Total split gain per feature.
    pub fn gain_importance(&self) -> Vec<f64> {
        let mut gains = vec![0.0; self.n_features];
        for tree in &self.trees {
            for node in &tree.nodes {
                if let Some(split) = &node.split {
                    gains[split.feature] += split.gain;
                }
            }
        }
        gains
    }

    /// Checks the structure of a booster read from a file: every split names an existing
    /// feature and child, children come after their parent (so traversal terminates).
    pub fn validate(&self) -> std::result::Result<(), String> {
        for (t, tree) in self.trees.iter().enumerate() {
            if tree.nodes.is_empty() {
                return Err(format!("tree {t} has no nodes"));
            }
            for (i, node) in tree.nodes.iter().enumerate() {
                if let Some(s) = &node.split {
                    if s.feature >= self.n_features
                        || s.left <= i
                        || s.right <= i
                        || s.left >= tree.nodes.len()
                        || s.right >= tree.nodes.len()
                    {
                        return Err(format!("tree {t} node {i} has an invalid split"));
                    }
                }
            }
        }
        Ok(())
    }
}

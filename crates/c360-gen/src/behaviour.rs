//! True segments and each customer's spending behaviour: how many transactions a day, in
//! which categories, of what size, and how that changes over time (decline, growth, churn).
//!
//! Time is counted as `t` = days before the history's end date (`t = 0` is the end date;
//! negative `t` are the simulated days after it).

use crate::reference::{BASE_AMOUNT, NUM_CATEGORIES};
use crate::rng::{tag, Rng};

/// A customer's true segment (the generator's hidden truth, SPEC §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Segment {
    /// High spend, ~40% of it on travel.
    HighValueTravelers,
    /// Middle spend, broad mix.
    StableMidSpenders,
    /// Low spend, mostly necessities.
    BudgetConscious,
    /// Stable-like until a gradual or sudden decline in the last months.
    Declining,
    /// Opened 30–180 days before the end; spending grows every month.
    NewAndGrowing,
}

impl Segment {
    /// Every segment.
    pub const ALL: [Segment; 5] = [
        Segment::HighValueTravelers,
        Segment::StableMidSpenders,
        Segment::BudgetConscious,
        Segment::Declining,
        Segment::NewAndGrowing,
    ];

    /// The value of the `customer_segment` column.
    pub fn name(self) -> &'static str {
        match self {
            Segment::HighValueTravelers => "High-Value Travelers",
            Segment::StableMidSpenders => "Stable Mid-Spenders",
            Segment::BudgetConscious => "Budget-Conscious",
            Segment::Declining => "Declining",
            Segment::NewAndGrowing => "New & Growing",
        }
    }

    /// Exact number of customers of this segment among `n` (floor of its share; the
    /// remainder goes to Stable Mid-Spenders).
    pub fn count_of(self, n: u64) -> u64 {
        let floor = |pct: u64| n * pct / 100;
        match self {
            Segment::HighValueTravelers => floor(15),
            Segment::BudgetConscious => floor(25),
            Segment::Declining | Segment::NewAndGrowing => floor(10),
            Segment::StableMidSpenders => n - floor(15) - floor(25) - 2 * floor(10),
        }
    }
}

/// How a Declining customer declines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DeclineType {
    /// Loses ~10–14% of baseline spend per month over the last 6 months (70%).
    Gradual,
    /// Drops by 65–100% at a day 50–150 days before the end (30%).
    Sudden,
}

impl DeclineType {
    /// The value of the `decline_type` column.
    pub fn name(self) -> &'static str {
        match self {
            DeclineType::Gradual => "gradual",
            DeclineType::Sudden => "sudden",
        }
    }
}

/// A customer's hidden truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Truth {
    pub segment: Segment,
    pub decline: Option<DeclineType>,
}

/// Exact segment counts, shuffled; exact 70/30 decline types among Declining, shuffled.
pub(crate) fn assign_truth(n: u32, seed: u64) -> Vec<Truth> {
    let n64 = u64::from(n);
    let mut segments = Vec::with_capacity(n as usize);
    for s in Segment::ALL {
        segments.extend(std::iter::repeat_n(s, s.count_of(n64) as usize));
    }
    Rng::new(seed, tag::SEGMENTS, 0, 0).shuffle(&mut segments);
    let declining = Segment::Declining.count_of(n64) as usize;
    let sudden = declining * 3 / 10;
    let mut types: Vec<DeclineType> = (0..declining)
        .map(|i| {
            if i < sudden {
                DeclineType::Sudden
            } else {
                DeclineType::Gradual
            }
        })
        .collect();
    Rng::new(seed, tag::DECLINE, 0, 0).shuffle(&mut types);
    let mut types = types.into_iter();
    segments
        .into_iter()
        .map(|segment| Truth {
            segment,
            decline: (segment == Segment::Declining)
                .then(|| types.next().expect("one type per decliner")),
        })
        .collect()
}

/// Average days per month.
pub(crate) const DAYS_PER_MONTH: f64 = 30.4375;
/// σ of the lognormal amount noise (μ = −σ²/2 so its mean is 1).
const AMOUNT_SIGMA: f64 = 0.45;
/// Common factor on every monthly transaction count (calibrates the total row count).
const COUNT_FACTOR: f64 = 0.994;
/// New & Growing growth stops at this multiple of the opening level (only reached in long
/// simulations: 180 days at 25% per 30 days is ×3.8).
const MAX_GROWTH: f64 = 4.0;
/// Share of non-Declining customers who quietly stop transacting in the last 180 days.
const QUIET_CHURN_RATE: f64 = 0.03;
/// Share of sudden decliners who stop entirely.
const SUDDEN_STOP_RATE: f64 = 0.20;

/// Spend shares per category (Airlines, Hotels, Travel, Dining, Entertainment, Retail,
/// Grocery, Gas, Utilities, Healthcare).
const SHARES_HVT: [f64; NUM_CATEGORIES] =
    [0.16, 0.14, 0.10, 0.14, 0.08, 0.14, 0.10, 0.05, 0.04, 0.05];
const SHARES_MID: [f64; NUM_CATEGORIES] =
    [0.03, 0.03, 0.04, 0.14, 0.09, 0.22, 0.20, 0.09, 0.08, 0.08];
const SHARES_BUDGET: [f64; NUM_CATEGORIES] =
    [0.0, 0.0, 0.01, 0.06, 0.04, 0.12, 0.38, 0.15, 0.14, 0.10];

/// How the daily transaction rate evolves.
#[derive(Debug, Clone, Copy)]
enum Curve {
    Flat,
    /// `mult = max(0, 1 − g·(180 − t)/30)` for `t ≤ 180`.
    Gradual {
        g: f64,
    },
    /// `mult = level` for `t ≤ d0`.
    Sudden {
        d0: i64,
        level: f64,
    },
    /// Starts at `open_t`, grows by `ln_growth` per day (capped at [`MAX_GROWTH`]).
    Growth {
        open_t: i64,
        ln_growth: f64,
    },
}

/// One customer's spending behaviour.
#[derive(Debug, Clone)]
pub(crate) struct Behaviour {
    /// Baseline transactions per month.
    monthly_count: f64,
    curve: Curve,
    /// Quiet churn: no transactions for `t ≤ stop_t`.
    stop_t: Option<i64>,
    /// Amount scale: an amount is `BASE_AMOUNT[c] × scale × lognormal`.
    pub scale: f64,
    /// Cumulative probabilities of choosing each category.
    pub category_cumulative: [f64; NUM_CATEGORIES],
    /// Three favourite merchants (index within the category) per category.
    pub favourites: [[u8; 3]; NUM_CATEGORIES],
}

impl Behaviour {
    /// Draws customer `index`'s behaviour. `open_t` is the account opening day (days before
    /// the end date); only New & Growing customers use it.
    pub(crate) fn derive(seed: u64, index: u32, truth: Truth, open_t: i64) -> Behaviour {
        let mut rng = Rng::new(seed, tag::BEHAVIOUR, u64::from(index), 0);
        let (shares, count, spend, curve) = match truth.segment {
            Segment::HighValueTravelers => {
                (&SHARES_HVT, 28.0, rng.uniform(6500.0, 12000.0), Curve::Flat)
            }
            Segment::StableMidSpenders => {
                (&SHARES_MID, 15.0, rng.uniform(1900.0, 4000.0), Curve::Flat)
            }
            Segment::BudgetConscious => {
                (&SHARES_BUDGET, 13.0, rng.uniform(350.0, 700.0), Curve::Flat)
            }
            Segment::Declining => {
                let spend = rng.uniform(2500.0, 4500.0);
                let curve = match truth.decline {
                    Some(DeclineType::Sudden) => {
                        let d0 = rng.between(50, 150);
                        let level = rng.uniform(0.0, 0.35);
                        let level = if rng.chance(SUDDEN_STOP_RATE) {
                            0.0
                        } else {
                            level
                        };
                        Curve::Sudden { d0, level }
                    }
                    _ => Curve::Gradual {
                        g: rng.uniform(0.10, 0.14),
                    },
                };
                (&SHARES_MID, 17.0, spend, curve)
            }
            Segment::NewAndGrowing => {
                let spend = rng.uniform(600.0, 1500.0);
                let r: f64 = rng.uniform(0.15, 0.25);
                (
                    &SHARES_MID,
                    6.0,
                    spend,
                    Curve::Growth {
                        open_t,
                        ln_growth: r.ln_1p() / 30.0,
                    },
                )
            }
        };
        let stop_t = (truth.segment != Segment::Declining && rng.chance(QUIET_CHURN_RATE))
            .then(|| rng.between(1, 180));

        // Per-customer jitter of the spend shares, then the choice probabilities ∝ s_c / base_c.
        let mut s = [0.0; NUM_CATEGORIES];
        for (c, share) in shares.iter().enumerate() {
            s[c] = share * rng.uniform(0.75, 1.25);
        }
        let total: f64 = s.iter().sum();
        let mut z = 0.0;
        let mut category_cumulative = [0.0; NUM_CATEGORIES];
        for c in 0..NUM_CATEGORIES {
            z += s[c] / total / BASE_AMOUNT[c];
            category_cumulative[c] = z;
        }
        for c in category_cumulative.iter_mut() {
            *c /= z;
        }
        // Expected amount per transaction = scale × Σ p_c·base_c = scale / z.
        let monthly_count = count * COUNT_FACTOR;
        let scale = spend / monthly_count * z;

        let mut favourites = [[0u8; 3]; NUM_CATEGORIES];
        for fav in favourites.iter_mut() {
            for f in fav.iter_mut() {
                *f = rng.below(100) as u8;
            }
        }
        Behaviour {
            monthly_count,
            curve,
            stop_t,
            scale,
            category_cumulative,
            favourites,
        }
    }

    /// Expected transactions on day `t`.
    pub(crate) fn daily_rate(&self, t: i64) -> f64 {
        if self.stop_t.is_some_and(|stop| t <= stop) {
            return 0.0;
        }
        let mult = match self.curve {
            Curve::Flat => 1.0,
            Curve::Gradual { g } => {
                if t > 180 {
                    1.0
                } else {
                    (1.0 - g * (180 - t) as f64 / 30.0).max(0.0)
                }
            }
            Curve::Sudden { d0, level } => {
                if t > d0 {
                    1.0
                } else {
                    level
                }
            }
            Curve::Growth { open_t, ln_growth } => {
                if t > open_t {
                    0.0
                } else {
                    (ln_growth * (open_t - t) as f64).exp().min(MAX_GROWTH)
                }
            }
        };
        self.monthly_count * mult / DAYS_PER_MONTH
    }

    /// The lognormal amount noise for one transaction.
    #[inline]
    pub(crate) fn amount_noise(rng: &mut Rng) -> f64 {
        (AMOUNT_SIGMA * rng.normal() - AMOUNT_SIGMA * AMOUNT_SIGMA / 2.0).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_segment_counts_and_decline_split() {
        for n in [1_000u32, 1_234, 7] {
            let truth = assign_truth(n, 42);
            assert_eq!(truth.len(), n as usize);
            for s in Segment::ALL {
                let got = truth.iter().filter(|t| t.segment == s).count() as u64;
                assert_eq!(got, s.count_of(u64::from(n)), "{n} {s:?}");
            }
            let d = Segment::Declining.count_of(u64::from(n)) as usize;
            let sudden = truth
                .iter()
                .filter(|t| t.decline == Some(DeclineType::Sudden))
                .count();
            assert_eq!(sudden, d * 3 / 10);
            assert!(truth
                .iter()
                .all(|t| (t.segment == Segment::Declining) == t.decline.is_some()));
        }
        assert_eq!(
            Segment::StableMidSpenders.count_of(1_234),
            1_234 - 185 - 308 - 123 - 123
        );
    }

    #[test]
    fn curves_follow_the_rules() {
        let truth = |segment, decline| Truth { segment, decline };
        // Find a gradual decliner that does not quietly churn (decliners never do).
        let b = Behaviour::derive(
            1,
            3,
            truth(Segment::Declining, Some(DeclineType::Gradual)),
            0,
        );
        let base = b.daily_rate(400);
        assert!((b.daily_rate(181) - base).abs() < 1e-12);
        assert!(b.daily_rate(90) < base * 0.7 && b.daily_rate(0) < b.daily_rate(90));
        let g = Behaviour::derive(1, 3, truth(Segment::NewAndGrowing, None), 100);
        assert_eq!(g.daily_rate(101), 0.0);
        assert!(g.daily_rate(70) > g.daily_rate(100) * 1.15);
        assert!(g.daily_rate(-10_000) <= g.daily_rate(100) * MAX_GROWTH + 1e-9);
    }
}

//! The campaign simulator of SPEC §7, as a pure function of the audience and the inputs.
//!
//! Money is exact ([`Decimal`]); results are rounded to cents only when shown. ROI is a
//! percentage (a ratio, so a double), rounded to 2 decimals.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

/// Share of a retained customer's lifetime value the campaign is credited with (SPEC §7).
const VALUE_SHARE: Decimal = Decimal::from_parts(20, 0, 0, false, 2);

/// What the simulator is asked.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CampaignInputs {
    /// N: customers in the audience.
    pub audience_size: u64,
    /// Average lifetime value over the audience.
    pub avg_ltv: Decimal,
    /// Incentive per customer.
    pub incentive: Decimal,
    /// Expected retention rate, percent (0–100).
    pub retention_rate: Decimal,
    /// Cost of reaching one customer.
    pub cost_per_customer: Decimal,
}

/// One point of the sensitivity line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SensitivityPoint {
    /// Retention rate, percent.
    pub rate: u32,
    /// Customers retained at that rate.
    pub retained: u64,
    /// Net value at that rate (cents).
    pub net: Decimal,
    /// ROI at that rate, percent.
    pub roi_pct: f64,
}

/// The simulator's answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CampaignResult {
    /// The inputs it answers.
    pub inputs: CampaignInputs,
    /// `N × (incentive + cost_per_customer)`.
    pub total_cost: Decimal,
    /// `floor(N × rate / 100)`.
    pub retained: u64,
    /// `retained × avg_ltv × 0.20`, to the cent.
    pub retained_value: Decimal,
    /// `retained_value − total_cost`, to the cent.
    pub net: Decimal,
    /// `net / total_cost × 100` (0 when total_cost is 0), to 2 decimals.
    pub roi_pct: f64,
    /// Smallest whole rate 1–100 with ROI ≥ 0.
    pub breakeven_rate: Option<u32>,
    /// ROI at rates 10, 20, …, 80.
    pub sensitivity: Vec<SensitivityPoint>,
}

struct Outcome {
    total_cost: Decimal,
    retained: u64,
    retained_value: Decimal,
    net: Decimal,
    roi: Decimal,
}

fn outcome(inputs: &CampaignInputs, rate: Decimal) -> Outcome {
    let n = Decimal::from(inputs.audience_size);
    let total_cost = n * (inputs.incentive + inputs.cost_per_customer);
    let retained = (n * rate / Decimal::ONE_HUNDRED)
        .floor()
        .to_u64()
        .unwrap_or(0);
    let retained_value = Decimal::from(retained) * inputs.avg_ltv * VALUE_SHARE;
    let net = retained_value - total_cost;
    let roi = if total_cost.is_zero() {
        Decimal::ZERO
    } else {
        net / total_cost * Decimal::ONE_HUNDRED
    };
    Outcome {
        total_cost,
        retained,
        retained_value,
        net,
        roi,
    }
}

fn cents(d: Decimal) -> Decimal {
    d.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

fn pct(d: Decimal) -> f64 {
    cents(d).to_f64().unwrap_or(0.0)
}

/// Runs the simulator of SPEC §7.
pub fn simulate(inputs: CampaignInputs) -> CampaignResult {
    let main = outcome(&inputs, inputs.retention_rate);
    let breakeven_rate =
        (1..=100u32).find(|r| outcome(&inputs, Decimal::from(*r)).roi >= Decimal::ZERO);
    let sensitivity = (1..=8u32)
        .map(|i| {
            let rate = i * 10;
            let o = outcome(&inputs, Decimal::from(rate));
            SensitivityPoint {
                rate,
                retained: o.retained,
                net: cents(o.net),
                roi_pct: pct(o.roi),
            }
        })
        .collect();
    CampaignResult {
        inputs,
        total_cost: cents(main.total_cost),
        retained: main.retained,
        retained_value: cents(main.retained_value),
        net: cents(main.net),
        roi_pct: pct(main.roi),
        breakeven_rate,
        sensitivity,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(n: i64) -> Decimal {
        Decimal::from(n)
    }

    #[test]
    fn spec_7_check() {
        let result = simulate(CampaignInputs {
            audience_size: 100,
            avg_ltv: d(10_000),
            incentive: d(100),
            retention_rate: d(40),
            cost_per_customer: d(10),
        });
        assert_eq!(result.total_cost, d(11_000));
        assert_eq!(result.retained, 40);
        assert_eq!(result.retained_value, d(80_000));
        assert_eq!(result.net, d(69_000));
        assert_eq!(result.roi_pct, 627.27);
        // roi ≥ 0 needs retained × 2,000 ≥ 11,000: 6 customers, i.e. rate 6.
        assert_eq!(result.breakeven_rate, Some(6));
        let rates: Vec<u32> = result.sensitivity.iter().map(|p| p.rate).collect();
        assert_eq!(rates, vec![10, 20, 30, 40, 50, 60, 70, 80]);
        assert_eq!(result.sensitivity[3].roi_pct, 627.27);
        assert_eq!(result.sensitivity[0].retained, 10);
    }

    #[test]
    fn zero_cost_gives_zero_roi_and_no_breakeven_when_value_never_covers_cost() {
        let free = simulate(CampaignInputs {
            audience_size: 0,
            avg_ltv: d(0),
            incentive: d(100),
            retention_rate: d(40),
            cost_per_customer: d(10),
        });
        assert_eq!(free.total_cost, d(0));
        assert_eq!(free.roi_pct, 0.0);
        let hopeless = simulate(CampaignInputs {
            audience_size: 10,
            avg_ltv: d(1),
            incentive: d(100),
            retention_rate: d(100),
            cost_per_customer: d(0),
        });
        assert_eq!(hopeless.breakeven_rate, None);
        assert!(hopeless.roi_pct < 0.0);
    }

    #[test]
    fn retained_is_floored_and_fractional_ltv_is_exact() {
        let r = simulate(CampaignInputs {
            audience_size: 7,
            avg_ltv: Decimal::new(333_333, 2),
            incentive: d(1),
            retention_rate: Decimal::new(155, 1),
            cost_per_customer: d(0),
        });
        assert_eq!(r.retained, 1); // floor(7 × 15.5 / 100) = floor(1.085)
        assert_eq!(r.retained_value, Decimal::new(66_667, 2)); // 3,333.33 × 0.2 = 666.666
    }
}

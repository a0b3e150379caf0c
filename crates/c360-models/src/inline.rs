//! Ephemeral models inlined as CTEs: the ephemerals a query reads (directly or through other
//! ephemerals) are prepended as `WITH __ephemeral_x AS (...)`, merged into the query's own
//! `WITH` when it has one, in dependency order.

use std::collections::{BTreeMap, BTreeSet};

use crate::dag::Dag;
use crate::render::ephemeral_relation;

/// Ephemeral models reachable from `start` through ephemeral models only (each start id that
/// is ephemeral included), ordered so each comes after the ephemerals it reads.
pub(crate) fn ephemeral_closure<'a>(
    dag: &Dag<String>,
    start: impl Iterator<Item = &'a String>,
    is_ephemeral: &dyn Fn(&str) -> bool,
    position: &BTreeMap<&String, usize>,
) -> Vec<String> {
    let mut found: BTreeSet<String> = BTreeSet::new();
    let mut queue: Vec<&String> = start.filter(|id| is_ephemeral(id)).collect();
    while let Some(id) = queue.pop() {
        if found.insert(id.clone()) {
            queue.extend(dag.parents(id).filter(|p| is_ephemeral(p)));
        }
    }
    let mut ordered: Vec<String> = found.into_iter().collect();
    ordered.sort_by_key(|id| position.get(id).copied().unwrap_or(usize::MAX));
    ordered
}

/// `sql` with each ephemeral body as a CTE in front (merged into the query's own `WITH`).
pub(crate) fn inline_ctes(sql: &str, ctes: &[String], bodies: &BTreeMap<String, String>) -> String {
    if ctes.is_empty() {
        return sql.to_string();
    }
    let defs: Vec<String> = ctes
        .iter()
        .map(|id| {
            let name = id.strip_prefix("model.").unwrap_or(id);
            let body = bodies
                .get(id)
                .map(String::as_str)
                .unwrap_or("")
                .trim()
                .trim_end_matches(';')
                .trim_end();
            format!("{} AS (\n{body}\n)", ephemeral_relation(name))
        })
        .collect();
    let defs = defs.join(",\n");
    let start = leading_trivia(sql);
    let (lead, rest) = sql.split_at(start);
    match keyword(rest, "with") {
        Some(after) => match keyword(after, "recursive") {
            Some(after) => format!("{lead}WITH RECURSIVE {defs},\n{after}"),
            None => format!("{lead}WITH {defs},\n{after}"),
        },
        None => format!("{lead}WITH {defs}\n{rest}"),
    }
}

/// Byte length of the whitespace and SQL comments at the start of `sql`.
fn leading_trivia(sql: &str) -> usize {
    let mut i = 0;
    loop {
        let rest = &sql[i..];
        let trimmed = rest.trim_start();
        i += rest.len() - trimmed.len();
        if trimmed.starts_with("--") {
            i += trimmed.find('\n').map_or(trimmed.len(), |n| n + 1);
        } else if trimmed.starts_with("/*") {
            i += trimmed.find("*/").map_or(trimmed.len(), |n| n + 2);
        } else {
            return i;
        }
    }
}

/// The text after `word` (case-insensitive, followed by whitespace) at the start of `s`.
fn keyword<'s>(s: &'s str, word: &str) -> Option<&'s str> {
    let head = s.get(..word.len())?;
    let next = s[word.len()..].chars().next()?;
    (head.eq_ignore_ascii_case(word) && next.is_whitespace()).then(|| s[word.len()..].trim_start())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ctes_merge_into_an_existing_with() {
        let bodies = BTreeMap::from([
            ("model.e".to_string(), "select 1 as x;\n".to_string()),
            (
                "model.f".to_string(),
                "select x from __ephemeral_e".to_string(),
            ),
        ]);
        let ctes = ["model.e".to_string(), "model.f".to_string()];
        assert_eq!(
            inline_ctes("-- head\nselect * from __ephemeral_f", &ctes, &bodies),
            "-- head\nWITH __ephemeral_e AS (\nselect 1 as x\n),\n__ephemeral_f AS (\nselect x from __ephemeral_e\n)\nselect * from __ephemeral_f"
        );
        assert_eq!(
            inline_ctes("With a as (select 1) select * from a", &ctes[..1], &bodies),
            "WITH __ephemeral_e AS (\nselect 1 as x\n),\na as (select 1) select * from a"
        );
        assert_eq!(inline_ctes("withdrawals", &[], &bodies), "withdrawals");
        assert!(inline_ctes("withdrawals", &ctes[..1], &bodies).ends_with(")\nwithdrawals"));
    }
}

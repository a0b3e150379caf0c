//! Masking of personal data for roles that must not see it (`marketing`): names keep their
//! first letter, emails their first letter and domain.

/// Which kind of personal data a column holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PiiKind {
    /// A name.
    Name,
    /// An email address.
    Email,
}

/// The kind of personal data in column `name`, if any.
pub fn pii_kind(column: &str) -> Option<PiiKind> {
    match column {
        "full_name" | "first_name" | "last_name" => Some(PiiKind::Name),
        "email" => Some(PiiKind::Email),
        _ => None,
    }
}

/// `Jane Doe` → `J*** D***`; `jane.doe@example.com` → `j***@example.com`.
pub fn mask(kind: PiiKind, value: &str) -> String {
    let initial = |word: &str| {
        word.chars()
            .next()
            .map(|c| format!("{c}***"))
            .unwrap_or_default()
    };
    match kind {
        PiiKind::Name => value
            .split_whitespace()
            .map(initial)
            .collect::<Vec<_>>()
            .join(" "),
        PiiKind::Email => match value.rsplit_once('@') {
            Some((local, domain)) => format!("{}@{domain}", initial(local)),
            None => initial(value),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keep_only_initials_and_domain() {
        assert_eq!(mask(PiiKind::Name, "Jane Doe"), "J*** D***");
        assert_eq!(
            mask(PiiKind::Email, "jane.doe@example.com"),
            "j***@example.com"
        );
        assert_eq!(mask(PiiKind::Email, "nodomain"), "n***");
        assert_eq!(mask(PiiKind::Name, ""), "");
        assert_eq!(pii_kind("email"), Some(PiiKind::Email));
        assert_eq!(pii_kind("state"), None);
    }
}

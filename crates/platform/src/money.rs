//! Money as borrowers read it. Amounts are whole rupiah everywhere in Tenor (docs/conventions.md);
//! this is only how one is written for a person.

/// `Rp1.250.000`: dots group thousands, as Indonesians write rupiah (no decimals: there are no
/// sen in Tenor's amounts).
pub fn rupiah(amount: i64) -> String {
    let digits = amount.unsigned_abs().to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    let sign = if amount < 0 { "-" } else { "" };
    format!("{sign}Rp{grouped}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rupiah_groups_thousands_with_dots() {
        assert_eq!(rupiah(1_250_000), "Rp1.250.000");
        assert_eq!(rupiah(500_000), "Rp500.000");
        assert_eq!(rupiah(0), "Rp0");
        assert_eq!(rupiah(999), "Rp999");
        assert_eq!(rupiah(1_000), "Rp1.000");
        assert_eq!(rupiah(-50_000), "-Rp50.000");
        assert_eq!(rupiah(i64::MIN), "-Rp9.223.372.036.854.775.808");
    }
}

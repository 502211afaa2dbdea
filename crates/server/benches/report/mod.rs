//! One line per measured figure, in a form `scripts/bench.sh` gathers into one table.
//! (Each benchmark uses the targets it needs.)
#![allow(dead_code)]

/// What a figure must reach.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    /// At least this share of the baseline (0.45 = 45%).
    Share(f64),
    /// At most this many times the baseline.
    Times(f64),
    /// Under this value, in the unit named.
    Under(f64, &'static str),
}

/// Prints `name`'s result as a tab-separated line starting `RESULT` (name, what was
/// measured, the value against the target, the verdict) and returns whether it **missed**.
/// `other_checks` is false when something besides the ratio failed (a count, an overbooked
/// session), which misses too.
pub fn result(name: &str, figure: &str, value: f64, target: Target, other_checks: bool) -> bool {
    let (shown, wanted, met) = match target {
        Target::Share(t) => (
            format!("{:.1}%", value * 100.0),
            format!("≥ {:.0}%", t * 100.0),
            value >= t,
        ),
        Target::Times(t) => (format!("{value:.2}×"), format!("≤ {t}×"), value <= t),
        Target::Under(t, unit) => (
            format!("{value:.1} {unit}"),
            format!("< {t} {unit}"),
            value < t,
        ),
    };
    let met = met && other_checks;
    let verdict = if met { "met" } else { "MISSED" };
    println!("RESULT\t{name}\t{figure}\t{shown}\t{wanted}\t{verdict}");
    !met
}

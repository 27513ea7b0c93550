//! Names drawn as a département's are distributed, so that searching the
//! demo costs what searching real files costs: a heavy head (the commonest
//! family name about 1 % of people, as Martin is in France), a long tail of
//! tens of thousands of rarer names, compound names, particles and accents.
//! Fictitious: the tail is made of syllables, and no draw names a real
//! person.

use rand::Rng;
use rand::rngs::StdRng;

use crate::demo::data::{FAMILY_NAMES, FEMALE_NAMES, MALE_NAMES};

/// Share of people whose family name is one of the common ones.
const HEAD_SHARE: f64 = 0.06;
/// Share of compound family names (`Dupont-Martin`).
const COMPOUND_SHARE: f64 = 0.03;
/// Share of names with a particle (`de`, `Le`, …).
const PARTICLE_SHARE: f64 = 0.04;

const PARTICLES: &[&str] = &["de ", "Le ", "La ", "Du ", "Des ", "de La "];
const STARTS: &[&str] = &[
    "Bou", "Char", "Lam", "Mor", "Ber", "Fon", "Gau", "Roch", "Pel", "Vill", "Mar", "Cour", "Dau",
    "Tis", "Ros", "Brun", "Jou", "Gir", "Fav", "Rev", "Mich", "Bl", "Ch", "Gr", "Pr", "Tr", "Cl",
    "Fr", "Br", "Dr",
];
const MIDDLES: &[&str] = &[
    "a", "e", "i", "o", "ou", "au", "ei", "ai", "é", "è", "an", "en", "on", "in", "ar", "er", "or",
    "ur", "al", "el", "il", "ol", "ul", "as", "es", "is", "os", "us", "at", "et", "it", "ot", "ut",
    "ab", "eb", "ib", "ob", "ub", "ag", "eg",
];
const ENDS: &[&str] = &[
    "det", "lin", "ron", "ard", "ier", "ot", "eau", "et", "in", "ais", "ade", "ière", "ault",
    "ény", "oux", "and", "ent", "elle", "y", "enc", "aud", "ès", "ac", "at", "on",
];

/// A rank in `1..n`, the first far likelier than the last (Zipf, s = 1:
/// log-uniform).
fn zipf(n: usize, rng: &mut StdRng) -> usize {
    let n = n.max(2) as f64;
    // floor(n^u) for u uniform in [0, 1): 1 ≤ rank < n.
    (n.powf(rng.gen_range(0.0..1.0)).floor() as usize).max(1)
}

/// A rank of the tail in `0..len`, with a gentler slope (s = ½), so that
/// its commonest names stay rarer than the head's.
fn tail_rank(len: usize, rng: &mut StdRng) -> usize {
    let root = (len as f64).sqrt();
    let x = (1.0 + rng.gen_range(0.0..1.0) * (root - 1.0)).powi(2);
    (x.floor() as usize).saturating_sub(1).min(len - 1)
}

fn pick<'a>(list: &[&'a str], i: usize) -> &'a str {
    list.get(i % list.len().max(1)).copied().unwrap_or("Martin")
}

fn common_family_name(rng: &mut StdRng) -> &'static str {
    pick(FAMILY_NAMES, zipf(FAMILY_NAMES.len() + 1, rng) - 1)
}

/// A family name.
pub fn family_name(rng: &mut StdRng) -> String {
    let mut name = if rng.gen_bool(HEAD_SHARE) {
        common_family_name(rng).to_owned()
    } else {
        let len = STARTS.len() * MIDDLES.len() * ENDS.len();
        let k = tail_rank(len, rng);
        let (start, rest) = (k % STARTS.len(), k / STARTS.len());
        let (middle, end) = (rest % MIDDLES.len(), rest / MIDDLES.len());
        format!(
            "{}{}{}",
            pick(STARTS, start),
            pick(MIDDLES, middle),
            pick(ENDS, end)
        )
    };
    if rng.gen_bool(COMPOUND_SHARE) {
        name = format!("{name}-{}", common_family_name(rng));
    }
    if rng.gen_bool(PARTICLE_SHARE) {
        let particle = pick(PARTICLES, rng.gen_range(0..PARTICLES.len()));
        name = format!("{particle}{name}");
    }
    name
}

/// One or two given names, the common ones far likelier.
pub fn given_names(female: bool, rng: &mut StdRng) -> String {
    let list = if female { FEMALE_NAMES } else { MALE_NAMES };
    let draw = |rng: &mut StdRng| pick(list, zipf(list.len() + 1, rng) - 1);
    let first = draw(rng);
    if rng.gen_bool(0.3) {
        let second = draw(rng);
        if second != first {
            return format!("{first} {second}");
        }
    }
    first.to_owned()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use rand::SeedableRng;

    use super::*;

    #[test]
    fn names_have_a_heavy_head_and_a_long_tail() {
        let mut rng = StdRng::seed_from_u64(7);
        let draws = 200_000;
        let mut counts: HashMap<String, usize> = HashMap::new();
        for _ in 0..draws {
            *counts.entry(family_name(&mut rng)).or_default() += 1;
        }
        let top = counts.values().max().copied().unwrap_or(0);
        let share = top as f64 / draws as f64;
        assert!((0.005..0.02).contains(&share), "commonest {share}");
        assert!(counts.len() > 10_000, "{} names", counts.len());
        let once = counts.values().filter(|n| **n == 1).count();
        assert!(once > 1_000, "{once} names seen once");
        let with = |f: fn(&str) -> bool| counts.keys().filter(|n| f(n)).count();
        assert!(with(|n| n.contains('-')) > 100);
        assert!(with(|n| n.contains(' ')) > 100);
        assert!(with(|n| n.contains('é') || n.contains('è')) > 100);
        let mut again = StdRng::seed_from_u64(7);
        let first = family_name(&mut StdRng::seed_from_u64(7));
        assert_eq!(family_name(&mut again), first, "deterministic");
        let given = given_names(true, &mut rng);
        assert!(!given.is_empty() && given.split(' ').count() <= 2);
    }
}

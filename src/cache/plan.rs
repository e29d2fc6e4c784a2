//! Range coalescing: which GETs fetch a set of missing pages. Pure, property-tested.

use std::ops::Range;

/// Groups sorted, distinct page numbers into page ranges to fetch with one GET each.
/// Runs of consecutive pages join; two runs separated by at most `max_gap` pages join too
/// (the gap is fetched along, which costs less than a round trip); no range is longer
/// than `max_pages` (at least 1).
pub fn plan(pages: &[u64], max_gap: u64, max_pages: u64) -> Vec<Range<u64>> {
    let max_pages = max_pages.max(1);
    let mut out: Vec<Range<u64>> = Vec::new();
    for &p in pages {
        match out.last_mut() {
            Some(r) if p >= r.end && p - r.end <= max_gap && p + 1 - r.start <= max_pages => {
                r.end = p + 1
            }
            _ => out.push(p..p + 1),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn examples() {
        assert_eq!(plan(&[], 1, 8), Vec::<Range<u64>>::new());
        assert_eq!(plan(&[1, 2, 3, 7], 0, 8), vec![1..4, 7..8]);
        assert_eq!(plan(&[1, 3], 1, 8), vec![1..4]);
        assert_eq!(plan(&[0, 1, 2, 3, 4], 0, 2), vec![0..2, 2..4, 4..5]);
    }

    proptest! {
        #[test]
        fn covers_exactly_within_limits(mut pages in proptest::collection::vec(0u64..500, 0..200), gap in 0u64..4, max in 1u64..20) {
            pages.sort_unstable();
            pages.dedup();
            let ranges = plan(&pages, gap, max);
            // every page is covered by exactly one range
            for p in &pages {
                prop_assert_eq!(ranges.iter().filter(|r| r.contains(p)).count(), 1);
            }
            for w in ranges.windows(2) {
                prop_assert!(w[0].end <= w[1].start, "sorted and disjoint");
            }
            for r in &ranges {
                prop_assert!(r.end - r.start <= max);
                // ranges start and end on requested pages: no speculative bytes at the edges
                prop_assert!(pages.binary_search(&r.start).is_ok());
                prop_assert!(pages.binary_search(&(r.end - 1)).is_ok());
                // inside a range, holes are at most `gap` pages long
                let inside: Vec<u64> = pages.iter().copied().filter(|p| r.contains(p)).collect();
                for w in inside.windows(2) {
                    prop_assert!(w[1] - w[0] - 1 <= gap);
                }
            }
            // no two neighbouring ranges could have been merged
            for w in ranges.windows(2) {
                let mergeable = w[1].start - w[0].end <= gap && w[1].start + 1 - w[0].start <= max;
                prop_assert!(!mergeable);
            }
        }
    }
}

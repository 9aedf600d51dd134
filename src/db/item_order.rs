//! Where the rows of a new registry release go in `seq` order, so that the release lists its items
//! in the order of the publisher's file while rows keep their stored version whenever they can.
//!
//! `seq` is an order key, unique among the rows of one release (not across releases: a row's new
//! version may take its old version's `seq`, since their release ranges do not meet). A new file
//! is laid over the current rows like this:
//!
//! 1. **Anchors**: the largest set of rows that already exist and whose old `seq` already runs in
//!    the file's order (a longest increasing subsequence, counting unchanged rows before changed
//!    ones). Anchors keep their `seq`; an unchanged anchor is not touched at all, a changed one gets
//!    its new version under the same `seq`. A file that only changes rows in place is all anchors.
//! 2. **Runs**: the rows between two anchors (new rows, rows the publisher moved, changed rows out
//!    of order) get fresh `seq`s spread evenly between the anchors' (`GAP` apart past the first or
//!    last anchor). A moved row that did not change gets a new version with the same content and
//!    no change event: a pure move is not a change.
//! 3. **No room**: when the integers between two anchors are fewer than the run, the run widens
//!    over its neighbouring anchors (towards the side that needs fewer) until it fits; those
//!    anchors are placed again with it (a new version each). The ends are unbounded, so this always
//!    ends; tables numbered 1, 2, 3… before gaps existed pay it once per region.
//!
//! Nothing here renumbers a stored row: every release ever published keeps its rows and their
//! order, so pinned reads and their cursors stay valid.

/// Distance between neighbouring `seq`s placed past the first or last anchor (and in an empty
/// table), so that later insertions between them fit without moving anything.
pub const GAP: i64 = 1 << 20;

/// A staged row that has a current row with the same id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Matched {
    /// Position in the file (1-based).
    pub pos: i64,
    /// The current row's `seq`.
    pub old_seq: i64,
    /// The content is the same as the current row's.
    pub same: bool,
}

/// What an import writes for order's sake.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `(position, seq)` of every staged row that gets a new version, in file order. Staged rows
    /// not listed are unchanged anchors: their current row stays as it is.
    pub written: Vec<(i64, i64)>,
    /// Unchanged rows that get a new version only because their position moved.
    pub moved: usize,
}

/// The `seq` space ran out at one end (after some 8.8 × 10^12 rows placed past an end).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exhausted;

/// Plans release order for a file of `staged` rows (positions 1..=staged), `matched` being the
/// staged rows that have a current row, in position order.
pub fn plan(staged: i64, matched: &[Matched]) -> Result<Plan, Exhausted> {
    // Bounds: the head sentinel, the anchors, the tail sentinel; `None` = unbounded.
    let mut bounds: Vec<Bound> = Vec::with_capacity(matched.len() + 2);
    bounds.push(Bound {
        pos: 0,
        seq: None,
        same: false,
    });
    bounds.extend(anchors(matched).into_iter().map(|m| Bound {
        pos: m.pos,
        seq: Some(m.old_seq),
        same: m.same,
    }));
    bounds.push(Bound {
        pos: staged + 1,
        seq: None,
        same: false,
    });
    let alive = widen_where_needed(&bounds);
    let mut written = Vec::new();
    let mut untouched = 0;
    let mut lo = 0;
    for hi in (1..bounds.len()).filter(|&i| alive[i]) {
        place(&bounds[lo], &bounds[hi], &mut written)?;
        let anchor = &bounds[hi];
        if let (Some(seq), true) = (anchor.seq, hi < bounds.len() - 1) {
            if anchor.same {
                untouched += 1;
            } else {
                written.push((anchor.pos, seq));
            }
        }
        lo = hi;
    }
    written.sort_unstable_by_key(|&(pos, _)| pos);
    Ok(Plan {
        written,
        moved: matched.iter().filter(|m| m.same).count() - untouched,
    })
}

#[derive(Debug, Clone, Copy)]
struct Bound {
    pos: i64,
    seq: Option<i64>,
    same: bool,
}

impl Bound {
    /// Whether the staged rows strictly between `self` and `next` fit between their seqs.
    fn fits(&self, next: &Bound) -> bool {
        let rows = i128::from(next.pos - self.pos - 1);
        match (self.seq, next.seq) {
            (Some(a), Some(b)) => i128::from(b) - i128::from(a) > rows,
            _ => true,
        }
    }
}

/// Which bounds stay anchors: wherever the rows between two neighbours do not fit, the window
/// widens over neighbouring anchors, forwards only or backwards only, whichever gives up fewer
/// (the tail sentinel always fits, so forwards always succeeds).
fn widen_where_needed(bounds: &[Bound]) -> Vec<bool> {
    let mut alive = vec![true; bounds.len()];
    let mut j = 0;
    while j + 1 < bounds.len() {
        let next = j + 1;
        if bounds[j].fits(&bounds[next]) {
            j = next;
            continue;
        }
        let forward = (next + 1..bounds.len())
            .find(|&to| bounds[j].fits(&bounds[to]))
            .unwrap_or(bounds.len() - 1);
        let forward_cost = forward - next;
        // Widening back to `from` gives up the anchors alive between it and `next`.
        let mut backward = None;
        let mut given_up = 1;
        for from in (0..j).rev() {
            if !alive[from] {
                continue;
            }
            if given_up >= forward_cost {
                break;
            }
            if bounds[from].fits(&bounds[next]) {
                backward = Some(from);
                break;
            }
            given_up += 1;
        }
        match backward {
            Some(from) => {
                alive[from + 1..next].iter_mut().for_each(|a| *a = false);
                j = next;
            }
            None => {
                alive[next..forward].iter_mut().for_each(|a| *a = false);
                j = forward;
            }
        }
    }
    alive
}

/// Gives every staged row strictly between `lo` and `hi` a seq between theirs, in order.
fn place(lo: &Bound, hi: &Bound, placed: &mut Vec<(i64, i64)>) -> Result<(), Exhausted> {
    let rows = hi.pos - lo.pos - 1;
    for k in 1..=rows {
        let seq: i128 = match (lo.seq, hi.seq) {
            (Some(a), Some(b)) => {
                i128::from(a)
                    + (i128::from(b) - i128::from(a)) * i128::from(k) / i128::from(rows + 1)
            }
            (Some(a), None) => i128::from(a) + i128::from(k) * i128::from(GAP),
            (None, Some(b)) => i128::from(b) - i128::from(rows - k + 1) * i128::from(GAP),
            (None, None) => i128::from(k) * i128::from(GAP),
        };
        placed.push((lo.pos + k, i64::try_from(seq).map_err(|_| Exhausted)?));
    }
    Ok(())
}

/// The anchors: an increasing subsequence of `old_seq` (in position order) that keeps as many
/// unchanged rows as possible, then as many changed ones. O(n log n) with a Fenwick tree of the
/// best chain ending at each `old_seq` rank.
fn anchors(matched: &[Matched]) -> Vec<Matched> {
    if matched.is_empty() {
        return Vec::new();
    }
    let mut ranks: Vec<i64> = matched.iter().map(|m| m.old_seq).collect();
    ranks.sort_unstable();
    ranks.dedup();
    // (weight, index of the chain's last element); unchanged rows outweigh any number of changed.
    let unchanged_weight = matched.len() as u128 + 1;
    let mut tree: Vec<(u128, usize)> = vec![(0, usize::MAX); ranks.len() + 1];
    let mut previous: Vec<usize> = vec![usize::MAX; matched.len()];
    let mut best = (0u128, usize::MAX);
    for (i, m) in matched.iter().enumerate() {
        let rank = ranks.binary_search(&m.old_seq).unwrap_or_default();
        // Best chain over ranks strictly below this one (tree indexes are rank + 1).
        let mut before = (0u128, usize::MAX);
        let mut r = rank;
        while r > 0 {
            if tree[r].0 > before.0 {
                before = tree[r];
            }
            r &= r - 1;
        }
        let weight = before.0 + if m.same { unchanged_weight } else { 1 };
        previous[i] = before.1;
        if weight > best.0 {
            best = (weight, i);
        }
        let mut r = rank + 1;
        while r < tree.len() {
            if weight > tree[r].0 {
                tree[r] = (weight, i);
            }
            r += r & r.wrapping_neg();
        }
    }
    let mut chain = Vec::new();
    let mut at = best.1;
    while at != usize::MAX {
        chain.push(matched[at]);
        at = previous[at];
    }
    chain.reverse();
    chain
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The seq every row has in the new release: written ones from the plan, the others their old.
    fn release_order(staged: i64, matched: &[Matched], laid: &Plan) -> Vec<i64> {
        (1..=staged)
            .map(|pos| {
                laid.written
                    .iter()
                    .find(|(p, _)| *p == pos)
                    .map(|(_, s)| *s)
                    .or_else(|| matched.iter().find(|m| m.pos == pos).map(|m| m.old_seq))
                    .expect("a new row is always written")
            })
            .collect()
    }

    fn assert_sound(staged: i64, matched: &[Matched], laid: &Plan) {
        let order = release_order(staged, matched, laid);
        assert!(
            order.windows(2).all(|w| w[0] < w[1]),
            "not in file order: {order:?}"
        );
        for m in matched.iter().filter(|m| !m.same) {
            assert!(
                laid.written.iter().any(|(p, _)| *p == m.pos),
                "changed row {} not written",
                m.pos
            );
        }
        for (pos, _) in &laid.written {
            assert!(
                (1..=staged).contains(pos),
                "position {pos} outside the file"
            );
        }
        let moved = matched
            .iter()
            .filter(|m| m.same && laid.written.iter().any(|(p, _)| *p == m.pos))
            .count();
        assert_eq!(moved, laid.moved);
    }

    fn same_file(n: i64, gap: i64) -> Vec<Matched> {
        (1..=n)
            .map(|pos| Matched {
                pos,
                old_seq: pos * gap,
                same: true,
            })
            .collect()
    }

    #[test]
    fn a_first_import_is_spread_by_gap() {
        let laid = plan(3, &[]).unwrap();
        assert_eq!(laid.written, vec![(1, GAP), (2, 2 * GAP), (3, 3 * GAP)]);
        assert_eq!(laid.moved, 0);
    }

    #[test]
    fn the_same_file_writes_nothing() {
        let matched = same_file(5, GAP);
        assert_eq!(plan(5, &matched).unwrap(), Plan::default());
    }

    #[test]
    fn rows_changed_in_place_keep_their_seq() {
        let mut matched = same_file(10, 1);
        for m in &mut matched[..5] {
            m.same = false;
        }
        let laid = plan(10, &matched).unwrap();
        assert_eq!(laid.written, (1..=5).map(|p| (p, p)).collect::<Vec<_>>());
        assert_eq!(laid.moved, 0);
    }

    #[test]
    fn an_insertion_goes_between_its_neighbours() {
        // Old rows at positions 1, 2, 4, 5; a new row at 3.
        let matched: Vec<Matched> = [(1, GAP), (2, 2 * GAP), (4, 3 * GAP), (5, 4 * GAP)]
            .into_iter()
            .map(|(pos, old_seq)| Matched {
                pos,
                old_seq,
                same: true,
            })
            .collect();
        let laid = plan(5, &matched).unwrap();
        assert_eq!(laid.written, vec![(3, 2 * GAP + GAP / 2)]);
        assert_sound(5, &matched, &laid);
    }

    #[test]
    fn a_dense_table_widens_towards_the_nearer_end() {
        // seq 1..=10 without gaps; a new row after the 8th: the two rows after it move.
        let matched: Vec<Matched> = (1..=10)
            .map(|n| Matched {
                pos: if n <= 8 { n } else { n + 1 },
                old_seq: n,
                same: true,
            })
            .collect();
        let laid = plan(11, &matched).unwrap();
        assert_eq!(laid.moved, 2);
        assert_eq!(
            laid.written.iter().map(|(p, _)| *p).collect::<Vec<_>>(),
            vec![9, 10, 11]
        );
        assert_sound(11, &matched, &laid);
        // …and after the 2nd: the two rows before it move.
        let matched: Vec<Matched> = (1..=10)
            .map(|n| Matched {
                pos: if n <= 2 { n } else { n + 1 },
                old_seq: n,
                same: true,
            })
            .collect();
        let laid = plan(11, &matched).unwrap();
        assert_eq!(laid.moved, 2);
        assert_sound(11, &matched, &laid);
    }

    #[test]
    fn a_moved_row_is_the_only_one_rewritten() {
        // The row at the end moved to the front.
        let matched: Vec<Matched> = (1..=6)
            .map(|n| Matched {
                pos: if n == 6 { 1 } else { n + 1 },
                old_seq: n * GAP,
                same: true,
            })
            .collect();
        let mut sorted = matched.clone();
        sorted.sort_by_key(|m| m.pos);
        let laid = plan(6, &sorted).unwrap();
        assert_eq!(laid.moved, 1);
        assert_eq!(laid.written, vec![(1, 0)]);
        assert_sound(6, &sorted, &laid);
    }

    #[test]
    fn unchanged_rows_are_kept_before_changed_ones() {
        // Positions 1, 2 changed with old seqs 2, 3; position 3 unchanged with old seq 1.
        let matched = [
            Matched {
                pos: 1,
                old_seq: 2 * GAP,
                same: false,
            },
            Matched {
                pos: 2,
                old_seq: 3 * GAP,
                same: false,
            },
            Matched {
                pos: 3,
                old_seq: GAP,
                same: true,
            },
        ];
        let laid = plan(3, &matched).unwrap();
        assert_eq!(laid.moved, 0);
        assert_eq!(laid.written.len(), 2);
        assert_sound(3, &matched, &laid);
    }

    proptest! {
        /// Any previous release (a gapped or a dense numbering), any new file (rows kept, changed,
        /// moved, removed, added): the release lists the file's order, writes every changed and
        /// new row, and touches no unchanged row that still runs in order.
        #[test]
        fn every_file_is_laid_out_in_order(
            old in 0usize..40,
            dense in any::<bool>(),
            kept in proptest::collection::vec(any::<bool>(), 40),
            changed in proptest::collection::vec(any::<bool>(), 40),
            new in 0usize..20,
            keys in proptest::collection::vec(any::<u32>(), 60),
        ) {
            let gap = if dense { 1 } else { GAP };
            // The old rows that stay, each with a sort key giving its place in the new file.
            let mut rows: Vec<(u32, Option<(i64, bool)>)> = (0..old)
                .filter(|&i| kept[i])
                .map(|i| (keys[i], Some(((i as i64 + 1) * gap, !changed[i]))))
                .collect();
            rows.extend((0..new).map(|i| (keys[40 + i], None)));
            // A stable sort on keys shuffles (equal keys keep the old order).
            rows.sort_by_key(|r| r.0);
            let staged = rows.len() as i64;
            let matched: Vec<Matched> = rows
                .iter()
                .enumerate()
                .filter_map(|(i, r)| r.1.map(|(old_seq, same)| Matched {
                    pos: i as i64 + 1,
                    old_seq,
                    same,
                }))
                .collect();
            let laid = plan(staged, &matched).unwrap();
            assert_sound(staged, &matched, &laid);
            let in_order = matched.windows(2).all(|w| w[0].old_seq < w[1].old_seq);
            if in_order && !dense {
                prop_assert_eq!(laid.moved, 0, "nothing moved, and the gaps had room");
            }
        }

        /// Release after release of insertions, removals and edits at chosen places (the same
        /// place again and again included): every release is in file order.
        #[test]
        fn releases_stay_in_order_release_after_release(
            edits in proptest::collection::vec((0u8..3, any::<prop::sample::Index>()), 1..120),
        ) {
            // The current release: (id, seq) in order.
            let mut current: Vec<(u32, i64)> = Vec::new();
            let mut next_id = 0u32;
            for (kind, at) in edits {
                let mut file: Vec<(u32, bool)> = current.iter().map(|&(id, _)| (id, true)).collect();
                match kind {
                    0 => {
                        let at = at.index(file.len() + 1);
                        file.insert(at, (next_id, false));
                        next_id += 1;
                    }
                    1 if !file.is_empty() => {
                        file.remove(at.index(file.len()));
                    }
                    _ if !file.is_empty() => {
                        let at = at.index(file.len());
                        file[at].1 = false;
                    }
                    _ => {}
                }
                let old: std::collections::HashMap<u32, i64> = current.iter().copied().collect();
                let matched: Vec<Matched> = file
                    .iter()
                    .enumerate()
                    .filter_map(|(i, (id, same))| old.get(id).map(|&old_seq| Matched {
                        pos: i as i64 + 1,
                        old_seq,
                        same: *same,
                    }))
                    .collect();
                let laid = plan(file.len() as i64, &matched).unwrap();
                assert_sound(file.len() as i64, &matched, &laid);
                let order = release_order(file.len() as i64, &matched, &laid);
                current = file.iter().map(|(id, _)| *id).zip(order).collect();
            }
        }
    }
}

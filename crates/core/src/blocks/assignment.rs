//! Minimum-cost assignment: the Hungarian method (H. W. Kuhn, "The Hungarian method for
//! the assignment problem", Naval Research Logistics Quarterly 2, 1955; J. Munkres,
//! "Algorithms for the assignment and transportation problems", J. SIAM 5, 1957), in its
//! O(n²·m) shortest-augmenting-path form with row and column potentials (the form of
//! Jonker & Volgenant, Computing 38, 1987, as written up on cp-algorithms.com, "Hungarian
//! algorithm for solving the assignment problem").
//!
//! Why a batch matcher wants it: matching riders one at a time to their nearest free
//! driver (greedy) can hand a driver to the first rider that asks while a second rider,
//! for whom that driver was the only near one, gets a far one; solving the whole window's
//! riders × drivers at once minimises the total pickup distance. Rows are added one at a
//! time, each by a Dijkstra-like search over reduced costs `c[i][j] − u[i] − v[j] ≥ 0`;
//! the potentials stay feasible, so the final matching is optimal (LP duality).
//!
//! Rectangular inputs are fine: with more rows than columns the problem is solved
//! transposed, so `min(rows, cols)` pairs are always made. Costs must be finite (use a
//! large number for a forbidden pair). Ties are broken by the lowest index, so the answer
//! is deterministic.

/// The optimal matching of a `rows × cols` cost matrix (row-major): for each row, the
/// column it gets (`None` for rows left out when `rows > cols`).
pub fn solve(cost: &[f64], rows: usize, cols: usize) -> Vec<Option<usize>> {
    assert_eq!(cost.len(), rows * cols, "cost matrix is rows × cols");
    if rows == 0 || cols == 0 {
        return vec![None; rows];
    }
    if rows <= cols {
        return solve_wide(&|i, j| cost[i * cols + j], rows, cols);
    }
    // More rows than columns: solve the transpose, then invert it.
    let by_col = solve_wide(&|j, i| cost[i * cols + j], cols, rows);
    let mut out = vec![None; rows];
    for (j, i) in by_col.into_iter().enumerate() {
        if let Some(i) = i {
            out[i] = Some(j);
        }
    }
    out
}

/// The total cost of a matching.
pub fn total(cost: &[f64], cols: usize, pairs: &[Option<usize>]) -> f64 {
    pairs.iter().enumerate().filter_map(|(i, j)| j.map(|j| cost[i * cols + j])).sum()
}

/// `n ≤ m`: every row gets a column.
#[allow(clippy::needless_range_loop)] // four arrays indexed by one column, as in the write-up
fn solve_wide(c: &dyn Fn(usize, usize) -> f64, n: usize, m: usize) -> Vec<Option<usize>> {
    // 1-based as in the classic write-up: column 0 is the virtual start of each search.
    let mut u = vec![0.0f64; n + 1];
    let mut v = vec![0.0f64; m + 1];
    let mut p = vec![0usize; m + 1];
    let mut way = vec![0usize; m + 1];
    let mut minv = vec![0.0f64; m + 1];
    let mut used = vec![false; m + 1];
    for i in 1..=n {
        p[0] = i;
        let mut j0 = 0usize;
        minv.iter_mut().for_each(|x| *x = f64::INFINITY);
        used.iter_mut().for_each(|x| *x = false);
        loop {
            used[j0] = true;
            let i0 = p[j0];
            let mut delta = f64::INFINITY;
            let mut j1 = 0usize;
            for j in 1..=m {
                if used[j] {
                    continue;
                }
                let cur = c(i0 - 1, j - 1) - u[i0] - v[j];
                if cur < minv[j] {
                    minv[j] = cur;
                    way[j] = j0;
                }
                if minv[j] < delta {
                    delta = minv[j];
                    j1 = j;
                }
            }
            for j in 0..=m {
                if used[j] {
                    u[p[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if j0 == 0 || p[j0] == 0 {
                break;
            }
        }
        // Flip the augmenting path back to the start.
        while j0 != 0 {
            let j1 = way[j0];
            p[j0] = p[j1];
            j0 = j1;
        }
    }
    let mut out = vec![None; n];
    for j in 1..=m {
        if p[j] != 0 {
            out[p[j] - 1] = Some(j - 1);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;

    /// Brute-force twin: the least total over every way to give `min(rows, cols)` rows
    /// distinct columns (all permutations of columns for the rows, rows choosing "none"
    /// only when there are more rows than columns).
    fn brute(cost: &[f64], rows: usize, cols: usize) -> f64 {
        fn go(cost: &[f64], rows: usize, cols: usize, i: usize, used: &mut [bool], skips: usize) -> f64 {
            if i == rows {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            if skips > 0 {
                best = go(cost, rows, cols, i + 1, used, skips - 1);
            }
            for j in 0..cols {
                if !used[j] {
                    used[j] = true;
                    best = best.min(cost[i * cols + j] + go(cost, rows, cols, i + 1, used, skips));
                    used[j] = false;
                }
            }
            best
        }
        go(cost, rows, cols, 0, &mut vec![false; cols], rows.saturating_sub(cols))
    }

    fn valid(pairs: &[Option<usize>], rows: usize, cols: usize) {
        let mut seen = vec![false; cols];
        for j in pairs.iter().flatten() {
            assert!(!seen[*j], "column {j} used twice");
            seen[*j] = true;
        }
        assert_eq!(pairs.iter().flatten().count(), rows.min(cols));
    }

    #[test]
    fn equals_brute_force_over_all_permutations() {
        let mut rng = Prng::new(11);
        for case in 0..3_000 {
            let rows = rng.between(1, 6) as usize;
            let cols = rng.between(1, 6) as usize;
            // Small integer costs make ties common; real-valued ones test the arithmetic.
            let cost: Vec<f64> = (0..rows * cols)
                .map(|_| if case % 2 == 0 { rng.below(6) as f64 } else { rng.unit() * 1_000.0 })
                .collect();
            let pairs = solve(&cost, rows, cols);
            valid(&pairs, rows, cols);
            let got = total(&cost, cols, &pairs);
            let want = brute(&cost, rows, cols);
            assert!((got - want).abs() < 1e-9, "case {case}: {rows}×{cols} got {got}, brute force {want}");
        }
    }

    #[test]
    fn the_textbook_example() {
        // A 3 × 3 case worked by hand: of the six permutations, (1, 0, 2) costs
        // 1 + 2 + 2 = 5 and every other costs more (e.g. (0, 1, 2) = 4 + 0 + 2 = 6).
        let cost = [4.0, 1.0, 3.0, 2.0, 0.0, 5.0, 3.0, 2.0, 2.0];
        let pairs = solve(&cost, 3, 3);
        assert_eq!(total(&cost, 3, &pairs), 5.0);
        assert_eq!(pairs, vec![Some(1), Some(0), Some(2)]);
    }

    #[test]
    fn greedy_can_be_far_from_optimal() {
        // Two riders, two drivers: rider 0 is 1 from driver 0 and 2 from driver 1; rider 1
        // is 1.5 from driver 0 and 10 from driver 1. Greedy (rider 0 first) takes driver 0
        // and leaves rider 1 a 10; the optimum is 2 + 1.5.
        let cost = [1.0, 2.0, 1.5, 10.0];
        let pairs = solve(&cost, 2, 2);
        assert_eq!(pairs, vec![Some(1), Some(0)]);
        assert_eq!(total(&cost, 2, &pairs), 3.5);
        assert!(solve(&[], 0, 3).is_empty());
        assert_eq!(solve(&[], 2, 0), vec![None, None]);
    }
}

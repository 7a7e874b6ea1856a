//! The critical path of a trace: which span the request was waiting on at each instant.
//! Shortening a span off the critical path (a shard that finished early while another was
//! still running) does not make the request faster; shortening one on it does. It is the
//! first thing a latency investigation asks of a trace (Jaeger's "critical path" view,
//! after Uber's CRISP, ATC 2022).
//!
//! The walk goes backwards from the root's end: the span was waiting on the child that
//! finished last before that instant; before that child started, on the child that
//! finished last before *that*, and so on; any gap with no child running is the span's own
//! work. Children are clipped to their parent's interval, so a child that seems to start
//! before its parent or end after it (clock skew between hosts) still yields segments that
//! tile the root exactly.

/// One span of a trace as the critical path needs it: times in microseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    pub id: u64,
    pub parent: Option<u64>,
    pub start: u64,
    pub end: u64,
}

/// A piece of the critical path: `[start, end)` attributed to span `id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Segment {
    pub id: u64,
    pub start: u64,
    pub end: u64,
}

/// The critical path of the tree rooted at `root` (an id among `spans`), latest segment
/// first. Spans unreachable from the root are ignored; cycles cannot loop (each span is
/// entered at most once).
pub fn critical_path(spans: &[Interval], root: u64) -> Vec<Segment> {
    let mut out = Vec::new();
    let Some(r) = spans.iter().find(|s| s.id == root) else { return out };
    let mut entered = vec![false; spans.len()];
    walk(spans, r, r.start, r.end.max(r.start), &mut entered, &mut out);
    out
}

fn walk(spans: &[Interval], span: &Interval, lo: u64, hi: u64, entered: &mut [bool], out: &mut Vec<Segment>) {
    let mut t = hi;
    loop {
        // The child still running just before `t` that finished last (ties: the later start).
        let mut best: Option<(usize, u64)> = None;
        for (i, c) in spans.iter().enumerate() {
            if c.parent != Some(span.id) || entered[i] || c.start >= t || c.end <= lo {
                continue;
            }
            let ce = c.end.min(t);
            if best.is_none_or(|(b, be)| ce > be || (ce == be && c.start > spans[b].start)) {
                best = Some((i, ce));
            }
        }
        let Some((i, ce)) = best else {
            if t > lo {
                out.push(Segment { id: span.id, start: lo, end: t });
            }
            return;
        };
        if ce < t {
            out.push(Segment { id: span.id, start: ce, end: t });
        }
        entered[i] = true;
        let c = spans[i];
        let cs = c.start.max(lo);
        walk(spans, &c, cs, ce, entered, out);
        t = cs;
        if t <= lo {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::rng::Prng;

    fn iv(id: u64, parent: Option<u64>, start: u64, end: u64) -> Interval {
        Interval { id, parent, start, end }
    }

    /// Root 0..100 calls A (10..30) then, in parallel, B (30..90) and C (30..60); B calls D
    /// (40..80). The path: root 90..100, B 80..90, D 40..80, B 30..40, A 10..30, root 0..10.
    #[test]
    fn a_fan_out_waits_on_the_slowest_branch() {
        let spans = [
            iv(1, None, 0, 100),
            iv(2, Some(1), 10, 30),
            iv(3, Some(1), 30, 90),
            iv(4, Some(1), 30, 60),
            iv(5, Some(3), 40, 80),
        ];
        let got: Vec<(u64, u64, u64)> = critical_path(&spans, 1).into_iter().map(|s| (s.id, s.start, s.end)).collect();
        assert_eq!(got, vec![(1, 90, 100), (3, 80, 90), (5, 40, 80), (3, 30, 40), (2, 10, 30), (1, 0, 10)]);
    }

    /// A child that a skewed clock puts outside its parent is clipped to it.
    #[test]
    fn skewed_children_are_clipped() {
        let spans = [iv(1, None, 100, 200), iv(2, Some(1), 50, 150), iv(3, Some(1), 180, 260)];
        let got: Vec<(u64, u64, u64)> = critical_path(&spans, 1).into_iter().map(|s| (s.id, s.start, s.end)).collect();
        assert_eq!(got, vec![(3, 180, 200), (1, 150, 180), (2, 100, 150)]);
    }

    /// Random trees: the segments tile the root's interval exactly (no gap, no overlap),
    /// each lies inside its own span, and each belongs to a span reachable from the root.
    /// Brute-force twin for the "waiting on" rule: at every integer instant of the
    /// segment attributed to a parent, none of its children is running.
    #[test]
    fn segments_tile_the_root_on_random_trees() {
        let mut rng = Prng::new(11);
        for _ in 0..300 {
            let n = rng.between(1, 12) as usize;
            let mut spans = vec![iv(1, None, 0, rng.between(1, 200))];
            for id in 2..=n as u64 {
                let p = spans[rng.below(spans.len() as u64) as usize];
                let start = p.start + rng.below(p.end - p.start + 1);
                let end = (start + rng.between(0, 80)).min(p.end + rng.below(3));
                spans.push(iv(id, Some(p.id), start, end.max(start)));
            }
            let path = critical_path(&spans, 1);
            let mut t = spans[0].end;
            for s in &path {
                assert_eq!(s.end, t, "{spans:?} {path:?}");
                assert!(s.start < s.end);
                let own = spans.iter().find(|x| x.id == s.id).unwrap();
                assert!(own.start <= s.start && s.end <= own.end, "{own:?} {s:?}");
                for x in s.start..s.end {
                    let busy_child = spans.iter().any(|c| {
                        c.parent == Some(s.id) && c.start <= x && x < c.end && path.iter().any(|q| q.id == c.id)
                    });
                    assert!(!busy_child, "{s:?} overlaps a critical child at {x}: {spans:?} {path:?}");
                }
                t = s.start;
            }
            assert_eq!(t, spans[0].start, "{spans:?} {path:?}");
        }
    }
}

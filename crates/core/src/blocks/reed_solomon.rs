//! Reed-Solomon erasure coding over GF(2⁸): `k` data shards and `m` parity shards, any `k`
//! of the `k + m` enough to rebuild the rest — what object stores (S3, Azure LRC's base
//! code, Ceph's jerasure plugin, HDFS EC, Backblaze Vaults) use instead of full replicas,
//! because RS(10, 4) survives four lost disks at 1.4× the bytes where three replicas
//! survive two at 3×.
//!
//! - The field: GF(2⁸) with the primitive polynomial x⁸ + x⁴ + x³ + x² + 1 (`0x11d`, the
//!   one Plank's "A Tutorial on Reed-Solomon Coding for Fault-Tolerance in RAID-like
//!   Systems", 1997, and the Linux RAID-6 code use), generator 2; multiplication through
//!   log/antilog tables, checked against a carry-less multiply reduced by the polynomial for
//!   all 256 × 256 pairs.
//! - The code: a (k + m) × k Vandermonde matrix (row `i` = `[iʲ]`, distinct points, so any
//!   k rows are independent) multiplied by the inverse of its top k × k square, which makes
//!   the top square the identity (systematic: data shards are stored as they are) and keeps
//!   every k-row subset invertible. This is the construction of Backblaze's JavaReedSolomon
//!   and klauspost/reedsolomon (Plank's 1997 tutorial builds the parity rows from raw
//!   Vandermonde rows, which is not MDS for every k, m — Plank & Ding's 2003 correction).
//! - Reconstruction: take the rows of any k surviving shards, invert that square by
//!   Gauss-Jordan elimination, multiply to get the data back, re-encode missing parity.

/// The primitive polynomial (with the x⁸ term).
pub const POLY: u16 = 0x11d;

/// Antilog (`EXP[i] = 2ⁱ`, doubled so a sum of two logs needs no modulo) and log tables.
struct Tables {
    exp: [u8; 512],
    log: [u8; 256],
}

const fn tables() -> Tables {
    let mut exp = [0u8; 512];
    let mut log = [0u8; 256];
    let mut x: u16 = 1;
    let mut i = 0;
    while i < 255 {
        exp[i] = x as u8;
        exp[i + 255] = x as u8;
        log[x as usize] = i as u8;
        x <<= 1;
        if x & 0x100 != 0 {
            x ^= POLY;
        }
        i += 1;
    }
    exp[510] = exp[0];
    exp[511] = exp[1];
    Tables { exp, log }
}

static T: Tables = tables();

/// a · b in GF(2⁸).
pub fn mul(a: u8, b: u8) -> u8 {
    if a == 0 || b == 0 {
        return 0;
    }
    T.exp[T.log[a as usize] as usize + T.log[b as usize] as usize]
}

/// a / b in GF(2⁸); `b` must not be zero.
pub fn div(a: u8, b: u8) -> u8 {
    assert!(b != 0, "division by zero in GF(2^8)");
    if a == 0 {
        return 0;
    }
    T.exp[T.log[a as usize] as usize + 255 - T.log[b as usize] as usize]
}

/// aⁿ in GF(2⁸) (0⁰ = 1, as the Vandermonde matrix needs).
pub fn pow(a: u8, n: usize) -> u8 {
    if n == 0 {
        return 1;
    }
    if a == 0 {
        return 0;
    }
    T.exp[(T.log[a as usize] as usize * n) % 255]
}

type Matrix = Vec<Vec<u8>>;

fn mat_mul(a: &Matrix, b: &Matrix) -> Matrix {
    let (n, inner, p) = (a.len(), b.len(), b[0].len());
    let mut out = vec![vec![0u8; p]; n];
    for i in 0..n {
        for (j, cell) in out[i].iter_mut().enumerate() {
            let mut acc = 0u8;
            for t in 0..inner {
                acc ^= mul(a[i][t], b[t][j]);
            }
            *cell = acc;
        }
    }
    out
}

/// The inverse of a square matrix by Gauss-Jordan elimination; `None` if it is singular.
pub fn invert(m: &Matrix) -> Option<Matrix> {
    let n = m.len();
    let mut a: Matrix = m.to_vec();
    let mut inv: Matrix = (0..n).map(|i| (0..n).map(|j| u8::from(i == j)).collect()).collect();
    for col in 0..n {
        let pivot = (col..n).find(|&r| a[r][col] != 0)?;
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let scale = div(1, a[col][col]);
        for j in 0..n {
            a[col][j] = mul(a[col][j], scale);
            inv[col][j] = mul(inv[col][j], scale);
        }
        for r in 0..n {
            if r != col && a[r][col] != 0 {
                let f = a[r][col];
                for j in 0..n {
                    a[r][j] ^= mul(f, a[col][j]);
                    inv[r][j] ^= mul(f, inv[col][j]);
                }
            }
        }
    }
    Some(inv)
}

/// Why shards could not be encoded or rebuilt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RsError {
    /// k = 0, m = 0, or k + m > 256 (the field has 256 points).
    BadShape,
    /// Fewer than k shards survive.
    TooFewShards { have: usize, need: usize },
    /// Shards of different lengths.
    ShardSize,
}

/// A systematic RS(k, m) code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReedSolomon {
    pub k: usize,
    pub m: usize,
    /// (k + m) × k; the top k rows are the identity.
    matrix: Matrix,
}

impl ReedSolomon {
    pub fn new(k: usize, m: usize) -> Result<ReedSolomon, RsError> {
        if k == 0 || m == 0 || k + m > 256 {
            return Err(RsError::BadShape);
        }
        let vander: Matrix = (0..k + m).map(|i| (0..k).map(|j| pow(i as u8, j)).collect()).collect();
        let top_inv = invert(&vander[..k].to_vec()).ok_or(RsError::BadShape)?;
        Ok(ReedSolomon { k, m, matrix: mat_mul(&vander, &top_inv) })
    }

    /// The encoding matrix's row for shard `i`.
    pub fn row(&self, i: usize) -> &[u8] {
        &self.matrix[i]
    }

    /// Cuts `data` into k equal shards (zero-padded; the caller keeps the length) and
    /// appends m parity shards.
    pub fn encode(&self, data: &[u8]) -> Vec<Vec<u8>> {
        let size = data.len().div_ceil(self.k).max(1);
        let mut shards: Vec<Vec<u8>> = (0..self.k)
            .map(|i| {
                let mut s: Vec<u8> = data.iter().skip(i * size).take(size).copied().collect();
                s.resize(size, 0);
                s
            })
            .collect();
        for p in 0..self.m {
            shards.push(self.parity_row(self.k + p, &shards[..self.k]));
        }
        shards
    }

    fn parity_row(&self, row: usize, data: &[Vec<u8>]) -> Vec<u8> {
        let size = data[0].len();
        let mut out = vec![0u8; size];
        for (j, shard) in data.iter().enumerate() {
            let c = self.matrix[row][j];
            for (o, &b) in out.iter_mut().zip(shard) {
                *o ^= mul(c, b);
            }
        }
        out
    }

    /// Fills in every missing shard (`None`) from any k present ones.
    pub fn reconstruct(&self, shards: &mut [Option<Vec<u8>>]) -> Result<(), RsError> {
        if shards.len() != self.k + self.m {
            return Err(RsError::BadShape);
        }
        let present: Vec<usize> = (0..shards.len()).filter(|&i| shards[i].is_some()).take(self.k).collect();
        if present.len() < self.k {
            return Err(RsError::TooFewShards { have: present.len(), need: self.k });
        }
        let size = shards[present[0]].as_ref().map_or(0, Vec::len);
        if shards.iter().flatten().any(|s| s.len() != size) {
            return Err(RsError::ShardSize);
        }
        if (0..self.k).any(|i| shards[i].is_none()) {
            let sub: Matrix = present.iter().map(|&i| self.matrix[i].clone()).collect();
            let dec = invert(&sub).ok_or(RsError::BadShape)?;
            let inputs: Vec<Vec<u8>> = present.iter().map(|&i| shards[i].clone().unwrap_or_default()).collect();
            for d in 0..self.k {
                if shards[d].is_none() {
                    let mut out = vec![0u8; size];
                    for (j, input) in inputs.iter().enumerate() {
                        let c = dec[d][j];
                        for (o, &b) in out.iter_mut().zip(input) {
                            *o ^= mul(c, b);
                        }
                    }
                    shards[d] = Some(out);
                }
            }
        }
        let data: Vec<Vec<u8>> = shards[..self.k].iter().map(|s| s.clone().unwrap_or_default()).collect();
        for (p, shard) in shards.iter_mut().enumerate().skip(self.k) {
            if shard.is_none() {
                *shard = Some(self.parity_row(p, &data));
            }
        }
        Ok(())
    }

    /// The object back from its shards (the first `len` bytes of the data shards).
    pub fn join(&self, shards: &[Option<Vec<u8>>], len: usize) -> Vec<u8> {
        let mut out: Vec<u8> = shards[..self.k].iter().flat_map(|s| s.iter().flatten().copied()).collect();
        out.truncate(len);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Carry-less multiply, then reduce modulo the polynomial: the definition, no tables.
    fn slow_mul(a: u8, b: u8) -> u8 {
        let mut prod: u16 = 0;
        for i in 0..8 {
            if b & (1 << i) != 0 {
                prod ^= u16::from(a) << i;
            }
        }
        for bit in (8..16).rev() {
            if prod & (1 << bit) != 0 {
                prod ^= POLY << (bit - 8);
            }
        }
        prod as u8
    }

    #[test]
    fn field_matches_carry_less_multiply_for_every_pair() {
        for a in 0..=255u8 {
            for b in 0..=255u8 {
                assert_eq!(mul(a, b), slow_mul(a, b), "{a} * {b}");
                if b != 0 {
                    assert_eq!(mul(div(a, b), b), a, "({a} / {b}) * {b}");
                }
            }
        }
        // 2 generates the multiplicative group: 255 distinct powers.
        let powers: std::collections::BTreeSet<u8> = (0..255).map(|i| pow(2, i)).collect();
        assert_eq!(powers.len(), 255);
    }

    #[test]
    fn systematic_and_matches_a_published_parity() {
        let rs = ReedSolomon::new(4, 2).unwrap();
        for i in 0..4 {
            assert_eq!(rs.row(i), &[0, 1, 2, 3].map(|j| u8::from(i == j))[..]);
        }
        // Single-byte shards: parity is the matrix row times the data column, by hand.
        let data = [1u8, 2, 3, 4];
        let shards = rs.encode(&data);
        for (p, shard) in shards.iter().enumerate().skip(4) {
            let want = (0..4).fold(0u8, |acc, j| acc ^ slow_mul(rs.row(p)[j], data[j]));
            assert_eq!(shard, &vec![want]);
        }
    }

    fn subsets(n: usize, k: usize) -> Vec<Vec<usize>> {
        (0u32..1 << n)
            .filter(|b| b.count_ones() as usize == k)
            .map(|b| (0..n).filter(|i| b & (1 << i) != 0).collect())
            .collect()
    }

    #[test]
    fn rebuilds_from_every_subset_of_k_shards() {
        for k in 1..=4 {
            for m in 1..=3 {
                let rs = ReedSolomon::new(k, m).unwrap();
                let data: Vec<u8> = (0..(k * 7 + 3)).map(|i| (i * 37 + k * 11 + m) as u8).collect();
                let full = rs.encode(&data);
                for keep in subsets(k + m, k) {
                    let mut s: Vec<Option<Vec<u8>>> =
                        (0..k + m).map(|i| keep.contains(&i).then(|| full[i].clone())).collect();
                    rs.reconstruct(&mut s).unwrap();
                    assert_eq!(
                        s.iter().map(|x| x.clone().unwrap()).collect::<Vec<_>>(),
                        full,
                        "k={k} m={m} keep={keep:?}"
                    );
                    assert_eq!(rs.join(&s, data.len()), data);
                }
                // One fewer than k is refused, never guessed.
                let mut s: Vec<Option<Vec<u8>>> = (0..k + m).map(|i| (i < k - 1).then(|| full[i].clone())).collect();
                assert_eq!(rs.reconstruct(&mut s), Err(RsError::TooFewShards { have: k - 1, need: k }));
            }
        }
    }

    /// Generated cases need proptest, which is not built for wasm.
    #[cfg(not(target_arch = "wasm32"))]
    mod generated {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(200))]

            /// Any data, any shape up to RS(10, 4), any erasure of at most m shards.
            #[test]
            fn round_trip(data in proptest::collection::vec(any::<u8>(), 0..200), k in 1usize..=10, m in 1usize..=4, lose in proptest::collection::vec(0usize..14, 0..4)) {
                let rs = ReedSolomon::new(k, m).unwrap();
                let full = rs.encode(&data);
                let mut s: Vec<Option<Vec<u8>>> = full.iter().cloned().map(Some).collect();
                let mut lost = 0;
                for l in lose {
                    let i = l % (k + m);
                    if s[i].is_some() && lost < m {
                        s[i] = None;
                        lost += 1;
                    }
                }
                rs.reconstruct(&mut s).unwrap();
                prop_assert_eq!(rs.join(&s, data.len()), data);
                prop_assert_eq!(s.into_iter().map(Option::unwrap).collect::<Vec<_>>(), full);
            }
        }
    }
}

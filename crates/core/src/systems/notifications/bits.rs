//! A fixed-size bitset over a contiguous range of user ids. A million users cost 125 kB per
//! (campaign, channel), which is what lets the recorder and the providers' dedup tables
//! hold per-user facts at scale without one allocation per user.

#[derive(Clone, Debug, Default, Hash, PartialEq, Eq)]
pub struct Bits {
    words: Vec<u64>,
    len: u32,
}

impl Bits {
    pub fn new(len: u32) -> Bits {
        Bits { words: vec![0; (len as usize).div_ceil(64)], len }
    }

    pub fn len(&self) -> u32 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn get(&self, i: u32) -> bool {
        i < self.len && self.words[(i / 64) as usize] >> (i % 64) & 1 == 1
    }

    pub fn set(&mut self, i: u32) {
        if i < self.len {
            self.words[(i / 64) as usize] |= 1 << (i % 64);
        }
    }

    pub fn clear(&mut self, i: u32) {
        if i < self.len {
            self.words[(i / 64) as usize] &= !(1 << (i % 64));
        }
    }

    pub fn count(&self) -> u64 {
        self.words.iter().map(|w| u64::from(w.count_ones())).sum()
    }

    /// The indices of set bits, in order.
    pub fn ones(&self) -> impl Iterator<Item = u32> + '_ {
        self.words.iter().enumerate().flat_map(|(wi, &w)| {
            let mut w = w;
            std::iter::from_fn(move || {
                if w == 0 {
                    return None;
                }
                let b = w.trailing_zeros();
                w &= w - 1;
                Some(wi as u32 * 64 + b)
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Bits;

    #[test]
    fn bits_agree_with_a_vec_of_bools() {
        let mut b = Bits::new(200);
        let mut twin = [false; 200];
        for i in (0..200).filter(|i| i % 7 == 3 || i % 64 == 63) {
            b.set(i);
            twin[i as usize] = true;
        }
        b.clear(3);
        twin[3] = false;
        b.set(500); // out of range: ignored
        assert_eq!(b.count(), twin.iter().filter(|&&x| x).count() as u64);
        let ones: Vec<u32> = b.ones().collect();
        let want: Vec<u32> = (0..200).filter(|&i| twin[i as usize]).collect();
        assert_eq!(ones, want);
        assert!((0..200).all(|i| b.get(i) == twin[i as usize]));
    }
}

//! Finding every CR and LF in a chunk of an event stream, for [`super::parser`].
//!
//! Event streams have a line ending every few dozen bytes, so a search that starts over at each one
//! (`memchr2` called per line) spends most of its time starting and stopping. This scans 64 bytes at a
//! time into a bit mask of their CR and LF bytes (SSE2 compares on x86-64, plain compares elsewhere) and
//! hands the positions out from the mask: one pass over the bytes, a few instructions per line ending.
//! The same pass notes which bytes are not ASCII, so a line known to be ASCII needs no UTF-8 check.

/// The positions of the CR and LF bytes of a slice, in ascending order, each with whether every byte
/// since the previous one (or the slice's start) is ASCII.
pub(super) struct LineEnds<'a> {
    bytes: &'a [u8],
    /// Start of the 64-byte block `mask` describes.
    base: usize,
    /// Bit i set: `bytes[base + i]` is a CR or LF not yet handed out.
    mask: u64,
    /// Bit i set: `bytes[base + i]` is not ASCII and comes after the last position handed out.
    high: u64,
    /// A byte that is not ASCII came after the last position handed out, in an earlier block.
    high_before: bool,
}

impl<'a> LineEnds<'a> {
    pub(super) fn new(bytes: &'a [u8]) -> Self {
        let (mask, high) = block_at(bytes, 0);
        LineEnds {
            bytes,
            base: 0,
            mask,
            high,
            high_before: false,
        }
    }
}

impl Iterator for LineEnds<'_> {
    /// The position, and whether the bytes since the previous position are all ASCII.
    type Item = (usize, bool);

    #[inline]
    fn next(&mut self) -> Option<(usize, bool)> {
        while self.mask == 0 {
            self.high_before |= self.high != 0;
            self.base += BLOCK;
            if self.base >= self.bytes.len() {
                return None;
            }
            (self.mask, self.high) = block_at(self.bytes, self.base);
        }
        let bit = self.mask.trailing_zeros();
        let below = (1u64 << bit) - 1;
        let ascii = !self.high_before && self.high & below == 0;
        self.high &= !below;
        self.high_before = false;
        self.mask &= self.mask - 1;
        Some((self.base + bit as usize, ascii))
    }
}

const BLOCK: usize = 64;

/// The masks of the block of `bytes` starting at `at`; a short last block is padded with zeros.
#[inline]
fn block_at(bytes: &[u8], at: usize) -> (u64, u64) {
    match bytes.get(at..).and_then(|rest| rest.first_chunk::<BLOCK>()) {
        Some(block) => block_mask(block),
        None => {
            let rest = bytes.get(at..).unwrap_or_default();
            let mut block = [0u8; BLOCK];
            if let Some(head) = block.get_mut(..rest.len()) {
                head.copy_from_slice(rest);
            }
            block_mask(&block)
        }
    }
}

/// Two masks: bit i set when `block[i]` is a CR or an LF; bit i set when `block[i]` is not ASCII.
#[cfg(target_arch = "x86_64")]
#[inline]
fn block_mask(block: &[u8; BLOCK]) -> (u64, u64) {
    use std::arch::x86_64::{_mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128, _mm_set1_epi8};
    let mut mask = 0u64;
    let mut high = 0u64;
    for (i, lane) in block.chunks_exact(16).enumerate() {
        // SAFETY: SSE2 is part of every x86-64 CPU; `lane` is 16 readable bytes (chunks_exact), and an
        // unaligned load has no alignment requirement.
        let (ends, not_ascii) = unsafe {
            let v = _mm_loadu_si128(lane.as_ptr().cast());
            let hits = _mm_or_si128(
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\n' as i8)),
                _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\r' as i8)),
            );
            // movemask takes each byte's top bit: set exactly for the bytes that are not ASCII.
            (_mm_movemask_epi8(hits) as u16, _mm_movemask_epi8(v) as u16)
        };
        mask |= u64::from(ends) << (i * 16);
        high |= u64::from(not_ascii) << (i * 16);
    }
    (mask, high)
}

/// Two masks: bit i set when `block[i]` is a CR or an LF; bit i set when `block[i]` is not ASCII.
#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn block_mask(block: &[u8; BLOCK]) -> (u64, u64) {
    block.iter().enumerate().fold((0, 0), |(mask, high), (i, &byte)| {
        (
            mask | (u64::from(byte == b'\n' || byte == b'\r') << i),
            high | (u64::from(!byte.is_ascii()) << i),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::LineEnds;

    fn naive(bytes: &[u8]) -> Vec<(usize, bool)> {
        let mut from = 0;
        let mut found = Vec::new();
        for (i, &byte) in bytes.iter().enumerate() {
            if byte == b'\n' || byte == b'\r' {
                found.push((i, bytes[from..i].is_ascii()));
                from = i + 1;
            }
        }
        found
    }

    #[test]
    fn finds_every_cr_and_lf_at_every_length_and_offset() {
        let pattern =
            b"data: x\r\nid: 1\n\n:c\rdata: \xE2\x80\xA6\r\r\n\n\nlonger line without an end here \xFF and more\n";
        let stream: Vec<u8> = pattern.iter().copied().cycle().take(300).collect();
        for start in 0..70 {
            for end in start..stream.len() {
                let slice = &stream[start..end];
                assert_eq!(
                    LineEnds::new(slice).collect::<Vec<_>>(),
                    naive(slice),
                    "bytes {start}..{end}"
                );
            }
        }
    }

    #[test]
    fn empty_and_endless_slices() {
        assert_eq!(LineEnds::new(b"").count(), 0);
        assert_eq!(LineEnds::new(&[b'x'; 200]).count(), 0);
        assert_eq!(LineEnds::new(&[b'\n'; 200]).count(), 200);
        // A character that is not ASCII far from any line ending, in a block with none, is still noticed.
        let mut long = vec![b'a'; 150];
        long.extend_from_slice("\u{e9}".as_bytes());
        long.extend_from_slice(&[b'a'; 150]);
        long.extend_from_slice(b"\nascii\n");
        assert_eq!(
            LineEnds::new(&long).collect::<Vec<_>>(),
            vec![(302, false), (308, true)]
        );
    }
}

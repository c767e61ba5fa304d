//! Multi-member gzip decoding that checks every member's CRC32 and ISIZE and knows, on failure,
//! the compressed byte offset where it happened.

use std::io::{self, BufRead, Read};

use flate2::Crc;

use crate::deflate::{Backend, RawInflate};
use crate::fault::StreamFault;

enum State {
    Header,
    Body,
    Trailer,
    Done,
}

/// Decodes a gzip stream of one or more members (pigz, `cat a.gz b.gz`). The raw deflate
/// data of each member goes through the backend `D` (see [`crate::deflate`]).
pub(crate) struct GzipReader<R, D = Backend> {
    src: Pushback<R>,
    state: State,
    inflate: D,
    crc: Crc,
    /// Compressed bytes consumed so far.
    offset: u64,
    /// Decompressed bytes produced so far (all members).
    produced: u64,
    member: u32,
}

impl<R: BufRead> GzipReader<R> {
    pub(crate) fn new(src: R) -> Self {
        Self::with_backend(src)
    }
}

impl<R: BufRead, D: RawInflate> GzipReader<R, D> {
    pub(crate) fn with_backend(src: R) -> Self {
        GzipReader {
            src: Pushback::new(src),
            state: State::Header,
            inflate: D::new(),
            crc: Crc::new(),
            offset: 0,
            produced: 0,
            member: 0,
        }
    }

    fn truncated(&self) -> io::Error {
        StreamFault::Truncated {
            offset: self.offset,
            produced: self.produced,
        }
        .into()
    }

    fn corrupt(&self, detail: String) -> io::Error {
        StreamFault::Corrupt {
            offset: self.offset,
            detail: format!("gzip member {}: {detail}", self.member + 1),
        }
        .into()
    }

    fn byte(&mut self) -> io::Result<u8> {
        let buf = self.src.fill_buf()?;
        let Some(&b) = buf.first() else {
            return Err(self.truncated());
        };
        self.src.consume(1);
        self.offset += 1;
        Ok(b)
    }

    fn bytes<const N: usize>(&mut self) -> io::Result<[u8; N]> {
        let mut out = [0u8; N];
        for slot in out.iter_mut() {
            *slot = self.byte()?;
        }
        Ok(out)
    }

    /// Reads a member header. Returns false at a clean end of input between members.
    fn header(&mut self) -> io::Result<bool> {
        // Some tools pad the last member with zeros; anything else after a member is an error.
        loop {
            let buf = self.src.fill_buf()?;
            if buf.is_empty() {
                if self.member == 0 {
                    return Err(self.truncated());
                }
                return Ok(false);
            }
            if self.member > 0 && buf[0] == 0 {
                let zeros = buf.iter().take_while(|&&b| b == 0).count();
                self.src.consume(zeros);
                self.offset += zeros as u64;
                continue;
            }
            break;
        }
        let [id1, id2, method, flags] = self.bytes::<4>()?;
        if (id1, id2) != (0x1f, 0x8b) {
            return Err(self.corrupt(format!(
                "expected a gzip header, found bytes {id1:02x} {id2:02x}"
            )));
        }
        if method != 8 {
            return Err(self.corrupt(format!("unknown compression method {method}")));
        }
        self.bytes::<6>()?; // mtime, xfl, os
        if flags & 0x04 != 0 {
            let [lo, hi] = self.bytes::<2>()?;
            for _ in 0..u16::from_le_bytes([lo, hi]) {
                self.byte()?;
            }
        }
        for flag in [0x08, 0x10] {
            if flags & flag != 0 {
                while self.byte()? != 0 {}
            }
        }
        if flags & 0x02 != 0 {
            self.bytes::<2>()?;
        }
        Ok(true)
    }

    fn trailer(&mut self) -> io::Result<()> {
        let trailer_start = self.offset;
        let crc = u32::from_le_bytes(self.bytes::<4>()?);
        let isize = u32::from_le_bytes(self.bytes::<4>()?);
        // Report the trailer's own offset: that is where the damage (or the mismatch) sits.
        self.offset = trailer_start;
        if crc != self.crc.sum() {
            return Err(self.corrupt(format!(
                "CRC32 mismatch (stored {crc:08x}, computed {:08x})",
                self.crc.sum()
            )));
        }
        if isize != self.crc.amount() {
            return Err(self.corrupt(format!(
                "size mismatch (stored {isize}, decompressed {})",
                self.crc.amount()
            )));
        }
        self.offset = trailer_start + 8;
        Ok(())
    }
}

impl<R: BufRead, D: RawInflate> Read for GzipReader<R, D> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            match self.state {
                State::Done => return Ok(0),
                State::Header => {
                    if self.header()? {
                        self.state = State::Body;
                    } else {
                        self.state = State::Done;
                    }
                }
                State::Trailer => {
                    self.trailer()?;
                    self.member += 1;
                    self.inflate.reset();
                    self.crc.reset();
                    self.state = State::Header;
                }
                State::Body => {
                    let input = self.src.fill_buf()?;
                    let eof = input.is_empty();
                    let step = match self.inflate.inflate(input, out) {
                        Ok(step) => step,
                        Err(e) => return Err(self.corrupt(format!("invalid deflate data ({e})"))),
                    };
                    self.src.consume(step.consumed);
                    self.offset += step.consumed as u64;
                    self.produced += step.written as u64;
                    self.crc.update(&out[..step.written]);
                    if step.end {
                        // Bytes the backend read past the deflate end are the trailer's.
                        let unused = self.inflate.unused();
                        self.offset -= unused.len() as u64;
                        self.src.push_back(unused);
                        self.state = State::Trailer;
                    } else if eof && step.written == 0 {
                        return Err(self.truncated());
                    }
                    if step.written > 0 {
                        return Ok(step.written);
                    }
                }
            }
        }
    }
}

/// A `BufRead` with room to give back the few bytes a deflate backend read past a stream's end.
struct Pushback<R> {
    inner: R,
    back: [u8; 8],
    start: usize,
    end: usize,
}

impl<R: BufRead> Pushback<R> {
    fn new(inner: R) -> Self {
        Pushback {
            inner,
            back: [0; 8],
            start: 0,
            end: 0,
        }
    }

    /// Puts `bytes` (taken from this reader last) back in front of what is left.
    fn push_back(&mut self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        let pending = self.end - self.start;
        assert!(
            pending + bytes.len() <= self.back.len(),
            "push-back overflow"
        );
        let mut back = [0u8; 8];
        back[..bytes.len()].copy_from_slice(bytes);
        back[bytes.len()..bytes.len() + pending].copy_from_slice(&self.back[self.start..self.end]);
        self.back = back;
        self.start = 0;
        self.end = bytes.len() + pending;
    }
}

impl<R: BufRead> Read for Pushback<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = {
            let buf = self.fill_buf()?;
            let n = buf.len().min(out.len());
            out[..n].copy_from_slice(&buf[..n]);
            n
        };
        self.consume(n);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Pushback<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.start < self.end {
            return Ok(&self.back[self.start..self.end]);
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        if self.start < self.end {
            debug_assert!(n <= self.end - self.start);
            self.start = (self.start + n).min(self.end);
        } else {
            self.inner.consume(n);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn decode(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        GzipReader::new(io::BufReader::new(bytes)).read_to_end(&mut out)?;
        Ok(out)
    }

    /// Decodes with backend `D`, the input handed over `cap` bytes at a time and read into
    /// buffers of `out` bytes.
    fn decode_with<D: RawInflate>(bytes: &[u8], cap: usize, out: usize) -> io::Result<Vec<u8>> {
        let mut reader = GzipReader::<_, D>::with_backend(io::BufReader::with_capacity(cap, bytes));
        let mut all = Vec::new();
        let mut buf = vec![0u8; out];
        loop {
            match reader.read(&mut buf)? {
                0 => return Ok(all),
                n => all.extend_from_slice(&buf[..n]),
            }
        }
    }

    fn gz_level(data: &[u8], level: u32) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::new(level));
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// Text that compresses like SQL, with some incompressible bytes mixed in.
    fn sample(len: usize, seed: u32) -> Vec<u8> {
        let mut x = seed.wrapping_mul(2_654_435_761).max(1);
        let mut out = Vec::with_capacity(len);
        while out.len() < len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            match x % 7 {
                0 => out.extend_from_slice(&x.to_le_bytes()),
                _ => out
                    .extend_from_slice(format!("{}\tname {}\t\\N\n", x % 1000, x % 97).as_bytes()),
            }
        }
        out.truncate(len);
        out
    }

    /// Members of every kind back to back: empty, stored, fast, best, big; then zero padding.
    fn members() -> (Vec<u8>, Vec<u8>) {
        let parts: Vec<(Vec<u8>, u32)> = vec![
            (Vec::new(), 6),
            (sample(1000, 1), 0),
            (sample(5000, 2), 1),
            (b"x".to_vec(), 9),
            (sample(300_000, 3), 6),
            (sample(77, 4), 9),
        ];
        let mut gz = Vec::new();
        let mut plain = Vec::new();
        for (data, level) in parts {
            gz.extend(gz_level(&data, level));
            plain.extend(data);
        }
        gz.extend([0u8; 5]);
        (gz, plain)
    }

    fn backend_members_any_split<D: RawInflate>() {
        let (gz, plain) = members();
        for cap in [1, 2, 3, 5, 7, 8, 9, 13, 64, 1000, 4096, 1 << 18] {
            for out in [1, 7, 4096, 1 << 20] {
                if cap * out < 64 && cap > 1 {
                    continue; // the byte-by-byte runs are slow; one of them is enough
                }
                let got = decode_with::<D>(&gz, cap, out)
                    .unwrap_or_else(|e| panic!("{} cap {cap} out {out}: {e}", D::NAME));
                assert!(
                    got == plain,
                    "{} cap {cap} out {out}: wrong output",
                    D::NAME
                );
            }
        }
    }

    fn backend_truncations<D: RawInflate>() {
        let mut whole = gz_level(&sample(20_000, 5), 6);
        whole.extend(gz_level(&sample(3000, 6), 1));
        for cut in (0..whole.len()).step_by(5).chain([whole.len() - 1]) {
            for cap in [3, 1 << 16] {
                let err =
                    decode_with::<D>(&whole[..cut], cap, 4096).expect_err("a cut stream must fail");
                let fault = StreamFault::from_io(&err).expect("a stream fault");
                match fault {
                    StreamFault::Truncated { offset, .. } => {
                        assert!(
                            *offset <= cut as u64,
                            "{} cut {cut}: offset {offset}",
                            D::NAME
                        )
                    }
                    other => panic!("{} cut {cut}: {other:?}", D::NAME),
                }
            }
        }
    }

    fn backend_damage<D: RawInflate>() {
        let plain = sample(40_000, 7);
        let whole = gz_level(&plain, 6);
        for at in (10..whole.len() - 8).step_by(3) {
            let mut bad = whole.clone();
            bad[at] ^= 0x5a;
            match decode_with::<D>(&bad, 1 << 12, 1 << 16) {
                Ok(out) => assert!(
                    out == plain,
                    "{} flip at {at}: wrong data accepted",
                    D::NAME
                ),
                Err(e) => {
                    let fault = StreamFault::from_io(&e).expect("a stream fault");
                    let offset = match fault {
                        StreamFault::Truncated { offset, .. } => *offset,
                        StreamFault::Corrupt { offset, .. } => *offset,
                    };
                    assert!(offset <= whole.len() as u64, "{} flip at {at}", D::NAME);
                }
            }
        }
    }

    /// The trailer's offset in a corrupt-CRC error is exact with every backend.
    fn backend_crc_offset<D: RawInflate>() {
        let mut two = gz_level(&sample(10_000, 8), 6);
        let first = two.len();
        two.extend(gz_level(&sample(10_000, 9), 6));
        two[first - 5] ^= 1; // the first member's CRC32
        for cap in [1, 5, 8, 64, 1 << 16] {
            let err = decode_with::<D>(&two, cap, 1 << 12).unwrap_err();
            match StreamFault::from_io(&err).unwrap() {
                StreamFault::Corrupt { offset, detail } => {
                    assert!(detail.contains("CRC32"), "{detail}");
                    assert_eq!(*offset, first as u64 - 8, "{} cap {cap}", D::NAME);
                }
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn zlib_rs_members_any_split() {
        backend_members_any_split::<crate::deflate::ZlibRs>();
    }

    #[test]
    fn zlib_rs_truncations_and_damage() {
        backend_truncations::<crate::deflate::ZlibRs>();
        backend_damage::<crate::deflate::ZlibRs>();
        backend_crc_offset::<crate::deflate::ZlibRs>();
    }

    #[cfg(feature = "isal")]
    #[test]
    fn isal_members_any_split() {
        backend_members_any_split::<crate::deflate::Isal>();
    }

    #[cfg(feature = "isal")]
    #[test]
    fn isal_truncations_and_damage() {
        backend_truncations::<crate::deflate::Isal>();
        backend_damage::<crate::deflate::Isal>();
        backend_crc_offset::<crate::deflate::Isal>();
    }

    #[test]
    fn multi_member_and_padding() {
        let mut two = gz(b"hello ");
        two.extend(gz(b"world"));
        two.extend([0u8; 7]);
        assert_eq!(decode(&two).unwrap(), b"hello world");
    }

    #[test]
    fn every_truncation_is_an_error() {
        let data: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let whole = gz(&data);
        for cut in (0..whole.len()).step_by(7).chain([whole.len() - 1]) {
            let err = decode(&whole[..cut]).expect_err("a cut stream must fail");
            let fault = StreamFault::from_io(&err).expect("a stream fault");
            assert!(
                matches!(fault, StreamFault::Truncated { .. }),
                "cut {cut}: {fault:?}"
            );
        }
    }

    #[test]
    fn flipped_crc_is_corrupt_with_offset() {
        let mut whole = gz(b"some sql\n");
        let at = whole.len() - 6;
        whole[at] ^= 1;
        let err = decode(&whole).unwrap_err();
        match StreamFault::from_io(&err).unwrap() {
            StreamFault::Corrupt { offset, detail } => {
                assert!(detail.contains("CRC32"), "{detail}");
                assert_eq!(*offset, whole.len() as u64 - 8);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn trailing_garbage_is_corrupt() {
        let mut whole = gz(b"x");
        whole.extend(b"garbage");
        assert!(decode(&whole).is_err());
    }
}

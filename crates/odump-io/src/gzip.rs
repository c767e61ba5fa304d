//! Multi-member gzip decoding that checks every member's CRC32 and ISIZE and knows, on failure,
//! the compressed byte offset where it happened.

use std::io::{self, BufRead, Read};

use flate2::{Crc, Decompress, FlushDecompress, Status};

use crate::fault::StreamFault;

enum State {
    Header,
    Body,
    Trailer,
    Done,
}

/// Decodes a gzip stream of one or more members (pigz, `cat a.gz b.gz`).
pub(crate) struct GzipReader<R> {
    src: R,
    state: State,
    inflate: Decompress,
    crc: Crc,
    /// Compressed bytes consumed so far.
    offset: u64,
    /// Decompressed bytes produced so far (all members).
    produced: u64,
    member: u32,
}

impl<R: BufRead> GzipReader<R> {
    pub(crate) fn new(src: R) -> Self {
        GzipReader {
            src,
            state: State::Header,
            inflate: Decompress::new(false),
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

impl<R: BufRead> Read for GzipReader<R> {
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
                    self.inflate.reset(false);
                    self.crc.reset();
                    self.state = State::Header;
                }
                State::Body => {
                    let input = self.src.fill_buf()?;
                    let eof = input.is_empty();
                    let (in_before, out_before) =
                        (self.inflate.total_in(), self.inflate.total_out());
                    let status = self
                        .inflate
                        .decompress(input, out, FlushDecompress::None)
                        .map_err(|e| self.corrupt(format!("invalid deflate data ({e})")))?;
                    let consumed = (self.inflate.total_in() - in_before) as usize;
                    let written = (self.inflate.total_out() - out_before) as usize;
                    self.src.consume(consumed);
                    self.offset += consumed as u64;
                    self.produced += written as u64;
                    self.crc.update(&out[..written]);
                    if status == Status::StreamEnd {
                        self.state = State::Trailer;
                    } else if eof && written == 0 {
                        return Err(self.truncated());
                    }
                    if written > 0 {
                        return Ok(written);
                    }
                }
            }
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

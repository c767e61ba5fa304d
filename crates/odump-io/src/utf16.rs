//! UTF-16 text (a dump saved through a Windows shell redirect) transcoded to UTF-8 on the fly.

use std::io::{self, Read};

/// Reads UTF-16 (after its byte order mark) and yields UTF-8. Unpaired surrogates become U+FFFD.
pub(crate) struct Utf16Reader<R> {
    inner: R,
    big_endian: bool,
    /// A byte of a code unit split across reads.
    odd_byte: Option<u8>,
    /// A high surrogate waiting for its pair.
    high: Option<u16>,
    out: Vec<u8>,
    pos: usize,
    raw: Vec<u8>,
}

impl<R: Read> Utf16Reader<R> {
    pub(crate) fn new(inner: R, big_endian: bool) -> Self {
        Utf16Reader {
            inner,
            big_endian,
            odd_byte: None,
            high: None,
            out: Vec::new(),
            pos: 0,
            raw: vec![0; 1 << 16],
        }
    }

    fn push_char(&mut self, c: char) {
        let mut buf = [0u8; 4];
        self.out
            .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }

    fn unit(&mut self, unit: u16) {
        if let Some(high) = self.high.take() {
            if (0xDC00..0xE000).contains(&unit) {
                let c = 0x10000 + ((u32::from(high) - 0xD800) << 10) + (u32::from(unit) - 0xDC00);
                self.push_char(char::from_u32(c).unwrap_or('\u{FFFD}'));
                return;
            }
            self.push_char('\u{FFFD}');
        }
        if (0xD800..0xDC00).contains(&unit) {
            self.high = Some(unit);
        } else {
            self.push_char(char::from_u32(u32::from(unit)).unwrap_or('\u{FFFD}'));
        }
    }
}

impl<R: Read> Read for Utf16Reader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.out.len() {
            self.out.clear();
            self.pos = 0;
            let n = self.inner.read(&mut self.raw)?;
            if n == 0 {
                if self.odd_byte.take().is_some() || self.high.take().is_some() {
                    self.push_char('\u{FFFD}');
                    continue;
                }
                return Ok(0);
            }
            let mut bytes: Vec<u8> = self.odd_byte.take().into_iter().collect();
            bytes.extend_from_slice(&self.raw[..n]);
            let mut pairs = bytes.chunks_exact(2);
            for pair in pairs.by_ref() {
                let unit = if self.big_endian {
                    u16::from_be_bytes([pair[0], pair[1]])
                } else {
                    u16::from_le_bytes([pair[0], pair[1]])
                };
                self.unit(unit);
            }
            self.odd_byte = pairs.remainder().first().copied();
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transcodes_le_and_be_with_surrogates() {
        let text = "-- é 😀\r\n";
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        for (bytes, big) in [(le, false), (be, true)] {
            let mut out = String::new();
            Utf16Reader::new(&bytes[..], big)
                .read_to_string(&mut out)
                .unwrap();
            assert_eq!(out, text);
        }
    }
}

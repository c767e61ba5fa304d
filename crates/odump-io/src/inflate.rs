//! Raw deflate decoding that tells a cut stream from a finished one.

use std::io::{self, BufRead, Read};

use flate2::{Crc, Decompress, FlushDecompress, Status};

use crate::fault::StreamFault;

/// Inflates one raw deflate stream (a zip entry), checking the CRC32 and size the entry declares.
/// A stream that ends before deflate's end block is [`StreamFault::Truncated`]; one that inflates
/// past its declared size is refused, which stops zip bombs that lie about their size.
pub(crate) struct EntryInflater<R> {
    src: R,
    inflate: Decompress,
    crc: Crc,
    /// Compressed offset of the first data byte in the whole file.
    base_offset: u64,
    expected_crc: Option<u32>,
    expected_size: Option<u64>,
    finished: bool,
}

impl<R: BufRead> EntryInflater<R> {
    pub(crate) fn new(
        src: R,
        base_offset: u64,
        expected_crc: Option<u32>,
        expected_size: Option<u64>,
    ) -> Self {
        EntryInflater {
            src,
            inflate: Decompress::new(false),
            crc: Crc::new(),
            base_offset,
            expected_crc,
            expected_size,
            finished: false,
        }
    }

    fn offset(&self) -> u64 {
        self.base_offset + self.inflate.total_in()
    }

    fn corrupt(&self, detail: String) -> io::Error {
        StreamFault::Corrupt {
            offset: self.offset(),
            detail,
        }
        .into()
    }

    fn check_end(&self) -> io::Result<()> {
        if let Some(crc) = self.expected_crc {
            if crc != self.crc.sum() {
                return Err(self.corrupt(format!(
                    "CRC32 mismatch (stored {crc:08x}, computed {:08x})",
                    self.crc.sum()
                )));
            }
        }
        if let Some(size) = self.expected_size {
            if size != self.inflate.total_out() {
                return Err(self.corrupt(format!(
                    "size mismatch (declared {size}, inflated {})",
                    self.inflate.total_out()
                )));
            }
        }
        Ok(())
    }
}

impl<R: BufRead> Read for EntryInflater<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.finished || out.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.src.fill_buf()?;
            let eof = input.is_empty();
            let (in_before, out_before) = (self.inflate.total_in(), self.inflate.total_out());
            let status = self
                .inflate
                .decompress(input, out, FlushDecompress::None)
                .map_err(|e| self.corrupt(format!("invalid deflate data ({e})")))?;
            let consumed = (self.inflate.total_in() - in_before) as usize;
            let written = (self.inflate.total_out() - out_before) as usize;
            self.src.consume(consumed);
            self.crc.update(&out[..written]);
            if let Some(size) = self.expected_size {
                if self.inflate.total_out() > size {
                    return Err(self.corrupt(format!(
                        "inflates past its declared size of {size} bytes (a zip bomb or a damaged file)"
                    )));
                }
            }
            if status == Status::StreamEnd {
                self.finished = true;
                self.check_end()?;
                return Ok(written);
            }
            if written > 0 {
                return Ok(written);
            }
            if eof {
                return Err(StreamFault::Truncated {
                    offset: self.offset(),
                    produced: self.inflate.total_out(),
                }
                .into());
            }
        }
    }
}

/// Passes a stored (uncompressed) entry through, checking its CRC32 at the end.
pub(crate) struct StoredEntry<R> {
    src: io::Take<R>,
    crc: Crc,
    base_offset: u64,
    expected_crc: u32,
    size: u64,
    read: u64,
}

impl<R: Read> StoredEntry<R> {
    pub(crate) fn new(src: R, base_offset: u64, size: u64, expected_crc: u32) -> Self {
        StoredEntry {
            src: src.take(size),
            crc: Crc::new(),
            base_offset,
            expected_crc,
            size,
            read: 0,
        }
    }
}

impl<R: Read> Read for StoredEntry<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let n = self.src.read(out)?;
        self.crc.update(&out[..n]);
        self.read += n as u64;
        let done = self.read;
        if n == 0 && !out.is_empty() {
            if self.src.limit() > 0 {
                return Err(StreamFault::Truncated {
                    offset: self.base_offset + done,
                    produced: done,
                }
                .into());
            }
            if self.crc.sum() != self.expected_crc {
                return Err(StreamFault::Corrupt {
                    offset: self.base_offset + self.size,
                    detail: format!(
                        "CRC32 mismatch (stored {:08x}, computed {:08x})",
                        self.expected_crc,
                        self.crc.sum()
                    ),
                }
                .into());
            }
        }
        Ok(n)
    }
}

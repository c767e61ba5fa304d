//! The raw-deflate step of gzip decoding, behind a small trait with one implementation per
//! backend: zlib-rs through `flate2` (the default: builds with plain `cargo build`) and ISA-L's
//! igzip through `isal-rs` (feature `isal`: about twice as fast, needs nasm and autotools to
//! build). Everything around the deflate data (gzip headers, CRC32/ISIZE trailers, members,
//! byte offsets of faults) stays in [`crate::gzip`], the same for both.

/// The backend `odump-io` decodes gzip with.
#[cfg(not(feature = "isal"))]
pub(crate) type Backend = ZlibRs;
/// The backend `odump-io` decodes gzip with.
#[cfg(feature = "isal")]
pub(crate) type Backend = Isal;

/// The name of the gzip backend compiled in (`zlib-rs` or `isa-l`), for `--version` output and
/// benchmarks.
pub const BACKEND: &str = Backend::NAME;

/// What one call of [`RawInflate::inflate`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Step {
    /// Bytes of the input taken (they may include a few bytes past the end of the stream,
    /// which [`RawInflate::unused`] then gives back).
    pub consumed: usize,
    /// Bytes written at the start of the output.
    pub written: usize,
    /// The stream's final block has been decoded.
    pub end: bool,
}

/// One raw deflate stream (RFC 1951) after another.
pub(crate) trait RawInflate: Send {
    /// The backend's name.
    const NAME: &'static str;
    /// A decoder ready for a stream.
    fn new() -> Self;
    /// Forgets the current stream and gets ready for the next one.
    fn reset(&mut self);
    /// Decodes from `input` into `out`. An error is a description of invalid deflate data.
    fn inflate(&mut self, input: &[u8], out: &mut [u8]) -> Result<Step, String>;
    /// After a step that ended the stream: the bytes, among those consumed, that lie after the
    /// stream's end (a decoder may read ahead a few bytes); they belong to what follows.
    fn unused(&self) -> &[u8] {
        &[]
    }
}

/// zlib-rs through `flate2::Decompress`.
#[cfg_attr(feature = "isal", allow(dead_code))]
pub(crate) struct ZlibRs(flate2::Decompress);

impl RawInflate for ZlibRs {
    const NAME: &'static str = "zlib-rs";

    fn new() -> Self {
        ZlibRs(flate2::Decompress::new(false))
    }

    fn reset(&mut self) {
        self.0.reset(false);
    }

    fn inflate(&mut self, input: &[u8], out: &mut [u8]) -> Result<Step, String> {
        let (in_before, out_before) = (self.0.total_in(), self.0.total_out());
        let status = self
            .0
            .decompress(input, out, flate2::FlushDecompress::None)
            .map_err(|e| e.to_string())?;
        Ok(Step {
            consumed: (self.0.total_in() - in_before) as usize,
            written: (self.0.total_out() - out_before) as usize,
            end: status == flate2::Status::StreamEnd,
        })
    }
}

#[cfg(feature = "isal")]
pub(crate) use isal_backend::Isal;

#[cfg(feature = "isal")]
mod isal_backend {
    use super::{RawInflate, Step};
    use isal::isal_sys::igzip_lib as ffi;

    /// ISA-L's stateful inflate in raw deflate mode (`ISAL_DEFLATE`: no header, no checksum;
    /// the gzip layer checks CRC32 and ISIZE itself).
    pub(crate) struct Isal {
        /// ~100 KiB of state (history and look-ahead buffers): boxed, so moves are cheap and
        /// the address ISA-L sees never changes.
        state: Box<ffi::inflate_state>,
        /// Whole bytes left in ISA-L's bit buffer when the stream ended.
        unused: [u8; 8],
        unused_len: usize,
    }

    // SAFETY: `inflate_state` holds raw pointers only to the buffers of the current `inflate`
    // call (reset to null before it returns) and into its own boxed allocation; nothing is
    // shared with another thread.
    unsafe impl Send for Isal {}

    impl RawInflate for Isal {
        const NAME: &'static str = "isa-l";

        fn new() -> Self {
            // SAFETY: an all-zero `inflate_state` is valid plain data (integers, arrays and
            // null pointers), and `isal_inflate_init` sets it up for a new stream.
            let mut state: Box<ffi::inflate_state> =
                unsafe { Box::<ffi::inflate_state>::new_zeroed().assume_init() };
            unsafe { ffi::isal_inflate_init(&mut *state) };
            state.crc_flag = ffi::ISAL_DEFLATE;
            Isal {
                state,
                unused: [0; 8],
                unused_len: 0,
            }
        }

        fn reset(&mut self) {
            // SAFETY: the state was set up by `isal_inflate_init`.
            unsafe { ffi::isal_inflate_reset(&mut *self.state) };
            self.state.crc_flag = ffi::ISAL_DEFLATE;
            self.unused_len = 0;
        }

        fn inflate(&mut self, input: &[u8], out: &mut [u8]) -> Result<Step, String> {
            if self.state.block_state == ffi::isal_block_state_ISAL_BLOCK_FINISH {
                return Ok(Step {
                    consumed: 0,
                    written: 0,
                    end: true,
                });
            }
            // ISA-L counts in u32; the callers' buffers are a few MiB at most.
            let input = &input[..input.len().min(u32::MAX as usize)];
            let out_len = out.len().min(u32::MAX as usize);
            let s = &mut *self.state;
            s.next_in = input.as_ptr() as *mut u8; // ISA-L never writes through next_in
            s.avail_in = input.len() as u32;
            s.next_out = out.as_mut_ptr();
            s.avail_out = out_len as u32;
            // SAFETY: next_in/avail_in and next_out/avail_out describe live buffers that ISA-L
            // reads and writes only within those bounds during this call.
            let ret = unsafe { ffi::isal_inflate(s) };
            let (avail_in, avail_out) = (s.avail_in as usize, s.avail_out as usize);
            s.next_in = std::ptr::null_mut();
            s.avail_in = 0;
            s.next_out = std::ptr::null_mut();
            s.avail_out = 0;
            if ret < 0 {
                return Err(match ret {
                    ffi::ISAL_INVALID_BLOCK => "invalid block".to_string(),
                    ffi::ISAL_INVALID_SYMBOL => "invalid symbol".to_string(),
                    ffi::ISAL_INVALID_LOOKBACK => "invalid distance too far back".to_string(),
                    other => format!("ISA-L error {other}"),
                });
            }
            let (Some(consumed), Some(written)) = (
                input.len().checked_sub(avail_in),
                out_len.checked_sub(avail_out),
            ) else {
                return Err("inconsistent decoder state (invalid stream)".to_string());
            };
            let end = s.block_state == ffi::isal_block_state_ISAL_BLOCK_FINISH;
            if end {
                // The bit buffer may hold whole bytes read past the final block (the gzip
                // trailer, the next member): hand them back. The partial byte the final block
                // ended in is padding, and consumed.
                let whole = (s.read_in_length.max(0) / 8) as usize;
                let bits = s.read_in >> (s.read_in_length.max(0) % 8);
                self.unused = bits.to_le_bytes();
                self.unused_len = whole.min(8);
                s.read_in = 0;
                s.read_in_length = 0;
            } else if consumed == 0 && written == 0 && !input.is_empty() && out_len > 0 {
                // ISA-L takes all the input it is given into its own buffers, so a call that
                // neither reads nor writes means data it cannot decode (it would spin).
                return Err("no progress (invalid stream)".to_string());
            }
            Ok(Step {
                consumed,
                written,
                end,
            })
        }

        fn unused(&self) -> &[u8] {
            &self.unused[..self.unused_len]
        }
    }
}

//! The SQL byte stream: a memory map for plain local files, otherwise a reader thread that
//! decompresses into large buffers and hands them over a bounded channel, so that decompression
//! and parsing run on both cores and memory stays at a few buffers whatever the dump size.

use std::io::{self, Read};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, Sender, SyncSender};

use memmap2::Mmap;

use crate::fault::StreamFault;
use crate::{Error, Progress};

/// Size of one buffer handed from the reader thread to the parser.
const CHUNK: usize = 1 << 20;
/// Buffers in flight between the threads.
const IN_FLIGHT: usize = 3;
/// Slice of a memory map handed out at once (progress is updated per slice).
const MAP_SLICE: usize = 16 << 20;

enum Source {
    Mapped {
        map: Mmap,
        pos: usize,
    },
    /// Decoded on the calling thread, one chunk per call.
    Inline {
        reader: Box<dyn Read + Send>,
        buf: Vec<u8>,
        /// A read error that came after some bytes: returned by the next call.
        pending: Option<Error>,
        name: String,
        container: String,
    },
    Threaded {
        rx: Receiver<Result<Vec<u8>, Error>>,
        recycle: Sender<Vec<u8>>,
        current: Vec<u8>,
    },
}

/// The decompressed SQL text of a dump, in chunks. Chunk boundaries fall anywhere, even inside a
/// line or a UTF-8 sequence.
pub struct SqlStream {
    source: Source,
    progress: Progress,
}

impl SqlStream {
    pub(crate) fn mapped(map: Mmap, skip: usize, progress: Progress) -> Self {
        #[cfg(unix)]
        let _ = map.advise(memmap2::Advice::Sequential);
        SqlStream {
            source: Source::Mapped { map, pos: skip },
            progress,
        }
    }

    /// Starts a reader thread running `produce`, which writes the SQL into the given pump.
    pub(crate) fn threaded(
        name: String,
        container: String,
        progress: Progress,
        produce: impl FnOnce(&mut Pump) -> Result<(), Error> + Send + 'static,
    ) -> Self {
        let (tx, rx) = mpsc::sync_channel(IN_FLIGHT);
        let (recycle, recycled) = mpsc::channel();
        std::thread::Builder::new()
            .name("odump-reader".into())
            .spawn(move || {
                let mut pump = Pump {
                    tx,
                    recycled,
                    name,
                    container,
                };
                if let Err(e) = produce(&mut pump) {
                    let _ = pump.tx.send(Err(e));
                }
            })
            .expect("spawning the reader thread");
        SqlStream {
            source: Source::Threaded {
                rx,
                recycle,
                current: Vec::new(),
            },
            progress,
        }
    }

    /// Reads `reader` on the thread that calls [`SqlStream::next_chunk`].
    pub(crate) fn inline(
        name: String,
        container: String,
        progress: Progress,
        reader: Box<dyn Read + Send>,
    ) -> Self {
        SqlStream {
            source: Source::Inline {
                reader,
                buf: vec![0; CHUNK],
                pending: None,
                name,
                container,
            },
            progress,
        }
    }

    /// The next chunk of SQL, `None` at the end. A decoding failure (truncated or corrupt input)
    /// comes as an error after the last good chunk.
    pub fn next_chunk(&mut self) -> Result<Option<&[u8]>, Error> {
        match &mut self.source {
            Source::Mapped { map, pos } => {
                if *pos >= map.len() {
                    return Ok(None);
                }
                let end = (*pos + MAP_SLICE).min(map.len());
                let start = std::mem::replace(pos, end);
                self.progress.read.store(end as u64, Ordering::Relaxed);
                Ok(Some(&map[start..end]))
            }
            Source::Inline {
                reader,
                buf,
                pending,
                name,
                container,
            } => {
                if let Some(e) = pending.take() {
                    return Err(e);
                }
                let (filled, error) = fill(reader, buf);
                match error {
                    Some(e) if filled == 0 => Err(stream_error(name, container, e)),
                    Some(e) => {
                        *pending = Some(stream_error(name, container, e));
                        Ok(Some(&buf[..filled]))
                    }
                    None if filled == 0 => Ok(None),
                    None => Ok(Some(&buf[..filled])),
                }
            }
            Source::Threaded {
                rx,
                recycle,
                current,
            } => {
                if current.capacity() > 0 {
                    let _ = recycle.send(std::mem::take(current));
                }
                match rx.recv() {
                    Ok(Ok(chunk)) => {
                        *current = chunk;
                        Ok(Some(current.as_slice()))
                    }
                    Ok(Err(e)) => Err(e),
                    Err(_) => Ok(None),
                }
            }
        }
    }
}

/// The reader thread's side of the channel.
pub(crate) struct Pump {
    tx: SyncSender<Result<Vec<u8>, Error>>,
    recycled: Receiver<Vec<u8>>,
    name: String,
    container: String,
}

impl Pump {
    /// Copies everything `reader` yields into the channel. Returns `Ok(false)` when the parser
    /// has gone (it stopped early), so the thread can end.
    pub(crate) fn drain(&mut self, reader: &mut dyn Read) -> Result<bool, Error> {
        loop {
            let mut buf = self
                .recycled
                .try_recv()
                .unwrap_or_else(|_| Vec::with_capacity(CHUNK));
            buf.resize(CHUNK, 0);
            let (filled, error) = fill(reader, &mut buf);
            buf.truncate(filled);
            if filled > 0 && self.tx.send(Ok(buf)).is_err() {
                return Ok(false);
            }
            match error {
                Some(e) => return Err(self.error(e)),
                None if filled < CHUNK => return Ok(true),
                None => {}
            }
        }
    }

    /// Turns an I/O error of the stream into the crate's error, naming the input.
    pub(crate) fn error(&self, e: io::Error) -> Error {
        stream_error(&self.name, &self.container, e)
    }
}

/// Reads until `buf` is full or the reader ends (a short count then means the end). An error
/// comes back beside the bytes read before it, so they are not lost.
fn fill(reader: &mut dyn Read, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (filled, Some(e)),
        }
    }
    (filled, None)
}

/// Maps an `io::Error` out of a decoding reader to [`Error`].
pub(crate) fn stream_error(name: &str, container: &str, e: io::Error) -> Error {
    match StreamFault::from_io(&e) {
        Some(StreamFault::Truncated { offset, produced }) => Error::Truncated {
            path: name.to_string(),
            container: container.to_string(),
            offset: *offset,
            decompressed: *produced,
        },
        Some(StreamFault::Corrupt { offset, detail }) => Error::Corrupt {
            path: name.to_string(),
            container: container.to_string(),
            offset: *offset,
            detail: detail.clone(),
        },
        None => Error::io(name, e),
    }
}

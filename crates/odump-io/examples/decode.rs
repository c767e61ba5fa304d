//! The reference for benchmarks: decode a gzip file and throw the bytes away.
//!
//! ```text
//! cargo run --release -p odump-io --example decode -- FILE.sql.gz            # bare decoder, one thread
//! cargo run --release -p odump-io --example decode -- --stream FILE.sql.gz   # odump_io::open's pipeline
//! cargo run --release -p odump-io --features isal --example decode -- FILE   # the same with ISA-L
//! ```
//!
//! The default mode runs the same gzip decoder as `odoo-dump` (same backend, same CRC32/ISIZE
//! checks, 1 MiB output buffers) on the calling thread and nothing else: it is the floor
//! `odoo-dump inspect` is measured against (`benches/compare.sh`). `--stream` reads through
//! `odump_io::open` instead (reader thread, bounded channel, an idle consumer), which shows what
//! the pipeline itself costs. Prints `BYTES bytes BACKEND` on stderr.

use std::io::Read;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (stream, path) = match args.as_slice() {
        [flag, path] if flag == "--stream" => (true, path),
        [path] if !path.starts_with("--") => (false, path),
        _ => {
            eprintln!("usage: decode [--stream] FILE.gz");
            return ExitCode::from(2);
        }
    };
    let result = if stream { pipeline(path) } else { bare(path) };
    match result {
        Ok(bytes) => {
            eprintln!("{bytes} bytes {}", odump_io::GZIP_BACKEND);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("decode: {e}");
            ExitCode::from(2)
        }
    }
}

fn bare(path: &str) -> Result<u64, Box<dyn std::error::Error>> {
    let file = std::fs::File::open(path)?;
    let mut gz = odump_io::gzip_decoder(file);
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        // Fill the buffer as the reader thread does, so calls into the decoder are alike.
        let mut filled = 0;
        while filled < buf.len() {
            match gz.read(&mut buf[filled..])? {
                0 => break,
                n => filled += n,
            }
        }
        if filled == 0 {
            return Ok(total);
        }
        total += filled as u64;
        std::hint::black_box(&buf[..filled]);
    }
}

fn pipeline(path: &str) -> Result<u64, Box<dyn std::error::Error>> {
    let input = odump_io::open(path)?;
    let odump_io::Body::Sql(mut sql) = input.body else {
        return Err("not an SQL stream (an archive?)".into());
    };
    let mut total = 0u64;
    while let Some(chunk) = sql.next_chunk()? {
        total += chunk.len() as u64;
        std::hint::black_box(chunk);
    }
    Ok(total)
}

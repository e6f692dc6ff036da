//! A `Read` wrapper that counts the offset (for error messages) and can put back the
//! magic number that format detection already consumed.

use std::io::{self, Read};

#[derive(Debug)]
pub(crate) struct Source<R> {
    inner: R,
    offset: u64,
    prefix: [u8; 4],
    prefix_pos: usize,
    prefix_len: usize,
}

impl<R: Read> Source<R> {
    pub(crate) fn new(inner: R) -> Self {
        Source {
            inner,
            offset: 0,
            prefix: [0; 4],
            prefix_pos: 0,
            prefix_len: 0,
        }
    }

    /// A source whose first bytes are `prefix` (at offset 0), then `inner`.
    pub(crate) fn with_prefix(inner: R, prefix: [u8; 4]) -> Self {
        Source {
            inner,
            offset: 0,
            prefix,
            prefix_pos: 0,
            prefix_len: 4,
        }
    }

    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    pub(crate) fn into_inner(self) -> R {
        self.inner
    }

    /// Fills `buf` as far as the input goes; returns fewer bytes only at end of input.
    pub(crate) fn fill(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let mut n = 0;
        while n < buf.len() && self.prefix_pos < self.prefix_len {
            buf[n] = self.prefix[self.prefix_pos];
            self.prefix_pos += 1;
            n += 1;
        }
        while n < buf.len() {
            match self.inner.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.offset += n as u64;
                    return Err(e);
                }
            }
        }
        self.offset += n as u64;
        Ok(n)
    }

    /// Appends up to `len` bytes to `buf`, growing it only as data actually arrives, so a
    /// huge length field in a short file does not allocate its claimed size.
    pub(crate) fn append(&mut self, len: usize, buf: &mut Vec<u8>) -> io::Result<usize> {
        let mut n = 0;
        while n < len && self.prefix_pos < self.prefix_len {
            buf.push(self.prefix[self.prefix_pos]);
            self.prefix_pos += 1;
            n += 1;
        }
        let want = (len - n) as u64;
        let got = self.inner.by_ref().take(want).read_to_end(buf)?;
        n += got;
        self.offset += n as u64;
        Ok(n)
    }
}

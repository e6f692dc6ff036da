//! A record file that starts over when it grows too large, so a long run's records stay
//! within a size: at a flush, once the file holds more than its limit, it becomes its
//! older name (replacing the previous older one) and a new file begins, opening with the
//! same header (what was written before the first flush: a capture's section and
//! interface blocks; nothing for JSON lines). Rotating only at flushes keeps every file
//! whole: the writers flush between records, never inside one.

use std::fs::File;
use std::io::{self, Write};

use crate::records::RecordDir;

#[derive(Debug)]
pub struct RotatingFile {
    dir: RecordDir,
    name: String,
    older: String,
    file: File,
    size: u64,
    limit: Option<u64>,
    /// `None` until the first flush; until then what is written is collected here too.
    header: Option<Vec<u8>>,
    collecting: Vec<u8>,
    generation: u64,
}

impl RotatingFile {
    /// Creates `name` in `dir` (as [`RecordDir::create`] does); past `limit` bytes it
    /// moves to `older`. No limit: an ordinary file.
    pub fn create(
        dir: &RecordDir,
        name: &str,
        older: &str,
        limit: Option<u64>,
    ) -> io::Result<Self> {
        Ok(Self {
            file: dir.create(name)?,
            dir: dir.try_clone()?,
            name: name.to_owned(),
            older: older.to_owned(),
            size: 0,
            limit,
            header: None,
            collecting: Vec::new(),
            generation: 0,
        })
    }

    /// How many times the file has started over.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn rotate(&mut self) -> io::Result<()> {
        self.dir.rename(&self.name, &self.older)?;
        self.file = self.dir.create(&self.name)?;
        let header = self.header.as_deref().unwrap_or_default();
        self.file.write_all(header)?;
        self.size = header.len() as u64;
        self.generation += 1;
        Ok(())
    }
}

impl Write for RotatingFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.file.write(buf)?;
        self.size += n as u64;
        if self.header.is_none() {
            self.collecting.extend_from_slice(&buf[..n]);
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()?;
        if self.header.is_none() {
            self.header = Some(std::mem::take(&mut self.collecting));
        }
        let header_len = self.header.as_ref().map_or(0, Vec::len) as u64;
        if self
            .limit
            .is_some_and(|limit| self.size > limit.max(header_len))
        {
            self.rotate()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> (std::path::PathBuf, RecordDir) {
        let path = std::env::temp_dir().join(format!(
            "phonehome-rotating-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&path);
        let dir = RecordDir::open(&path).unwrap();
        (path, dir)
    }

    #[test]
    fn past_its_limit_a_file_moves_aside_at_a_flush_and_starts_over_with_its_header() {
        let (path, dir) = dir();
        let mut f = RotatingFile::create(&dir, "c.pcapng", "c.1.pcapng", Some(100)).unwrap();
        f.write_all(b"HEADER").unwrap();
        f.flush().unwrap();
        f.write_all(&[b'a'; 80]).unwrap();
        f.flush().unwrap();
        assert_eq!(f.generation(), 0, "80 + 6 bytes: still under the limit");
        f.write_all(&[b'b'; 80]).unwrap();
        assert_eq!(f.generation(), 0, "never between flushes");
        f.flush().unwrap();
        assert_eq!(f.generation(), 1);
        let older = std::fs::read(path.join("c.1.pcapng")).unwrap();
        assert_eq!(older.len(), 166);
        assert!(older.starts_with(b"HEADER"));
        assert_eq!(std::fs::read(path.join("c.pcapng")).unwrap(), b"HEADER");
        f.write_all(&[b'c'; 200]).unwrap();
        f.flush().unwrap();
        // The previous older generation is replaced, not kept.
        let older = std::fs::read(path.join("c.1.pcapng")).unwrap();
        assert!(older.starts_with(b"HEADERccc"));
        let names: Vec<_> = std::fs::read_dir(&path)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
        std::fs::remove_dir_all(&path).unwrap();
    }

    #[test]
    fn without_a_limit_it_is_an_ordinary_file() {
        let (path, dir) = dir();
        let mut f = RotatingFile::create(&dir, "flows.jsonl", "flows.1.jsonl", None).unwrap();
        for _ in 0..100 {
            f.write_all(&[b'x'; 1000]).unwrap();
            f.flush().unwrap();
        }
        assert_eq!(f.generation(), 0);
        assert_eq!(
            std::fs::metadata(path.join("flows.jsonl")).unwrap().len(),
            100_000
        );
        std::fs::remove_dir_all(&path).unwrap();
    }
}

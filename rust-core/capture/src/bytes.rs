//! Bounds-checked fixed-width field reads in either byte order: a parser of untrusted
//! captures must never index past a buffer.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endian {
    Little,
    Big,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Fields<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) endian: Endian,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(bytes: &'a [u8], endian: Endian) -> Self {
        Fields { bytes, endian }
    }

    fn array<const N: usize>(&self, at: usize) -> Option<[u8; N]> {
        self.bytes.get(at..at.checked_add(N)?)?.try_into().ok()
    }

    pub(crate) fn u16(&self, at: usize) -> Option<u16> {
        let a = self.array::<2>(at)?;
        Some(match self.endian {
            Endian::Little => u16::from_le_bytes(a),
            Endian::Big => u16::from_be_bytes(a),
        })
    }

    pub(crate) fn u32(&self, at: usize) -> Option<u32> {
        let a = self.array::<4>(at)?;
        Some(match self.endian {
            Endian::Little => u32::from_le_bytes(a),
            Endian::Big => u32::from_be_bytes(a),
        })
    }

    pub(crate) fn u64(&self, at: usize) -> Option<u64> {
        let a = self.array::<8>(at)?;
        Some(match self.endian {
            Endian::Little => u64::from_le_bytes(a),
            Endian::Big => u64::from_be_bytes(a),
        })
    }
}

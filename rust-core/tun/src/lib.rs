//! A TUN device seen as what it is to the core: a file descriptor that yields and takes
//! one IP packet per read or write.
//!
//! Ownership is explicit. [`Tun::from_fd`] takes an fd someone else opened (Android's
//! `VpnService.establish()`, or a namespace helper that passed it over a socket) and
//! closes it on drop; [`Tun::create`] opens `/dev/net/tun` itself on Linux.

use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, IntoRawFd, OwnedFd, RawFd};

/// An open TUN device (no packet-information header: reads and writes are bare IP packets).
#[derive(Debug)]
pub struct Tun {
    fd: OwnedFd,
    name: Option<String>,
}

impl Tun {
    /// Takes ownership of an already configured TUN file descriptor.
    pub fn from_fd(fd: OwnedFd) -> Self {
        Self { fd, name: None }
    }

    /// Opens `/dev/net/tun` and attaches it to a new or existing TUN interface `name`
    /// in the calling thread's network namespace. Needs CAP_NET_ADMIN there.
    #[cfg(target_os = "linux")]
    pub fn create(name: &str) -> io::Result<Self> {
        const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
        if name.is_empty() || name.len() >= libc::IFNAMSIZ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("interface name {name:?} must have 1 to 15 bytes"),
            ));
        }
        // SAFETY: a plain open(2) of a constant, NUL-terminated path.
        let raw = unsafe { libc::open(c"/dev/net/tun".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` was just returned by open(2) and is owned by nobody else.
        let fd = unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(raw) };

        #[repr(C)]
        struct IfReq {
            name: [u8; libc::IFNAMSIZ],
            flags: libc::c_short,
            _pad: [u8; 22],
        }
        let mut req = IfReq {
            name: [0; libc::IFNAMSIZ],
            flags: (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short,
            _pad: [0; 22],
        };
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        // SAFETY: TUNSETIFF reads and writes one `struct ifreq`, which `IfReq` lays out.
        if unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF as _, &mut req) } < 0 {
            return Err(io::Error::last_os_error());
        }
        let len = req
            .name
            .iter()
            .position(|&b| b == 0)
            .unwrap_or(libc::IFNAMSIZ);
        Ok(Self {
            fd,
            name: Some(String::from_utf8_lossy(&req.name[..len]).into_owned()),
        })
    }

    /// The interface name, when this process created the device.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Switches O_NONBLOCK, which an async reactor needs.
    pub fn set_nonblocking(&self, nonblocking: bool) -> io::Result<()> {
        let fd = self.fd.as_raw_fd();
        // SAFETY: fcntl on an fd we own, with integer arguments only.
        let flags = unsafe { libc::fcntl(fd, libc::F_GETFL) };
        if flags < 0 {
            return Err(io::Error::last_os_error());
        }
        let flags = if nonblocking {
            flags | libc::O_NONBLOCK
        } else {
            flags & !libc::O_NONBLOCK
        };
        // SAFETY: as above.
        if unsafe { libc::fcntl(fd, libc::F_SETFL, flags) } < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Reads one packet; a buffer shorter than the packet truncates it.
    pub fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        // SAFETY: `buf` is valid for `buf.len()` writable bytes.
        let n = unsafe { libc::read(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }

    /// Writes one packet.
    pub fn send(&self, packet: &[u8]) -> io::Result<usize> {
        // SAFETY: `packet` is valid for `packet.len()` readable bytes.
        let n = unsafe { libc::write(self.fd.as_raw_fd(), packet.as_ptr().cast(), packet.len()) };
        if n < 0 {
            Err(io::Error::last_os_error())
        } else {
            Ok(n as usize)
        }
    }
}

impl AsFd for Tun {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsRawFd for Tun {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl IntoRawFd for Tun {
    fn into_raw_fd(self) -> RawFd {
        self.fd.into_raw_fd()
    }
}

impl From<OwnedFd> for Tun {
    fn from(fd: OwnedFd) -> Self {
        Self::from_fd(fd)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::os::fd::FromRawFd;

    #[test]
    fn rejects_names_the_kernel_cannot_hold() {
        let err = Tun::create("a-name-longer-than-fifteen").unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(Tun::create("").is_err());
    }

    #[test]
    fn from_fd_takes_ownership_and_reads_like_a_tun() {
        // A pipe stands in for the fd VpnService hands over: one write, one read.
        let mut fds = [0; 2];
        // SAFETY: pipe(2) fills two fds we then own.
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // SAFETY: both fds are fresh and owned only here.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let reader = Tun::from_fd(r);
        let writer = Tun::from_fd(w);
        assert_eq!(writer.send(b"packet").unwrap(), 6);
        let mut buf = [0u8; 16];
        assert_eq!(reader.recv(&mut buf).unwrap(), 6);
        assert_eq!(&buf[..6], b"packet");
        reader.set_nonblocking(true).unwrap();
        let err = reader.recv(&mut buf).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::WouldBlock);
    }
}

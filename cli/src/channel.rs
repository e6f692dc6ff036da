//! The socketpair between the monitor and the child it forked.
//!
//! A SOCK_SEQPACKET pair keeps message boundaries. The child sends exactly one report:
//! the TUN fd (SCM_RIGHTS) or why setup failed. The monitor answers with one "go"
//! byte once the relay runs, or closes its end to call the run off.

use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::errno::Errno;
use nix::sys::socket::{
    recv, recvmsg, send, sendmsg, socketpair, AddressFamily, ControlMessage, ControlMessageOwned,
    MsgFlags, SockFlag, SockType,
};
use phonehome_tun::Tun;

const TUN: u8 = b'T';
const ERROR: u8 = b'E';
const GO: u8 = b'G';
/// Longest error text sent; SEQPACKET messages must fit the socket buffer whole.
const MAX_ERROR: usize = 4000;

/// What the child reported.
#[derive(Debug)]
pub enum Report {
    Tun(OwnedFd),
    Failed(String),
    /// The child closed its end without a report (it died).
    Gone,
}

/// (monitor's end, child's end), both close-on-exec.
pub fn pair() -> io::Result<(OwnedFd, OwnedFd)> {
    Ok(socketpair(
        AddressFamily::Unix,
        SockType::SeqPacket,
        None,
        SockFlag::SOCK_CLOEXEC,
    )?)
}

pub fn send_tun(chan: &OwnedFd, tun: &Tun) -> io::Result<()> {
    let fds = [tun.as_raw_fd()];
    retry(|| {
        sendmsg::<()>(
            chan.as_raw_fd(),
            &[IoSlice::new(&[TUN])],
            &[ControlMessage::ScmRights(&fds)],
            MsgFlags::MSG_NOSIGNAL,
            None,
        )
    })?;
    Ok(())
}

pub fn send_error(chan: &OwnedFd, message: &str) -> io::Result<()> {
    let mut end = message.len().min(MAX_ERROR);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let mut msg = Vec::with_capacity(end + 1);
    msg.push(ERROR);
    msg.extend_from_slice(&message.as_bytes()[..end]);
    retry(|| send(chan.as_raw_fd(), &msg, MsgFlags::MSG_NOSIGNAL))?;
    Ok(())
}

pub fn recv_report(chan: &OwnedFd) -> io::Result<Report> {
    let mut buf = [0u8; MAX_ERROR + 64];
    let mut cmsg = nix::cmsg_space!([std::os::fd::RawFd; 1]);
    let (len, flags, fds) = {
        let mut iov = [IoSliceMut::new(&mut buf)];
        let msg = loop {
            match recvmsg::<()>(
                chan.as_raw_fd(),
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Err(Errno::EINTR) => continue,
                other => break other?,
            }
        };
        let mut fds = Vec::new();
        for c in msg.cmsgs()? {
            if let ControlMessageOwned::ScmRights(received) = c {
                for fd in received {
                    // SAFETY: the kernel just installed this descriptor in this process
                    // for this message; nothing else refers to it.
                    fds.push(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
        }
        (msg.bytes, msg.flags, fds)
    };
    if flags.intersects(MsgFlags::MSG_TRUNC | MsgFlags::MSG_CTRUNC) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "truncated message from the namespace setup process",
        ));
    }
    match buf.get(..len) {
        Some([]) => Ok(Report::Gone),
        Some([TUN]) => fds.into_iter().next().map(Report::Tun).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "the namespace setup process sent no TUN descriptor",
            )
        }),
        Some([ERROR, text @ ..]) => Ok(Report::Failed(String::from_utf8_lossy(text).into_owned())),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "unexpected message from the namespace setup process",
        )),
    }
}

pub fn send_go(chan: &OwnedFd) -> io::Result<()> {
    retry(|| send(chan.as_raw_fd(), &[GO], MsgFlags::MSG_NOSIGNAL))?;
    Ok(())
}

/// True on "go"; false when the monitor closed its end instead.
pub fn wait_go(chan: &OwnedFd) -> io::Result<bool> {
    let mut byte = [0u8; 1];
    let n = retry(|| recv(chan.as_raw_fd(), &mut byte, MsgFlags::empty()))?;
    Ok(n == 1 && byte[0] == GO)
}

fn retry<T>(mut f: impl FnMut() -> nix::Result<T>) -> nix::Result<T> {
    loop {
        match f() {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs::File;
    use std::io::{Read, Seek, Write};

    #[test]
    fn an_fd_crosses_with_its_report() {
        let (monitor, child) = pair().unwrap();
        // Any fd will do for the transport: a temporary file we can recognise.
        let mut file = tempfile();
        file.write_all(b"it is me").unwrap();
        let tun = Tun::from_fd(OwnedFd::from(file));
        send_tun(&child, &tun).unwrap();
        let Report::Tun(fd) = recv_report(&monitor).unwrap() else {
            panic!("no fd")
        };
        let mut got = File::from(fd);
        got.rewind().unwrap();
        let mut text = String::new();
        got.read_to_string(&mut text).unwrap();
        assert_eq!(text, "it is me");
    }

    #[test]
    fn an_error_crosses_as_text_and_long_ones_are_cut_on_a_char_boundary() {
        let (monitor, child) = pair().unwrap();
        send_error(&child, "`ip link` failed: no such device").unwrap();
        match recv_report(&monitor).unwrap() {
            Report::Failed(text) => assert_eq!(text, "`ip link` failed: no such device"),
            other => panic!("{other:?}"),
        }
        let long = "é".repeat(MAX_ERROR);
        send_error(&child, &long).unwrap();
        match recv_report(&monitor).unwrap() {
            Report::Failed(text) => {
                assert!(text.len() <= MAX_ERROR && !text.is_empty());
                assert!(text.chars().all(|c| c == 'é'));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_closed_end_reads_as_gone_and_as_no_go() {
        let (monitor, child) = pair().unwrap();
        drop(child);
        assert!(matches!(recv_report(&monitor).unwrap(), Report::Gone));
        let (monitor, child) = pair().unwrap();
        drop(monitor);
        assert!(!wait_go(&child).unwrap());
        let (monitor, child) = pair().unwrap();
        send_go(&monitor).unwrap();
        assert!(wait_go(&child).unwrap());
    }

    fn tempfile() -> File {
        let path =
            std::env::temp_dir().join(format!("phonehome-channel-test.{}", std::process::id()));
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        std::fs::remove_file(&path).unwrap();
        file
    }
}

//! The watched program's side: its network and mount namespaces, the TUN device that is
//! their only way out, and the resolv.conf that sends its DNS to the monitor.
//!
//! Everything here runs in the forked child of `phonehome watch`, which is
//! single-threaded, and ends in `_exit` (CMD itself runs in its own PID namespace,
//! [`crate::pidns`]).

use std::ffi::CString;
use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::OwnedFd;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use nix::mount::{mount, MsFlags};
use nix::sched::{unshare, CloneFlags};
use nix::sys::signal::{signal, SigHandler, Signal};
use nix::unistd::{execvp, getegid, geteuid, getppid, Pid};
use phonehome_tun::Tun;

use crate::channel;

/// Name of the TUN interface inside the namespace.
pub const TUN_NAME: &str = "phonehome0";
/// The watched program's IPv4 address (on [`TUN_NAME`]) and its prefix length.
pub const ADDR_V4: Ipv4Addr = Ipv4Addr::new(10, 111, 0, 2);
pub const PREFIX_V4: u8 = 24;
/// The watched program's IPv6 address (ULA `fd70:686f:6e65::/48`, "pho" + "ne") and prefix.
pub const ADDR_V6: Ipv6Addr = Ipv6Addr::new(0xfd70, 0x686f, 0x6e65, 0, 0, 0, 0, 2);
pub const PREFIX_V6: u8 = 64;
/// Virtual DNS servers the monitor answers; the namespace's resolv.conf lists them.
pub const DNS_V4: Ipv4Addr = Ipv4Addr::new(10, 111, 0, 1);
pub const DNS_V6: Ipv6Addr = Ipv6Addr::new(0xfd70, 0x686f, 0x6e65, 0, 0, 0, 0, 1);
/// The file covered, inside the namespace only, by one listing [`DNS_V4`] and [`DNS_V6`].
pub const RESOLV_CONF: &str = "/etc/resolv.conf";

/// Exit status of the child when setup failed (the parent reports why).
pub const SETUP_FAILED: i32 = 125;
/// Exit status when CMD could not be executed, as shells use.
pub const EXEC_FAILED: i32 = 127;

/// The DNS addresses the monitor answers, in resolv.conf order.
pub fn dns_listen() -> Vec<IpAddr> {
    vec![IpAddr::V4(DNS_V4), IpAddr::V6(DNS_V6)]
}

const NAMESPACE_HINT: &str = "phonehome watch needs root, or unprivileged user namespaces \
     (sysctl kernel.unprivileged_userns_clone=1 where it exists, user.max_user_namespaces > 0, \
     and on Ubuntu 23.10+ kernel.apparmor_restrict_unprivileged_userns=0)";

/// Why the namespace could not be prepared. The child sends the text to the parent.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("cannot create the namespaces: {0}; {NAMESPACE_HINT}")]
    Namespaces(String),
    #[error("cannot make the mount namespace private: {0}")]
    PrivateMounts(nix::Error),
    #[error("cannot create TUN device {TUN_NAME}: {0}{hint}", hint = tun_hint(.0))]
    Tun(io::Error),
    #[error(
        "`ip` (iproute2) was not found in PATH, /usr/sbin or /sbin; install iproute2 \
         (Debian/Ubuntu: apt install iproute2)"
    )]
    IpMissing,
    #[error("cannot run `{cmd}`: {source}")]
    IpSpawn { cmd: String, source: io::Error },
    #[error("`{cmd}` failed: {stderr}")]
    IpFailed { cmd: String, stderr: String },
    #[error("cannot point {RESOLV_CONF} at the monitor's DNS inside the namespace: {0}")]
    Resolv(String),
}

fn tun_hint(err: &io::Error) -> &'static str {
    match err.raw_os_error() {
        Some(libc::ENOENT) | Some(libc::ENODEV) => {
            " (the tun module is missing: modprobe tun, or create /dev/net/tun)"
        }
        Some(libc::EACCES) => {
            " (/dev/net/tun is not open to this user: most distributions make it mode 0666; \
             or run as root)"
        }
        Some(libc::EPERM) => " (needs CAP_NET_ADMIN in the new namespace)",
        _ => "",
    }
}

/// What the child needs from the command line.
#[derive(Debug)]
pub struct Plan {
    pub mtu: u32,
    /// CMD and its arguments; never empty.
    pub argv: Vec<CString>,
}

/// The forked child: sets up the namespace, hands the TUN to the monitor, waits for its
/// go-ahead and becomes CMD. Never returns.
pub fn child_main(chan: OwnedFd, monitor: Pid, plan: &Plan) -> ! {
    // CMD has no network without the monitor, so it goes when the monitor goes. The
    // check after the prctl catches a monitor that died before it.
    if nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).is_err() || getppid() != monitor {
        exit_now(1);
    }
    let tun = match setup(plan.mtu) {
        Ok(tun) => tun,
        Err(err) => {
            if channel::send_error(&chan, &err.to_string()).is_err() {
                eprintln!("phonehome: {err}");
            }
            exit_now(SETUP_FAILED)
        }
    };
    if let Err(err) = channel::send_tun(&chan, &tun) {
        eprintln!("phonehome: cannot hand the TUN device to the monitor: {err}");
        exit_now(SETUP_FAILED);
    }
    drop(tun);
    match channel::wait_go(&chan) {
        Ok(true) => {}
        // The monitor gave up (and says why) or is gone.
        Ok(false) | Err(_) => exit_now(SETUP_FAILED),
    }
    drop(chan);
    crate::pidns::run(&plan.argv)
}

/// Ends the child at once: no atexit handlers, no destructors of state copied from the
/// monitor (its record file, its buffers).
pub fn exit_now(code: i32) -> ! {
    // SAFETY: _exit(2) takes no pointers and cannot fail.
    unsafe { libc::_exit(code) }
}

pub fn exec(argv: &[CString]) -> ! {
    let Some(program) = argv.first() else {
        exit_now(EXEC_FAILED)
    };
    // Rust's runtime ignores SIGPIPE and an ignored signal stays ignored across exec;
    // CMD gets the default, as std::process::Command would give it.
    // SAFETY: SIG_DFL installs no handler, and this process has a single thread.
    if let Err(err) = unsafe { signal(Signal::SIGPIPE, SigHandler::SigDfl) } {
        log::warn!("cannot restore SIGPIPE for the program: {err}");
    }
    let Err(err) = execvp(program, argv);
    eprintln!(
        "phonehome: cannot run {}: {}",
        program.to_string_lossy(),
        io::Error::from(err)
    );
    exit_now(EXEC_FAILED)
}

/// Enters new namespaces and prepares them; returns the TUN for the monitor.
fn setup(mtu: u32) -> Result<Tun, SetupError> {
    enter_namespaces()?;
    // Nothing mounted from here on may leak into the caller's mount namespace.
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(SetupError::PrivateMounts)?;
    let tun = Tun::create(TUN_NAME).map_err(SetupError::Tun)?;
    // A kernel booted with ipv6.disable=1 has no IPv6 at all; everything else does.
    let ipv6 = Path::new("/proc/sys/net/ipv6").exists();
    if !ipv6 {
        log::warn!("this kernel has no IPv6; the watched program gets IPv4 only");
    }
    configure_interfaces(mtu, ipv6)?;
    let servers: Vec<IpAddr> = if ipv6 {
        dns_listen()
    } else {
        vec![IpAddr::V4(DNS_V4)]
    };
    cover_resolv_conf(&crate::resolv::render(&servers)).map_err(SetupError::Resolv)?;
    Ok(tun)
}

/// Root gets new network and mount namespaces directly; anyone else (or a root without
/// CAP_SYS_ADMIN) gets them inside a new user namespace mapping them to root, as
/// `unshare -r` does.
fn enter_namespaces() -> Result<(), SetupError> {
    let uid = geteuid();
    let gid = getegid();
    if uid.is_root() {
        match unshare(CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS) {
            Ok(()) => return Ok(()),
            Err(err) => log::info!("unshare as root: {err}; trying a user namespace"),
        }
    }
    unshare(CloneFlags::CLONE_NEWUSER | CloneFlags::CLONE_NEWNET | CloneFlags::CLONE_NEWNS)
        .map_err(|err| {
            SetupError::Namespaces(format!("unshare(CLONE_NEWUSER): {}", io::Error::from(err)))
        })?;
    let write = |file: &str, text: String| {
        fs::write(file, text)
            .map_err(|err| SetupError::Namespaces(format!("writing {file}: {err}")))
    };
    // Required before an unprivileged gid_map; absent on kernels older than 3.19.
    if Path::new("/proc/self/setgroups").exists() {
        write("/proc/self/setgroups", "deny".into())?;
    }
    write("/proc/self/uid_map", format!("0 {uid} 1\n"))?;
    write("/proc/self/gid_map", format!("0 {gid} 1\n"))?;
    Ok(())
}

fn configure_interfaces(mtu: u32, ipv6: bool) -> Result<(), SetupError> {
    let ip = find_ip().ok_or(SetupError::IpMissing)?;
    if ipv6 {
        // No router will ever answer on the TUN; without this the namespace's kernel keeps
        // sending router solicitations (backing off to one an hour), and each one wakes
        // the idle monitor. Best effort: nothing breaks if the write is refused.
        let knob = format!("/proc/sys/net/ipv6/conf/{TUN_NAME}/router_solicitations");
        if let Err(e) = std::fs::write(&knob, "0") {
            log::debug!("namespace: cannot write {knob}: {e}");
        }
    }
    let mtu = mtu.to_string();
    let v4 = format!("{ADDR_V4}/{PREFIX_V4}");
    let v6 = format!("{ADDR_V6}/{PREFIX_V6}");
    let mut steps: Vec<Vec<&str>> = vec![
        vec!["link", "set", "dev", "lo", "up"],
        // The TUN's queue toward the monitor holds 500 packets by default: less than the
        // receive windows of a few busy uploads together, so with 8 iperf3 streams 16% of
        // packets were dropped there (and resent). 4096 holds 16 full windows.
        vec!["link", "set", TUN_NAME, "mtu", &mtu, "qlen", "4096", "up"],
        vec!["-4", "addr", "add", &v4, "dev", TUN_NAME],
        vec!["-4", "route", "add", "default", "dev", TUN_NAME],
    ];
    if ipv6 {
        // nodad: the address is usable at once, with nobody else on the link to ask.
        steps.push(vec!["-6", "addr", "add", &v6, "dev", TUN_NAME, "nodad"]);
        steps.push(vec!["-6", "route", "add", "default", "dev", TUN_NAME]);
    }
    for args in steps {
        let cmd = format!("ip {}", args.join(" "));
        log::debug!("namespace: {cmd}");
        let out = Command::new(&ip)
            .args(&args)
            .stdin(Stdio::null())
            .output()
            .map_err(|source| SetupError::IpSpawn {
                cmd: cmd.clone(),
                source,
            })?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
            let stderr = if stderr.is_empty() {
                out.status.to_string()
            } else {
                stderr
            };
            return Err(SetupError::IpFailed { cmd, stderr });
        }
    }
    Ok(())
}

/// `ip` from PATH, else from the sbin directories a non-root PATH often lacks.
fn find_ip() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"].map(PathBuf::from))
        .map(|dir| dir.join("ip"))
        .find(|p| {
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// Bind-mounts a file holding `contents` over the resolv.conf (or, if it is a symlink,
/// over what it points to), in this mount namespace only. The real file is untouched.
fn cover_resolv_conf(contents: &str) -> Result<(), String> {
    let target = fs::canonicalize(RESOLV_CONF).map_err(|err| match err.kind() {
        io::ErrorKind::NotFound => {
            format!("{RESOLV_CONF} (or what it links to) does not exist; a bind mount needs it")
        }
        _ => format!("{RESOLV_CONF}: {err}"),
    })?;
    let source = write_temp_file(contents)?;
    let mounted = mount(
        Some(&source),
        &target,
        None::<&str>,
        MsFlags::MS_BIND,
        None::<&str>,
    );
    // The mount keeps the file alive; its name is no longer needed.
    if let Err(err) = fs::remove_file(&source) {
        log::warn!("cannot remove {}: {err}", source.display());
    }
    mounted.map_err(|err| {
        format!(
            "bind-mounting {} over {}: {}",
            source.display(),
            target.display(),
            io::Error::from(err)
        )
    })
}

fn write_temp_file(contents: &str) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir();
    for attempt in 0..100u32 {
        let path = dir.join(format!("phonehome-resolv.{}.{attempt}", std::process::id()));
        let mut file = match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o644)
            .open(&path)
        {
            Ok(file) => file,
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(format!("creating {}: {err}", path.display())),
        };
        // Readable by CMD whatever the umask, whoever CMD runs as.
        let written = file
            .set_permissions(fs::Permissions::from_mode(0o644))
            .and_then(|()| file.write_all(contents.as_bytes()));
        if let Err(err) = written {
            let _ = fs::remove_file(&path);
            return Err(format!("writing {}: {err}", path.display()));
        }
        return Ok(path);
    }
    Err(format!(
        "cannot create a temporary file in {}",
        dir.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_the_documented_ones() {
        assert_eq!(format!("{ADDR_V4}/{PREFIX_V4}"), "10.111.0.2/24");
        assert_eq!(format!("{ADDR_V6}/{PREFIX_V6}"), "fd70:686f:6e65::2/64");
        assert_eq!(
            crate::resolv::render(&dns_listen())
                .lines()
                .filter(|l| !l.starts_with('#'))
                .collect::<Vec<_>>(),
            ["nameserver 10.111.0.1", "nameserver fd70:686f:6e65::1"]
        );
    }

    #[test]
    fn temp_file_is_world_readable_and_holds_the_text() {
        let path = write_temp_file("nameserver 10.111.0.1\n").unwrap();
        let meta = fs::metadata(&path).unwrap();
        let text = fs::read_to_string(&path).unwrap();
        fs::remove_file(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o644);
        assert_eq!(text, "nameserver 10.111.0.1\n");
    }

    #[test]
    fn setup_errors_say_what_to_do() {
        let msg = SetupError::Tun(io::Error::from_raw_os_error(libc::EACCES)).to_string();
        assert!(msg.contains("phonehome0") && msg.contains("0666"), "{msg}");
        let msg = SetupError::Namespaces("unshare(CLONE_NEWUSER): EPERM".into()).to_string();
        assert!(msg.contains("user.max_user_namespaces"), "{msg}");
        assert!(SetupError::IpMissing.to_string().contains("iproute2"));
    }
}

//! The roots the server leg trusts: the system's store, read the way the platform keeps
//! it. On Linux that is what `rustls-native-certs` finds (OpenSSL's files); Android keeps
//! one PEM file per CA named `<subject hash>.<n>` in a directory: the Conscrypt APEX's
//! (`/apex/com.android.conscrypt/cacerts`, updatable since Android 14) and, before it,
//! `/system/etc/security/cacerts`. User-installed CAs (our own among them) are never read.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;

/// Android's system CA directories, newest first: the first that exists is the store.
pub const ANDROID_CERT_DIRS: [&str; 2] = [
    "/apex/com.android.conscrypt/cacerts",
    "/system/etc/security/cacerts",
];

/// A CA file is a certificate plus OpenSSL's text dump of it (a few KiB); anything
/// larger is not one.
const MAX_CERT_FILE: u64 = 256 * 1024;

/// Where the server leg's roots come from.
#[derive(Debug, Clone, Copy)]
pub enum SystemRoots<'a> {
    /// The operating system's store as `rustls-native-certs` finds it (Linux:
    /// `SSL_CERT_FILE`/`SSL_CERT_DIR` or the distribution's bundle).
    Native,
    /// The first of these directories that exists, each `<hash>.<n>` file in it a PEM
    /// certificate (Android's layout, [`ANDROID_CERT_DIRS`]).
    CertDirs(&'a [PathBuf]),
}

/// What one certificate directory gave.
#[derive(Debug, Default)]
pub struct DirRoots {
    /// The directory read; `None` if none of the candidates exists.
    pub dir: Option<PathBuf>,
    pub certs: Vec<CertificateDer<'static>>,
    /// `<hash>.<n>` files that held no readable certificate.
    pub unreadable: usize,
}

/// Reads the first existing directory of `dirs` (see [`SystemRoots::CertDirs`]).
pub fn read_cert_dirs(dirs: &[PathBuf]) -> DirRoots {
    let Some(dir) = dirs.iter().find(|d| d.is_dir()) else {
        return DirRoots::default();
    };
    let mut roots = DirRoots {
        dir: Some(dir.clone()),
        ..DirRoots::default()
    };
    let Ok(entries) = fs::read_dir(dir) else {
        return roots;
    };
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(is_hash_name)
        })
        .collect();
    // The same store gives the same order on every run.
    names.sort();
    for path in names {
        match read_cert(&path) {
            Some(cert) => roots.certs.push(cert),
            None => roots.unreadable += 1,
        }
    }
    roots
}

/// `9d520b32.0`: eight hex digits of OpenSSL's subject hash, a dot, a collision counter.
fn is_hash_name(name: &str) -> bool {
    let Some((hash, n)) = name.split_once('.') else {
        return false;
    };
    hash.len() == 8
        && hash.bytes().all(|b| b.is_ascii_hexdigit())
        && !n.is_empty()
        && n.len() <= 3
        && n.bytes().all(|b| b.is_ascii_digit())
}

/// The first PEM certificate of a CA file (Android's files go on with a text dump).
fn read_cert(path: &Path) -> Option<CertificateDer<'static>> {
    let mut bytes = Vec::new();
    fs::File::open(path)
        .ok()?
        .take(MAX_CERT_FILE + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    if bytes.len() as u64 > MAX_CERT_FILE {
        return None;
    }
    CertificateDer::pem_slice_iter(&bytes).next()?.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Self {
            let dir =
                std::env::temp_dir().join(format!("phonehome-roots-{name}-{}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).unwrap();
            Self(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn ca_pem(dir: &Path) -> String {
        crate::Ca::open_or_create(dir)
            .unwrap()
            .cert_pem()
            .to_owned()
    }

    #[test]
    fn only_subject_hash_names_are_ca_files() {
        for good in ["9d520b32.0", "00673B5B.1", "a94d09e5.12"] {
            assert!(is_hash_name(good), "{good}");
        }
        for bad in [
            "9d520b32",
            "9d520b3.0",
            "9d520b32.x",
            "ca.pem",
            "9d520b32.0.bak",
            "",
        ] {
            assert!(!is_hash_name(bad), "{bad}");
        }
    }

    #[test]
    fn an_android_store_is_read_with_its_text_dumps_and_without_stray_files() {
        let s = Scratch::new("android");
        let store = s.0.join("cacerts");
        fs::create_dir_all(&store).unwrap();
        // As AOSP ships them: the PEM block, then `openssl x509 -text` output.
        let first = ca_pem(&s.0.join("a"));
        fs::write(
            store.join("1a2b3c4d.0"),
            format!("{first}Certificate:\n    Data:\n        Version: 3 (0x2)\n"),
        )
        .unwrap();
        fs::write(store.join("1a2b3c4d.1"), ca_pem(&s.0.join("b"))).unwrap();
        fs::write(store.join("deadbeef.0"), "not a certificate").unwrap();
        // Not a CA file by its name, so never read: a stray key or note.
        fs::write(store.join("README"), ca_pem(&s.0.join("c"))).unwrap();

        let missing = s.0.join("apex-not-here");
        let roots = read_cert_dirs(&[missing, store.clone()]);
        assert_eq!(roots.dir, Some(store));
        assert_eq!(roots.certs.len(), 2);
        assert_eq!(roots.unreadable, 1);
        let first_der = CertificateDer::from_pem_slice(first.as_bytes()).unwrap();
        assert_eq!(roots.certs[0], first_der);
    }

    #[test]
    fn the_first_existing_directory_is_the_store_even_if_a_later_one_has_more() {
        let s = Scratch::new("order");
        let (apex, system) = (s.0.join("apex"), s.0.join("system"));
        fs::create_dir_all(&apex).unwrap();
        fs::create_dir_all(&system).unwrap();
        fs::write(apex.join("11111111.0"), ca_pem(&s.0.join("a"))).unwrap();
        fs::write(system.join("22222222.0"), ca_pem(&s.0.join("b"))).unwrap();
        fs::write(system.join("33333333.0"), ca_pem(&s.0.join("c"))).unwrap();
        let roots = read_cert_dirs(&[apex.clone(), system]);
        assert_eq!(roots.dir, Some(apex));
        assert_eq!(roots.certs.len(), 1);
    }

    #[test]
    fn no_directory_means_no_roots() {
        let s = Scratch::new("none");
        let roots = read_cert_dirs(&[s.0.join("x"), s.0.join("y")]);
        assert!(roots.dir.is_none() && roots.certs.is_empty());
    }
}

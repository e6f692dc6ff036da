//! The per-install certificate authority: made on first use in its directory (the key
//! owner-only), loaded on later runs, exported as PEM and DER for the user to install,
//! and the issuer of every leaf certificate the client is shown.

use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyIdMethod, KeyUsagePurpose,
};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use crate::key::{serial, EcKey};

/// The CA certificate, PEM, in the CA directory.
pub const CERT_FILE: &str = "ca.pem";
/// The CA's private key, PKCS#8 PEM, mode 0600, in the CA directory.
pub const KEY_FILE: &str = "ca.key";
/// Names `export` writes: the certificate only, never the key.
pub const EXPORT_PEM: &str = "phonehome-ca.pem";
pub const EXPORT_DER: &str = "phonehome-ca.der";

/// How long the CA is valid: the user installs it once.
const CA_DAYS: i64 = 3650;
/// Leaf certificates stay under the 398 days browsers accept.
const LEAF_DAYS: i64 = 90;

#[derive(Debug, thiserror::Error)]
pub enum CaError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{0}: the CA key must be readable by its owner only (mode 0600); it may have leaked: remove the CA directory to make a new CA")]
    KeyExposed(PathBuf),
    #[error("{0}: not a CA key this program wrote (expected a PKCS#8 P-256 key)")]
    BadKey(PathBuf),
    #[error("{0}: not a CA certificate this program wrote")]
    BadCert(PathBuf),
    #[error("cannot make a certificate: {0}")]
    Certificate(#[from] rcgen::Error),
}

fn at(path: &Path) -> impl FnOnce(io::Error) -> CaError + '_ {
    move |source| CaError::Io {
        path: path.to_owned(),
        source,
    }
}

/// See the module documentation.
pub struct Ca {
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    issuer: Issuer<'static, EcKey>,
}

impl std::fmt::Debug for Ca {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ca").finish_non_exhaustive()
    }
}

impl Ca {
    /// The CA in `dir`, made there (with `dir`, mode 0700) if it has none yet.
    pub fn open_or_create(dir: &Path) -> Result<Self, CaError> {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(at(dir))?;
        let key_path = dir.join(KEY_FILE);
        let cert_path = dir.join(CERT_FILE);
        match read_private(&key_path) {
            Ok(pem) => {
                let key = EcKey::from_pkcs8_pem(&pem).ok_or(CaError::BadKey(key_path.clone()))?;
                let cert_pem = fs::read_to_string(&cert_path).map_err(at(&cert_path))?;
                Self::load(&cert_pem, key).ok_or(CaError::BadCert(cert_path))
            }
            Err(CaError::Io { source, .. }) if source.kind() == io::ErrorKind::NotFound => {
                Self::create(&key_path, &cert_path)
            }
            Err(e) => Err(e),
        }
    }

    fn create(key_path: &Path, cert_path: &Path) -> Result<Self, CaError> {
        let key = EcKey::generate();
        let params = ca_params(&key);
        let cert = params.self_signed(&key)?;
        let key_pem = key.to_pkcs8_pem().ok_or(CaError::BadKey(key_path.into()))?;
        // The key first, owner-only from its creation; a certificate without its key
        // would be useless.
        write_new(key_path, key_pem.as_bytes(), 0o600)?;
        write_new(cert_path, cert.pem().as_bytes(), 0o644)?;
        Ok(Self {
            cert_pem: cert.pem(),
            cert_der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA from its files. The issuer's name, key identifier and key usages follow
    /// from the key alone (see [`ca_params`]), so the certificate need not be parsed;
    /// it must carry the key's public half, though.
    fn load(cert_pem: &str, key: EcKey) -> Option<Self> {
        let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes()).ok()?;
        let public = rcgen::PublicKeyData::der_bytes(&key);
        if !cert_der.windows(public.len()).any(|w| w == public) {
            return None;
        }
        Some(Self {
            cert_der,
            cert_pem: cert_pem.to_owned(),
            issuer: Issuer::new(ca_params(&key), key),
        })
    }

    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// Writes the certificate (never the key) into `dir` as PEM and DER; returns the
    /// paths written.
    pub fn export(&self, dir: &Path) -> Result<Vec<PathBuf>, CaError> {
        fs::create_dir_all(dir).map_err(at(dir))?;
        let pem = dir.join(EXPORT_PEM);
        let der = dir.join(EXPORT_DER);
        fs::write(&pem, self.cert_pem.as_bytes()).map_err(at(&pem))?;
        fs::write(&der, self.cert_der.as_ref()).map_err(at(&der))?;
        Ok(vec![pem, der])
    }

    /// A server certificate for `name` (a DNS name or an IP address) with `key`'s
    /// public half, signed by this CA.
    pub(crate) fn issue(
        &self,
        name: &str,
        key: &EcKey,
    ) -> Result<CertificateDer<'static>, CaError> {
        let mut params = CertificateParams::new(vec![name.to_owned()])?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, name);
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method = KeyIdMethod::PreSpecified(key.key_identifier());
        params.serial_number = Some(serial());
        let now = OffsetDateTime::now_utc();
        // A day back: clients whose clock runs a little behind still accept it.
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(LEAF_DAYS);
        Ok(params.signed_by(key, &self.issuer)?.der().clone())
    }
}

/// The CA's certificate parameters. Name, key identifier and usages depend on the key
/// only: [`Ca::load`] rebuilds the issuer from them.
fn ca_params(key: &EcKey) -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut dn = DistinguishedName::new();
    let id = key.key_identifier();
    let tag: String = id[..4].iter().map(|b| format!("{b:02X}")).collect();
    dn.push(
        DnType::CommonName,
        format!("PhoneHome interception CA {tag}"),
    );
    dn.push(DnType::OrganizationName, "PhoneHome (this install only)");
    params.distinguished_name = dn;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.key_identifier_method = KeyIdMethod::PreSpecified(id);
    params.serial_number = Some(serial());
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(CA_DAYS);
    params
}

/// The owner-only key file, refused if anyone else may read it or it is a link.
fn read_private(path: &Path) -> Result<String, CaError> {
    let mut file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(at(path))?;
    let meta = file.metadata().map_err(at(path))?;
    if meta.mode() & 0o077 != 0 || !meta.is_file() {
        return Err(CaError::KeyExposed(path.into()));
    }
    let mut pem = String::new();
    file.read_to_string(&mut pem).map_err(at(path))?;
    Ok(pem)
}

fn write_new(path: &Path, data: &[u8], mode: u32) -> Result<(), CaError> {
    let mut file: File = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
        .map_err(at(path))?;
    file.write_all(data).map_err(at(path))?;
    file.sync_all().map_err(at(path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "phonehome-ca-{name}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn a_new_ca_keeps_its_key_owner_only_and_comes_back_the_same_next_run() {
        let dir = scratch("reopen");
        let first = Ca::open_or_create(&dir).unwrap();
        let key_mode = fs::metadata(dir.join(KEY_FILE)).unwrap().mode() & 0o777;
        assert_eq!(key_mode, 0o600);
        assert_eq!(fs::metadata(&dir).unwrap().mode() & 0o777, 0o700);
        let second = Ca::open_or_create(&dir).unwrap();
        assert_eq!(first.cert_der(), second.cert_der());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_certificate_that_is_not_the_keys_is_refused() {
        let (one, other) = (scratch("mismatch-1"), scratch("mismatch-2"));
        Ca::open_or_create(&one).unwrap();
        Ca::open_or_create(&other).unwrap();
        fs::copy(other.join(CERT_FILE), one.join(CERT_FILE)).unwrap();
        let err = Ca::open_or_create(&one).unwrap_err();
        assert!(matches!(err, CaError::BadCert(_)), "{err}");
        fs::remove_dir_all(&one).unwrap();
        fs::remove_dir_all(&other).unwrap();
    }

    #[test]
    fn a_key_others_may_read_is_refused() {
        let dir = scratch("exposed");
        Ca::open_or_create(&dir).unwrap();
        let key = dir.join(KEY_FILE);
        fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
        let err = Ca::open_or_create(&dir).unwrap_err();
        assert!(matches!(err, CaError::KeyExposed(_)), "{err}");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn export_writes_the_certificate_as_pem_and_der_and_never_the_key() {
        let dir = scratch("export");
        let ca = Ca::open_or_create(&dir.join("ca")).unwrap();
        let written = ca.export(&dir.join("out")).unwrap();
        assert_eq!(written.len(), 2);
        let pem = fs::read_to_string(&written[0]).unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert!(!pem.contains("PRIVATE KEY"));
        assert_eq!(fs::read(&written[1]).unwrap(), ca.cert_der().as_ref());
        assert_eq!(
            &CertificateDer::from_pem_slice(pem.as_bytes()).unwrap(),
            ca.cert_der()
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}

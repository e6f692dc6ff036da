//! ECDSA P-256 keys in pure Rust (RustCrypto `p256`), as rcgen signs with them and as
//! files hold them. rcgen's own key generation needs ring or aws-lc (C), which the
//! Android build cannot compile.

use p256::ecdsa::signature::Signer;
use p256::ecdsa::{DerSignature, SigningKey as P256Key};
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use rand_core::{OsRng, RngCore};
use rcgen::{PublicKeyData, SignatureAlgorithm, SigningKey, PKCS_ECDSA_P256_SHA256};
use sha2::{Digest, Sha256};

/// A P-256 signing key with its public point (uncompressed SEC1, as X.509 carries it).
pub(crate) struct EcKey {
    key: P256Key,
    public: Vec<u8>,
}

impl std::fmt::Debug for EcKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the private half.
        f.debug_struct("EcKey").finish_non_exhaustive()
    }
}

impl EcKey {
    pub(crate) fn generate() -> Self {
        Self::from_key(P256Key::random(&mut OsRng))
    }

    fn from_key(key: P256Key) -> Self {
        let public = key
            .verifying_key()
            .to_encoded_point(false)
            .as_bytes()
            .to_vec();
        Self { key, public }
    }

    /// A PKCS#8 PEM private key, as [`EcKey::to_pkcs8_pem`] writes it.
    pub(crate) fn from_pkcs8_pem(pem: &str) -> Option<Self> {
        P256Key::from_pkcs8_pem(pem).ok().map(Self::from_key)
    }

    /// The private key as PKCS#8 PEM: for the CA's key file only.
    pub(crate) fn to_pkcs8_pem(&self) -> Option<String> {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .ok()
            .map(|pem| pem.to_string())
    }

    /// The private key as PKCS#8 DER, for rustls.
    pub(crate) fn to_pkcs8_der(&self) -> Option<Vec<u8>> {
        self.key
            .to_pkcs8_der()
            .ok()
            .map(|der| der.as_bytes().to_vec())
    }

    /// RFC 7093 method 1: the leftmost 160 bits of the SHA-256 of the public key info.
    pub(crate) fn key_identifier(&self) -> Vec<u8> {
        Sha256::digest(self.subject_public_key_info())[..20].to_vec()
    }
}

impl PublicKeyData for EcKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

impl SigningKey for EcKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signature: DerSignature = self.key.sign(msg);
        Ok(signature.as_bytes().to_vec())
    }
}

/// A random positive certificate serial number of 16 bytes.
pub(crate) fn serial() -> rcgen::SerialNumber {
    let mut bytes = [0u8; 16];
    OsRng.fill_bytes(&mut bytes);
    bytes[0] &= 0x7f;
    bytes[0] |= 0x01;
    rcgen::SerialNumber::from_slice(&bytes)
}

//! `https://` for the emulator: a CA made at start for this run only, and a server certificate
//! it signs for `127.0.0.1`, `::1` and `localhost`. Clients trust the CA (written out as
//! `emulator-ca.pem`); its private key never leaves the process and dies with it.

use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};

/// The names the server certificate carries.
pub const TLS_NAMES: [&str; 3] = ["127.0.0.1", "::1", "localhost"];

/// A CA and the server identity it signed.
pub(crate) struct TlsIdentity {
    /// The CA certificate, PEM: what a client trusts.
    pub(crate) ca_pem: String,
    /// The server side of the handshake.
    pub(crate) acceptor: TlsAcceptor,
}

/// Why TLS could not be set up: the certificates could not be made (a name the certificate
/// cannot carry, a failure of the crypto library), or rustls refused them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The CA or server certificate could not be made.
    #[error("could not make the emulator's TLS certificate (names: {names})")]
    Certificate {
        /// The names asked for.
        names: String,
        /// rcgen's error.
        source: rcgen::Error,
    },
    /// rustls refused the server configuration.
    #[error("could not set up the emulator's TLS server")]
    Server(#[source] rustls::Error),
}

/// A fresh CA, a server certificate for `names` (DNS names or IP addresses; by default
/// [`TLS_NAMES`]) signed by it, and the acceptor.
pub(crate) fn make(names: &[String]) -> Result<TlsIdentity, TlsError> {
    let failed = |source| TlsError::Certificate {
        names: names.join(", "),
        source,
    };
    let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(failed)?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let mut name = DistinguishedName::new();
    name.push(
        DnType::CommonName,
        "boxauth emulator CA (one run only; never trust it elsewhere)",
    );
    ca.distinguished_name = name;
    let ca_key = KeyPair::generate().map_err(failed)?;
    let ca_cert = ca.self_signed(&ca_key).map_err(failed)?;
    let issuer = Issuer::new(ca, ca_key);

    let mut server = CertificateParams::new(names.to_vec()).map_err(failed)?;
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "localhost");
    server.distinguished_name = name;
    let server_key = KeyPair::generate().map_err(failed)?;
    let server_cert = server.signed_by(&server_key, &issuer).map_err(failed)?;

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Server)?
        .with_no_client_auth()
        .with_single_cert(
            vec![server_cert.der().clone(), ca_cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der())),
        )
        .map_err(TlsError::Server)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsIdentity {
        ca_pem: ca_cert.pem(),
        acceptor: TlsAcceptor::from(Arc::new(config)),
    })
}

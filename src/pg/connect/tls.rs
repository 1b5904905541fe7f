//! TLS through rustls with libpq's `sslmode` semantics. tokio-postgres knows only whether TLS
//! is off, wanted or required; what is verified is decided here, by the certificate verifier:
//!
//! | sslmode       | TLS                 | verified                                         |
//! |---------------|---------------------|--------------------------------------------------|
//! | `disable`     | never               | —                                                |
//! | `allow`, `prefer` | if the server offers it | nothing                                  |
//! | `require`     | always              | nothing; the chain when a root certificate file exists (libpq's rule) |
//! | `verify-ca`   | always              | the chain                                        |
//! | `verify-full` | always              | the chain and the host name                      |

use std::path::PathBuf;
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::ConnectError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

/// libpq's names, in order of strength.
const MODES: &[(&str, SslMode)] = &[
    ("disable", SslMode::Disable),
    ("allow", SslMode::Allow),
    ("prefer", SslMode::Prefer),
    ("require", SslMode::Require),
    ("verify-ca", SslMode::VerifyCa),
    ("verify-full", SslMode::VerifyFull),
];

impl SslMode {
    pub fn parse(text: &str) -> Result<SslMode, ConnectError> {
        MODES
            .iter()
            .find(|(name, _)| *name == text)
            .map(|(_, mode)| *mode)
            .ok_or_else(|| ConnectError::Dsn(format!("invalid sslmode value: \"{text}\"")))
    }

    pub fn name(self) -> &'static str {
        MODES
            .iter()
            .find(|(_, mode)| *mode == self)
            .map_or("prefer", |(name, _)| name)
    }
}

/// `sslrootcert`: the platform's roots, or a PEM file (libpq's default `~/.postgresql/root.crt`,
/// which may not exist).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCert {
    None,
    System,
    File { path: PathBuf, exists: bool },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: SslMode,
    pub root: RootCert,
}

/// What the verifier checks of the server's certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verification {
    Nothing,
    Chain,
    ChainAndName,
}

impl TlsSettings {
    fn verification(&self) -> Verification {
        match self.mode {
            SslMode::Disable | SslMode::Allow | SslMode::Prefer => Verification::Nothing,
            SslMode::Require => match self.root {
                RootCert::File { exists: true, .. } => Verification::Chain,
                _ => Verification::Nothing,
            },
            SslMode::VerifyCa => Verification::Chain,
            SslMode::VerifyFull => Verification::ChainAndName,
        }
    }

    pub fn verifies_chain(&self) -> bool {
        self.verification() != Verification::Nothing
    }

    pub fn verifies_name(&self) -> bool {
        self.verification() == Verification::ChainAndName
    }

    /// The mode tokio-postgres negotiates with (over TCP; Unix sockets never use TLS).
    pub fn negotiation(&self) -> tokio_postgres::config::SslMode {
        use tokio_postgres::config::SslMode as Wire;
        match self.mode {
            SslMode::Disable => Wire::Disable,
            // libpq's allow tries without TLS first; offering it first reaches the same servers
            SslMode::Allow | SslMode::Prefer => Wire::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => Wire::Require,
        }
    }

    /// A connector whose verifier checks what this mode asks for, with the root
    /// certificates loaded (an unreadable or empty root file is an error now).
    pub fn connector(&self) -> Result<MakeRustlsConnect, ConnectError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verification = self.verification();
        let webpki = match verification {
            Verification::Nothing => None,
            Verification::Chain | Verification::ChainAndName => {
                let roots = Arc::new(self.roots()?);
                let verifier = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
                    .build()
                    .map_err(|e| ConnectError::Tls(e.to_string()))?;
                Some(verifier)
            }
        };
        let verifier = Verifier {
            webpki,
            check_name: verification == Verification::ChainAndName,
            algorithms: provider.signature_verification_algorithms,
        };
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| ConnectError::Tls(e.to_string()))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        Ok(MakeRustlsConnect::new(config))
    }

    fn roots(&self) -> Result<RootCertStore, ConnectError> {
        let mut store = RootCertStore::empty();
        match &self.root {
            RootCert::System => {
                let found = rustls_native_certs::load_native_certs();
                store.add_parsable_certificates(found.certs);
                if store.is_empty() {
                    return Err(ConnectError::Tls(
                        "sslrootcert=system: no trusted root certificates found on this system"
                            .into(),
                    ));
                }
            }
            RootCert::File { path, exists: true } => {
                let shown = path.display();
                let pem = std::fs::read(path).map_err(|e| {
                    ConnectError::Tls(format!(
                        "cannot read root certificate file \"{shown}\": {e}"
                    ))
                })?;
                for cert in CertificateDer::pem_slice_iter(&pem) {
                    let cert = cert.map_err(|e| {
                        ConnectError::Tls(format!("root certificate file \"{shown}\": {e}"))
                    })?;
                    store.add(cert).map_err(|e| {
                        ConnectError::Tls(format!("root certificate file \"{shown}\": {e}"))
                    })?;
                }
                if store.is_empty() {
                    return Err(ConnectError::Tls(format!(
                        "root certificate file \"{shown}\" holds no certificate"
                    )));
                }
            }
            RootCert::File {
                path,
                exists: false,
            } => {
                return Err(ConnectError::Tls(format!(
                    "root certificate file \"{}\" does not exist: provide it, use the system's \
                     roots with sslrootcert=system, or choose an sslmode that does not verify",
                    path.display()
                )));
            }
            RootCert::None => {
                return Err(ConnectError::Tls(format!(
                    "sslmode={} needs a root certificate: set sslrootcert (a file, or system)",
                    self.mode.name()
                )));
            }
        }
        Ok(store)
    }
}

/// The one verifier behind every mode: nothing, the chain (a name mismatch forgiven), or
/// everything. The handshake signatures are always checked, so that even an unverified
/// certificate is at least held by the server that presents it.
#[derive(Debug)]
struct Verifier {
    webpki: Option<Arc<WebPkiServerVerifier>>,
    check_name: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(webpki) = &self.webpki else {
            return Ok(ServerCertVerified::assertion());
        };
        // webpki checks the chain before the name, so a name error means the chain held
        match webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// A rustls error (found in a connection error's sources) as one line for the user.
pub fn explain(error: &rustls::Error) -> String {
    let why = match error {
        rustls::Error::InvalidCertificate(
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
        ) => "hostname mismatch (the server's certificate is not for this host name)".to_owned(),
        rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer) => {
            "unknown issuer (not signed by a certificate in sslrootcert)".to_owned()
        }
        rustls::Error::InvalidCertificate(
            CertificateError::Expired | CertificateError::ExpiredContext { .. },
        ) => "the server's certificate has expired".to_owned(),
        rustls::Error::InvalidCertificate(_) => error.to_string(),
        other => return format!("TLS handshake failed: {other}"),
    };
    format!("certificate verify failed: {why}")
}

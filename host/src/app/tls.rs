//! HTTPS served by the host itself (`[server.tls]`): the certificate and key
//! are read at start and again at every reload, so a renewed certificate is
//! served without a restart. Connections already open keep the certificate
//! they were made with.

use crate::config::Config;
use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Why `[server.tls]` cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {} (server.tls.{field}): {source}", path.display())]
    Read {
        field: &'static str,
        path: PathBuf,
        #[source]
        source: rustls::pki_types::pem::Error,
    },
    #[error("{} holds no PEM certificate (server.tls.cert); expected \"-----BEGIN CERTIFICATE-----\"", path.display())]
    NoCertificate { path: PathBuf },
    #[error("the key in {} does not fit the certificate in {} (server.tls): {source}", key.display(), cert.display())]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        #[source]
        source: rustls::Error,
    },
}

/// The certificate every new TLS connection is offered; swapped on reload.
#[derive(Debug)]
pub struct Certificates {
    current: ArcSwap<CertifiedKey>,
}

impl Certificates {
    pub fn new(first: Arc<CertifiedKey>) -> Arc<Certificates> {
        Arc::new(Certificates { current: ArcSwap::new(first) })
    }

    pub fn replace(&self, next: Arc<CertifiedKey>) {
        self.current.store(next);
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.current.load_full())
    }
}

/// The crypto of every TLS connection: ring, the provider the host's
/// clients (SMTP, HTTP notifiers) already use.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Reads and checks the certificate and key of `[server.tls]`; `None` when
/// the host serves plain HTTP. Blocking (file reads).
pub fn load(config: &Config) -> Result<Option<Arc<CertifiedKey>>, TlsError> {
    let Some(tls) = &config.server.tls else { return Ok(None) };
    let (cert, key) = (config.resolve(&tls.cert), config.resolve(&tls.key));
    let chain = read_chain(&cert)?;
    let private_key = PrivateKeyDer::from_pem_file(&key).map_err(|source| TlsError::Read {
        field: "key",
        path: key.clone(),
        source,
    })?;
    let certified = CertifiedKey::from_der(chain, private_key, &provider())
        .map_err(|source| TlsError::Mismatch { cert, key, source })?;
    Ok(Some(Arc::new(certified)))
}

fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let read_error = |source| TlsError::Read { field: "cert", path: path.to_path_buf(), source };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(read_error)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_error)?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { path: path.to_path_buf() });
    }
    Ok(chain)
}

/// The server side of every TLS connection: HTTP/1.1 only (as the plain
/// listener), TLS 1.2 and 1.3, the certificate from `certificates`.
pub fn server_config(certificates: Arc<Certificates>) -> Arc<rustls::ServerConfig> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_no_client_auth()
        .with_cert_resolver(certificates);
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

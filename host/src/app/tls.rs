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

/// Within this many days of its expiry, the served certificate is warned
/// about at every start and reload.
pub const EXPIRY_WARNING_DAYS: i64 = 14;

/// The certificate every new TLS connection is offered; swapped on reload.
#[derive(Debug)]
pub struct Certificates {
    current: ArcSwap<CertifiedKey>,
}

impl Certificates {
    pub fn new(first: Arc<CertifiedKey>) -> Arc<Certificates> {
        served(&first);
        Arc::new(Certificates { current: ArcSwap::new(first) })
    }

    pub fn replace(&self, next: Arc<CertifiedKey>) {
        served(&next);
        self.current.store(next);
    }
}

/// When the certificate of `key` (the first of its chain) expires, in Unix
/// seconds; `None` if it cannot be parsed (rustls served it anyway).
pub fn expires_at(key: &CertifiedKey) -> Option<i64> {
    validity(key).map(|(_, not_after)| not_after)
}

/// When the certificate of `key` starts being valid, in Unix seconds.
pub fn valid_from(key: &CertifiedKey) -> Option<i64> {
    validity(key).map(|(not_before, _)| not_before)
}

fn validity(key: &CertifiedKey) -> Option<(i64, i64)> {
    let certificate = key.end_entity_cert().ok()?;
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate.as_ref()).ok()?;
    let validity = parsed.validity();
    Some((validity.not_before.timestamp(), validity.not_after.timestamp()))
}

/// Days from now until `expires_at` (negative once expired).
pub fn days_left(expires_at: i64) -> i64 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs() as i64);
    (expires_at - now).div_euclid(86_400)
}

/// Records when the newly served certificate expires, and says so in the
/// log when that is soon: an expired certificate fails every sender's
/// webhook, which no other alert would name.
fn served(key: &CertifiedKey) {
    let Some(expires_at) = expires_at(key) else { return };
    crate::telemetry::tls_certificate_expires(expires_at);
    let days = days_left(expires_at);
    if days < 0 {
        tracing::error!(
            days_ago = -days,
            "the certificate of [server.tls] has expired: senders refuse the connection; renew it and run `inbound reload`"
        );
    } else if days < EXPIRY_WARNING_DAYS {
        tracing::warn!(
            days_left = days,
            "the certificate of [server.tls] expires soon; renew it and run `inbound reload`"
        );
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

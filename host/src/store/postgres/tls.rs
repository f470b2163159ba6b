//! Where to connect, and how: the parsed connection settings with the TLS
//! connector they need.
//!
//! TLS is used when the URL asks for it (`sslmode=require`), with rustls on
//! ring like the host's own HTTPS. Unlike libpq's `require`, the server's
//! certificate is always verified, against `storage.ca_file` or else the
//! public web roots, and its name against the host in the URL: a password
//! sent to whoever answers is not protected. libpq's default, `prefer`
//! (try TLS, fall back silently), is plain here: a connection is encrypted
//! because the URL says so, not by chance.

use anyhow::Context;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use std::path::Path;
use std::sync::Arc;
use tokio_postgres::config::SslMode;
use tokio_postgres_rustls::MakeRustlsConnect;

/// A PostgreSQL server to connect to: settings and TLS connector.
#[derive(Clone)]
pub struct Target {
    pub config: tokio_postgres::Config,
    tls: MakeRustlsConnect,
}

/// One connection; its other half ([`tokio_postgres::Connection`]) does the
/// I/O while polled.
pub type Connection = tokio_postgres::Connection<
    tokio_postgres::Socket,
    <MakeRustlsConnect as tokio_postgres::tls::MakeTlsConnect<tokio_postgres::Socket>>::Stream,
>;

impl Target {
    /// `config` as parsed from the URL; `ca_file` the PEM certificates that
    /// may sign the server's (for `sslmode=require`).
    pub fn new(
        mut config: tokio_postgres::Config,
        ca_file: Option<&Path>,
    ) -> anyhow::Result<Target> {
        if config.get_ssl_mode() == SslMode::Prefer {
            config.ssl_mode(SslMode::Disable);
        }
        let tls = MakeRustlsConnect::new(client_config(ca_file)?);
        Ok(Target { config, tls })
    }

    pub async fn connect(
        &self,
    ) -> Result<(tokio_postgres::Client, Connection), tokio_postgres::Error> {
        self.config.connect(self.tls.clone()).await
    }
}

fn client_config(ca_file: Option<&Path>) -> anyhow::Result<rustls::ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    match ca_file {
        Some(path) => {
            let read = || format!("cannot read storage.ca_file {}", path.display());
            for certificate in CertificateDer::pem_file_iter(path).with_context(read)? {
                let certificate = certificate.with_context(read)?;
                roots.add(certificate).with_context(|| {
                    format!("storage.ca_file {} holds an unusable certificate", path.display())
                })?;
            }
            if roots.is_empty() {
                anyhow::bail!(
                    "storage.ca_file {} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    path.display()
                );
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("cannot set up TLS for PostgreSQL")?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

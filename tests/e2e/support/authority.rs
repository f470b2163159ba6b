//! A certificate authority of the test's own, for the TLS the host serves
//! (`tests/e2e/tls.rs`) and the TLS it uses to reach PostgreSQL.

use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use reqwest::blocking::Client;
use std::time::Duration;

/// A certificate authority of the test's own.
pub struct Authority {
    pub pem: String,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    pub fn new(name: &str) -> Authority {
        let mut params = CertificateParams::new(Vec::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(rcgen::DnType::CommonName, name);
        let key = KeyPair::generate().unwrap();
        let pem = params.self_signed(&key).unwrap().pem();
        Authority { pem, issuer: Issuer::new(params, key) }
    }

    /// A certificate for 127.0.0.1 and localhost: (certificate PEM, key PEM).
    pub fn host_certificate(&self) -> (String, String) {
        self.host_certificate_with(
            CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap(),
        )
    }

    /// The same, valid from two days ago until `days` from now (negative:
    /// expired), and its expiry in Unix seconds.
    pub fn host_certificate_expiring_in(&self, days: i64) -> ((String, String), i64) {
        self.host_certificate_valid(-2, days)
    }

    /// Valid from `from` days from now until `until` days from now, and its
    /// expiry in Unix seconds.
    pub fn host_certificate_valid(&self, from: i64, until: i64) -> ((String, String), i64) {
        let mut params =
            CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
        let at = |days: i64| {
            let day = jiff::Timestamp::now()
                .checked_add(jiff::SignedDuration::from_hours(24 * days))
                .unwrap()
                .to_zoned(jiff::tz::TimeZone::UTC)
                .date();
            rcgen::date_time_ymd(day.year().into(), day.month() as u8, day.day() as u8)
        };
        params.not_before = at(from);
        params.not_after = at(until);
        let expiry = params.not_after.unix_timestamp();
        (self.host_certificate_with(params), expiry)
    }

    pub fn host_certificate_with(&self, params: CertificateParams) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let certificate = params.signed_by(&key, &self.issuer).unwrap();
        (certificate.pem(), key.serialize_pem())
    }

    /// A client that trusts this authority only, on a new connection per
    /// request (so each request sees the certificate served now).
    pub fn client(&self) -> Client {
        Client::builder()
            .tls_built_in_root_certs(false)
            .add_root_certificate(reqwest::Certificate::from_pem(self.pem.as_bytes()).unwrap())
            .pool_max_idle_per_host(0)
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap()
    }
}

//! A real OpenID Connect provider for the console's sign-in tests: panva's
//! `oidc-provider` run by node (tests/e2e/oidc-provider, installed by
//! `make oidc-provider`). Any login id signs in; its email claim is the id.

use super::{cannot_check, workspace_root};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct OidcProvider {
    child: Child,
}

impl OidcProvider {
    /// Starts the provider on `port` as `issuer` with one client; `None`
    /// (after `cannot_check`, which fails unless skipping is allowed) when
    /// node or the package is missing.
    pub fn start(
        port: u16,
        issuer: &str,
        client_id: &str,
        client_secret: &str,
        redirect_uri: &str,
    ) -> Option<OidcProvider> {
        let root = workspace_root();
        if !root.join("target/oidc-provider/node_modules/oidc-provider").is_dir() {
            cannot_check(
                "oidc",
                "the OpenID provider the sign-in test runs is not installed",
                "run `make oidc-provider` (a step of `make test`)",
            );
            return None;
        }
        let spawned = Command::new("node")
            .arg(root.join("tests/e2e/oidc-provider/provider.mjs"))
            .env("OIDC_PORT", port.to_string())
            .env("OIDC_ISSUER", issuer)
            .env("OIDC_CLIENT_ID", client_id)
            .env("OIDC_CLIENT_SECRET", client_secret)
            .env("OIDC_REDIRECT_URI", redirect_uri)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn();
        let mut child = match spawned {
            Ok(child) => child,
            Err(error) => {
                cannot_check("oidc", &format!("node cannot be run: {error}"), "install nodejs");
                return None;
            }
        };
        let (ready_tx, ready_rx) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if line.starts_with("listening ") {
                    let _ = ready_tx.send(());
                }
            }
        });
        if ready_rx.recv_timeout(Duration::from_secs(30)).is_err() {
            let _ = child.kill();
            panic!("the OpenID provider did not start on port {port}");
        }
        Some(OidcProvider { child })
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

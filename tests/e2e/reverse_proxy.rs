//! End to end: the reverse-proxy examples of `contrib/proxy/`, run for real
//! (Debian's nginx and Caddy, installed by `make test`) in front of the
//! real host with `trusted_proxies = ["127.0.0.1"]`. Through either proxy the
//! host sees each sender's own address, not the proxy's and not what the
//! sender wrote into `X-Forwarded-For`, and limits each sender on its own.
//!
//! The proxies run on loopback, so the senders connect from other loopback
//! addresses (127.0.0.3, 127.0.0.4) that are not trusted: as on a real
//! network, only the proxy is.

use crate::support;

use reqwest::blocking::Client;
use std::net::IpAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use support::{Host, KEY, free_port, poll, ticket, workspace_root, zendesk_config};

/// A proxy process, stopped when dropped.
struct Proxy {
    child: Child,
    /// Where senders reach the host through it.
    base: String,
    /// Its standard error, for the failure message.
    log: std::path::PathBuf,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proxy {
    fn wait_until_listening(mut self, port: u16) -> Proxy {
        let up = poll(Duration::from_secs(20), || {
            let exited = matches!(self.child.try_wait(), Ok(Some(_)));
            exited || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        }) && matches!(self.child.try_wait(), Ok(None));
        if !up {
            let _ = self.child.kill();
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            panic!("the proxy did not listen: {log}");
        }
        self
    }
}

/// A host that trusts the proxy on 127.0.0.1 and lets each client send
/// two webhooks at once.
fn host() -> Host {
    Host::start(&zendesk_config("").replace(
        "[server]\n",
        "[server]\ntrusted_proxies = [\"127.0.0.1\"]\nclient_rate_limit_per_second = 1\nclient_rate_limit_burst = 2\n",
    ))
}

fn host_port(host: &Host) -> String {
    host.url("").rsplit(':').next().unwrap().trim_end_matches('/').to_string()
}

/// contrib/proxy/nginx.conf with its placeholders made real: a port of the
/// test's, a certificate of the test's, the host's port.
fn nginx(host: &Host, dir: &Path) -> Proxy {
    let port = free_port();
    let certificate = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    std::fs::write(dir.join("cert.pem"), certificate.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), certificate.signing_key.serialize_pem()).unwrap();
    let example = std::fs::read_to_string(workspace_root().join("contrib/proxy/nginx.conf"))
        .unwrap()
        .replace("listen 443 ssl", &format!("listen 127.0.0.1:{port} ssl"))
        .replace("/etc/ssl/inbound/fullchain.pem", dir.join("cert.pem").to_str().unwrap())
        .replace("/etc/ssl/inbound/privkey.pem", dir.join("key.pem").to_str().unwrap())
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{}", host_port(host)));
    // Run as root (the test machines' CI), nginx would hand its workers to
    // "nobody", who cannot enter the temporary folder.
    let user = if unsafe { libc::geteuid() } == 0 { "user root;" } else { "" };
    let config = format!(
        "{user}\npid {dir}/nginx.pid;\nerror_log {dir}/error.log;\nevents {{}}\nhttp {{\n\
         access_log off;\nclient_body_temp_path {dir}/body;\nproxy_temp_path {dir}/proxy;\n\
         fastcgi_temp_path {dir}/fastcgi;\nuwsgi_temp_path {dir}/uwsgi;\nscgi_temp_path {dir}/scgi;\n\
         {example}\n}}\n",
        dir = dir.display()
    );
    std::fs::write(dir.join("nginx.conf"), config).unwrap();
    // Debian puts it in /usr/sbin, which a user's PATH may not have.
    let nginx = if Path::new("/usr/sbin/nginx").exists() { "/usr/sbin/nginx" } else { "nginx" };
    let child = Command::new(nginx)
        .args(["-p", dir.to_str().unwrap(), "-c", dir.join("nginx.conf").to_str().unwrap()])
        .args(["-g", "daemon off;"])
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
        .spawn()
        .expect("nginx (make test installs Debian's nginx-light)");
    let base = format!("https://127.0.0.1:{port}");
    Proxy { child, base, log: dir.join("stderr.log") }.wait_until_listening(port)
}

/// contrib/proxy/Caddyfile with plain HTTP on a port of the test's instead
/// of automatic certificates for inbound.example.com.
fn caddy(host: &Host, dir: &Path) -> Proxy {
    let port = free_port();
    let example = std::fs::read_to_string(workspace_root().join("contrib/proxy/Caddyfile"))
        .unwrap()
        .replace("inbound.example.com {", &format!("http://127.0.0.1:{port} {{"))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{}", host_port(host)));
    std::fs::write(dir.join("Caddyfile"), format!("{{\n\tadmin off\n}}\n\n{example}")).unwrap();
    let child = Command::new("caddy")
        .args(["run", "--adapter", "caddyfile", "--config"])
        .arg(dir.join("Caddyfile"))
        .env("XDG_DATA_HOME", dir)
        .env("XDG_CONFIG_HOME", dir)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(dir.join("stderr.log")).unwrap())
        .spawn()
        .expect("caddy (make test installs Debian's caddy)");
    let base = format!("http://127.0.0.1:{port}");
    Proxy { child, base, log: dir.join("stderr.log") }.wait_until_listening(port)
}

/// A sender connecting from `address`, trusting any certificate (the
/// proxy's is the test's own).
fn sender(address: &str) -> Client {
    Client::builder()
        .local_address(address.parse::<IpAddr>().unwrap())
        .danger_accept_invalid_certs(true)
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// Ticket `id` from `client` through `proxy`, which the client tries to fool
/// with a forwarded address of its own: (status, the answer's error message).
fn send(proxy: &Proxy, client: &Client, id: u64) -> (u16, String) {
    let response = client
        .post(format!("{}/api/v1/events/zendesk/{KEY}", proxy.base))
        .header("x-forwarded-for", "198.51.100.99")
        .json(&ticket(id, "Open"))
        .send()
        .unwrap();
    let status = response.status().as_u16();
    let answer: serde_json::Value = response.json().unwrap_or_default();
    (status, answer["error"]["message"].as_str().unwrap_or_default().to_string())
}

fn each_sender_is_seen_and_limited_on_its_own(host: &Host, proxy: &Proxy) {
    let (first, second) = (sender("127.0.0.3"), sender("127.0.0.4"));
    assert_eq!(send(proxy, &first, 1).0, 202);
    assert_eq!(send(proxy, &first, 2).0, 202);
    let (status, message) = send(proxy, &first, 3);
    assert_eq!(status, 429, "{message}");
    assert!(message.starts_with("client 127.0.0.3 is over its rate limit"), "{message}");
    assert_eq!(send(proxy, &second, 4).0, 202, "one sender's limit stopped another");
    let logged =
        host.wait_for_log("client=\"127.0.0.3\" via=\"127.0.0.1:", Duration::from_secs(10));
    assert!(logged, "{}", host.logs());
    assert!(!host.logs().contains("198.51.100.99"), "a forged address was believed");
}

#[test]
fn through_nginx_each_sender_is_itself() {
    let host = host();
    let dir = tempfile::tempdir().unwrap();
    let proxy = nginx(&host, dir.path());
    each_sender_is_seen_and_limited_on_its_own(&host, &proxy);
}

#[test]
fn through_caddy_each_sender_is_itself() {
    let host = host();
    let dir = tempfile::tempdir().unwrap();
    let proxy = caddy(&host, dir.path());
    each_sender_is_seen_and_limited_on_its_own(&host, &proxy);
}

#[test]
fn the_caddyfile_example_adapts_as_written() {
    let example = workspace_root().join("contrib/proxy/Caddyfile");
    let output = Command::new("caddy")
        .args(["adapt", "--adapter", "caddyfile", "--config"])
        .arg(&example)
        .output()
        .expect("caddy (make test installs Debian's caddy)");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
}

//! A running `inbound serve` and the HTTP requests tests make to it.

use super::{KEY, TOKEN, poll};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

/// A running host and the folder that holds its config and database.
pub struct Host {
    child: Option<Child>,
    pub base: String,
    pub dir: tempfile::TempDir,
    logs: Arc<Mutex<Vec<String>>>,
    client: reqwest::blocking::Client,
}

impl Host {
    pub fn start(config: &str) -> Host {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join("config.toml"), config).unwrap();
        Self::start_in(dir)
    }

    pub fn start_in(dir: tempfile::TempDir) -> Host {
        Self::start_with(dir, &[], &[])
    }

    /// Starts `inbound serve` on `dir/config.toml` with extra global `args`
    /// (e.g. `--log-format json`) and environment variables.
    pub fn start_with(dir: tempfile::TempDir, args: &[&str], envs: &[(&str, &str)]) -> Host {
        let mut child = Command::new(env!("CARGO_BIN_EXE_inbound"))
            .args(args)
            .arg("serve")
            .arg("--config")
            .arg(dir.path().join("config.toml"))
            .env("INBOUND_LOG", "info")
            .envs(envs.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start the inbound binary");
        let logs = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on http") {
                    let rest = &line[at + "listening on ".len()..];
                    let address: String =
                        rest.chars().take_while(|c| !c.is_whitespace() && *c != '"').collect();
                    let _ = address_tx.send(address);
                }
                sink.lock().unwrap().push(line);
            }
        });
        let base = match address_rx.recv_timeout(Duration::from_secs(60)) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                panic!("inbound did not start; its log:\n{}", logs.lock().unwrap().join("\n"));
            }
        };
        // No pooled connections: a 413 answered before the body is read closes
        // the connection, and the next request must not race that close.
        let client = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        Host { child: Some(child), base, dir, logs, client }
    }

    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("config.toml")
    }

    /// Sends a signal (`HUP`, `TERM`, ...) to the host process.
    pub fn signal(&self, name: &str) {
        let pid = self.child.as_ref().expect("the host is running").id();
        let status =
            Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status().unwrap();
        assert!(status.success());
    }

    /// Waits until a log line contains `needle`, up to `deadline`.
    pub fn wait_for_log(&self, needle: &str, deadline: Duration) -> bool {
        poll(deadline, || self.logs().contains(needle))
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().join("\n")
    }

    /// Stops the host with SIGTERM (a clean shutdown) and starts it again on
    /// the same folder.
    pub fn restart(mut self) -> Host {
        self.stop();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Host::start_in(dir)
    }

    /// SIGKILL: no chance to finish anything. Takes `&self` so it can be
    /// sent while other threads are still posting.
    pub fn kill(&self) {
        if let Some(child) = &self.child {
            let status =
                Command::new("kill").arg("-KILL").arg(child.id().to_string()).status().unwrap();
            assert!(status.success());
        }
    }

    /// Starts again on the same folder after `kill`.
    pub fn restart_after_kill(mut self) -> Host {
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        Host::start_in(dir)
    }

    /// Like `zendesk`, but `None` when the host cannot be reached or the
    /// connection breaks (for tests that kill it).
    pub fn try_zendesk(&self, body: &Value) -> Option<(u16, Value)> {
        let response = self
            .client
            .post(self.url(&format!("/api/v1/events/zendesk/{KEY}")))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .ok()?;
        let status = response.status().as_u16();
        let value = response.json().ok()?;
        Some((status, value))
    }

    /// SIGTERM, then waits; asserts a clean exit.
    pub fn stop(&mut self) {
        if self.child.is_some() {
            self.signal("TERM");
            self.stop_after_signal();
        }
    }

    /// Waits for the exit a signal asked for; asserts it was clean (code 0).
    pub fn stop_after_signal(&mut self) {
        if let Some(mut child) = self.child.take() {
            let exit = child.wait().unwrap();
            assert!(exit.success(), "inbound exited with {exit}; log:\n{}", self.logs());
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    pub fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::blocking::Body>,
    ) -> (u16, Value) {
        let (status, _, value) = self.post_full(path, content_type, body);
        (status, value)
    }

    /// POST, returning the status, the headers and the JSON answer.
    pub fn post_full(
        &self,
        path: &str,
        content_type: &str,
        body: impl Into<reqwest::blocking::Body>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let (status, headers, value) =
            self.post_with_headers(path, &[("content-type", content_type)], body);
        assert!(!value.is_null(), "the answer ({status}) is not JSON");
        (status, headers, value)
    }

    /// Posts a Zendesk webhook body to the `support` source.
    pub fn zendesk(&self, body: &Value) -> (u16, Value) {
        self.post_raw(
            &format!("/api/v1/events/zendesk/{KEY}"),
            "application/json",
            body.to_string(),
        )
    }

    /// GET with the test config's API token.
    pub fn get(&self, path: &str) -> (u16, Value) {
        self.get_as(path, Some(TOKEN))
    }

    /// GET with `token` as bearer token, or none.
    pub fn get_as(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().expect("GET");
        let status = response.status().as_u16();
        (status, response.json().expect("JSON answer"))
    }

    /// GET a text answer (e.g. `/metrics`) with `token`, or none.
    pub fn get_text(&self, path: &str, token: Option<&str>) -> (u16, String) {
        let mut request = self.client.get(self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().expect("GET");
        (response.status().as_u16(), response.text().unwrap())
    }

    /// Every incident, following `next_before` across pages.
    pub fn all_incidents(&self) -> Vec<Value> {
        let mut all = Vec::new();
        let mut path = "/api/v1/incidents?limit=500".to_string();
        loop {
            let (status, page) = self.get(&path);
            assert_eq!(status, 200, "{page}");
            all.extend(page["incidents"].as_array().unwrap().iter().cloned());
            match page["next_before"].as_u64() {
                Some(before) => path = format!("/api/v1/incidents?limit=500&before={before}"),
                None => return all,
            }
        }
    }

    /// POST a JSON body with the test config's API token.
    pub fn post_json(&self, path: &str, body: &Value) -> (u16, Value) {
        let response =
            self.client.post(self.url(path)).bearer_auth(TOKEN).json(body).send().expect("POST");
        let status = response.status().as_u16();
        (status, response.json().expect("JSON answer"))
    }

    pub fn incidents(&self) -> Vec<Value> {
        let (status, body) = self.get("/api/v1/incidents?limit=500");
        assert_eq!(status, 200, "{body}");
        body["incidents"].as_array().unwrap().clone()
    }

    pub fn incident(&self, id: &Value) -> Value {
        let (status, body) = self.get(&format!("/api/v1/incidents/{id}"));
        assert_eq!(status, 200, "{body}");
        body
    }
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Host {
    /// POST `body` to `path` with extra `headers`: the status, the answer's
    /// headers and its JSON (`Value::Null` when the answer is not JSON).
    pub fn post_with_headers(
        &self,
        path: &str,
        headers: &[(&str, &str)],
        body: impl Into<reqwest::blocking::Body>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let body: reqwest::blocking::Body = body.into();
        let bytes = body.as_bytes().expect("an in-memory body").to_vec();
        // A server that refuses a request early (413, 431) answers and closes
        // while the client may still be sending; the client then sometimes
        // sees the reset instead of the answer. Sending again reads it.
        let mut attempts = 0;
        let response = loop {
            let mut request = self.client.post(self.url(path)).body(bytes.clone());
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            attempts += 1;
            match request.send() {
                Ok(response) => break response,
                Err(error)
                    if attempts < 3
                        && (error.is_request() || error.is_body() || error.is_connect()) =>
                {
                    continue;
                }
                Err(error) => panic!("POST {path}: {error}"),
            }
        };
        let status = response.status().as_u16();
        let answer_headers = response.headers().clone();
        let value =
            serde_json::from_str(&response.text().unwrap_or_default()).unwrap_or(Value::Null);
        (status, answer_headers, value)
    }

    /// Everything the API shows of the database: every incident with its
    /// full log, and every failed delivery. Two equal snapshots mean nothing
    /// visible changed (the redb file itself may be rewritten page by page
    /// even when its content is the same, so bytes are not compared).
    ///
    /// The escalation clock works beside the requests, so the snapshot is
    /// taken once no incident has an escalation step due: two snapshots then
    /// differ only by what the test itself did.
    pub fn snapshot(&self) -> Value {
        let mut taken = Value::Null;
        let settled = poll(Duration::from_secs(20), || {
            taken = self.snapshot_now();
            !escalation_due(&taken)
        });
        assert!(settled, "an escalation step stayed due for 20 s: {taken}");
        taken
    }

    fn snapshot_now(&self) -> Value {
        let incidents: Vec<Value> =
            self.all_incidents().iter().map(|incident| self.incident(&incident["id"])).collect();
        let (status, failed) = self.get("/api/v1/failed?limit=500");
        assert_eq!(status, 200, "{failed}");
        json!({"incidents": incidents, "failed": failed})
    }
}

/// Whether any incident in a snapshot has an escalation step whose time has
/// come (the clock will change it any moment).
fn escalation_due(snapshot: &Value) -> bool {
    let now = jiff::Timestamp::now();
    snapshot["incidents"].as_array().into_iter().flatten().any(|incident| {
        incident["escalation"]["next_at"]
            .as_str()
            .is_some_and(|at| at.parse::<jiff::Timestamp>().is_ok_and(|at| at <= now))
    })
}

impl Host {
    /// A raw TCP connection to the host, for tests that must send a request
    /// slowly or malformed. Reads time out after 10 s so a test fails
    /// rather than hangs.
    pub fn connect(&self) -> std::net::TcpStream {
        let address = self.base.split_once("://").map_or(self.base.as_str(), |(_, rest)| rest);
        let stream = std::net::TcpStream::connect(address).expect("connect to the host");
        stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        stream
    }
}

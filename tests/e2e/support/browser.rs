//! A real browser for the console's end-to-end tests: Debian's headless
//! `chromium`, driven through `chromedriver` (WebDriver) with fantoccini.
//!
//! Methods are synchronous (each blocks on its WebDriver command) so tests
//! read top to bottom and can mix browser steps with the blocking HTTP
//! helpers of `support::Host`. When a test panics, the page it was on is
//! saved as `<screenshots>/<test>-failure.png` before the browser closes.

#![allow(dead_code)]

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// Longest a test waits for something to appear on a page.
pub const PATIENCE: Duration = Duration::from_secs(15);

pub struct Browser {
    runtime: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    test: String,
    _profile: tempfile::TempDir,
}

/// Where screenshots go: `UI_SCREENSHOTS` or `target/ui-screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let dir = std::env::var_os("UI_SCREENSHOTS").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/ui-screenshots")
    });
    std::fs::create_dir_all(&dir).expect("create the screenshot folder");
    dir
}

impl Browser {
    /// Starts chromedriver on a free port and opens a headless window of
    /// `width` x `height` CSS pixels. `test` names the failure screenshot.
    pub fn start(test: &str, width: u32, height: u32) -> Browser {
        for program in [CHROMIUM, CHROMEDRIVER] {
            assert!(
                std::path::Path::new(program).exists(),
                "{program} is missing: install Debian's chromium and chromium-driver (make test-deps does)"
            );
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        let profile = tempfile::tempdir().unwrap();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                    "--no-first-run", "--disable-extensions", "--hide-scrollbars",
                    format!("--window-size={width},{height}"),
                    format!("--user-data-dir={}", profile.path().display()),
                ]
            }
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!(),
        };
        let webdriver = format!("http://127.0.0.1:{port}");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let started = Instant::now();
        // chromedriver needs a moment before it accepts sessions.
        let client = loop {
            let attempt = runtime.block_on(
                ClientBuilder::new(connector.clone())
                    .capabilities(capabilities.clone())
                    .connect(&webdriver),
            );
            match attempt {
                Ok(client) => break client,
                Err(error) if started.elapsed() > Duration::from_secs(30) => {
                    panic!("cannot open a browser session through chromedriver: {error}")
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        };
        let browser = Browser {
            runtime,
            client: Some(client),
            driver,
            test: test.to_string(),
            _profile: profile,
        };
        browser.resize(width, height);
        browser
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the browser is open")
    }

    pub fn goto(&self, url: &str) {
        self.runtime
            .block_on(self.client().goto(url))
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    pub fn url(&self) -> String {
        self.runtime.block_on(self.client().current_url()).expect("current url").to_string()
    }

    /// The path and query of the current page, e.g. `/ui/?status=pending`.
    pub fn path(&self) -> String {
        let url = self.runtime.block_on(self.client().current_url()).expect("current url");
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_string(),
        }
    }

    /// Sets the viewport (not the outer window) to `width` x `height`.
    pub fn resize(&self, width: u32, height: u32) {
        let (outer_w, outer_h, inner_w, inner_h) = {
            let sizes = self.js(
                "return [window.outerWidth, window.outerHeight, window.innerWidth, window.innerHeight];",
            );
            let n = |i: usize| sizes[i].as_u64().unwrap_or(0) as u32;
            (n(0), n(1), n(2), n(3))
        };
        let (w, h) =
            (width + outer_w.saturating_sub(inner_w), height + outer_h.saturating_sub(inner_h));
        self.runtime.block_on(self.client().set_window_size(w, h)).expect("resize the window");
    }

    pub fn exists(&self, css: &str) -> bool {
        self.runtime
            .block_on(self.client().find_all(Locator::Css(css)))
            .map(|found| !found.is_empty())
            .unwrap_or(false)
    }

    pub fn count(&self, css: &str) -> usize {
        self.runtime.block_on(self.client().find_all(Locator::Css(css))).map_or(0, |f| f.len())
    }

    /// The visible text of the first element matching `css`. Read in one
    /// script call, so a list the live feed swaps meanwhile cannot go stale.
    pub fn text(&self, css: &str) -> String {
        let text = self.js_with(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText.trim() : null;",
            json!(css),
        );
        text.as_str().unwrap_or_else(|| panic!("no element {css}")).to_string()
    }

    /// The texts of every element matching `css`.
    pub fn texts(&self, css: &str) -> Vec<String> {
        let texts = self.js_with(
            "return Array.from(document.querySelectorAll(arguments[0])).map(e => e.innerText.trim());",
            json!(css),
        );
        serde_json::from_value(texts).expect("a list of texts")
    }

    pub fn attr(&self, css: &str, name: &str) -> Option<String> {
        let value = self.js_with(
            "const e = document.querySelector(arguments[0]); return e ? e.getAttribute(arguments[1]) : null;",
            json!([css, name]),
        );
        value.as_str().map(str::to_string)
    }

    pub fn fill(&self, css: &str, value: &str) {
        self.runtime.block_on(async {
            let element = self
                .client()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("no field {css}: {e}"));
            element.clear().await.expect("clear the field");
            element.send_keys(value).await.expect("type into the field");
        })
    }

    pub fn click(&self, css: &str) {
        self.runtime.block_on(async {
            let element = self
                .client()
                .find(Locator::Css(css))
                .await
                .unwrap_or_else(|e| panic!("nothing to click at {css}: {e}"));
            element.click().await.unwrap_or_else(|e| panic!("click {css}: {e}"));
        })
    }

    pub fn select(&self, css: &str, value: &str) {
        self.runtime.block_on(async {
            let element = self.client().find(Locator::Css(css)).await.expect("select element");
            element.select_by_value(value).await.expect("choose an option");
        })
    }

    /// Types `keys` into whatever has the focus, as a keyboard would
    /// (WebDriver key codes: "\u{E004}" is Tab, "\u{E007}" is Enter).
    pub fn press(&self, keys: &str) {
        self.runtime.block_on(async {
            let focused = self.client().active_element().await.expect("a focused element");
            focused.send_keys(keys).await.expect("send keys");
        })
    }

    /// Runs `script` with `arguments` (one value, or an array spread into
    /// `arguments[0..]`).
    fn js_with(&self, script: &str, arguments: Value) -> Value {
        let arguments = match arguments {
            Value::Array(values) => values,
            value => vec![value],
        };
        self.runtime
            .block_on(self.client().execute(script, arguments))
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// Runs `script` in the page and returns what it returns.
    pub fn js(&self, script: &str) -> Value {
        self.runtime
            .block_on(self.client().execute(script, Vec::new()))
            .unwrap_or_else(|e| panic!("script failed: {e}"))
    }

    /// Waits until `ready` is true, polling every 50 ms, up to [`PATIENCE`].
    pub fn wait_until(&self, what: &str, mut ready: impl FnMut(&Browser) -> bool) {
        let until = Instant::now() + PATIENCE;
        while !ready(self) {
            assert!(Instant::now() < until, "waited {PATIENCE:?} for {what}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_for(&self, css: &str) {
        self.wait_until(css, |browser| browser.exists(css));
    }

    /// Saves the page as `<screenshots>/<name>.png`.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.runtime.block_on(self.client().screenshot()).expect("screenshot");
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if std::thread::panicking()
            && self.client.is_some()
            && let Ok(png) = self.runtime.block_on(self.client().screenshot())
        {
            let path = screenshot_dir().join(format!("{}-failure.png", self.test));
            if std::fs::write(&path, png).is_ok() {
                eprintln!("screenshot of the failing page: {}", path.display());
            }
        }
        if let Some(client) = self.client.take() {
            let _ = self.runtime.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

//! A real browser for the console tests: Debian's headless `chromium`
//! driven through `chromedriver` with the W3C WebDriver protocol, spoken by
//! fantoccini. The tests are synchronous: each call runs to its end on a
//! runtime of the browser's own.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use super::free_port;

/// Where screenshots go: `<target>/tmp/console-screenshots`.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("console-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

/// How long the first wait after opening the console may take: Chromium
/// loads the page's modules and connects the event stream. Under the whole
/// suite on 2 cores this once took over 10 s (the page still said
/// "connecting…"); later waits are short again.
pub const PAGE_OPEN: Duration = Duration::from_secs(30);

pub struct Browser {
    driver: Child,
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
}

pub struct Element(fantoccini::elements::Element);

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

impl Browser {
    /// A headless Chromium of 1280×800 in `scheme` (`light` or `dark`).
    pub fn start(scheme: &str) -> Browser {
        let driver = find_program(&["chromedriver"]).unwrap_or_else(|| {
            panic!("the console tests need a browser: `chromedriver` is not on PATH (Debian: apt-get install chromium chromium-driver; .ci/run installs them)")
        });
        let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"])
            .unwrap_or_else(|| panic!("the console tests need `chromium` on PATH (Debian: apt-get install chromium chromium-driver)"));
        let port = free_port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let mut b = Browser {
            driver: child,
            rt,
            client: None,
        };
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                         "--disable-dev-shm-usage", "--window-size=1280,800",
                         "--hide-scrollbars", "--no-first-run",
                         format!("--force-prefers-color-scheme={scheme}"),
                         format!("--blink-settings=preferredColorScheme={}", if scheme == "dark" { 0 } else { 1 })]
            }
        });
        let Value::Object(caps) = caps else {
            unreachable!("the capabilities are an object")
        };
        let url = format!("http://127.0.0.1:{port}");
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        // chromedriver takes a moment to listen.
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = loop {
            match b.rt.block_on(
                ClientBuilder::new(connector.clone())
                    .capabilities(caps.clone())
                    .connect(&url),
            ) {
                Ok(c) => break c,
                Err(e) => {
                    assert!(Instant::now() < deadline, "chromedriver did not start: {e}");
                    std::thread::sleep(Duration::from_millis(50));
                }
            }
        };
        b.client = Some(client);
        b
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("a session")
    }

    pub fn goto(&self, url: &str) {
        self.rt
            .block_on(self.client().goto(url))
            .unwrap_or_else(|e| panic!("webdriver: goto {url}: {e}"));
    }

    /// Runs `script` (a function body; may return a promise) in the page.
    #[track_caller]
    pub fn eval(&self, script: &str) -> Value {
        self.rt
            .block_on(self.client().execute(script, Vec::new()))
            .unwrap_or_else(|e| panic!("webdriver: execute: {e}"))
    }

    pub fn try_find(&self, css: &str) -> Option<Element> {
        self.rt
            .block_on(self.client().find(Locator::Css(css)))
            .ok()
            .map(Element)
    }

    /// The first element matching `css`, waiting up to 10 s for it.
    #[track_caller]
    pub fn find(&self, css: &str) -> Element {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(e) = self.try_find(css) {
                return e;
            }
            assert!(Instant::now() < deadline, "no element `{css}` in the page");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    #[track_caller]
    pub fn click(&self, css: &str) {
        let e = self.find(css);
        self.rt
            .block_on(e.0.click())
            .unwrap_or_else(|e| panic!("webdriver: click {css}: {e}"));
    }

    /// Replaces the text of an input or textarea, as typed.
    #[track_caller]
    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.rt
            .block_on(async {
                e.0.clear().await?;
                e.0.send_keys(text).await
            })
            .unwrap_or_else(|e| panic!("webdriver: type into {css}: {e}"));
    }

    /// Presses keys (WebDriver key codes, e.g. "\u{E007}" for Enter) on
    /// whatever has the focus.
    pub fn keys(&self, text: &str) {
        let mut actions = KeyActions::new("keyboard".to_string());
        for c in text.chars() {
            actions = actions
                .then(KeyAction::Down { value: c })
                .then(KeyAction::Up { value: c });
        }
        self.rt
            .block_on(self.client().perform_actions(actions))
            .unwrap_or_else(|e| panic!("webdriver: keys: {e}"));
    }

    /// The visible text of the first element matching `css` ("" if none).
    pub fn text(&self, css: &str) -> String {
        self.eval(&format!(
            "const e = document.querySelector({}); return e ? e.innerText : '';",
            json!(css)
        ))
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// What the page has loaded, for a failure to say where it stalled:
    /// its ready state and each request that completed (path, start and
    /// duration in ms); a request missing from the list never completed.
    fn loaded(&self) -> String {
        let v = self.eval(
            "return 'document ' + document.readyState + '; completed requests:\\n' + \
             performance.getEntriesByType('resource').map(e => '  ' + \
             e.name.replace(location.origin, '') + ' at ' + Math.round(e.startTime) + \
             ' ms, took ' + Math.round(e.duration) + ' ms').join('\\n');",
        );
        v.as_str().unwrap_or_default().to_string()
    }

    /// Waits until `script` returns something truthy; returns it.
    #[track_caller]
    pub fn wait_for(&self, what: &str, timeout: Duration, script: &str) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let v = self.eval(script);
            let truthy = match &v {
                Value::Null => false,
                Value::Bool(b) => *b,
                Value::String(s) => !s.is_empty(),
                Value::Number(n) => n.as_f64() != Some(0.0),
                _ => true,
            };
            if truthy {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "waited {timeout:?} for {what}; the page says:\n{}\n{}",
                self.text("body"),
                self.loaded()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Saves what the browser shows as a PNG in [`screenshot_dir`].
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let png = self
            .rt
            .block_on(self.client().screenshot())
            .unwrap_or_else(|e| panic!("webdriver: screenshot: {e}"));
        let path = screenshot_dir().join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write screenshot");
        path
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self.rt.block_on(c.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

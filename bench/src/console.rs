//! The web console's incident list over many stored incidents: sign in once
//! like a browser would, then wrk pages through `/ui/` at random depths and
//! filters with the session cookie (`bench/wrk/console-pages.lua`).

use crate::servers;
use crate::wrk::{self, Load, WrkResult};
use anyhow::{Context, bail};

/// Signs in to the console at `base` and returns the session's `Cookie` value.
pub fn sign_in(base: &str) -> anyhow::Result<String> {
    let client =
        reqwest::blocking::Client::builder().redirect(reqwest::redirect::Policy::none()).build()?;
    let form = client.get(format!("{base}/ui/sign-in")).send()?;
    let form_cookie = cookie(&form, "inbound_sign_in")?;
    let page = form.text()?;
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("the sign-in page has no CSRF token")?
        .to_string();
    let signed_in = client
        .post(format!("{base}/ui/sign-in"))
        .header("cookie", format!("inbound_sign_in={form_cookie}"))
        .form(&[("csrf", csrf.as_str()), ("token", servers::TOKEN), ("next", "/ui/")])
        .send()?;
    if signed_in.status().as_u16() != 303 {
        bail!("console sign-in answered {}", signed_in.status());
    }
    Ok(format!("inbound_session={}", cookie(&signed_in, "inbound_session")?))
}

fn cookie(response: &reqwest::blocking::Response, name: &str) -> anyhow::Result<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| value.strip_prefix(&format!("{name}=")))
        .and_then(|value| value.split(';').next())
        .map(str::to_string)
        .with_context(|| format!("the answer set no {name} cookie"))
}

/// Pages of the incident list over `incidents` stored incidents, for `seconds`.
pub fn measure(base: &str, incidents: u64, seconds: u32) -> anyhow::Result<WrkResult> {
    let cookie = sign_in(base)?;
    // wrk counts only 4xx and 5xx as errors: make sure the cookie gets the
    // page itself, not a 303 to the sign-in form.
    let page = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?
        .get(format!("{base}/ui/"))
        .header("cookie", &cookie)
        .send()?;
    if page.status().as_u16() != 200 || !page.text()?.contains("incident-list") {
        bail!("the signed-in console did not answer its incident list");
    }
    wrk::run(&Load {
        script: "console-pages.lua",
        url: base.to_string(),
        connections: 4,
        threads: 1,
        seconds,
        script_args: vec![incidents.to_string(), cookie],
    })
}

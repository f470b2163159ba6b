//! The web console without a browser.

use super::Host;

/// Signs in to the web console over plain HTTP with `token`, as from
/// `client` (an `X-Forwarded-For` address) when given: the answer to the
/// form (303 to the console on success). Redirects are not followed.
pub fn console_sign_in(
    host: &Host,
    token: &str,
    client: Option<&str>,
) -> reqwest::blocking::Response {
    let http = reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let forwarded: Vec<(&str, &str)> =
        client.map(|address| ("x-forwarded-for", address)).into_iter().collect();
    let with_client = |mut request: reqwest::blocking::RequestBuilder| {
        for (name, value) in &forwarded {
            request = request.header(*name, *value);
        }
        request
    };
    let form = with_client(http.get(host.url("/ui/sign-in"))).send().unwrap();
    let sign_in_cookie = cookie(&form, "inbound_sign_in");
    let page = form.text().unwrap();
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap();
    with_client(http.post(host.url("/ui/sign-in")))
        .header("cookie", format!("inbound_sign_in={sign_in_cookie}"))
        .form(&[("csrf", csrf), ("token", token), ("next", "/ui/")])
        .send()
        .unwrap()
}

/// The value of the cookie `name` an answer sets.
pub fn cookie(response: &reqwest::blocking::Response, name: &str) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .and_then(|v| v.split(';').next())
        .unwrap_or_else(|| panic!("no {name} cookie"))
        .to_string()
}

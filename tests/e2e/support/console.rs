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
    sign_in_with(host, &[("token", token)], client)
}

/// Signs in to the web console as a person with `name` and `password`.
pub fn person_sign_in(host: &Host, name: &str, password: &str) -> reqwest::blocking::Response {
    sign_in_with(host, &[("name", name), ("password", password)], None)
}

/// Posts the sign-in form with `fields` (a token, or a name and password).
fn sign_in_with(
    host: &Host,
    fields: &[(&str, &str)],
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
        .form(&[&[("csrf", csrf), ("next", "/ui/")], fields].concat())
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

/// A signed-in console session over plain HTTP: its cookie, and requests
/// that carry it (redirects are not followed).
pub struct ConsoleSession<'a> {
    host: &'a Host,
    pub cookie: String,
    http: reqwest::blocking::Client,
}

impl<'a> ConsoleSession<'a> {
    /// The session a sign-in answer opened.
    pub fn from_sign_in(
        host: &'a Host,
        answer: &reqwest::blocking::Response,
    ) -> ConsoleSession<'a> {
        assert_eq!(answer.status().as_u16(), 303, "sign-in refused");
        ConsoleSession::with_cookie(host, &cookie(answer, "inbound_session"))
    }

    pub fn with_cookie(host: &'a Host, value: &str) -> ConsoleSession<'a> {
        let http = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        ConsoleSession { host, cookie: value.to_string(), http }
    }

    /// GET `path`: the status and the page.
    pub fn get(&self, path: &str) -> (u16, String) {
        let answer = self
            .http
            .get(self.host.url(path))
            .header("cookie", format!("inbound_session={}", self.cookie))
            .send()
            .unwrap();
        (answer.status().as_u16(), answer.text().unwrap_or_default())
    }

    /// The CSRF token of this session, read from the sign-out form that
    /// every signed-in page carries.
    pub fn csrf(&self) -> String {
        let (status, page) = self.get("/ui/");
        assert_eq!(status, 200, "{page}");
        page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
    }

    /// POST a form to `path` with this session's CSRF token and `fields`.
    pub fn post(&self, path: &str, csrf: &str, fields: &[(&str, &str)]) -> (u16, String) {
        let answer = self
            .http
            .post(self.host.url(path))
            .header("cookie", format!("inbound_session={}", self.cookie))
            .form(&[&[("csrf", csrf)], fields].concat())
            .send()
            .unwrap();
        (answer.status().as_u16(), answer.text().unwrap_or_default())
    }
}

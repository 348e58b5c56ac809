//! Reading a request the way the SmartQQ servers did (cookies, query, the `r` form field,
//! Referer host) and writing replies in their shapes.

use std::collections::HashMap;

use axum::body::Bytes;
use axum::http::header::{CONTENT_TYPE, COOKIE, HOST, REFERER, SERVER, SET_COOKIE, USER_AGENT};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;
use smartqq_protocol::retcode::Retcode;

/// One request, parsed once.
#[derive(Debug)]
pub(crate) struct Call {
    pub headers: HeaderMap,
    pub query: HashMap<String, String>,
    pub form: HashMap<String, String>,
    pub cookies: HashMap<String, String>,
}

impl Call {
    pub fn new(headers: HeaderMap, uri: &Uri, body: &Bytes) -> Self {
        let query = uri.query().map(parse_pairs).unwrap_or_default();
        let form = parse_pairs_bytes(body);
        let mut cookies = HashMap::new();
        for header in headers.get_all(COOKIE) {
            let Ok(text) = header.to_str() else { continue };
            for pair in text.split(';') {
                if let Some((name, value)) = pair.trim().split_once('=') {
                    cookies.insert(name.trim().to_owned(), value.trim().to_owned());
                }
            }
        }
        Self {
            headers,
            query,
            form,
            cookies,
        }
    }

    /// A query parameter.
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name).map(String::as_str)
    }

    /// A cookie.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// The `r` field from the form body, else from the query (Mojo sent it in the query
    /// and it worked, spec §2.2), parsed as a JSON object.
    pub fn r(&self) -> Option<Value> {
        let text = self.form.get("r").or_else(|| self.query.get("r"))?;
        serde_json::from_str::<Value>(text)
            .ok()
            .filter(Value::is_object)
    }

    /// The host name the client addressed, without port or trailing dot.
    pub fn host(&self) -> String {
        host_name(&self.headers)
    }

    /// Whether the client addressed one of the real service's host names.
    pub fn addresses_real_host(&self) -> bool {
        let host = self.host();
        host == "qq.com" || host.ends_with(".qq.com")
    }

    /// The `Host` header as sent, port included; used to build URLs that point back here.
    /// Anything but host and port characters is refused, so a crafted header cannot
    /// smuggle a path or query into the URLs the sandbox hands out.
    pub fn authority(&self) -> String {
        self.headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .filter(|h| {
                !h.is_empty()
                    && h.len() <= 255
                    && h.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
            })
            .unwrap_or("127.0.0.1")
            .to_owned()
    }

    /// The host of the Referer header, if any.
    pub fn referer_host(&self) -> Option<String> {
        let referer = self.headers.get(REFERER)?.to_str().ok()?;
        let rest = referer.split_once("://").map_or(referer, |(_, rest)| rest);
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        Some(strip_port(host).to_ascii_lowercase())
    }

    /// Whether a User-Agent was sent.
    pub fn has_user_agent(&self) -> bool {
        self.headers
            .get(USER_AGENT)
            .is_some_and(|ua| !ua.is_empty())
    }
}

/// The host name of a request's `Host` header: lower case, without port or trailing dot.
pub(crate) fn host_name(headers: &HeaderMap) -> String {
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    strip_port(host).trim_end_matches('.').to_ascii_lowercase()
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split_once(']').map_or(host, |(h, _)| &h[1..]);
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

fn parse_pairs(text: &str) -> HashMap<String, String> {
    form_urlencoded::parse(text.as_bytes())
        .into_owned()
        .collect()
}

fn parse_pairs_bytes(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body).into_owned().collect()
}

/// A JSON reply in the servers' style: `text/plain; charset=UTF-8`, `Server: tws`.
pub(crate) fn json_reply(body: &impl Serialize) -> Response {
    json_reply_status(StatusCode::OK, body)
}

pub(crate) fn json_reply_status(status: StatusCode, body: &impl Serialize) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| r#"{"retcode":100001}"#.to_owned());
    let mut response = (status, text).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=UTF-8"),
    );
    headers.insert(SERVER, HeaderValue::from_static("tws"));
    response
}

/// A request the server refuses with a retcode; answers `{"errmsg":"error","retcode":N}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Refusal(pub Retcode);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        retcode_reply(self.0)
    }
}

/// `{"errmsg":"error","retcode":N}`.
pub(crate) fn retcode_reply(retcode: Retcode) -> Response {
    json_reply(&serde_json::json!({ "errmsg": "error", "retcode": retcode.0 }))
}

/// A `{"retcode":0,"result":…}` reply.
pub(crate) fn result_reply(result: &impl Serialize) -> Response {
    json_reply(&serde_json::json!({ "retcode": 0, "result": result }))
}

/// A ptlogin JavaScript reply.
pub(crate) fn js_reply(text: String) -> Response {
    let mut response = text.into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/javascript; charset=utf-8"),
    );
    response
}

/// Adds `Set-Cookie` headers. Cookies get the real service's `Domain` only when the client
/// addressed a real host name; on loopback they are host-only, or clients would drop them.
pub(crate) fn set_cookies(response: &mut Response, call: &Call, cookies: &[(&str, &str, &str)]) {
    let real_host = call.addresses_real_host();
    for (name, value, domain) in cookies {
        let mut cookie = format!("{name}={value}; Path=/");
        if real_host {
            cookie.push_str("; Domain=");
            cookie.push_str(domain);
        }
        if let Ok(header) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, header);
        }
    }
}

/// The nginx page a gateway timeout came with (FAULTS BR-11).
pub(crate) fn gateway_timeout() -> Response {
    let page = "<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body bgcolor=\"white\">\r\n<center><h1>504 Gateway Time-out</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    let mut response = (StatusCode::GATEWAY_TIMEOUT, page).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("text/html"));
    response
}

/// The Tomcat 404 page `get_friend_uin2` gave after it closed in 2017.
pub(crate) fn tomcat_not_found() -> Response {
    let page = "<html><head><title>Apache Tomcat/6.0.45 - Error report</title></head><body><h1>HTTP Status 404 - </h1></body></html>";
    let mut response = (StatusCode::NOT_FOUND, page).into_response();
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html;charset=utf-8"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referer_host_ignores_scheme_port_and_path() {
        let mut headers = HeaderMap::new();
        headers.insert(
            REFERER,
            HeaderValue::from_static(
                "https://D1.web2.qq.com:443/proxy.html?v=20151105001&callback=1",
            ),
        );
        let call = Call::new(headers, &Uri::from_static("/channel/poll2"), &Bytes::new());

        assert_eq!(call.referer_host().as_deref(), Some("d1.web2.qq.com"));
    }

    #[test]
    fn r_is_read_from_the_form_or_the_query() {
        let body = Bytes::from_static(b"r=%7B%22a%22%3A1%7D");
        let from_form = Call::new(HeaderMap::new(), &Uri::from_static("/x"), &body);
        let from_query = Call::new(
            HeaderMap::new(),
            &Uri::from_static("/x?r=%7B%22a%22%3A2%7D"),
            &Bytes::new(),
        );
        let broken = Call::new(
            HeaderMap::new(),
            &Uri::from_static("/x?r=%7Bnope"),
            &Bytes::new(),
        );

        assert_eq!(from_form.r().unwrap()["a"], 1);
        assert_eq!(from_query.r().unwrap()["a"], 2);
        assert!(broken.r().is_none());
    }
}

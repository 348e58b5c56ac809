//! Where each SmartQQ host is reached: the real hosts by default, or one base URL for the
//! sandbox, with per-host overrides.

use std::fmt;

/// Base URLs (scheme, host and optional port, no trailing slash) of the hosts the client
/// talks to (spec §2.1).
#[derive(Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `ssl.ptlogin2.qq.com`: `ptqrshow`, `ptqrlogin`, `check`, `login`.
    pub ptlogin: String,
    /// `ssl.captcha.qq.com`: the captcha image.
    pub captcha: String,
    /// `s.web2.qq.com`: `/api/*`.
    pub s_web2: String,
    /// `d1.web2.qq.com` (SmartQQ) or `d.web2.qq.com` (legacy): `/channel/*`.
    pub d_web2: String,
}

impl Endpoints {
    /// The real service's hosts, for real use only (it was switched off in 2019).
    pub fn real() -> Self {
        Self {
            ptlogin: "https://ssl.ptlogin2.qq.com".to_owned(),
            captcha: "https://ssl.captcha.qq.com".to_owned(),
            s_web2: "https://s.web2.qq.com".to_owned(),
            d_web2: "https://d1.web2.qq.com".to_owned(),
        }
    }

    /// Every host at one base URL, as the sandbox serves them (`--server URL`).
    pub fn single(base: &str) -> Self {
        let base = base.trim_end_matches('/').to_owned();
        Self {
            ptlogin: base.clone(),
            captcha: base.clone(),
            s_web2: base.clone(),
            d_web2: base,
        }
    }

    /// Whether these are the real host names, whose cookies carry real domains.
    pub(crate) fn uses_real_hosts(&self) -> bool {
        self.s_web2.ends_with(".qq.com")
    }
}

impl Default for Endpoints {
    fn default() -> Self {
        Self::real()
    }
}

impl fmt::Debug for Endpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoints")
            .field("ptlogin", &self.ptlogin)
            .field("s_web2", &self.s_web2)
            .field("d_web2", &self.d_web2)
            .finish_non_exhaustive()
    }
}

/// Referer values of spec §2.2.
pub(crate) mod referer {
    /// For `/api/*`.
    pub const S: &str = "https://s.web2.qq.com/proxy.html?v=20130916001&callback=1&id=1";
    /// For `/channel/*`.
    pub const D1: &str = "https://d1.web2.qq.com/proxy.html?v=20151105001&callback=1&id=2";
    /// For sends in the 2018 era.
    pub const CF: &str = "https://d1.web2.qq.com/cfproxy.html?v=20151105001&callback=1";
    /// For `ptqrlogin`.
    pub const PT: &str = "https://ui.ptlogin2.qq.com/cgi-bin/login?daid=164&target=self&style=16&mibao_css=m_webqq&appid=501004106&enable_qlogin=0&no_verifyimg=1&s_url=http%3A%2F%2Fw.qq.com%2Fproxy.html&f_url=loginerroralert&strong_login=1&login_state=10&t=20131024001";
    /// Origin of POSTs to s.web2.
    pub const ORIGIN_S: &str = "https://s.web2.qq.com";
    /// Origin of POSTs to d1.web2.
    pub const ORIGIN_D1: &str = "https://d1.web2.qq.com";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn single_base_serves_every_host_and_drops_the_trailing_slash() {
        let endpoints = Endpoints::single("http://127.0.0.1:8650/");

        assert_eq!(endpoints.ptlogin, "http://127.0.0.1:8650");
        assert_eq!(endpoints.d_web2, "http://127.0.0.1:8650");
        assert!(!endpoints.uses_real_hosts());
        assert!(Endpoints::real().uses_real_hosts());
    }
}

//! Every SmartQQ endpoint, on one router, plus the checks the real servers made on each
//! request (spec §10.2).

use axum::Router;
use axum::routing::{any, get};
use smartqq_protocol::retcode::Retcode;

use crate::call::{Call, Refusal};
use crate::state::{Sandbox, State, WebSession};

pub(crate) mod api;
pub(crate) mod channel;
pub(crate) mod login;
pub(crate) mod poll;
pub(crate) mod send;

/// Referer hosts the servers accepted (spec §2.4); the path and query were not checked.
const ACCEPTED_REFERER_HOSTS: [&str; 4] = [
    "s.web2.qq.com",
    "d1.web2.qq.com",
    "d.web2.qq.com",
    "w.qq.com",
];

/// Which paths each real host serves. A request whose `Host` names one of these hosts is
/// routed only among its paths; any other host (loopback) reaches every path.
pub(crate) const HOST_PATHS: [(&str, &[&str]); 12] = [
    ("ui.ptlogin2.qq.com", &["/cgi-bin/login"]),
    (
        "xui.ptlogin2.qq.com",
        &["/cgi-bin/login", "/cgi-bin/xlogin"],
    ),
    (
        "ssl.ptlogin2.qq.com",
        &["/ptqrshow", "/ptqrlogin", "/check", "/login"],
    ),
    ("ssl.captcha.qq.com", &["/getimage"]),
    ("ptlogin2.web2.qq.com", &["/check_sig"]),
    ("ptlogin4.web2.qq.com", &["/check_sig"]),
    ("ptlogin2.qq.com", &["/check_sig"]),
    ("s.web2.qq.com", &["/api/", "/proxy.html"]),
    (
        "d1.web2.qq.com",
        &["/channel/", "/proxy.html", "/cfproxy.html"],
    ),
    ("d.web2.qq.com", &["/channel/", "/proxy.html"]),
    ("w.qq.com", &["/proxy.html"]),
    ("web2.qq.com", &["/proxy.html"]),
];

/// Whether a request for `path` on `host` may be served.
pub(crate) fn host_serves(host: &str, path: &str) -> bool {
    match HOST_PATHS.iter().find(|(name, _)| *name == host) {
        Some((_, paths)) => paths.iter().any(|p| {
            if p.ends_with('/') {
                path.starts_with(p)
            } else {
                path == *p
            }
        }),
        None => true,
    }
}

/// The SmartQQ endpoints.
pub(crate) fn protocol_routes() -> Router<Sandbox> {
    Router::new()
        .route("/cgi-bin/login", get(login::login_page))
        .route("/cgi-bin/xlogin", get(login::login_page))
        .route("/ptqrshow", get(login::ptqrshow))
        .route("/ptqrlogin", get(login::ptqrlogin))
        .route("/check_sig", get(login::check_sig))
        .route("/check", get(login::check))
        .route("/getimage", get(login::captcha_image))
        .route("/login", get(login::password_login))
        .route("/pt4_auth", get(login::pt4_auth))
        .route("/proxy.html", get(login::proxy_page))
        .route("/cfproxy.html", get(login::proxy_page))
        .route("/api/getvfwebqq", get(api::getvfwebqq))
        .route("/api/get_self_info2", get(api::get_self_info2))
        .route("/api/get_user_friends2", any(api::get_user_friends2))
        .route(
            "/api/get_group_name_list_mask2",
            any(api::get_group_name_list_mask2),
        )
        .route("/api/get_discus_list", get(api::get_discus_list))
        .route("/api/get_friend_uin2", get(api::get_friend_uin2))
        .route("/api/get_friend_info2", get(api::get_friend_info2))
        .route(
            "/api/get_single_long_nick2",
            get(api::get_single_long_nick2),
        )
        .route("/api/get_group_info_ext2", get(api::get_group_info_ext2))
        .route("/channel/login2", any(channel::login2))
        .route("/channel/poll2", any(poll::poll2))
        .route("/channel/send_buddy_msg2", any(send::send_buddy_msg2))
        .route("/channel/send_qun_msg2", any(send::send_qun_msg2))
        .route("/channel/send_discu_msg2", any(send::send_discu_msg2))
        .route("/channel/send_sess_msg2", any(send::send_sess_msg2))
        .route("/channel/get_c2cmsg_sig2", get(send::get_c2cmsg_sig2))
        .route(
            "/channel/get_online_buddies2",
            get(channel::get_online_buddies2),
        )
        .route("/channel/get_recent_list2", any(channel::get_recent_list2))
        .route("/channel/get_discu_info", get(channel::get_discu_info))
        .route("/channel/change_status2", get(channel::change_status2))
        .route("/channel/logout2", get(channel::logout2))
}

/// Header checks of `/api/*` and `/channel/*`: a Referer from another host is refused
/// always; a missing Referer or User-Agent only with the `strict_headers` knob.
pub(crate) fn check_headers(state: &State, call: &Call, refusal: Retcode) -> Result<(), Refusal> {
    let strict = state.knobs.strict_headers;
    match call.referer_host() {
        Some(host) if !ACCEPTED_REFERER_HOSTS.contains(&host.as_str()) => {
            return Err(Refusal(refusal));
        }
        None if strict => return Err(Refusal(refusal)),
        _ => {}
    }
    if strict && !call.has_user_agent() {
        return Err(Refusal(refusal));
    }
    Ok(())
}

/// The skey of the login the request's cookies belong to: `uin`, `skey`, `p_skey` and
/// `p_uin` must all match one live login (spec §10.2 item 1).
pub(crate) fn login_skey(state: &State, call: &Call, refusal: Retcode) -> Result<String, Refusal> {
    check_headers(state, call, refusal)?;
    let deny = || Refusal(refusal);
    let skey = call.cookie("skey").ok_or_else(deny)?;
    let login = state.logins.get(skey).ok_or_else(deny)?;
    let uin_cookie = format!("o{}", login.qq);
    let matches = call.cookie("uin") == Some(uin_cookie.as_str())
        && call.cookie("p_uin") == Some(uin_cookie.as_str())
        && login.p_skey.is_some()
        && call.cookie("p_skey") == login.p_skey.as_deref();
    if !matches {
        return Err(deny());
    }
    if login.expired {
        return Err(Refusal(Retcode::LOGIN_INVALID));
    }
    Ok(skey.to_owned())
}

/// The login's session for a `/api/*` call: cookies, then `vfwebqq`, then a live web
/// session made by `login2` (contact lists are in session aliases, so they need one).
pub(crate) fn api_session<'a>(
    state: &'a mut State,
    call: &Call,
    vfwebqq: Option<&str>,
) -> Result<&'a mut WebSession, Refusal> {
    state.expire_sessions();
    let skey = login_skey(state, call, Retcode::BAD_REQUEST)?;
    let expected = state.logins.get(&skey).and_then(|l| l.vfwebqq.as_deref());
    if expected.is_none() || vfwebqq != expected {
        return Err(Refusal(Retcode::BAD_REQUEST));
    }
    session_of_login(state, &skey)
}

/// The live web session of a login.
pub(crate) fn session_of_login<'a>(
    state: &'a mut State,
    skey: &str,
) -> Result<&'a mut WebSession, Refusal> {
    state
        .sessions
        .values_mut()
        .find(|s| s.skey == skey && s.ended.is_none())
        .ok_or(Refusal(Retcode::BAD_REQUEST))
}

/// The session a `/channel/*` call names by `psessionid` (and `clientid`), checked against
/// the cookies. `ended` is the retcode for a session that has ended.
pub(crate) fn channel_session<'a>(
    state: &'a mut State,
    call: &Call,
    psessionid: Option<&str>,
    clientid: Option<u64>,
    ended: Retcode,
) -> Result<&'a mut WebSession, Refusal> {
    state.expire_sessions();
    check_headers(state, call, Retcode::BAD_REQUEST)?;
    let deny = || Refusal(Retcode::BAD_REQUEST);
    let skey = call.cookie("skey").ok_or_else(deny)?.to_owned();
    let psessionid = psessionid.ok_or_else(deny)?;
    let session = state.sessions.get_mut(psessionid).ok_or_else(deny)?;
    if session.skey != skey || clientid != Some(session.clientid.get()) {
        return Err(deny());
    }
    if session.ended.is_some() {
        return Err(Refusal(ended));
    }
    Ok(session)
}

/// The session a channel GET names in its query (`psessionid`, `clientid`); an ended
/// session answers 103.
pub(crate) fn query_session<'a>(
    state: &'a mut State,
    call: &Call,
) -> Result<&'a mut WebSession, Refusal> {
    let clientid = call.query("clientid").and_then(|c| c.trim().parse().ok());
    channel_session(
        state,
        call,
        call.query("psessionid"),
        clientid,
        Retcode::NOT_REGISTERED,
    )
}

/// Reads an integer from JSON that may hold it as a number or a string.
pub(crate) fn json_u64(value: Option<&serde_json::Value>) -> Option<u64> {
    match value? {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_host_names_route_only_their_own_paths() {
        assert!(host_serves("d1.web2.qq.com", "/channel/poll2"));
        assert!(!host_serves("d1.web2.qq.com", "/api/getvfwebqq"));
        assert!(host_serves("s.web2.qq.com", "/api/get_user_friends2"));
        assert!(!host_serves("ssl.ptlogin2.qq.com", "/channel/poll2"));
        assert!(host_serves("127.0.0.1", "/channel/poll2"));
    }
}

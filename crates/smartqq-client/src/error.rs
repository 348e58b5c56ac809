//! Errors of the SmartQQ client.

use smartqq_protocol::retcode::Retcode;

/// Errors returned by [`crate::Client`] operations.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The request did not complete; built with `reqwest::Error::without_url`, because
    /// SmartQQ URLs carry ptwebqq, vfwebqq and psessionid.
    #[error("transport failure at {endpoint}")]
    Transport {
        /// The endpoint's name.
        endpoint: &'static str,
        /// The cause, without its URL.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with an HTTP error status.
    #[error("{endpoint} answered HTTP {status}")]
    Status {
        /// The endpoint's name.
        endpoint: &'static str,
        /// The HTTP status.
        status: u16,
    },
    /// The server answered with a non-zero retcode.
    #[error("{endpoint} answered retcode {}", .retcode.0)]
    Retcode {
        /// The endpoint's name.
        endpoint: &'static str,
        /// The retcode.
        retcode: Retcode,
    },
    /// The reply did not have the shape this endpoint promises.
    #[error("unexpected reply from {endpoint}")]
    Decode {
        /// The endpoint's name.
        endpoint: &'static str,
    },
    /// A cookie the next step needs was not set.
    #[error("login did not set the {0} cookie")]
    MissingCookie(&'static str),
    /// The QR code expired more often than the caller allowed.
    #[error("the QR code expired {0} times without being confirmed")]
    QrExpired(u32),
    /// ptlogin refused the QR login with a code of its own.
    #[error("QR login refused with code {code}: {message}")]
    QrRefused {
        /// The first `ptuiCB` argument.
        code: String,
        /// The server's text.
        message: String,
    },
    /// An operation needs a session and there is none.
    #[error("not logged in")]
    NotLoggedIn,
    /// The temporary-session signature was refused (not a member, or not allowed).
    #[error("temporary session not allowed with this person")]
    SessRefused,
    /// A saved session could not be read (corrupt, truncated, or another format).
    #[error("the saved session is unreadable")]
    BadSavedSession,
    /// The password login refused the password (ptlogin code 3).
    #[error("wrong QQ number or password: {0}")]
    WrongPassword(String),
    /// The captcha answer was wrong, or the login page expired (code 4).
    #[error("wrong captcha: {0}")]
    WrongCaptcha(String),
    /// A captcha must be answered before the password is sent.
    #[error("the server asks for a captcha")]
    CaptchaNeeded,
    /// The password login was refused for another reason: a locked account (19), password
    /// login switched off (10005), a parameter error (7), …
    #[error("password login refused with code {code}: {message}")]
    PasswordRefused {
        /// The ptlogin code.
        code: String,
        /// The server's text.
        message: String,
    },
    /// A saved session belongs to another server.
    #[error("the saved session belongs to another server")]
    ForeignSession,
}

impl Error {
    /// Whether retrying the same request later may succeed (network trouble, 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } => true,
            Self::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Whether a send that failed this way may still have reached the server: the request
    /// went out but no answer came back (anything but a failed connect), or the gateway
    /// answered 5xx. Such a send is "unconfirmed", never resent on its own (spec §6.3).
    pub fn may_have_been_delivered(&self) -> bool {
        match self {
            Self::Transport { source, .. } => !source.is_connect() && !source.is_builder(),
            Self::Status { status, .. } => *status >= 500,
            _ => false,
        }
    }

    /// Whether the login is gone and a new one is needed.
    pub fn is_session_expired(&self) -> bool {
        match self {
            Self::Retcode { retcode, .. } => retcode.is_session_expired(),
            Self::NotLoggedIn => true,
            _ => false,
        }
    }

    /// The retcode, when the server sent one.
    pub fn retcode(&self) -> Option<Retcode> {
        match self {
            Self::Retcode { retcode, .. } => Some(*retcode),
            _ => None,
        }
    }

    pub(crate) fn transport(endpoint: &'static str, error: reqwest::Error) -> Self {
        Self::Transport {
            endpoint,
            source: error.without_url(),
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

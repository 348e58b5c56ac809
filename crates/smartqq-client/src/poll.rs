//! `poll2` (spec §5): one long poll, its reply decoded, 116 applied.

use smartqq_protocol::api::Era;
use smartqq_protocol::ids::Secret;
use smartqq_protocol::poll::{PollReply, PollRequest};

use crate::endpoints::referer;
use crate::{Client, Error, Result};

impl Client {
    /// Sends one `poll2` and waits for its answer (up to the poll timeout).
    ///
    /// HTTP 504 is the 2017 idle answer and comes back as [`PollReply::Idle`]; other HTTP
    /// errors are [`Error::Status`]. A 116 is applied before returning: the next poll and
    /// every hash use the new ptwebqq, in memory and in the cookie jar alike.
    pub async fn poll(&self) -> Result<PollReply> {
        let session = self.require_session()?;
        let request = PollRequest {
            // The 2018 server wanted "" (spec §5.1); earlier ones the token.
            ptwebqq: match self.options().era {
                Era::Smartqq2018 => Secret::default(),
                Era::Legacy2015 => session.ptwebqq(),
            },
            clientid: session.clientid,
            psessionid: session.psessionid.clone(),
            key: String::new(),
        };
        let url = format!("{}/channel/poll2", self.options().endpoints.d_web2);
        let (status, body) = self
            .post_r(
                "poll2",
                &url,
                (referer::D1, referer::ORIGIN_D1),
                &request,
                self.options().poll_timeout,
            )
            .await?;
        match status {
            200 => {}
            504 => return Ok(PollReply::Idle),
            status => {
                return Err(Error::Status {
                    endpoint: "poll2",
                    status,
                });
            }
        }

        let reply = PollReply::parse(&body).map_err(|_| {
            tracing::trace!(bytes = body.len(), "Poll reply was not JSON with a retcode");
            Error::Decode { endpoint: "poll2" }
        })?;
        if let PollReply::NewPtwebqq(ptwebqq) = &reply {
            if let Ok(mut current) = session.ptwebqq.write() {
                *current = ptwebqq.clone();
            }
            self.set_web_cookie("ptwebqq", ptwebqq.expose());
            tracing::debug!("Took the rotated ptwebqq");
        }
        Ok(reply)
    }
}

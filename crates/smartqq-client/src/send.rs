//! The four sends (spec §6) and the temporary-session signature.

use smartqq_protocol::api::{
    BuddySendRequest, C2cMsgSig, DiscuSendRequest, GroupSendRequest, SessSendRequest,
};
use smartqq_protocol::content::{Font, Segment, encode_outgoing};
use smartqq_protocol::ids::{DiscussionId, Gid, Secret, Uin};
use smartqq_protocol::poll::SessVia;
use smartqq_protocol::retcode::SendOutcome;

use crate::endpoints::referer;
use crate::{Client, Error, Result, enc, unix_millis, via_code};

/// Who a message goes to, in this session's ids.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendTarget {
    /// A friend, by uin (`send_buddy_msg2`).
    Buddy(Uin),
    /// A group, by gid (`send_qun_msg2`).
    Group(Gid),
    /// A discussion (`send_discu_msg2`).
    Discussion(DiscussionId),
    /// A stranger met in a group (gid) or discussion (did) (`send_sess_msg2`).
    Sess {
        /// The stranger's uin.
        to: Uin,
        /// Group or discussion.
        via: SessVia,
        /// The gid or did.
        room: u64,
    },
}

/// The avatar id sent with messages; any integer works (spec §6.2).
const FACE: u32 = 522;

impl Client {
    /// Sends one message (one part: splitting is the caller's) and classifies the answer.
    ///
    /// Returns the outcome and the `msg_id` used. Nothing is retried here: 1202 and 100100
    /// often mean "delivered anyway" (spec §6.3), so a resend is the caller's decision.
    pub async fn send(
        &self,
        target: SendTarget,
        segments: &[Segment],
    ) -> Result<(SendOutcome, u64)> {
        let session = self.require_session()?;
        let content = encode_outgoing(segments, &Font::default());
        let msg_id = self.inner.msg_ids.next();
        let (clientid, psessionid) = (session.clientid, session.psessionid.clone());
        let d_web2 = &self.options().endpoints.d_web2;
        let headers = (self.send_referer(), referer::ORIGIN_D1);
        let timeout = self.options().request_timeout;
        let reply = match target {
            SendTarget::Buddy(to) => {
                let r = BuddySendRequest {
                    to,
                    content,
                    face: FACE,
                    clientid,
                    msg_id,
                    psessionid,
                };
                self.post_r(
                    "send_buddy_msg2",
                    &format!("{d_web2}/channel/send_buddy_msg2"),
                    headers,
                    &r,
                    timeout,
                )
                .await?
            }
            SendTarget::Group(group_uin) => {
                let r = GroupSendRequest {
                    group_uin,
                    content,
                    face: FACE,
                    clientid,
                    msg_id,
                    psessionid,
                };
                self.post_r(
                    "send_qun_msg2",
                    &format!("{d_web2}/channel/send_qun_msg2"),
                    headers,
                    &r,
                    timeout,
                )
                .await?
            }
            SendTarget::Discussion(did) => {
                let r = DiscuSendRequest {
                    did,
                    content,
                    face: FACE,
                    clientid,
                    msg_id,
                    psessionid,
                };
                self.post_r(
                    "send_discu_msg2",
                    &format!("{d_web2}/channel/send_discu_msg2"),
                    headers,
                    &r,
                    timeout,
                )
                .await?
            }
            SendTarget::Sess { to, via, room } => {
                let group_sig = self.sess_sig(to, via, room).await?;
                let r = SessSendRequest {
                    to,
                    group_sig,
                    service_type: via,
                    content,
                    face: FACE,
                    clientid,
                    msg_id,
                    psessionid,
                };
                self.post_r(
                    "send_sess_msg2",
                    &format!("{d_web2}/channel/send_sess_msg2"),
                    headers,
                    &r,
                    timeout,
                )
                .await?
            }
        };
        match reply {
            (200, body) => Ok((SendOutcome::from_body(&body), msg_id)),
            (status, _) => Err(Error::Status {
                endpoint: "send",
                status,
            }),
        }
    }

    /// The `group_sig` for a temporary session, reused while fresh (spec §6.2).
    async fn sess_sig(&self, to: Uin, via: SessVia, room: u64) -> Result<Secret> {
        let key = (room, to, via_code(via));
        if let Some(sig) = self.sess_sig_cached(key) {
            return Ok(sig);
        }
        let session = self.require_session()?;
        let url = format!(
            "{}/channel/get_c2cmsg_sig2?id={room}&to_uin={to}&clientid={}&psessionid={}&service_type={}&t={}",
            self.options().endpoints.d_web2,
            session.clientid,
            enc(session.psessionid.expose()),
            via_code(via),
            unix_millis()
        );
        let reply = self
            .get(
                "get_c2cmsg_sig2",
                &url,
                Some(referer::D1),
                self.options().request_timeout,
            )
            .await?;
        let sig: C2cMsgSig = Self::result("get_c2cmsg_sig2", reply)?;
        if sig.value.is_empty() {
            return Err(Error::SessRefused);
        }
        self.remember_sess_sig(key, sig.value.clone());
        Ok(sig.value)
    }
}

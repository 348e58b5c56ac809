//! Contact and information calls (spec §7).

use smartqq_protocol::api::{
    DiscussionInfoResult, DiscussionListResult, FriendsResult, GroupInfoResult, GroupListResult,
    ListRequest, OnlineBuddy, RecentEntry, RecentListRequest, UserInfo,
};
use smartqq_protocol::hash::{FriendHashVariant, friend_list_hash};
use smartqq_protocol::ids::{DiscussionId, GroupCode, Secret};

use crate::endpoints::referer;
use smartqq_protocol::retcode::Retcode;

use crate::{Client, Error, Result, enc, unix_millis};

impl Client {
    /// `vfwebqq=…&clientid=…&psessionid=…&t=…`, the session part of a channel GET.
    fn session_query(&self, session: &crate::Session) -> String {
        format!(
            "vfwebqq={}&clientid={}&psessionid={}&t={}",
            enc(session.vfwebqq.expose()),
            session.clientid,
            enc(session.psessionid.expose()),
            unix_millis()
        )
    }

    /// GET of an endpoint that answers `{"retcode":0,"result":…}`.
    async fn get_result<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &'static str,
        url: &str,
        referer: &'static str,
    ) -> Result<T> {
        let reply = self
            .get(endpoint, url, Some(referer), self.options().request_timeout)
            .await?;
        Self::result(endpoint, reply)
    }

    /// `get_self_info2`.
    pub async fn self_info(&self) -> Result<UserInfo> {
        let url = format!(
            "{}/api/get_self_info2?t={}",
            self.options().endpoints.s_web2,
            unix_millis()
        );
        self.get_result("get_self_info2", &url, referer::S).await
    }

    fn list_request(&self, variant: FriendHashVariant) -> Result<ListRequest> {
        let session = self.require_session()?;
        // The hash of our QQ and the *current* ptwebqq (it changes with 116).
        let hash = friend_list_hash(variant, session.qq.get(), session.ptwebqq().expose());
        Ok(ListRequest {
            vfwebqq: session.vfwebqq.clone(),
            hash: Secret::new(hash),
        })
    }

    /// POSTs a list call with the hash variant that worked last; on retcode 50 (the server
    /// changed its hash, FAULTS BR-26) tries each other variant once and remembers the one
    /// that works.
    async fn list_call<T: serde::de::DeserializeOwned>(
        &self,
        endpoint: &'static str,
        path: &str,
    ) -> Result<T> {
        let url = format!("{}{path}", self.options().endpoints.s_web2);
        let current = self.hash_variant();
        let others = FriendHashVariant::ALL.into_iter().filter(|v| *v != current);
        let mut last_error = None;
        for variant in std::iter::once(current).chain(others) {
            let headers = (referer::S, referer::ORIGIN_S);
            let reply = self
                .post_r(
                    endpoint,
                    &url,
                    headers,
                    &self.list_request(variant)?,
                    self.options().request_timeout,
                )
                .await?;
            match Self::result(endpoint, reply) {
                Err(error) if error.retcode() == Some(Retcode::BAD_HASH) => {
                    last_error = Some(error)
                }
                Ok(result) => {
                    if variant != current {
                        tracing::info!(variant = %variant, "The server wants another list hash; using it from now on");
                        self.set_hash_variant(variant);
                    }
                    return Ok(result);
                }
                Err(error) => return Err(error),
            }
        }
        Err(last_error.unwrap_or(Error::Decode { endpoint }))
    }

    /// `get_user_friends2`: friends, categories and marknames.
    pub async fn friends(&self) -> Result<FriendsResult> {
        self.list_call("get_user_friends2", "/api/get_user_friends2")
            .await
    }

    /// `get_group_name_list_mask2`: groups with gid and code.
    pub async fn groups(&self) -> Result<GroupListResult> {
        self.list_call(
            "get_group_name_list_mask2",
            "/api/get_group_name_list_mask2",
        )
        .await
    }

    /// `get_group_info_ext2`: members and cards; wants the *code* (a gid gives retcode 6).
    pub async fn group_info(&self, code: GroupCode) -> Result<GroupInfoResult> {
        let session = self.require_session()?;
        let url = format!(
            "{}/api/get_group_info_ext2?gcode={code}&vfwebqq={}&t={}",
            self.options().endpoints.s_web2,
            enc(session.vfwebqq.expose()),
            unix_millis()
        );
        self.get_result("get_group_info_ext2", &url, referer::S)
            .await
    }

    /// `get_discus_list`.
    pub async fn discussions(&self) -> Result<DiscussionListResult> {
        let session = self.require_session()?;
        let url = format!(
            "{}/api/get_discus_list?{}",
            self.options().endpoints.s_web2,
            self.session_query(&session)
        );
        self.get_result("get_discus_list", &url, referer::S).await
    }

    /// `get_discu_info`: members with their real QQ numbers.
    pub async fn discussion_info(&self, did: DiscussionId) -> Result<DiscussionInfoResult> {
        let session = self.require_session()?;
        let url = format!(
            "{}/channel/get_discu_info?did={did}&{}",
            self.options().endpoints.d_web2,
            self.session_query(&session)
        );
        self.get_result("get_discu_info", &url, referer::D1).await
    }

    /// `get_online_buddies2`; also the warm-up that ends the 103 answers.
    pub async fn online_buddies(&self) -> Result<Vec<OnlineBuddy>> {
        let session = self.require_session()?;
        let url = format!(
            "{}/channel/get_online_buddies2?{}",
            self.options().endpoints.d_web2,
            self.session_query(&session)
        );
        self.get_result("get_online_buddies2", &url, referer::D1)
            .await
    }

    /// `get_recent_list2`.
    pub async fn recent_list(&self) -> Result<Vec<RecentEntry>> {
        let session = self.require_session()?;
        let request = RecentListRequest {
            vfwebqq: session.vfwebqq.clone(),
            clientid: session.clientid,
            psessionid: session.psessionid.clone(),
        };
        let url = format!(
            "{}/channel/get_recent_list2",
            self.options().endpoints.d_web2
        );
        let reply = self
            .post_r(
                "get_recent_list2",
                &url,
                (referer::D1, referer::ORIGIN_D1),
                &request,
                self.options().request_timeout,
            )
            .await?;
        Self::result("get_recent_list2", reply)
    }
}

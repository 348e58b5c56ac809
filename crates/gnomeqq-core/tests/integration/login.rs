//! Login: the published steps, the `Online` summary, and what the directory holds.

use gnomeqq_core::{AppEvent, LoginStep};
use smartqq_protocol::{DiscussionId, Gid, QqNumber, Uin};

use crate::support::{
    BOB, DISCUSSION, EVE, GROUP, LI_NA, OWN_NICK, OWN_QQ, ZHANG, account, bounded, next_event,
    online, sandbox,
};

#[tokio::test]
async fn login_publishes_its_steps_then_online_with_the_contact_counts() {
    let server = sandbox().await;
    let (account, mut events) = account(&server);

    bounded("login", account.login())
        .await
        .expect("login succeeds");

    let mut steps = Vec::new();
    let online = loop {
        match next_event(&mut events).await {
            AppEvent::Login(step) => steps.push(step),
            other => break other,
        }
    };
    assert!(
        matches!(steps.first(), Some(LoginStep::QrReady { png, .. }) if png.starts_with(b"\x89PNG")),
        "the first step shows a QR code: {steps:?}"
    );
    assert_eq!(steps.last(), Some(&LoginStep::Connecting), "{steps:?}");
    assert!(
        !steps.contains(&LoginStep::Expired),
        "no code expired: {steps:?}"
    );
    assert_eq!(
        online,
        AppEvent::Online {
            nick: OWN_NICK.to_owned(),
            friends: 6,
            groups: 2,
            discussions: 1,
        }
    );
}

#[tokio::test]
async fn directory_holds_marknames_categories_cards_and_discussion_qq_numbers() {
    let session = online().await;

    let directory = session.account.directory();

    assert_eq!(directory.own_qq, Some(QqNumber(OWN_QQ)));
    assert_eq!(directory.own_nick, OWN_NICK);
    let zhang = &directory.friends[&Uin(session.world.uin(ZHANG))];
    assert_eq!(zhang.nick, "张伟");
    assert_eq!(zhang.markname.as_deref(), Some("老张"));
    assert_eq!(zhang.display_name(), "老张");
    assert_eq!(zhang.category, "我的好友");
    let li_na = &directory.friends[&Uin(session.world.uin(LI_NA))];
    assert_eq!(li_na.category, "同学 Classmates");
    assert_eq!(li_na.markname, None);
    let group = &directory.groups[&Gid(session.world.gid(GROUP))];
    assert_eq!(group.name, "GnomeQQ 开发组");
    let eve = &group.members[&Uin(session.world.uin(EVE))];
    assert_eq!(eve.card.as_deref(), Some("Eve (ops)"));
    assert_eq!(eve.display_name(), "Eve (ops)");
    let discussion = &directory.discussions[&DiscussionId(DISCUSSION)];
    assert_eq!(discussion.name, "Weekend trip 周末出游");
    let mut qqs: Vec<u64> = discussion
        .members
        .values()
        .map(|m| m.qq.expect("every discussion member has a QQ number").get())
        .collect();
    qqs.sort_unstable();
    assert_eq!(qqs, [OWN_QQ, BOB, 3_100_000_006, EVE]);
    let bob = &discussion.members[&Uin(session.world.uin(BOB))];
    assert_eq!(bob.qq, Some(QqNumber(BOB)));
    assert_eq!(bob.nick, "Bob");
}

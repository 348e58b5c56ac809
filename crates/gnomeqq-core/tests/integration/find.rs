//! Finding conversations by the names people use.

use gnomeqq_core::{Conversation, Error, TargetKind};
use smartqq_emulator::World;
use smartqq_emulator::world::DEFAULT_WORLD;

use crate::support::{
    BOB, DISCUSSION, DISCUSSION_NAME, EVE, GROUP, GROUP_NAME, ZHANG, online, online_with,
};

/// The built-in world with a second friend called Bob.
fn world_with_two_bobs() -> World {
    let extra = "\n[[people]]\nqq = 3100000007\nnick = \"Bob\"\n\n[[friends]]\nqq = 3100000007\n";
    World::from_toml(&format!("{DEFAULT_WORLD}{extra}")).expect("the extended world is valid")
}

#[tokio::test]
async fn friend_is_found_by_markname_and_by_nickname() {
    let session = online().await;
    let zhang = Conversation::Friend {
        uin: session.world.uin(ZHANG),
    };

    let by_markname = session.account.find(TargetKind::Friend, "老张");
    let by_nickname = session.account.find(TargetKind::Friend, "张伟");
    let bob = session.account.find(TargetKind::Friend, "Bob");

    assert_eq!(
        by_markname.expect("老张 is found"),
        (zhang, "老张".to_owned())
    );
    assert_eq!(
        by_nickname.expect("张伟 is found"),
        (zhang, "老张".to_owned())
    );
    let bob_uin = session.world.uin(BOB);
    assert_eq!(
        bob.expect("Bob is found"),
        (Conversation::Friend { uin: bob_uin }, "Bob".to_owned())
    );
}

#[tokio::test]
async fn group_and_discussion_are_found_by_name() {
    let session = online().await;

    let group = session.account.find(TargetKind::Group, GROUP_NAME);
    let discussion = session
        .account
        .find(TargetKind::Discussion, DISCUSSION_NAME);

    let gid = session.world.gid(GROUP);
    assert_eq!(
        group.expect("the group is found"),
        (Conversation::Group { gid }, GROUP_NAME.to_owned())
    );
    assert_eq!(
        discussion.expect("the discussion is found"),
        (
            Conversation::Discussion { did: DISCUSSION },
            DISCUSSION_NAME.to_owned()
        )
    );
}

#[tokio::test]
async fn room_member_is_found_by_card_in_the_room_that_gave_it() {
    let session = online().await;

    let found = session.account.find(TargetKind::Temporary, "Eve (ops)");

    let expected = Conversation::Temporary {
        uin: session.world.uin(EVE),
        via_group: true,
        room: session.world.gid(GROUP),
    };
    assert_eq!(
        found.expect("Eve is found by card"),
        (expected, "Eve (ops)".to_owned())
    );
}

#[tokio::test]
async fn unknown_names_are_no_match() {
    let session = online().await;

    let friend = session.account.find(TargetKind::Friend, "Nobody");
    let group = session.account.find(TargetKind::Group, "老张");
    let member = session.account.find(TargetKind::Temporary, "Mallory");

    assert!(
        matches!(&friend, Err(Error::NoMatch { kind: "friend", query }) if query == "Nobody"),
        "{friend:?}"
    );
    assert!(
        matches!(&group, Err(Error::NoMatch { kind: "group", query }) if query == "老张"),
        "{group:?}"
    );
    assert!(
        matches!(&member, Err(Error::NoMatch { kind: "room member", query }) if query == "Mallory"),
        "{member:?}"
    );
}

#[tokio::test]
async fn name_shared_by_two_friends_is_ambiguous() {
    let session = online_with(world_with_two_bobs()).await;

    let found = session.account.find(TargetKind::Friend, "Bob");

    assert!(
        matches!(&found, Err(Error::Ambiguous { query, candidates })
            if query == "Bob" && candidates == "Bob, Bob"),
        "{found:?}"
    );
}

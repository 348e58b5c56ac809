//! The models without a display: how messages are filed, ordered, counted and grouped.

use gnomeqq::model::{ConversationList, Message};
use gnomeqq::session::{MessageInfo, Outbox};
use gnomeqq_history::{ConversationKey, ConversationKind, ConversationSummary};
use gtk::prelude::*;

fn friend(stable_id: &str) -> ConversationKey {
    ConversationKey::new(ConversationKind::Friend, stable_id)
}

fn received(key: &ConversationKey, sender: &str, time: i64, text: &str) -> MessageInfo {
    MessageInfo {
        key: key.clone(),
        conversation_name: format!("{sender}'s chat"),
        sender_name: sender.to_owned(),
        own: false,
        time,
        text: text.to_owned(),
        outbox: None,
    }
}

fn own(key: &ConversationKey, time: i64, text: &str, outbox: Outbox) -> MessageInfo {
    MessageInfo {
        key: key.clone(),
        conversation_name: String::new(),
        sender_name: "me".to_owned(),
        own: true,
        time,
        text: text.to_owned(),
        outbox: Some(outbox),
    }
}

fn keys_in_order(list: &ConversationList) -> Vec<String> {
    let store = list.store();
    (0..store.n_items())
        .filter_map(|i| store.item(i).and_downcast::<gnomeqq::model::Conversation>())
        .map(|c| c.key())
        .collect()
}

fn messages_of(list: &ConversationList, key: &ConversationKey) -> Vec<Message> {
    let messages = list
        .get(key)
        .expect("the conversation is listed")
        .messages();
    (0..messages.n_items())
        .filter_map(|i| messages.item(i).and_downcast::<Message>())
        .collect()
}

#[test]
fn the_latest_activity_comes_first_and_unread_counts_add_up() {
    let list = ConversationList::new();
    let (zhang, li) = (friend("qq:1"), friend("qq:2"));
    list.apply_message(&received(&zhang, "老张", 100, "早"), None);
    list.apply_message(&received(&li, "小李", 101, "hi"), None);
    assert_eq!(keys_in_order(&list), ["friend/qq:2", "friend/qq:1"]);

    list.apply_message(&received(&zhang, "老张", 102, "在吗"), None);
    assert_eq!(keys_in_order(&list), ["friend/qq:1", "friend/qq:2"]);
    let conversation = list.get(&zhang).expect("listed");
    assert_eq!(conversation.unread(), 2);
    assert_eq!(conversation.preview(), "在吗");
    assert_eq!(conversation.name(), "老张's chat");
    assert_eq!(list.unread(), 3);

    list.mark_read(&conversation);
    assert_eq!(list.unread(), 1);
}

#[test]
fn a_message_in_the_conversation_being_read_is_not_unread() {
    let list = ConversationList::new();
    let zhang = friend("qq:1");
    list.apply_message(&received(&zhang, "老张", 100, "one"), Some(&zhang));
    assert_eq!(list.get(&zhang).map(|c| c.unread()), Some(0));
    list.apply_message(&received(&zhang, "老张", 101, "two"), Some(&friend("qq:9")));
    assert_eq!(list.get(&zhang).map(|c| c.unread()), Some(1));
}

#[test]
fn the_preview_is_one_line_and_short() {
    let list = ConversationList::new();
    let zhang = friend("qq:1");
    let long = format!("first line\nsecond\tline {}", "字".repeat(200));
    list.apply_message(&received(&zhang, "老张", 1, &long), None);
    let preview = list.get(&zhang).map(|c| c.preview()).unwrap_or_default();
    assert!(preview.starts_with("first line second line 字"));
    assert!(!preview.contains('\n'));
    assert_eq!(preview.chars().count(), 80);
}

#[test]
fn senders_are_grouped_until_someone_else_writes_or_five_minutes_pass() {
    let list = ConversationList::new();
    let group = ConversationKey::new(ConversationKind::Group, "group:600001");
    for (sender, time) in [
        ("老张", 0),
        ("老张", 60),
        ("小李", 61),
        ("小李", 62),
        ("小李", 62 + 301),
    ] {
        list.apply_message(&received(&group, sender, time, "x"), None);
    }
    let starts: Vec<bool> = messages_of(&list, &group)
        .iter()
        .map(Message::starts_group)
        .collect();
    assert_eq!(starts, [true, false, true, false, true]);
}

#[test]
fn the_servers_echo_confirms_our_message_instead_of_repeating_it() {
    let list = ConversationList::new();
    let zhang = friend("qq:1");
    let conversation = list.ensure(&zhang, "老张");
    let sent = conversation.push(&own(&zhang, 10, "你好", Outbox::Sending), true);
    sent.set_outbox(&Outbox::Sent);

    list.apply_message(&own(&zhang, 11, "你好", Outbox::Confirmed), None);
    let messages = messages_of(&list, &zhang);
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].outbox_state(), "confirmed");

    // An echo of something this window did not send (another client) is shown.
    list.apply_message(&own(&zhang, 12, "from my phone", Outbox::Confirmed), None);
    assert_eq!(messages_of(&list, &zhang).len(), 2);
    // Our own messages never count as unread.
    assert_eq!(list.unread(), 0);
}

#[test]
fn a_failed_send_keeps_its_reason() {
    let zhang = friend("qq:1");
    let message = Message::new(&own(&zhang, 1, "x", Outbox::Failed("SendFailed".into())));
    assert_eq!(message.outbox_state(), "failed");
    assert_eq!(message.failure(), "SendFailed");
    message.set_outbox(&Outbox::Sending);
    assert_eq!(message.failure(), "");
    assert_ne!(
        message.local_id(),
        Message::new(&received(&zhang, "a", 1, "y")).local_id()
    );
}

#[test]
fn history_loads_under_live_messages_without_doubling_them() {
    let list = ConversationList::new();
    let zhang = friend("qq:1");
    // A message arrives live before the conversation's history has been read...
    list.apply_message(&received(&zhang, "老张", 300, "live"), None);
    // ... and the history, read afterwards, holds it too (it is stored before shown).
    let history = vec![
        received(&zhang, "老张", 100, "old"),
        received(&zhang, "老张", 200, "older than live"),
        received(&zhang, "老张", 300, "live"),
    ];
    let conversation = list.get(&zhang).expect("listed");
    conversation.load_history(&history);
    let texts: Vec<String> = messages_of(&list, &zhang)
        .iter()
        .map(Message::text)
        .collect();
    assert_eq!(texts, ["old", "older than live", "live"]);
    assert!(conversation.loaded());
    assert_eq!(conversation.last_time(), 300);
}

#[test]
fn the_historys_conversations_follow_the_live_ones_and_are_not_listed_twice() {
    let list = ConversationList::new();
    let (zhang, room) = (
        friend("qq:1"),
        ConversationKey::new(ConversationKind::Group, "group:6"),
    );
    list.apply_message(&received(&zhang, "老张", 500, "now"), None);
    let summary = |key: &ConversationKey, name: &str, last_time| ConversationSummary {
        account: "2000000001".into(),
        key: key.clone(),
        name: name.into(),
        last_time,
        message_count: 3,
    };
    list.add_history(&[summary(&zhang, "老张", 400), summary(&room, "开发组", 300)]);
    assert_eq!(keys_in_order(&list), ["friend/qq:1", "group/group:6"]);
    assert_eq!(list.get(&room).map(|c| c.name()), Some("开发组".to_owned()));
    list.clear();
    assert_eq!(list.store().n_items(), 0);
    assert!(list.get(&zhang).is_none());
}

#[test]
fn a_late_message_with_an_older_time_does_not_jump_the_queue() {
    let list = ConversationList::new();
    let (zhang, li, wang) = (friend("qq:1"), friend("qq:2"), friend("qq:3"));
    list.apply_message(&received(&zhang, "老张", 100, "a"), None);
    list.apply_message(&received(&li, "小李", 300, "b"), None);
    // Delivered now, written at 200: between the two.
    list.apply_message(&received(&wang, "老王", 200, "late"), None);
    assert_eq!(
        keys_in_order(&list),
        ["friend/qq:2", "friend/qq:3", "friend/qq:1"]
    );
}

#[test]
fn our_message_shown_before_the_history_loaded_keeps_its_live_object() {
    let list = ConversationList::new();
    let zhang = friend("qq:1");
    let conversation = list.ensure(&zhang, "老张");
    // Shown at once with the window's clock...
    let live = conversation.push(&own(&zhang, 1_000, "在路上", Outbox::Sending), true);
    // ... stored by the engine a little later, after the pacing.
    let mut stored = own(&zhang, 1_002, "在路上", Outbox::Unconfirmed);
    stored.sender_name = "小明".into();
    conversation.load_history(&[received(&zhang, "老张", 900, "出发了吗"), stored]);
    let messages = messages_of(&list, &zhang);
    assert_eq!(messages.len(), 2);
    assert_eq!(
        messages[1], live,
        "the live object stays, so its send result still lands"
    );
    live.set_outbox(&Outbox::Sent);
    assert_eq!(messages_of(&list, &zhang)[1].outbox_state(), "sent");
}

#[test]
fn echoes_confirm_the_oldest_waiting_message_first() {
    let list = ConversationList::new();
    let zhang = friend("qq:1");
    let conversation = list.ensure(&zhang, "老张");
    let first = conversation.push(&own(&zhang, 10, "ok", Outbox::Sent), true);
    let second = conversation.push(&own(&zhang, 11, "ok", Outbox::Sending), true);
    list.apply_message(&own(&zhang, 12, "ok", Outbox::Confirmed), None);
    assert_eq!(first.outbox_state(), "confirmed");
    assert_eq!(second.outbox_state(), "sending");
}

#[test]
fn far_apart_times_from_a_server_group_safely() {
    let list = ConversationList::new();
    let zhang = friend("qq:1");
    list.apply_message(&received(&zhang, "老张", i64::MIN, "a"), None);
    list.apply_message(&received(&zhang, "老张", i64::MAX, "b"), None);
    let starts: Vec<bool> = messages_of(&list, &zhang)
        .iter()
        .map(Message::starts_group)
        .collect();
    assert_eq!(starts, [true, true]);
}

#[test]
fn a_conversation_lets_go_of_its_messages_unless_one_is_being_sent() {
    let list = ConversationList::new();
    let zhang = friend("qq:1");
    list.apply_message(&received(&zhang, "老张", 1, "hi"), None);
    let conversation = list.get(&zhang).expect("listed");
    conversation.load_history(&[received(&zhang, "老张", 1, "hi")]);
    assert!(conversation.unload());
    assert_eq!(conversation.messages().n_items(), 0);
    assert!(!conversation.loaded());
    assert_eq!(
        conversation.preview(),
        "hi",
        "the sidebar keeps its preview"
    );

    conversation.push(&own(&zhang, 2, "wait", Outbox::Sending), true);
    assert!(!conversation.unload());
    assert_eq!(conversation.messages().n_items(), 1);
}

//! JSON Lines and plain-text exports.

use gnomeqq_history::{History, OutboxState};

use crate::support::{group, inbound, outbound};

fn sample() -> History {
    let mut history = History::open_in_memory().unwrap();
    history
        .insert_inbound_batch(&[
            inbound(1_796_380_503, 1, "大家好"),
            inbound(1_796_380_510, 2, "第一行\n第二行"),
        ])
        .unwrap();
    let id = history
        .insert_outbound(&outbound(1_796_380_600, "Bob, 在吗?"))
        .unwrap();
    history
        .set_outbox_state(id, &OutboxState::Failed("retcode 1202".into()))
        .unwrap();
    history
}

#[test]
fn jsonl_lines_parse_back() {
    let history = sample();
    let mut out = Vec::new();

    let count = history.export_jsonl(&mut out, None).unwrap();

    let text = String::from_utf8(out).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(count, 3);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0]["text"], "大家好");
    assert_eq!(lines[0]["conversation"]["kind"], "group");
    assert_eq!(lines[0]["conversation"]["stable_id"], "group:600001");
    assert_eq!(lines[0]["sender_name"], "Alice");
    assert_eq!(lines[0]["time"], 1_796_380_503);
    assert_eq!(lines[0]["msg_id"], 1);
    assert_eq!(lines[0]["segments"][0]["text"], "大家好");
    assert_eq!(lines[1]["text"], "第一行\n第二行");
    assert_eq!(lines[2]["direction"], "out");
    assert_eq!(lines[2]["outbox_state"]["state"], "failed");
    assert_eq!(lines[2]["outbox_state"]["reason"], "retcode 1202");
}

#[test]
fn jsonl_of_one_conversation_holds_only_it() {
    let history = sample();
    let mut out = Vec::new();

    let count = history.export_jsonl(&mut out, Some(&group())).unwrap();

    assert_eq!(count, 2);
    assert_eq!(String::from_utf8(out).unwrap().lines().count(), 2);
}

#[test]
fn txt_has_times_names_and_states() {
    let history = sample();
    let mut out = Vec::new();

    history.export_txt(&mut out, None).unwrap();

    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "[2026-12-04 10:35:03 UTC] 开发群 | Alice: 大家好");
    assert_eq!(lines[1], "[2026-12-04 10:35:10 UTC] 开发群 | Alice: 第一行");
    assert_eq!(lines[2], "    第二行");
    assert_eq!(
        lines[3],
        "[2026-12-04 10:36:40 UTC] Bob | Me: Bob, 在吗? [failed: retcode 1202]"
    );
}

#[test]
fn a_long_history_is_exported_whole_in_time_then_insertion_order() {
    let mut history = History::open_in_memory().unwrap();
    // More messages than one read chunk, written newest second first, three per second,
    // so neither id order nor the order within a chunk is the answer by accident.
    let batch: Vec<_> = (0..1_300_i64)
        .map(|n| inbound(10_000 - n / 3, n, &format!("消息 {n}")))
        .collect();
    history.insert_inbound_batch(&batch).unwrap();
    let mut out = Vec::new();

    let count = history.export_jsonl(&mut out, None).unwrap();

    let keys: Vec<(i64, i64)> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|line| {
            let line: serde_json::Value = serde_json::from_str(line).unwrap();
            (line["time"].as_i64().unwrap(), line["id"].as_i64().unwrap())
        })
        .collect();
    assert_eq!(count, 1_300);
    assert_eq!(keys.len(), 1_300);
    assert!(
        keys.windows(2).all(|pair| pair[0] < pair[1]),
        "oldest second first, and by id within a second"
    );
}

//! Criterion benchmark of the inbound path: decoding one `poll2` reply of 100 chat messages.
//!
//! The body is built once, outside the timed loop, from a fixed pseudo-random sequence so
//! every run measures the same bytes. It holds 104 elements: 100 chat messages (40 friend,
//! 35 group, 15 discussion, 10 sess) plus 2 `buddies_status_change` and 2 `input_notify`,
//! interleaved. Throughput is reported per chat message (100 per reply).
//!
//! * `poll_decode/parse`: `PollReply::parse` alone.
//! * `poll_decode/parse_content_plain_text`: what the client does with a reply: parse, then
//!   for every chat event `event.content()` (entity decoding, run merging) and
//!   `plain_text()`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Value, json};
use smartqq_protocol::poll::{PollEvent, PollReply};

/// Chat messages per reply; the throughput unit.
const MESSAGES: u64 = 100;
/// Our own uin.
const SELF_UIN: u64 = 2_400_000_001;

/// A small deterministic generator (64-bit LCG) so the body is identical on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

const CJK: &[&str] = &[
    "你好",
    "今天晚上一起吃饭吗",
    "我刚到公司",
    "这个问题我们明天再讨论吧",
    "收到，谢谢",
    "会议改到下午三点",
    "哈哈哈哈",
    "周末有空吗？",
    "文件已经发到群里了，大家看一下。",
    "好的，没问题",
];
const LATIN: &[&str] = &[
    "hello there",
    "ok",
    "see you at 3pm",
    "the build is green again",
    "can you review my patch?",
    "lol",
    "meeting moved to room B",
    "thanks!",
    "version 2.4.1 is out",
    "brb",
];
const EMOJI: &[&str] = &["🙂", "😂", "👍", "🎉", "👨‍👩‍👧", "❤️", "🤔", "🍜"];
/// Text as the server delivered it: `&`, `<`, `>` escaped, sometimes more (spec §5.4).
const ENTITIES: &[&str] = &[
    "a &lt; b &amp;&amp; c &gt; d",
    "&quot;quoted&quot; &amp; &#39;single&#39;",
    "C:&#92;Users&#92;qq",
    "x&nbsp;y",
];
const FONTS: &[&str] = &["宋体", "微软雅黑", "Tahoma", "Arial"];
const FACES: &[u64] = &[14, 0, 1, 13, 21, 76, 179, 999];

/// Text of exactly `chars` characters mixing CJK, Latin and emoji; with `entity` set it
/// also carries one HTML entity run (which can push it a little past `chars`).
fn text(rng: &mut Lcg, chars: usize, entity: bool) -> String {
    let mut out = String::new();
    while out.chars().count() < chars {
        let piece = match rng.below(10) {
            0..=4 => rng.pick(CJK),
            5..=7 => rng.pick(LATIN),
            _ => rng.pick(EMOJI),
        };
        out.push_str(piece);
        out.push(if rng.below(3) == 0 { ' ' } else { '，' });
    }
    let mut out: String = out.chars().take(chars).collect();
    if entity {
        out.push(' ');
        out.push_str(rng.pick(ENTITIES));
    }
    out
}

/// Message length in characters: mostly short, some medium, a few long (10–300).
fn length(rng: &mut Lcg) -> usize {
    match rng.below(10) {
        0..=5 => 10 + rng.below(51) as usize,
        6..=8 => 61 + rng.below(90) as usize,
        _ => 151 + rng.below(150) as usize,
    }
}

/// A received `content` array: font, then text, with faces for about a third of messages
/// and an HTML entity run for every eighth.
fn content(rng: &mut Lcg, index: usize) -> Value {
    let font = json!(["font", {
        "color": "000000",
        "name": rng.pick(FONTS),
        "size": 9 + rng.below(4),
        "style": [0, 0, 0],
    }]);
    let total = length(rng);
    let entity = index % 8 == 3;
    let mut elements = vec![font];
    match rng.below(3) {
        0 => {
            // Text split around one or two faces.
            let first = total / 2;
            elements.push(json!(text(rng, first, entity)));
            elements.push(json!([
                "face",
                FACES[rng.below(FACES.len() as u64) as usize]
            ]));
            elements.push(json!(text(rng, total - first, false)));
            if rng.below(2) == 0 {
                elements.push(json!([
                    "face",
                    FACES[rng.below(FACES.len() as u64) as usize]
                ]));
            }
        }
        _ => elements.push(json!(text(rng, total, entity))),
    }
    Value::Array(elements)
}

fn chat_element(rng: &mut Lcg, index: usize) -> Value {
    let msg_id = 20_000 + index as u64;
    let time = 1_500_000_000 + 7 * index as u64;
    let content = content(rng, index);
    // 40 friend, 35 group, 15 discussion, 10 sess, interleaved.
    match index % 20 {
        0..=7 => json!({"poll_type": "message", "value": {
            "from_uin": 3_100_000_000 + rng.below(50), "to_uin": SELF_UIN,
            "msg_id": msg_id, "msg_type": 0, "time": time, "content": content,
        }}),
        8..=14 => {
            let gid = 4_100_000_000 + rng.below(5);
            json!({"poll_type": "group_message", "value": {
                "from_uin": gid, "group_code": gid, "send_uin": 3_300_000_000 + rng.below(200),
                "to_uin": SELF_UIN, "msg_id": msg_id, "msg_type": 0, "time": time,
                "content": content,
            }})
        }
        15..=17 => {
            let did = 3_600_000_000 + rng.below(3);
            json!({"poll_type": "discu_message", "value": {
                "from_uin": did, "did": did, "send_uin": 3_300_000_000 + rng.below(200),
                "to_uin": SELF_UIN, "msg_id": msg_id, "msg_type": 0, "time": time,
                "content": content,
            }})
        }
        _ => json!({"poll_type": "sess_message", "value": {
            "from_uin": 3_300_000_000 + rng.below(200), "to_uin": SELF_UIN,
            "msg_id": msg_id, "msg_type": 140, "time": time, "id": 4_100_000_002u64,
            "ruin": 1_234_500_000 + rng.below(10_000), "service_type": 0,
            "flags": {"text": 1, "pic": 1, "file": 1, "audio": 1, "video": 1},
            "content": content,
        }}),
    }
}

/// The whole `poll2` body: 100 chat messages and 4 notices, serialised to bytes.
fn poll_body() -> Vec<u8> {
    let mut rng = Lcg(0x5eed_0000_0000_0042);
    let mut result = Vec::new();
    for index in 0..MESSAGES as usize {
        result.push(chat_element(&mut rng, index));
        match index {
            24 | 74 => result.push(json!({"poll_type": "buddies_status_change", "value": {
                "uin": 3_100_000_007u64, "status": "away", "client_type": 21,
            }})),
            49 | 99 => result.push(json!({"poll_type": "input_notify", "value": {
                "msg_id": 21_940, "from_uin": 3_100_000_001u64, "to_uin": SELF_UIN,
                "msg_id2": 3_588_813_984u64, "msg_type": 121, "reply_ip": 4_294_967_295u64,
            }})),
            _ => {}
        }
    }
    serde_json::to_vec(&json!({"retcode": 0, "result": result})).expect("a Value serialises")
}

/// The client's inbound decode: parse, then content and plain text of every chat event.
/// Returns the total plain-text length so nothing is optimised away.
fn decode_inbound(body: &[u8]) -> usize {
    let Ok(PollReply::Events(events)) = PollReply::parse(body) else {
        panic!("the benchmark body must decode to events")
    };
    let mut total = 0;
    for event in &events {
        if let Some(content) = event.content() {
            total += black_box(content.plain_text()).len();
        }
    }
    total
}

fn bench_poll_decode(c: &mut Criterion) {
    let body = poll_body();

    // Check the body once, outside the timed loop: every element decodes, 100 carry content.
    let Ok(PollReply::Events(events)) = PollReply::parse(&body) else {
        panic!("the benchmark body must decode to events")
    };
    assert_eq!(events.len(), 104);
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, PollEvent::Unknown { .. }))
    );
    assert_eq!(events.iter().filter_map(PollEvent::content).count(), 100);
    eprintln!(
        "poll_decode: body {} bytes, {} elements, {MESSAGES} chat messages",
        body.len(),
        events.len()
    );

    let mut group = c.benchmark_group("poll_decode");
    group.sample_size(50);
    group.measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(MESSAGES));
    group.bench_function("parse", |b| {
        b.iter(|| PollReply::parse(black_box(&body)));
    });
    group.bench_function("parse_content_plain_text", |b| {
        b.iter(|| decode_inbound(black_box(&body)));
    });
    group.finish();
}

criterion_group!(benches, bench_poll_decode);
criterion_main!(benches);

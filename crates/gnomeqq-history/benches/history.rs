//! Benchmarks of the history store (issue #5), figures in `docs/BENCHMARKS.md`.
//!
//! * `history_insert/batch_of_20` (criterion): `insert_inbound_batch` of 20 new messages,
//!   one transaction each, as the poll loop delivers them, into a file database in WAL
//!   mode that grows during the run. Throughput in messages. With no background indexer,
//!   the writer's own indexing at `INDEX_LAG_BOUND` trailing rows is included.
//! * `history_insert/batch_of_20_plus_indexing_every_1000` (criterion): the same plus
//!   `index_pending` whenever 1,000 rows trail: the old writer's work, and the total work
//!   now. `history_index/pending_1000` (criterion): `index_pending` of 1,000 rows alone.
//! * `insert_interleaved` (timed by hand): the old and the new path alternating batch by
//!   batch on two files, so machine load falls on both alike; throughput of each, and of
//!   the background indexing apart.
//! * `insert_interleaved_v4_v5` (timed by hand): version 4's one index on messages, led
//!   by the conversation, against version 5's, led by time (with the timeline built in
//!   bulk), the poll path (store only) interleaved batch by batch on two files;
//!   throughput, median and p99 per batch of each, and the background indexing apart.
//! * `history_list/*` (criterion, on the search corpus): the newest 50 messages of one
//!   group and of one friend, and the conversation list.
//! * `history_list_trailing/*` (criterion, a fresh file of 100,000 indexed messages):
//!   the same with 0, 1,000 and 9,000 messages stored but not yet in the timeline.
//! * The search report (timed by hand, since criterion gives no p99): over a database of
//!   1,000,000 generated messages of mixed Chinese and Latin text, built once into
//!   `target/bench-history/` and reused, 1,000 timed `History::search(query, 20)` calls
//!   cycling through 50 fixed queries of 1-4 Chinese characters, Latin words and prefixes
//!   and mixed pairs; median, p90, p99 and max. In the same run, as baselines: FTS5's
//!   own `bm25()` ranking over *all* matches (no recency window), and a plain
//!   `text LIKE '%q%'` scan for the 20 newest matches. Then the database size on disk,
//!   and the process's peak RSS during the search phase (`VmHWM`, reset through
//!   `/proc/self/clear_refs` before it starts).
//!
//! `GNOMEQQ_BENCH_MESSAGES` changes the corpus size. Run without `--bench` (as `cargo
//! test --benches` runs it) or with `--test`, every part runs once on small data: 5,000
//! messages in a temporary file, 100 interleaved batches.
#![allow(
    clippy::print_stdout,
    reason = "a benchmark reports its figures on standard output"
)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput};
use gnomeqq_history::{
    ConversationKey, ConversationKind, Direction, History, Inserted, NewMessage,
};

/// Messages per poll batch in the insert benchmark.
const BATCH: usize = 20;
/// Messages in the search corpus.
const CORPUS: u64 = 1_000_000;
/// Timed search calls.
const SEARCH_RUNS: usize = 1_000;
/// Hits asked of each search.
const LIMIT: usize = 20;

/// The 50 search queries: 1, 2, 3-4 Chinese characters, Latin words and prefixes, mixed.
#[rustfmt::skip]
const QUERIES: &[&str] = &[
    // 1 character (10)
    "我", "的", "好", "饭", "会", "中", "码", "猫", "雨", "书",
    // 2 characters (14)
    "今天", "明天", "开会", "吃饭", "发布", "代码", "测试", "问题", "周末", "电影", "中文", "数据", "我的", "量子",
    // 3-4 characters (10)
    "数据库", "服务器", "下午茶", "没有问题", "明天开会", "一起吃饭", "代码审查", "周末愉快", "发布计划", "今天下雨",
    // Latin words and prefixes (12)
    "rust", "gnome", "build", "release", "sqlite", "meeting", "coffee", "lin", "gnomeqq",
    "json", "merge", "kubernetes",
    // Mixed (4)
    "GnomeQQ 发布", "rust 代码", "bug 修复", "linux 服务器",
];

/// Chinese words of chat, roughly most frequent first (the generator favours the front).
#[rustfmt::skip]
const CHINESE: &[&str] = &[
    "的", "了", "我", "你", "是", "吗", "好", "在", "不", "我们", "他", "这个", "就", "啊", "也", "都", "有", "今天",
    "一下", "没有", "可以", "什么", "知道", "现在", "明天", "哈哈", "觉得", "还是", "已经", "问题", "时候", "一起", "开会",
    "吃饭", "代码", "测试", "发布", "看看", "晚上", "下午", "周末", "电影", "谢谢", "不错", "应该", "因为", "所以", "但是",
    "工作", "项目", "需要", "服务器", "数据库", "数据", "中文", "朋友", "学校", "老师", "同学", "东西", "地方", "手机", "电脑",
    "网络", "文件", "修复", "计划", "审查", "版本", "下雨", "天气", "周末愉快", "没问题", "回家", "上班", "下班", "出去", "回来",
    "喜欢", "猫", "狗", "书", "雨", "茶", "咖啡", "下午茶", "早上", "中午", "昨天", "后天", "每天", "快乐", "生日", "礼物",
    "旅行", "火车", "飞机", "机场", "酒店", "房间", "价格", "便宜", "贵", "买", "卖", "钱", "银行", "医院", "医生", "身体",
    "休息", "睡觉", "起床", "跑步", "游泳", "篮球", "足球", "比赛", "音乐", "唱歌", "跳舞", "照片", "视频", "直播", "新闻",
    "消息", "群里", "大家", "请问", "麻烦", "帮忙", "收到", "好的", "马上", "等等", "稍等", "量子", "物理", "历史", "文化",
    "语言", "英语", "汉字", "写字", "读书", "图书馆",
];

/// Latin words of chat (tech talk, English phrases), most frequent first.
#[rustfmt::skip]
const LATIN: &[&str] = &[
    "ok", "OK", "the", "is", "to", "bug", "PR", "rust", "GnomeQQ", "build", "test", "fix",
    "release", "merge", "commit", "linux", "Linux", "gnome", "GNOME", "server", "login", "qq",
    "QQ", "github", "docs", "meeting", "lunch", "coffee", "python", "java", "api", "http",
    "json", "sqlite", "cargo", "clippy", "deploy", "docker", "kubernetes", "CI", "review",
    "branch", "main", "v2", "2024", "100", "hello", "thanks", "lol", "btw",
];

const EMOJI: &[&str] = &["😀", "😂", "👍", "🎉", "🙏", "❤️", "🤔", "😭"];
const PUNCTUATION: &[&str] = &["，", "。", "！", "？", "～", "…", ", ", ". ", "!"];

/// A small deterministic generator (64-bit LCG), so every run builds the same corpus.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// An index skewed towards the front of a list of `n`, like word frequencies.
    fn skewed(&mut self, n: usize) -> usize {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        ((u * u * u) * n as f64) as usize
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        words[self.skewed(words.len())]
    }
}

/// A chat line of 2-24 words: 75 % Chinese, 20 % Latin, the rest emoji and
/// punctuation.
fn generate_text(rng: &mut Lcg) -> String {
    let words = 2 + rng.below(12) + rng.below(12);
    let mut text = String::new();
    let mut last_latin = false;
    for _ in 0..words {
        let roll = rng.below(100);
        if roll < 75 {
            text.push_str(rng.pick(CHINESE));
            last_latin = false;
        } else if roll < 95 {
            if last_latin {
                text.push(' ');
            }
            text.push_str(rng.pick(LATIN));
            last_latin = true;
        } else if roll < 97 {
            text.push_str(EMOJI[rng.below(EMOJI.len())]);
            last_latin = false;
        } else {
            text.push_str(PUNCTUATION[rng.below(PUNCTUATION.len())]);
            last_latin = false;
        }
    }

    text
}

/// Message `n` of the generated stream: 40 groups, 120 friends, 8 discussions,
/// 2,000 senders, one second apart.
fn generate_message(rng: &mut Lcg, n: u64) -> NewMessage {
    let (kind, room) = match rng.below(10) {
        0..=5 => (
            ConversationKind::Group,
            format!("group:{}", 600_000 + rng.below(40)),
        ),
        6..=8 => (
            ConversationKind::Friend,
            format!("qq:{}", 3_100_000_000 + rng.below(120)),
        ),
        _ => (
            ConversationKind::Discussion,
            format!("discussion:{}", rng.below(8)),
        ),
    };
    let sender = rng.skewed(2_000);
    let text = generate_text(rng);
    let segments = serde_json::json!([{ "type": "text", "text": text }]).to_string();

    NewMessage {
        account: "2400000001".to_owned(),
        conversation_name: format!("会话 {room}"),
        conversation: ConversationKey::new(kind, room),
        direction: Direction::In,
        sender_id: format!("qq:{}", 3_200_000_000_usize + sender),
        sender_name: format!("用户{sender}"),
        server_time: 1_700_000_000 + n as i64,
        server_msg_id: Some(n as i64),
        text,
        segments_json: segments,
        outbox_state: None,
    }
}

/// `target/bench-history/`, next to the benchmark binary's profile directory.
fn bench_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the benchmark knows its own path");
    let target = exe.ancestors().nth(3).unwrap_or(Path::new("target"));
    let dir = target.join("bench-history");
    std::fs::create_dir_all(&dir).expect("target/bench-history can be created");
    dir
}

fn remove_database(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut file = path.as_os_str().to_owned();
        file.push(suffix);
        let _ = std::fs::remove_file(file);
    }
}

/// A fresh file database under `target/bench-history/`.
fn fresh_database(name: &str) -> History {
    let path = bench_dir().join(name);
    remove_database(&path);
    History::open(&path).expect("the benchmark database opens")
}

/// The next `count` messages of a generated stream.
fn next_batch(rng: &mut Lcg, n: &mut u64, count: usize) -> Vec<NewMessage> {
    (0..count)
        .map(|_| {
            *n += 1;
            generate_message(rng, *n)
        })
        .collect()
}

/// How many messages the engine lets gather before it indexes them in the background
/// (`gnomeqq-core`'s `BACKGROUND_INDEX_CHUNK`), and how many the store's writers let
/// gather before version 3 of the store moved indexing off the insert path.
const INDEX_CHUNK: usize = 1_000;

fn bench_insert(c: &mut Criterion) {
    let mut group = c.benchmark_group("history_insert");
    group.throughput(Throughput::Elements(BATCH as u64));
    group.sample_size(50);
    group.measurement_time(Duration::from_secs(10));

    // Baseline and total work: every batch stored, and the trailing rows indexed in one
    // go whenever 1,000 wait. That is what the writer did before (inside the batch's own
    // transaction), and what the engine's background indexing adds up to now.
    let mut history = fresh_database("insert-with-indexing.sqlite3");
    let (mut rng, mut n) = (Lcg(7), 0);
    group.bench_function("batch_of_20_plus_indexing_every_1000", |b| {
        b.iter_batched(
            || next_batch(&mut rng, &mut n, BATCH),
            |batch| {
                let inserted = history
                    .insert_inbound_batch(&batch)
                    .expect("batch is stored");
                if history.unindexed().expect("lag is known") >= INDEX_CHUNK as u64 {
                    history.index_pending(usize::MAX).expect("rows are indexed");
                }
                black_box(inserted)
            },
            criterion::BatchSize::SmallInput,
        );
    });
    println!("  (stored {n} messages)");
    drop(history);

    // The poll path: only `insert_inbound_batch`. The writer's own bulk indexing at
    // `INDEX_LAG_BOUND` trailing rows is included, so no work is left out for ever.
    let mut history = fresh_database("insert.sqlite3");
    let (mut rng, mut n) = (Lcg(7), 0);
    group.bench_function("batch_of_20", |b| {
        b.iter_batched(
            || next_batch(&mut rng, &mut n, BATCH),
            |batch| {
                let inserted = history
                    .insert_inbound_batch(&batch)
                    .expect("batch is stored");
                black_box(inserted)
            },
            criterion::BatchSize::SmallInput,
        );
    });
    println!(
        "  (stored {n} messages, {} left unindexed at the end)",
        history.unindexed().expect("lag is known")
    );
    group.finish();
    drop(history);

    // Indexing alone, as the engine's background task does it: 1,000 trailing messages
    // in one `index_pending` call. Storing them is set-up, not timed.
    let mut group = c.benchmark_group("history_index");
    group.throughput(Throughput::Elements(INDEX_CHUNK as u64));
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(10));
    let mut history = fresh_database("index.sqlite3");
    let (mut rng, mut n) = (Lcg(7), 0);
    group.bench_function("pending_1000", |b| {
        // Set-up and routine both need the database, so the timing is done by hand.
        b.iter_custom(|iterations| {
            let mut timed = Duration::ZERO;
            for _ in 0..iterations {
                let batch = next_batch(&mut rng, &mut n, INDEX_CHUNK);
                history
                    .insert_inbound_batch(&batch)
                    .expect("batch is stored");
                let started = Instant::now();
                let indexed = history
                    .index_pending(INDEX_CHUNK)
                    .expect("rows are indexed");
                timed += started.elapsed();
                assert_eq!(indexed, INDEX_CHUNK, "every stored row was waiting");
            }
            timed
        });
    });
    println!("  (stored and indexed {n} messages)");
    group.finish();
}

/// The old and the new insert path interleaved batch by batch, each on its own file, so
/// that the load of a shared machine falls on both alike (criterion runs one bench after
/// the other, and on a busy machine their ratio moved between 1.1 and 2.2).
///
/// * old: `insert_inbound_batch`, then, once 1,000 rows trail, `index_pending` on the same
///   path, which is what the writer did inside the batch before version 3 of the store;
/// * new: `insert_inbound_batch` alone on the poll path, and `index_pending(1000)` once
///   1,000 rows trail, timed apart, as the engine's background task runs it.
///
/// Both do the same work in total; the new path moves the indexing off the poll batch.
fn insert_interleaved(test_mode: bool) {
    let rounds = if test_mode { 100 } else { 3_000 };
    let mut old = fresh_database("interleaved-old.sqlite3");
    let mut new = fresh_database("interleaved-new.sqlite3");
    let (mut rng, mut n) = (Lcg(11), 0);
    let (mut old_times, mut new_times) = (Vec::new(), Vec::new());
    let (mut indexing, mut indexed) = (Duration::ZERO, 0);
    for round in 0..rounds {
        let batch = next_batch(&mut rng, &mut n, BATCH);
        let mut run_old = || {
            let started = Instant::now();
            black_box(old.insert_inbound_batch(&batch).expect("batch is stored"));
            if old.unindexed().expect("lag is known") >= INDEX_CHUNK as u64 {
                old.index_pending(usize::MAX).expect("rows are indexed");
            }
            old_times.push(started.elapsed());
        };
        let mut run_new = || {
            let started = Instant::now();
            black_box(new.insert_inbound_batch(&batch).expect("batch is stored"));
            new_times.push(started.elapsed());
            if new.unindexed().expect("lag is known") >= INDEX_CHUNK as u64 {
                let started = Instant::now();
                indexed += new.index_pending(INDEX_CHUNK).expect("rows are indexed");
                indexing += started.elapsed();
            }
        };
        // Alternate which goes first, so neither always follows the other's I/O.
        if round % 2 == 0 {
            run_old();
            run_new();
        } else {
            run_new();
            run_old();
        }
    }
    let rate = |messages: usize, time: Duration| messages as f64 / time.as_secs_f64();
    let messages = rounds * BATCH;
    let old_total: Duration = old_times.iter().sum();
    let new_total: Duration = new_times.iter().sum();
    println!("insert, old and new path interleaved, {rounds} batches of {BATCH} each:");
    let old_median = print_line("old: insert + index inline", &mut old_times);
    let new_median = print_line("new: insert (poll path)", &mut new_times);
    println!(
        "throughput: old {:.0} msg/s, new poll path {:.0} msg/s ({:.2}x), \
         background indexing {:.0} msg/s ({indexed} rows), new insert + indexing {:.0} msg/s; \
         median batch old/new {:.2}x",
        rate(messages, old_total),
        rate(messages, new_total),
        old_total.as_secs_f64() / new_total.as_secs_f64(),
        rate(indexed, indexing),
        rate(messages, new_total + indexing),
        old_median / new_median,
    );
}

/// A fresh file database with version 4's one index on messages, led by the
/// conversation, instead of version 5's, led by time. The same store code runs on it;
/// its statements find their rows through whichever index the file has, and its
/// background indexing also writes the timeline, which version 4 did not have.
fn fresh_v4_database(name: &str) -> History {
    let path = bench_dir().join(name);
    drop(fresh_database(name));
    let conn = rusqlite::Connection::open(&path).expect("the benchmark database opens");
    conn.execute_batch(
        "DROP INDEX messages_dedupe;
         CREATE UNIQUE INDEX messages_by_conversation_key ON messages (
             conversation_id, server_time, sender_id, ifnull(server_msg_id, -1), text_hash);",
    )
    .expect("version 4's index is created");
    drop(conn);
    History::open(&path).expect("the benchmark database opens")
}

/// Stores `messages` generated messages in batches of 1,000 and indexes them, untimed:
/// the history a comparison starts from.
fn prefill(history: &mut History, rng: &mut Lcg, n: &mut u64, messages: u64) {
    while *n < messages {
        let count = (messages - *n).min(1_000) as usize;
        history
            .insert_inbound_batch(&next_batch(rng, n, count))
            .expect("batch is stored");
        history.index_pending(usize::MAX).expect("rows are indexed");
    }
}

/// Version 4's index on messages (led by the conversation) against version 5's (led by
/// time, the timeline written in bulk), interleaved batch by batch on two fresh files
/// so that the load of a shared machine falls on both alike. Both run the poll path as the engine does now:
/// `insert_inbound_batch` alone, timed, and `index_pending(1000)` once 1,000 rows trail,
/// timed apart as the background task. `GNOMEQQ_BENCH_PREFILL` stores that many
/// messages in each file first (untimed), to compare at a larger history.
fn insert_interleaved_v4_v5(test_mode: bool) {
    let rounds = if test_mode { 100 } else { 5_000 };
    let prefilled: u64 = match std::env::var("GNOMEQQ_BENCH_PREFILL") {
        Ok(value) => value.parse().expect("GNOMEQQ_BENCH_PREFILL is a number"),
        Err(_) => 0,
    };
    let mut v4 = fresh_v4_database("interleaved-v4.sqlite3");
    let mut v5 = fresh_database("interleaved-v5.sqlite3");
    for history in [&mut v4, &mut v5] {
        let (mut rng, mut n) = (Lcg(5), 0);
        prefill(history, &mut rng, &mut n, prefilled);
    }
    let (mut rng, mut n) = (Lcg(13), prefilled);
    let mut times = [Vec::new(), Vec::new()];
    let mut indexing = [Duration::ZERO; 2];
    let mut indexed = [0; 2];
    for round in 0..rounds {
        let batch = next_batch(&mut rng, &mut n, BATCH);
        // Alternate which goes first, so neither always follows the other's I/O.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for which in order {
            let history = if which == 0 { &mut v4 } else { &mut v5 };
            let started = Instant::now();
            let inserted = history
                .insert_inbound_batch(&batch)
                .expect("batch is stored");
            times[which].push(started.elapsed());
            assert!(
                inserted.iter().all(|i| matches!(i, Inserted::New(_))),
                "every generated message is new"
            );
            if history.unindexed().expect("lag is known") >= INDEX_CHUNK as u64 {
                let started = Instant::now();
                indexed[which] += history
                    .index_pending(INDEX_CHUNK)
                    .expect("rows are indexed");
                indexing[which] += started.elapsed();
            }
        }
    }
    let rate = |messages: usize, time: Duration| messages as f64 / time.as_secs_f64();
    let messages = rounds * BATCH;
    let totals: Vec<Duration> = times.iter().map(|t| t.iter().sum()).collect();
    println!(
        "insert, schema v4 (conversation-led index) and v5 (time-led, timeline) interleaved, \
         {rounds} batches of {BATCH} each after {prefilled} prefilled messages, poll path only:"
    );
    let [v4_times, v5_times] = &mut times;
    let v4_median = print_line("v4: insert (poll path)", v4_times);
    let v5_median = print_line("v5: insert (poll path)", v5_times);
    let (_, _, v4_p99, _) = percentiles(v4_times);
    let (_, _, v5_p99, _) = percentiles(v5_times);
    println!(
        "throughput: v4 {:.0} msg/s, v5 {:.0} msg/s ({:.2}x); median batch v4/v5 {:.2}x, \
         p99 v4/v5 {:.2}x; background indexing v4 {:.0} msg/s, v5 {:.0} msg/s",
        rate(messages, totals[0]),
        rate(messages, totals[1]),
        totals[0].as_secs_f64() / totals[1].as_secs_f64(),
        v4_median / v5_median,
        v4_p99 / v5_p99,
        rate(indexed[0], indexing[0]),
        rate(indexed[1], indexing[1]),
    );
}

/// Listing while messages trail the timeline: the newest 50 of one group, and the
/// conversation list, on a fresh file of 100,000 indexed messages with 0, 1,000 (what
/// the engine lets gather before it indexes in the background) and 9,000 (near
/// `INDEX_LAG_BOUND`, when nobody indexes) more stored but not yet indexed. What
/// trails is read from the messages table by id on every call.
fn bench_list_trailing(c: &mut Criterion, test_mode: bool) {
    let (indexed, steps): (u64, &[u64]) = if test_mode {
        (5_000, &[0, 100])
    } else {
        (100_000, &[0, 1_000, 9_000])
    };
    let mut history = fresh_database("list-trailing.sqlite3");
    let (mut rng, mut n) = (Lcg(17), 0);
    prefill(&mut history, &mut rng, &mut n, indexed);
    let key = ConversationKey::new(ConversationKind::Group, "group:600000");
    let mut group = c.benchmark_group("history_list_trailing");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(4));
    for &trailing in steps {
        while history.unindexed().expect("lag is known") < trailing {
            history
                .insert_inbound_batch(&next_batch(&mut rng, &mut n, BATCH))
                .expect("batch is stored");
        }
        let found = history
            .messages(Some(&key), None, 50)
            .expect("history loads");
        assert_eq!(found.len(), 50, "the file holds 50 messages of the group");
        group.bench_function(format!("last_50_of_a_group/{trailing}"), |b| {
            b.iter(|| {
                black_box(
                    history
                        .messages(Some(&key), None, 50)
                        .expect("history loads"),
                )
            });
        });
        group.bench_function(format!("conversations/{trailing}"), |b| {
            b.iter(|| black_box(history.conversations().expect("conversations load")));
        });
    }
    group.finish();
}

/// Opens the search corpus, generating it first if the file is missing.
fn corpus(path: &Path, messages: u64) -> History {
    if path.exists() {
        println!("reusing {}", path.display());
        return History::open(path).expect("the corpus opens");
    }

    let partial = path.with_extension("partial");
    remove_database(&partial);
    let mut history = History::open(&partial).expect("the corpus database opens");
    let mut rng = Lcg(2026);
    let started = Instant::now();
    let mut batch = Vec::with_capacity(1000);
    for n in 1..=messages {
        batch.push(generate_message(&mut rng, n));
        if batch.len() == 1000 || n == messages {
            history
                .insert_inbound_batch(&batch)
                .expect("corpus batch is stored");
            batch.clear();
        }
    }
    drop(history);
    println!(
        "generated {messages} messages in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    // A checkpoint folds the WAL into the file so its size is the database's size.
    let conn = rusqlite::Connection::open(&partial).expect("the corpus opens for checkpoint");
    conn.pragma_update(None, "wal_checkpoint", "TRUNCATE")
        .expect("checkpoint succeeds");
    drop(conn);
    std::fs::rename(&partial, path).expect("the finished corpus is renamed");
    remove_database(&partial);
    History::open(path).expect("the corpus opens")
}

/// Median, p90, p99 and max of `times`, in milliseconds.
fn percentiles(times: &mut [Duration]) -> (f64, f64, f64, f64) {
    times.sort();
    let at = |q: f64| {
        let index = ((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1;
        times[index].as_secs_f64() * 1000.0
    };
    (at(0.5), at(0.9), at(0.99), at(1.0))
}

fn print_line(name: &str, times: &mut [Duration]) -> f64 {
    let count = times.len();
    let (median, p90, p99, max) = percentiles(times);
    println!(
        "{name:<28} n={count:<5} median {median:8.3} ms  p90 {p90:8.3} ms  \
         p99 {p99:8.3} ms  max {max:8.3} ms"
    );
    median
}

fn memory_kib(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The corpus's size and file; in test mode a fresh small one.
fn corpus_path(test_mode: bool) -> (u64, PathBuf) {
    let messages = match std::env::var("GNOMEQQ_BENCH_MESSAGES") {
        Ok(value) => value.parse().expect("GNOMEQQ_BENCH_MESSAGES is a number"),
        Err(_) if test_mode => 5_000,
        Err(_) => CORPUS,
    };
    // The name carries the corpus layout; change `v2` when the generator changes. Schema
    // changes need no new name: the store migrates the file when it opens it.
    let path = bench_dir().join(format!("search-v2-{messages}.sqlite3"));
    if test_mode {
        remove_database(&path);
    }
    (messages, path)
}

/// Reading a conversation back from the corpus: the newest 50 messages of one busy group
/// (about 1.5 % of the corpus), of one friend (about 0.25 %) and of all conversations,
/// and the conversation list with each conversation's last time and message count.
fn bench_list(c: &mut Criterion, messages: u64, history: &History) {
    let mut group = c.benchmark_group("history_list");
    group.sample_size(50);
    group.measurement_time(Duration::from_secs(5));
    for (name, key) in [
        (
            "last_50_of_a_group",
            ConversationKey::new(ConversationKind::Group, "group:600000"),
        ),
        (
            "last_50_of_a_friend",
            ConversationKey::new(ConversationKind::Friend, "qq:3100000000"),
        ),
    ] {
        let found = history
            .messages(Some(&key), None, 50)
            .expect("history loads");
        // A friend has about 0.25 % of the messages: a small test corpus may hold fewer.
        let expected = if messages >= 100_000 {
            50
        } else {
            found.len().max(1)
        };
        assert_eq!(
            found.len(),
            expected,
            "{name}: the corpus holds 50 messages of it"
        );
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    history
                        .messages(Some(&key), None, 50)
                        .expect("history loads"),
                )
            });
        });
    }
    // All conversations: since version 4 the newest of each conversation, merged.
    let found = history.messages(None, None, 50).expect("history loads");
    assert_eq!(found.len(), 50, "the corpus holds 50 messages");
    group.bench_function("last_50_of_all", |b| {
        b.iter(|| black_box(history.messages(None, None, 50).expect("history loads")));
    });
    group.sample_size(10);
    group.bench_function("conversations", |b| {
        b.iter(|| black_box(history.conversations().expect("conversations load")));
    });
    group.finish();
}

fn search_report(test_mode: bool, messages: u64, path: &Path, history: &History) {
    let size = std::fs::metadata(path).map_or(0, |meta| meta.len());
    println!("SQLite {}", rusqlite::version());
    println!(
        "corpus: {messages} messages, {:.1} MiB on disk, {:.1} MiB per million messages",
        size as f64 / 1_048_576.0,
        size as f64 / 1_048_576.0 * 1_000_000.0 / messages as f64
    );
    print_table_sizes(path);

    // Peak RSS from here on: clear_refs "5" resets VmHWM (Linux 4.0+).
    let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
    let rss_before = memory_kib("VmRSS:");

    let mut hits = Vec::new();
    for query in QUERIES {
        hits.push(history.search(query, LIMIT).expect("search works").len());
    }
    println!("hits per query (limit {LIMIT}): {hits:?}");

    let runs = if test_mode {
        QUERIES.len()
    } else {
        SEARCH_RUNS
    };
    let mut times = Vec::with_capacity(runs);
    let mut by_class: [Vec<Duration>; 5] = Default::default();
    for run in 0..runs {
        let index = run % QUERIES.len();
        let started = Instant::now();
        let found = history.search(QUERIES[index], LIMIT).expect("search works");
        let elapsed = started.elapsed();
        black_box(found);
        times.push(elapsed);
        let class = match index {
            0..10 => 0,
            10..24 => 1,
            24..34 => 2,
            34..46 => 3,
            _ => 4,
        };
        by_class[class].push(elapsed);
    }
    let hwm = memory_kib("VmHWM:");
    let rss = memory_kib("VmRSS:");

    println!(
        "search, {LIMIT} hits, BM25 over the newest {} matches:",
        gnomeqq_history::SEARCH_WINDOW
    );
    let median = print_line("all 50 queries", &mut times);
    for (name, class) in [
        "1 character",
        "2 characters",
        "3-4 characters",
        "Latin",
        "mixed",
    ]
    .iter()
    .zip(by_class.iter_mut())
    {
        print_line(name, class);
    }
    println!(
        "memory during search: VmRSS {:.1} MiB before, {:.1} MiB after, peak (VmHWM) {:.1} MiB{}",
        rss_before as f64 / 1024.0,
        rss as f64 / 1024.0,
        hwm as f64 / 1024.0,
        if reset {
            ""
        } else {
            " (peak not reset: includes generation)"
        }
    );

    let rounds = if test_mode { 1 } else { 2 };
    let conn = rusqlite::Connection::open(path).expect("the corpus opens for baselines");
    let mut full_rank = Vec::new();
    let mut like = Vec::new();
    let mut like_all = Vec::new();
    for _ in 0..rounds {
        for query in QUERIES {
            full_rank.push(time_full_rank(&conn, query));
            like.push(time_like(&conn, query, LIKE_NEWEST));
            like_all.push(time_like(&conn, query, LIKE_ALL));
        }
    }
    println!("baselines on the same data:");
    let full = print_line("fts5 bm25 over all matches", &mut full_rank);
    let scan = print_line("LIKE '%q%' newest 20", &mut like);
    let scan_all = print_line("LIKE '%q%' all matches", &mut like_all);
    println!(
        "ratios of medians to search: LIKE newest 20 {:.2}x, LIKE all matches {:.1}x, \
         FTS5 bm25() over all matches {:.1}x",
        scan / median,
        scan_all / median,
        full / median
    );
}

fn print_table_sizes(path: &Path) {
    let conn = rusqlite::Connection::open(path).expect("the corpus opens for dbstat");
    let sizes = conn.prepare(
        "SELECT CASE WHEN name LIKE 'messages_fts%' THEN 'messages_fts (all shadow tables)' \
         ELSE name END AS part, sum(pgsize) FROM dbstat GROUP BY part ORDER BY 2 DESC",
    );
    let Ok(mut sizes) = sizes else {
        println!("(dbstat is not compiled in; no per-table sizes)");
        return;
    };
    let rows = sizes
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })
        .expect("dbstat query runs");
    for row in rows.flatten() {
        println!("  {:<36} {:8.1} MiB", row.0, row.1 as f64 / 1_048_576.0);
    }
}

/// One FTS5 query ranked by `bm25` over every match, 20 best; the design's road not taken.
fn time_full_rank(conn: &rusqlite::Connection, query: &str) -> Duration {
    let fts = gnomeqq_history::fts_query(query).expect("benchmark queries hold words");
    let started = Instant::now();
    let mut statement = conn
        .prepare_cached(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 ORDER BY rank LIMIT 20",
        )
        .expect("full-rank query prepares");
    let ids: Vec<i64> = statement
        .query_map([fts], |row| row.get(0))
        .expect("full-rank query runs")
        .flatten()
        .collect();
    black_box(ids);
    started.elapsed()
}

/// The 20 newest messages whose text contains the query (spaces as `%`): a scan that
/// stops at the 20th match.
const LIKE_NEWEST: &str = "SELECT id FROM messages WHERE text LIKE ?1 ORDER BY id DESC LIMIT 20";

/// Every message whose text contains the query: what ranking the matches would need.
const LIKE_ALL: &str = "SELECT id FROM messages WHERE text LIKE ?1";

/// Time of one `LIKE` query.
fn time_like(conn: &rusqlite::Connection, query: &str, sql: &str) -> Duration {
    let pattern = format!("%{}%", query.replace(' ', "%"));
    let started = Instant::now();
    let mut statement = conn.prepare_cached(sql).expect("LIKE query prepares");
    let ids: Vec<i64> = statement
        .query_map([pattern], |row| row.get(0))
        .expect("LIKE query runs")
        .flatten()
        .collect();
    black_box(ids);
    started.elapsed()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // As criterion decides: `cargo bench` passes `--bench`; `cargo test --benches` runs
    // the binary without it, and then every part runs once, on small data.
    let test_mode =
        !args.iter().any(|arg| arg == "--bench") || args.iter().any(|arg| arg == "--test");
    let filter = args.iter().find(|arg| !arg.starts_with('-'));
    // A section runs when the filter (criterion's, taken as a plain substring) matches
    // one of its benchmark names, so a filtered run does not build what it skips.
    let wanted = |names: &[&str]| {
        filter.is_none_or(|filter| names.iter().any(|name| name.contains(filter.as_str())))
    };
    let list = wanted(&[
        "history_list/last_50_of_a_group",
        "history_list/last_50_of_a_friend",
        "history_list/last_50_of_all",
        "history_list/conversations",
    ]);
    let search = wanted(&["search"]);

    let mut criterion = Criterion::default().configure_from_args();
    if wanted(&[
        "history_insert/batch_of_20_plus_indexing_every_1000",
        "history_insert/batch_of_20",
        "history_index/pending_1000",
    ]) {
        bench_insert(&mut criterion);
    }
    if wanted(&["insert_interleaved"]) {
        insert_interleaved(test_mode);
    }
    if wanted(&["insert_interleaved_v4_v5"]) {
        insert_interleaved_v4_v5(test_mode);
    }
    if wanted(&[
        "history_list_trailing/last_50_of_a_group",
        "history_list_trailing/conversations",
    ]) {
        bench_list_trailing(&mut criterion, test_mode);
    }
    if list || search {
        let (messages, path) = corpus_path(test_mode);
        let history = corpus(&path, messages);
        if list {
            bench_list(&mut criterion, messages, &history);
        }
        criterion.final_summary();
        if search {
            search_report(test_mode, messages, &path, &history);
        }
    } else {
        criterion.final_summary();
    }
}

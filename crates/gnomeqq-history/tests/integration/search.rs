//! Full-text search: Chinese substrings of one and two characters, phrases, Latin
//! words and prefixes, and input that must never be an FTS5 syntax error.

use gnomeqq_history::History;

use crate::support::history_with;

/// The texts of the hits for `query`, in rank order.
fn found(history: &History, query: &str) -> Vec<String> {
    let hits = history.search(query, 50).unwrap();
    hits.into_iter().map(|hit| hit.message.text).collect()
}

/// The texts for `query`, sorted, to compare sets.
fn found_sorted(history: &History, query: &str) -> Vec<String> {
    let mut texts = found(history, query);
    texts.sort();
    texts
}

const TEXTS: &[&str] = &[
    "我们用中文聊天",
    "中国人说英文",
    "今天下午三点开会讨论发布计划",
    "GnomeQQ 开发进度：登录已经完成",
    "gnomeqq的开发者",
    "Rust is great for building GNOME apps",
    "晚上一起吃饭吗😀",
    "收到👍🏻",
    "ＧＮＯＭＥ全角字母",
];

#[test]
fn one_chinese_character_is_found_inside_words() {
    let history = history_with(TEXTS);

    assert_eq!(
        found_sorted(&history, "中"),
        ["中国人说英文", "我们用中文聊天"]
    );
    assert_eq!(found_sorted(&history, "饭"), ["晚上一起吃饭吗😀"]);
}

#[test]
fn two_chinese_characters_must_be_adjacent() {
    let history = history_with(TEXTS);

    assert_eq!(found(&history, "中文"), ["我们用中文聊天"]);
    assert_eq!(found(&history, "英文"), ["中国人说英文"]);
    assert!(found(&history, "中英").is_empty());
}

#[test]
fn a_match_is_contiguous_not_scattered() {
    let history = history_with(&["中间有很多别的字然后才是文", "中文"]);

    assert_eq!(found(&history, "中文"), ["中文"]);
}

#[test]
fn a_four_character_phrase_is_found() {
    let history = history_with(TEXTS);

    assert_eq!(
        found(&history, "讨论发布"),
        ["今天下午三点开会讨论发布计划"]
    );
    assert!(found(&history, "讨论计划").is_empty());
}

#[test]
fn latin_words_match_whole_and_by_prefix_ignoring_case() {
    let history = history_with(TEXTS);

    assert_eq!(
        found(&history, "rust"),
        ["Rust is great for building GNOME apps"]
    );
    assert_eq!(
        found(&history, "buil"),
        ["Rust is great for building GNOME apps"]
    );
    assert_eq!(
        found(&history, "GNOME").len(),
        4,
        "GNOME, ＧＮＯＭＥ and the two gnomeqq"
    );
    assert_eq!(found(&history, "全角"), ["ＧＮＯＭＥ全角字母"]);
    assert_eq!(
        found(&history, "ｇｎｏｍｅ全角").len(),
        1,
        "full-width folds to ASCII"
    );
    assert_eq!(found(&history, "gnomeqq").len(), 2);
    assert!(
        found(&history, "uild").is_empty(),
        "only prefixes, not infixes, of words"
    );
}

#[test]
fn mixed_latin_and_chinese_words_are_anded() {
    let history = history_with(TEXTS);

    assert_eq!(
        found_sorted(&history, "GnomeQQ 开发"),
        ["GnomeQQ 开发进度：登录已经完成", "gnomeqq的开发者"]
    );
    assert_eq!(
        found(&history, "GnomeQQ 登录"),
        ["GnomeQQ 开发进度：登录已经完成"]
    );
    assert!(found(&history, "Rust 开发").is_empty());
}

#[test]
fn punctuation_between_characters_is_ignored_like_in_the_index() {
    let history = history_with(TEXTS);

    assert_eq!(
        found(&history, "进度，登录"),
        ["GnomeQQ 开发进度：登录已经完成"]
    );
}

#[test]
fn emoji_are_searchable() {
    let history = history_with(TEXTS);

    assert_eq!(found(&history, "😀"), ["晚上一起吃饭吗😀"]);
    assert_eq!(found(&history, "👍"), ["收到👍🏻"]);
    assert_eq!(found(&history, "吗😀"), ["晚上一起吃饭吗😀"]);
}

#[test]
fn fts5_syntax_typed_by_users_is_never_an_error() {
    let history = history_with(&["say \"hello\" AND goodbye NEAR here", "a*b (c) -d: e^f"]);
    let inputs = [
        "\"",
        "\"\"",
        "\"hello",
        "*",
        "**",
        "hello*",
        "*hello",
        "AND",
        "OR",
        "NOT",
        "NEAR",
        "NEAR(",
        "NEAR(a b, 2)",
        "a AND",
        "OR b",
        "(",
        ")",
        "()",
        "-d",
        "c:",
        "body:hello",
        "{body}: a",
        "^",
        "e^f",
        "'",
        "''",
        "\\",
        "%",
        "_",
        "a\"b",
        "  ",
        "",
        "。，！",
        "\u{0}",
        "\u{FEFF}",
        "\u{0902}",
        "😀*",
        "\"中\"*文",
        "NOT 中",
    ];

    for input in inputs {
        assert!(
            history.search(input, 10).is_ok(),
            "{input:?} must not be an error"
        );
    }

    assert_eq!(
        found(&history, "\"hello"),
        ["say \"hello\" AND goodbye NEAR here"]
    );
    assert_eq!(
        found(&history, "NEAR"),
        ["say \"hello\" AND goodbye NEAR here"]
    );
    assert_eq!(
        found(&history, "AND"),
        ["say \"hello\" AND goodbye NEAR here"]
    );
    assert!(found(&history, "。，！").is_empty());
}

#[test]
fn kana_and_hangul_are_split_like_chinese() {
    let history = history_with(&["ありがとうございます", "감사합니다 친구"]);

    assert_eq!(found(&history, "がとう"), ["ありがとうございます"]);
    assert_eq!(found(&history, "사합"), ["감사합니다 친구"]);
}

#[test]
fn hits_carry_rank_conversation_and_a_highlighted_snippet() {
    let long = format!("{}我们在讨论中文搜索{}", "前".repeat(40), "后".repeat(80));
    let history = history_with(&[&long, "中文"]);

    let hits = history.search("中文", 10).unwrap();

    assert_eq!(hits.len(), 2);
    assert!(hits.iter().all(|hit| hit.rank < 0.0));
    assert!(hits[0].rank <= hits[1].rank);
    assert_eq!(
        hits[0].message.text, "中文",
        "the short message ranks first under bm25"
    );
    assert_eq!(hits[0].conversation_name, "开发群");
    let snippet = &hits[1].snippet;
    assert!(snippet.text.starts_with('…') && snippet.text.ends_with('…'));
    assert_eq!(snippet.highlights.len(), 1);
    assert_eq!(&snippet.text[snippet.highlights[0].clone()], "中文");
}

#[test]
fn a_limit_caps_the_hits() {
    let texts: Vec<String> = (0..30).map(|n| format!("第{n}条消息")).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let history = history_with(&refs);

    assert_eq!(history.search("消息", 5).unwrap().len(), 5);
    assert_eq!(history.search("消息", 100).unwrap().len(), 30);
}

#[test]
fn searching_while_another_process_writes_waits_instead_of_failing() {
    let dir = crate::support::TempDir::new("search-while-writing");
    let mut writer = gnomeqq_history::History::open(dir.db()).unwrap();
    let reader = gnomeqq_history::History::open(dir.db()).unwrap();
    writer
        .insert_inbound_batch(&[crate::support::inbound(1, 1, "开始 start")])
        .unwrap();

    let writing = std::thread::spawn(move || {
        for batch in 0..150_i64 {
            let messages: Vec<_> = (0..20)
                .map(|n| {
                    crate::support::inbound(
                        10 + batch,
                        batch * 100 + n,
                        &format!("消息 {batch} {n}"),
                    )
                })
                .collect();
            writer.insert_inbound_batch(&messages).unwrap();
        }
    });
    let mut failures = 0;
    for _ in 0..150 {
        if reader.search("消息", 5).is_err() {
            failures += 1;
        }
    }
    writing.join().unwrap();

    assert_eq!(failures, 0);
    assert_eq!(reader.search("开始", 5).unwrap().len(), 1);
}

#[test]
fn storing_leaves_the_index_to_index_pending_and_search_still_sees_everything() {
    let texts: Vec<String> = (0..30).map(|n| format!("消息 number{n}")).collect();
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut history = crate::support::history_with(&texts);
    assert_eq!(history.unindexed().unwrap(), 30, "storing indexes nothing");

    assert_eq!(history.index_pending(10).unwrap(), 10);
    assert_eq!(history.unindexed().unwrap(), 20);

    // number29 is among the 20 still waiting: a search indexes them first.
    assert_eq!(found(&history, "number29"), ["消息 number29"]);
    assert_eq!(found(&history, "number0"), ["消息 number0"]);
    assert_eq!(history.unindexed().unwrap(), 0);
    assert_eq!(history.index_pending(10).unwrap(), 0);
    assert_eq!(history.search("消息", 100).unwrap().len(), 30);
}

#[test]
fn a_writer_indexes_once_the_lag_bound_is_reached() {
    let bound = usize::try_from(gnomeqq_history::INDEX_LAG_BOUND).unwrap();
    let mut history = gnomeqq_history::History::open_in_memory().unwrap();
    let batch: Vec<_> = (1..bound)
        .map(|n| {
            let n = i64::try_from(n).unwrap();
            crate::support::inbound(n, n, &format!("消息 {n}"))
        })
        .collect();
    history.insert_inbound_batch(&batch).unwrap();
    assert_eq!(
        history.unindexed().unwrap(),
        gnomeqq_history::INDEX_LAG_BOUND - 1
    );

    let last = i64::try_from(bound).unwrap();
    history
        .insert_inbound_batch(&[crate::support::inbound(last, last, "最后 last")])
        .unwrap();

    assert_eq!(
        history.unindexed().unwrap(),
        0,
        "the writer indexed every row"
    );
}

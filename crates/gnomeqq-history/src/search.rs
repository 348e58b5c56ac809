//! Full-text search: the search form fed to FTS5, the query translation, snippets, and
//! [`History::search`]. The design is explained in the crate docs.

use std::ops::Range;

use rusqlite::{Transaction, TransactionBehavior, params};

use crate::model::{SearchHit, Snippet};
use crate::{History, Result};

/// How many of the most recent matches a search ranks.
pub const SEARCH_WINDOW: usize = 500;

/// Characters of context kept before the first match in a snippet.
const SNIPPET_BEFORE: usize = 20;
/// Characters a snippet holds at most, context included.
const SNIPPET_LENGTH: usize = 80;

/// The newest `?2` matches of FTS5 query `?1`, newest first, with their text.
pub(crate) const CANDIDATES_SQL: &str = "SELECT id, text FROM messages WHERE id IN \
     (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 ORDER BY rowid DESC LIMIT ?2) \
     ORDER BY id DESC";

/// How the search form treats a character.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    /// CJK ideograph, kana, hangul or emoji: a token of its own.
    Alone,
    /// Letter or digit of a space-separated script: part of a word.
    Word,
    /// Anything else: a separator.
    Space,
}

fn classify(c: char) -> Class {
    let code = u32::from(c);
    let alone = matches!(
        code,
        0x1100..=0x11FF             // Hangul Jamo
            | 0x2E80..=0x2FDF       // CJK and Kangxi radicals
            | 0x3005..=0x3007       // 々 〆 〇
            | 0x3041..=0x30FF       // Hiragana, Katakana
            | 0x3105..=0x312F       // Bopomofo
            | 0x3131..=0x318E       // Hangul compatibility Jamo
            | 0x31A0..=0x31BF       // Bopomofo extended
            | 0x31F0..=0x31FF       // Katakana phonetic extensions
            | 0x3400..=0x4DBF       // CJK extension A
            | 0x4E00..=0x9FFF       // CJK unified ideographs
            | 0xA960..=0xA97F       // Hangul Jamo extended A
            | 0xAC00..=0xD7FF       // Hangul syllables, Jamo extended B
            | 0xF900..=0xFAFF       // CJK compatibility ideographs
            | 0xFF66..=0xFF9D       // half-width Katakana
            | 0x1B000..=0x1B16F     // Kana supplement and extensions
            | 0x20000..=0x3134F     // CJK extensions B-G
            | 0x2600..=0x27BF       // miscellaneous symbols, dingbats
            | 0x2B00..=0x2BFF       // arrows and stars used as emoji
            | 0x1F000..=0x1F3FA     // emoji (skin-tone modifiers 1F3FB-1F3FF excluded)
            | 0x1F400..=0x1FAFF
    );
    if alone {
        Class::Alone
    } else if c.is_alphanumeric() {
        Class::Word
    } else {
        Class::Space
    }
}

/// Folds full-width ASCII letters and digits to ASCII; FTS5 folds case itself.
fn fold_width(c: char) -> char {
    match u32::from(c) {
        code @ (0xFF10..=0xFF19 | 0xFF21..=0xFF3A | 0xFF41..=0xFF5A) => {
            char::from_u32(code - 0xFEE0).unwrap_or(c)
        }
        _ => c,
    }
}

/// The text the full-text index sees for `text`: every CJK character, kana, hangul
/// syllable and emoji stands alone between spaces, letters and digits stay in words,
/// and every other character becomes a space.
///
/// ```
/// assert_eq!(gnomeqq_history::search_form("GnomeQQ开发！ok"), "GnomeQQ 开  发  ok");
/// ```
pub fn search_form(text: &str) -> String {
    let mut form = String::with_capacity(text.len() + text.len() / 2);
    for c in text.chars() {
        match classify(c) {
            Class::Alone => {
                form.push(' ');
                form.push(c);
                form.push(' ');
            }
            Class::Word => form.push(fold_width(c)),
            Class::Space => form.push(' '),
        }
    }

    form
}

/// One whitespace-separated word of a query, as search-form tokens, folded.
struct QueryWord {
    /// The tokens, in order: single CJK characters or emoji, and Latin words.
    tokens: Vec<Vec<char>>,
    /// Whether the last token is a Latin word, matched as a prefix.
    prefix: bool,
}

/// The words of `input` that hold something to look for.
fn parse_query(input: &str) -> Vec<QueryWord> {
    input
        .split_whitespace()
        .filter_map(|word| {
            let tokens: Vec<Vec<char>> = tokenize(word).into_iter().map(|t| t.folded).collect();
            let last = *tokens.last()?.last()?;
            Some(QueryWord {
                prefix: classify(last) == Class::Word,
                tokens,
            })
        })
        .collect()
}

/// Turns what a user typed into an FTS5 query, or `None` when it holds nothing to look
/// for. Each whitespace-separated word becomes a quoted phrase of its search-form tokens
/// (a prefix phrase when it ends in a letter or digit); words are ANDed. The result is
/// always valid FTS5 syntax.
///
/// ```
/// assert_eq!(
///     gnomeqq_history::fts_query("GnomeQQ 开发").as_deref(),
///     Some(r#""gnomeqq"* "开 发""#),
/// );
/// assert_eq!(gnomeqq_history::fts_query("\"*) NEAR"), Some(r#""near"*"#.to_owned()));
/// assert_eq!(gnomeqq_history::fts_query("？！"), None);
/// ```
pub fn fts_query(input: &str) -> Option<String> {
    let words = parse_query(input);
    (!words.is_empty()).then(|| to_fts(&words))
}

fn to_fts(words: &[QueryWord]) -> String {
    let phrases: Vec<String> = words
        .iter()
        .map(|word| {
            let tokens: Vec<String> = word.tokens.iter().map(|t| t.iter().collect()).collect();
            // Tokens hold no quote; doubling one anyway keeps the phrase closed whatever
            // `search_form` lets through in the future.
            let phrase = tokens.join(" ").replace('"', "\"\"");
            let prefix = if word.prefix { "*" } else { "" };
            format!("\"{phrase}\"{prefix}")
        })
        .collect();

    phrases.join(" ")
}

/// A token of a text: its folded characters and where it stands in the original.
struct Token {
    folded: Vec<char>,
    /// Character (not byte) positions in the original text.
    chars: Range<usize>,
}

/// The tokens the index sees in `text` (the search form's, split), folded for
/// comparison: lower case, full-width folded.
fn tokenize(text: &str) -> Vec<Token> {
    let mut tokens: Vec<Token> = Vec::new();
    let mut in_word = false;
    for (index, c) in text.chars().enumerate() {
        match classify(c) {
            Class::Word if in_word => {
                if let Some(token) = tokens.last_mut() {
                    token.folded.push(fold(c));
                    token.chars.end = index + 1;
                }
            }
            class @ (Class::Word | Class::Alone) => {
                tokens.push(Token {
                    folded: vec![fold(c)],
                    chars: index..index + 1,
                });
                in_word = class == Class::Word;
            }
            Class::Space => in_word = false,
        }
    }

    tokens
}

/// Character ranges of `text` where `word` matches, token by token.
fn occurrences(tokens: &[Token], word: &QueryWord) -> Vec<Range<usize>> {
    let length = word.tokens.len();
    let mut found = Vec::new();
    if length == 0 || tokens.len() < length {
        return found;
    }

    for start in 0..=tokens.len() - length {
        let window = &tokens[start..start + length];
        let matches = window
            .iter()
            .zip(&word.tokens)
            .enumerate()
            .all(|(i, (token, wanted))| {
                if word.prefix && i == length - 1 {
                    token.folded.starts_with(wanted)
                } else {
                    token.folded == *wanted
                }
            });
        if matches {
            found.push(window[0].chars.start..window[length - 1].chars.end);
        }
    }

    found
}

/// BM25 parameters, as FTS5's `bm25()` uses them.
const K1: f64 = 1.2;
/// See [`K1`].
const B: f64 = 0.75;

/// A candidate message while ranking.
struct Candidate {
    id: i64,
    length: f64,
    /// Occurrences per query word.
    frequencies: Vec<f64>,
}

impl History {
    /// Finds messages containing every word of `query` (see the crate docs for what a
    /// word matches), best BM25 match first among the [`SEARCH_WINDOW`] most recent
    /// matches, at most `limit` of them. Any input is accepted; input with nothing to
    /// look for finds nothing.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<SearchHit>> {
        let words = parse_query(query);
        if words.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }

        // Whatever the writers left for later is indexed now, so a search sees every message.
        // IMMEDIATE, so that a writer in another process makes this wait (busy timeout)
        // rather than fail: a deferred read that turns into a write is refused at once.
        // A `Transaction` rolls back when dropped, also when the commit itself fails, so the
        // connection never stays inside a transaction that later readers could not begin.
        let catch_up = Transaction::new_unchecked(&self.conn, TransactionBehavior::Immediate)?;
        crate::store::catch_up_indexes(&catch_up, 1, u64::MAX)?;
        catch_up.commit()?;

        let window = SEARCH_WINDOW.max(limit);
        let candidates = self.candidates(&words, window)?;
        let ranked = rank(&candidates, window, self.message_count()?);
        let mut hits = Vec::with_capacity(limit.min(ranked.len()));
        for (id, rank) in ranked.into_iter().take(limit) {
            let Some(message) = self.message(id)? else {
                continue;
            };
            let snippet = snippet(&message.text, &words);
            hits.push(SearchHit {
                conversation_name: message.conversation_name.clone(),
                rank,
                message,
                snippet,
            });
        }

        Ok(hits)
    }

    /// The newest `window` matches of `words`, newest first, with what ranking needs.
    fn candidates(&self, words: &[QueryWord], window: usize) -> Result<Vec<Candidate>> {
        let mut statement = self.conn.prepare_cached(CANDIDATES_SQL)?;
        let window = i64::try_from(window).unwrap_or(i64::MAX);
        let rows = statement.query_map(params![to_fts(words), window], |row| {
            let id = row.get(0)?;
            let tokens = tokenize(row.get_ref(1)?.as_str()?);
            let frequencies = words
                .iter()
                .map(|word| occurrences(&tokens, word).len().max(1) as f64)
                .collect();
            Ok(Candidate {
                id,
                length: tokens.len() as f64,
                frequencies,
            })
        })?;

        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many messages the store holds, near enough for IDF: ids are never reused.
    fn message_count(&self) -> Result<f64> {
        let max: Option<i64> = self
            .conn
            .prepare_cached("SELECT max(id) FROM messages")?
            .query_row([], |row| row.get(0))?;

        Ok(max.unwrap_or(0) as f64)
    }
}

/// Orders candidates by BM25 (as FTS5's `bm25()`: negative, lower is better), newest
/// first among equals.
///
/// Every candidate contains every word, so one document frequency serves all words: the
/// number of messages matching the query, estimated from how densely the window's
/// matches fill the id range they span (exact when the window was not filled). It
/// scales every score alike; the order comes from how often the words occur and how
/// long the message is, as in BM25.
fn rank(candidates: &[Candidate], window: usize, total: f64) -> Vec<(i64, f64)> {
    let (Some(newest), Some(oldest)) = (candidates.first(), candidates.last()) else {
        return Vec::new();
    };
    let count = candidates.len() as f64;
    let matching = if candidates.len() < window {
        count
    } else {
        count * total / ((newest.id - oldest.id + 1) as f64).max(1.0)
    };
    let idf = ((total - matching + 0.5) / (matching + 0.5)).ln().max(1e-6);
    let average_length = candidates.iter().map(|c| c.length).sum::<f64>() / count;

    let mut ranked: Vec<(i64, f64)> = candidates
        .iter()
        .map(|candidate| {
            let norm = K1 * (1.0 - B + B * candidate.length / average_length.max(1.0));
            let score: f64 = candidate
                .frequencies
                .iter()
                .map(|tf| idf * tf * (K1 + 1.0) / (tf + norm))
                .sum();
            (candidate.id, -score)
        })
        .collect();
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));

    ranked
}

/// A character as search compares it: width and case folded.
fn fold(c: char) -> char {
    let c = fold_width(c);
    let mut lower = c.to_lowercase();
    match (lower.next(), lower.next()) {
        (Some(single), None) => single,
        _ => c,
    }
}

/// An excerpt of `text` around the first match of any query word, with every match in
/// it marked.
fn snippet(text: &str, words: &[QueryWord]) -> Snippet {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let tokens = tokenize(text);
    let mut matches: Vec<Range<usize>> = words
        .iter()
        .flat_map(|word| occurrences(&tokens, word))
        .collect();
    matches.sort_by_key(|range| (range.start, range.end));

    let first = matches.first().map_or(0, |range| range.start);
    let start = first.saturating_sub(SNIPPET_BEFORE);
    let end = (start + SNIPPET_LENGTH).min(chars.len());
    cut(text, &chars, start..end, &matches)
}

/// The characters `window` of `text` as a snippet, `…` marking the cuts, with the
/// `matches` (character ranges) that fit inside turned into byte ranges. ASCII control
/// characters (line breaks) become spaces, which keeps every byte offset.
fn cut(
    text: &str,
    chars: &[(usize, char)],
    window: Range<usize>,
    matches: &[Range<usize>],
) -> Snippet {
    let byte_at = |index: usize| chars.get(index).map_or(text.len(), |(byte, _)| *byte);
    let mut snippet = String::new();
    if window.start > 0 {
        snippet.push('…');
    }
    let offset = snippet.len();
    let from = byte_at(window.start);
    snippet.extend(
        text[from..byte_at(window.end)]
            .chars()
            .map(|c| if c.is_ascii_control() { ' ' } else { c }),
    );
    let mut highlights: Vec<Range<usize>> = Vec::new();
    for range in matches {
        let inside = range.start >= window.start && range.end <= window.end;
        let overlaps = highlights
            .last()
            .is_some_and(|last| last.end > byte_at(range.start) - from + offset);
        if inside && !overlaps {
            highlights
                .push(byte_at(range.start) - from + offset..byte_at(range.end) - from + offset);
        }
    }
    if window.end < chars.len() {
        snippet.push('…');
    }

    Snippet {
        text: snippet,
        highlights,
    }
}

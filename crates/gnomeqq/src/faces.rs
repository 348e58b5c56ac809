//! QQ's classic faces. The protocol sends only a number; the official clients drew a small
//! picture. GnomeQQ shows the nearest emoji for the common ones and the face's number
//! otherwise, so nothing is silently dropped.

/// The emoji closest to face `id`, for the faces people used most.
pub fn emoji(id: u32) -> Option<&'static str> {
    Some(match id {
        0 => "😮",  // 惊讶
        1 => "😖",  // 撇嘴
        2 => "😍",  // 色
        3 => "😳",  // 发呆
        4 => "😎",  // 得意
        5 => "😢",  // 流泪
        6 => "☺️",  // 害羞
        7 => "🤐",  // 闭嘴
        8 => "😴",  // 睡
        9 => "😭",  // 大哭
        10 => "😅", // 尴尬
        11 => "😠", // 发怒
        12 => "😜", // 调皮
        13 => "😁", // 呲牙
        14 => "🙂", // 微笑
        21 => "🥰", // 可爱
        23 => "😏", // 傲慢
        26 => "😱", // 惊恐
        32 => "🤔", // 疑问
        33 => "🤫", // 嘘
        34 => "😵", // 晕
        39 => "👋", // 再见
        49 => "🤗", // 拥抱
        53 => "🎂", // 蛋糕
        63 => "🌹", // 玫瑰
        66 => "❤️", // 爱心
        67 => "💔", // 心碎
        74 => "☀️", // 太阳
        75 => "🌙", // 月亮
        76 => "👍", // 强
        77 => "👎", // 弱
        78 => "🤝", // 握手
        79 => "✌️", // 胜利
        _ => return None,
    })
}

/// How face `id` reads in a message: its emoji, else `[face N]`.
pub fn display(id: u32) -> String {
    emoji(id).map_or_else(
        // Translators: a classic QQ face with no emoji; {id} is its number.
        || crate::i18n::gettext_f("[face {id}]", &[("id", &id.to_string())]),
        str::to_owned,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smile_is_an_emoji_and_unknown_faces_keep_their_number() {
        assert_eq!(display(14), "🙂");
        assert_eq!(display(999), "[face 999]");
    }
}

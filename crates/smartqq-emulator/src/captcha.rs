//! Captcha pictures for the sandbox login: a hand-made bitmap font drawn into a PNG, so the
//! emulator needs no font files and the same code always yields the same bytes.

use std::io::Cursor;

use image::{GrayImage, ImageFormat, Luma};

/// Pixels per font cell: 5x7 cells at x4 come out about as large as the 2015 captcha's letters.
const SCALE: u32 = 4;
const GLYPH_W: u32 = 5;
const GLYPH_H: u32 = 7;
/// Blank space between characters, so neighbours never touch even when jittered.
const GAP: u32 = 6;
const ADVANCE: u32 = GLYPH_W * SCALE + GAP;
const MARGIN: u32 = 10;
/// Largest vertical offset of a character: enough to look hand-set, too little to confuse a reader.
const JITTER: u32 = 8;
const HEIGHT: u32 = 2 * MARGIN + GLYPH_H * SCALE + JITTER;
/// Real codes had four characters; the cap keeps a runaway input from allocating a huge image.
const MAX_CHARS: usize = 32;

const PAPER: Luma<u8> = Luma([236]);
const INK: Luma<u8> = Luma([32]);
/// Noise is mid-grey and drawn before the strokes, so it never breaks a letter apart.
const NOISE: Luma<u8> = Luma([150]);

/// Seven rows of five cells, `#` inked and `.` blank.
type Glyph = [&'static str; 7];

/// Drawn for any character the font lacks: plainly not a letter, yet it still takes its slot.
const BOX: Glyph = ["#####"; 7];

/// Kept one glyph per line so the letter shapes can be checked by eye.
#[rustfmt::skip]
const FONT: [(char, Glyph); 34] = [
    ('A', [".###.", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"]),
    ('B', ["####.", "#...#", "#...#", "####.", "#...#", "#...#", "####."]),
    ('C', [".###.", "#...#", "#....", "#....", "#....", "#...#", ".###."]),
    ('D', ["####.", "#...#", "#...#", "#...#", "#...#", "#...#", "####."]),
    ('E', ["#####", "#....", "#....", "####.", "#....", "#....", "#####"]),
    ('F', ["#####", "#....", "#....", "####.", "#....", "#....", "#...."]),
    ('G', [".###.", "#...#", "#....", "#.###", "#...#", "#...#", ".####"]),
    ('H', ["#...#", "#...#", "#...#", "#####", "#...#", "#...#", "#...#"]),
    ('I', [".###.", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."]),
    ('J', ["..###", "...#.", "...#.", "...#.", "...#.", "#..#.", ".##.."]),
    ('K', ["#...#", "#..#.", "#.#..", "##...", "#.#..", "#..#.", "#...#"]),
    ('L', ["#....", "#....", "#....", "#....", "#....", "#....", "#####"]),
    ('M', ["#...#", "##.##", "#.#.#", "#.#.#", "#...#", "#...#", "#...#"]),
    ('N', ["#...#", "#...#", "##..#", "#.#.#", "#..##", "#...#", "#...#"]),
    ('O', [".###.", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."]),
    ('P', ["####.", "#...#", "#...#", "####.", "#....", "#....", "#...."]),
    ('Q', [".###.", "#...#", "#...#", "#...#", "#.#.#", "#..#.", ".##.#"]),
    ('R', ["####.", "#...#", "#...#", "####.", "#.#..", "#..#.", "#...#"]),
    ('S', [".####", "#....", "#....", ".###.", "....#", "....#", "####."]),
    ('T', ["#####", "..#..", "..#..", "..#..", "..#..", "..#..", "..#.."]),
    ('U', ["#...#", "#...#", "#...#", "#...#", "#...#", "#...#", ".###."]),
    ('V', ["#...#", "#...#", "#...#", "#...#", "#...#", ".#.#.", "..#.."]),
    ('W', ["#...#", "#...#", "#...#", "#.#.#", "#.#.#", "#.#.#", ".#.#."]),
    ('X', ["#...#", "#...#", ".#.#.", "..#..", ".#.#.", "#...#", "#...#"]),
    ('Y', ["#...#", "#...#", ".#.#.", "..#..", "..#..", "..#..", "..#.."]),
    ('Z', ["#####", "....#", "...#.", "..#..", ".#...", "#....", "#####"]),
    ('2', [".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"]),
    ('3', ["#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."]),
    ('4', ["...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."]),
    ('5', ["#####", "#....", "####.", "....#", "....#", "#...#", ".###."]),
    ('6', ["..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."]),
    ('7', ["#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."]),
    ('8', [".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."]),
    ('9', [".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."]),
];

/// Renders a captcha code (upper-case letters A-Z and digits 2-9) as a PNG image a person can read.
///
/// The picture depends on the code alone, so the same code always gives the same bytes. A
/// character outside the font is drawn as a filled box; only the first 32 characters are drawn;
/// an empty code gives a blank image of the minimum width. `None` means PNG encoding failed.
pub fn render_png(code: &str) -> Option<Vec<u8>> {
    let chars: Vec<char> = code.chars().take(MAX_CHARS).collect();
    let mut png = Cursor::new(Vec::new());
    render(&chars).write_to(&mut png, ImageFormat::Png).ok()?;
    Some(png.into_inner())
}

/// Width of the picture for `len` characters; `len` never exceeds `MAX_CHARS`, so it fits a u32.
fn image_width(len: usize) -> u32 {
    2 * MARGIN + ADVANCE * len.min(MAX_CHARS) as u32
}

fn glyph_for(c: char) -> &'static Glyph {
    FONT.iter()
        .find(|(ch, _)| *ch == c)
        .map_or(&BOX, |(_, glyph)| glyph)
}

fn render(chars: &[char]) -> GrayImage {
    let width = image_width(chars.len());
    let mut img = GrayImage::from_pixel(width, HEIGHT, PAPER);
    if chars.is_empty() {
        return img;
    }
    let mut jitter = Jitter::seeded(chars);
    let (y0, y1) = (jitter.below(HEIGHT), jitter.below(HEIGHT));
    draw_line(&mut img, y0, y1);
    for _ in 0..chars.len() * 3 {
        let (x, y) = (jitter.below(width), jitter.below(HEIGHT));
        fill(&mut img, x, y, 2, NOISE);
    }
    for (i, &c) in chars.iter().enumerate() {
        let left = MARGIN + ADVANCE * i as u32;
        let top = MARGIN + jitter.below(JITTER + 1);
        for (row, cells) in glyph_for(c).iter().enumerate() {
            for (col, cell) in cells.bytes().enumerate() {
                let (x, y) = (left + col as u32 * SCALE, top + row as u32 * SCALE);
                if cell == b'#' {
                    fill(&mut img, x, y, SCALE, INK);
                }
            }
        }
    }
    img
}

/// Fills a `size`-square at (x, y); whatever falls outside the picture is dropped, never a panic.
fn fill(img: &mut GrayImage, x: u32, y: u32, size: u32, colour: Luma<u8>) {
    for dy in 0..size {
        for dx in 0..size {
            let (px, py) = (x.saturating_add(dx), y.saturating_add(dy));
            if let Some(pixel) = img.get_pixel_mut_checked(px, py) {
                *pixel = colour;
            }
        }
    }
}

/// A two-pixel line from the left edge at `y0` to the right edge at `y1`, stepped finely enough
/// that steep lines on narrow pictures stay unbroken.
fn draw_line(img: &mut GrayImage, y0: u32, y1: u32) {
    let (x_end, dy) = (i64::from(img.width()) - 1, i64::from(y1) - i64::from(y0));
    let steps = x_end.max(dy.abs()).max(1);
    for s in 0..=steps {
        let x = x_end * s / steps;
        let y = i64::from(y0) + dy * s / steps;
        if let (Ok(x), Ok(y)) = (u32::try_from(x), u32::try_from(y)) {
            fill(img, x, y, 2, NOISE);
        }
    }
}

/// Deterministic scatter (`SplitMix64` seeded by FNV-1a of the code): the picture is reproducible,
/// yet different codes put their noise and offsets in different places.
struct Jitter(u64);

impl Jitter {
    fn seeded(chars: &[char]) -> Self {
        let mut hash = 0xcbf2_9ce4_8422_2325_u64;
        for &c in chars {
            hash ^= u64::from(u32::from(c));
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        Self(hash)
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: u32) -> u32 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        // The remainder is below n, so narrowing it back to u32 loses nothing.
        (z % u64::from(n.max(1))) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(code: &str) -> GrayImage {
        let png = render_png(code).expect("encodes");
        image::load_from_memory(&png).expect("decodes").to_luma8()
    }

    #[test]
    fn png_decodes_to_width_for_code_length() {
        // Margins of 10 px either side, 26 px per character (20 px of glyph and a 6 px gap).
        for (code, width) in [("", 20), ("A", 46), ("AB7K", 124), ("ABCDEFGH", 228)] {
            let img = decode(code);
            assert_eq!((img.width(), img.height()), (width, HEIGHT), "{code:?}");
        }
    }

    #[test]
    fn empty_code_gives_blank_image() {
        assert!(decode("").pixels().all(|px| *px == PAPER));
    }

    #[test]
    fn same_code_gives_identical_bytes() {
        assert_eq!(render_png("AB7K"), render_png("AB7K"));
    }

    #[test]
    fn different_codes_give_different_images() {
        assert_ne!(decode("AB7K"), decode("AB7X"));
        assert_ne!(decode("AB7K"), decode("KB7A"));
    }

    #[test]
    fn rendered_code_has_dark_strokes_on_light_background() {
        let img = decode("AB7K");
        let ink = img.pixels().filter(|px| **px == INK).count();
        let paper = img.pixels().filter(|px| **px == PAPER).count();
        assert!(ink > 0 && paper > ink, "ink {ink}, paper {paper}");
    }

    #[test]
    fn font_covers_every_captcha_character_once() {
        for c in ('A'..='Z').chain('2'..='9') {
            assert_eq!(FONT.iter().filter(|(ch, _)| *ch == c).count(), 1, "{c}");
        }
    }

    #[test]
    fn every_glyph_is_five_by_seven_with_ink() {
        for (c, glyph) in &FONT {
            let well_formed =
                |row: &&str| row.len() == 5 && row.bytes().all(|b| b"#.".contains(&b));
            assert!(
                glyph.iter().all(well_formed),
                "{c} is not 5x7 of '#' and '.'"
            );
            assert!(
                glyph.iter().any(|row| row.contains('#')),
                "{c} has no dark pixel"
            );
        }
    }

    #[test]
    fn glyphs_are_pairwise_distinct_and_unlike_the_box() {
        for (i, (a, ga)) in FONT.iter().enumerate() {
            assert_ne!(ga, &BOX, "{a}");
            for (b, gb) in &FONT[i + 1..] {
                assert_ne!(ga, gb, "{a} and {b} look the same");
            }
        }
    }

    #[test]
    fn unknown_characters_render_as_boxes_without_panic() {
        let img = decode("a?€ 1");
        assert_eq!(img.width(), image_width(5));
        assert_eq!(glyph_for('?'), &BOX);
        assert_eq!(glyph_for('0'), &BOX);
    }

    #[test]
    fn overlong_code_is_capped() {
        let img = decode(&"W".repeat(1000));
        assert_eq!(img.width(), image_width(MAX_CHARS));
    }
}

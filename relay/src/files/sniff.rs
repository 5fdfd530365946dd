//! What a file is, from its bytes alone: the name and the upload's `content-type` are never
//! believed. Pure, host-tested.
//!
//! Images must also have a readable header with their size in pixels (a thumbnail needs it,
//! and a file that only starts like an image is refused). Anything else, SVG and HTML
//! included, is not stored.

use pigeon_protocol::FileType;

/// Images larger than this many pixels are refused: a small file can decode to gigabytes in
/// the browsers that show it.
pub const MAX_PIXELS: u64 = 100_000_000;

/// A file the relay stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sniffed {
    pub kind: FileType,
    /// Pixels, for images.
    pub size: Option<(u32, u32)>,
}

/// Why a file is not stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    Empty,
    /// Not one of the types stored, or an image whose header cannot be read.
    Type,
    /// An image of more than [`MAX_PIXELS`].
    Pixels,
}

pub fn sniff(bytes: &[u8]) -> Result<Sniffed, Refused> {
    if bytes.is_empty() {
        return Err(Refused::Empty);
    }
    let image = |kind, size: Option<(u32, u32)>| match size {
        Some((w, h)) if w > 0 && h > 0 => {
            if u64::from(w) * u64::from(h) > MAX_PIXELS {
                Err(Refused::Pixels)
            } else {
                Ok(Sniffed { kind, size: Some((w, h)) })
            }
        }
        _ => Err(Refused::Type),
    };
    if bytes.starts_with(b"\xFF\xD8\xFF") {
        image(FileType::Jpeg, jpeg_size(bytes))
    } else if bytes.starts_with(b"\x89PNG\r\n\x1A\n") {
        image(FileType::Png, png_size(bytes))
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        image(FileType::Gif, Some((le16(bytes, 6)?, le16(bytes, 8)?)).filter(|_| bytes.len() >= 13))
    } else if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WEBP") {
        image(FileType::Webp, webp_size(bytes))
    } else if bytes.starts_with(b"%PDF-") {
        Ok(Sniffed { kind: FileType::Pdf, size: None })
    } else {
        Err(Refused::Type)
    }
}

fn le16(b: &[u8], at: usize) -> Result<u32, Refused> {
    b.get(at..at + 2).map(|s| u32::from(u16::from_le_bytes([s[0], s[1]]))).ok_or(Refused::Type)
}

fn be16(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 2).map(|s| u32::from(u16::from_be_bytes([s[0], s[1]])))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn le24(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 3).map(|s| u32::from(s[0]) | u32::from(s[1]) << 8 | u32::from(s[2]) << 16)
}

/// The first chunk after the signature must be `IHDR`: width, height.
fn png_size(b: &[u8]) -> Option<(u32, u32)> {
    (b.get(12..16)? == b"IHDR").then_some(())?;
    Some((be32(b, 16)?, be32(b, 20)?))
}

/// The frame header (SOF0..SOF15, not DHT, JPG or DAC) found by walking the segments.
fn jpeg_size(b: &[u8]) -> Option<(u32, u32)> {
    let mut at = 2;
    loop {
        // Fill bytes before a marker are allowed.
        while *b.get(at)? == 0xFF && *b.get(at + 1)? == 0xFF {
            at += 1;
        }
        if *b.get(at)? != 0xFF {
            return None;
        }
        let marker = *b.get(at + 1)?;
        match marker {
            // Markers without a length.
            0xD0..=0xD7 | 0x01 => {
                at += 2;
                continue;
            }
            // End of image or start of scan before a frame header.
            0xD9 | 0xDA => return None,
            _ => {}
        }
        let len = be16(b, at + 2)? as usize;
        if len < 2 {
            return None;
        }
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            return Some((be16(b, at + 7)?, be16(b, at + 5)?));
        }
        at += 2 + len;
    }
}

/// VP8 (lossy), VP8L (lossless) or VP8X (extended) as the first chunk.
fn webp_size(b: &[u8]) -> Option<(u32, u32)> {
    match b.get(12..16)? {
        b"VP8 " => {
            (b.get(23..26)? == b"\x9D\x01\x2A").then_some(())?;
            Some((be16_le(b, 26)? & 0x3FFF, be16_le(b, 28)? & 0x3FFF))
        }
        b"VP8L" => {
            (*b.get(20)? == 0x2F).then_some(())?;
            let bits = u32::from_le_bytes(b.get(21..25)?.try_into().ok()?);
            Some(((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1))
        }
        b"VP8X" => Some((le24(b, 24)? + 1, le24(b, 27)? + 1)),
        _ => None,
    }
}

fn be16_le(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 2).map(|s| u32::from(u16::from_le_bytes([s[0], s[1]])))
}

/// The sender's file name made safe to show and to save: no folders, no control or
/// direction-changing characters, at most [`MAX_NAME_CHARS`] characters, and ending in the
/// extension of what the file really is (`invoice.html` that is a PNG becomes
/// `invoice.html.png`).
pub fn clean_name(raw: &str, kind: FileType) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let mut name: String = base
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .filter(|c| !c.is_control() && !matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}'))
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    name = name.trim_matches('.').to_owned();
    let (ext, fallback) = match kind {
        FileType::Jpeg => ("jpg", "photo"),
        FileType::Png => ("png", "image"),
        FileType::Gif => ("gif", "image"),
        FileType::Webp => ("webp", "image"),
        FileType::Pdf => ("pdf", "document"),
    };
    let lower = name.to_lowercase();
    let fits = lower.ends_with(&format!(".{ext}")) || (kind == FileType::Jpeg && lower.ends_with(".jpeg"));
    let stem_max = MAX_NAME_CHARS - ext.len() - 1;
    if name.is_empty() {
        name = fallback.to_owned();
    }
    if fits {
        let (stem, tail) = name.rsplit_once('.').unwrap_or((&name, ext));
        let stem: String = stem.chars().take(stem_max).collect();
        format!("{stem}.{tail}")
    } else {
        let stem: String = name.chars().take(stem_max).collect();
        format!("{stem}.{ext}")
    }
}

pub const MAX_NAME_CHARS: usize = 120;

#[cfg(test)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let mut b = b"\x89PNG\r\n\x1A\n\0\0\0\x0DIHDR".to_vec();
        b.extend(w.to_be_bytes());
        b.extend(h.to_be_bytes());
        b.extend([8, 6, 0, 0, 0]);
        b
    }

    #[test]
    fn images_are_known_by_their_bytes_with_their_size() {
        assert_eq!(sniff(&png(640, 480)), Ok(Sniffed { kind: FileType::Png, size: Some((640, 480)) }));
        let gif = b"GIF89a\x20\x03\x58\x02\x00\x00\x00";
        assert_eq!(sniff(gif), Ok(Sniffed { kind: FileType::Gif, size: Some((800, 600)) }));
        // A JPEG with an APP0 segment, then SOF0 (height 0x01E0, width 0x0280).
        let mut jpeg = b"\xFF\xD8\xFF\xE0\x00\x10JFIF\0\x01\x01\0\0\x01\0\x01\0\0".to_vec();
        jpeg.extend(b"\xFF\xC0\x00\x11\x08\x01\xE0\x02\x80\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01");
        assert_eq!(sniff(&jpeg), Ok(Sniffed { kind: FileType::Jpeg, size: Some((640, 480)) }));
        // Lossless WebP: 14 bits width-1, 14 bits height-1.
        let bits: u32 = 99 | (49 << 14);
        let mut webp = b"RIFF\0\0\0\0WEBPVP8L\0\0\0\0\x2F".to_vec();
        webp.extend(bits.to_le_bytes());
        assert_eq!(sniff(&webp), Ok(Sniffed { kind: FileType::Webp, size: Some((100, 50)) }));
        let mut vp8x = b"RIFF\0\0\0\0WEBPVP8X\x0A\0\0\0\0\0\0\0".to_vec();
        vp8x.extend([0x3F, 0x01, 0x00, 0xEF, 0x00, 0x00]);
        assert_eq!(sniff(&vp8x), Ok(Sniffed { kind: FileType::Webp, size: Some((320, 240)) }));
        assert_eq!(sniff(b"%PDF-1.7\n"), Ok(Sniffed { kind: FileType::Pdf, size: None }));
    }

    #[test]
    fn anything_else_is_refused() {
        assert_eq!(sniff(b""), Err(Refused::Empty));
        for hostile in [
            &b"<html><script>alert(1)</script>"[..],
            b"<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
            b"<svg onload=alert(1)>",
            b"  %PDF-1.4",
            b"\x89PNG\r\n\x1A\n",
            b"\x89PNG\r\n\x1A\n\0\0\0\x0DtEXt",
            b"\xFF\xD8\xFF\xD9",
            b"GIF89a",
            b"RIFF\0\0\0\0WAVEfmt ",
            b"\0\0\0\x18ftypheic",
        ] {
            assert_eq!(sniff(hostile), Err(Refused::Type), "{:?}", String::from_utf8_lossy(hostile));
        }
        assert_eq!(sniff(&png(0, 10)), Err(Refused::Type));
        assert_eq!(sniff(&png(20_000, 20_000)), Err(Refused::Pixels));
    }

    #[test]
    fn a_polyglot_is_what_it_starts_as() {
        // A PNG header with HTML after it is stored as a PNG (and served as one, never sniffed).
        let mut poly = png(1, 1);
        poly.extend(b"<html><script>alert(1)</script></html>");
        assert_eq!(sniff(&poly).map(|s| s.kind), Ok(FileType::Png));
    }

    #[test]
    fn names_lose_folders_and_tricks_and_say_what_the_file_is() {
        assert_eq!(clean_name("IMG_0042.JPG", FileType::Jpeg), "IMG_0042.JPG");
        assert_eq!(clean_name("photo.jpeg", FileType::Jpeg), "photo.jpeg");
        assert_eq!(clean_name("C:\\Users\\ana\\label.png", FileType::Png), "label.png");
        assert_eq!(clean_name("../../etc/passwd", FileType::Pdf), "passwd.pdf");
        assert_eq!(clean_name("invoice.html", FileType::Png), "invoice.html.png");
        assert_eq!(clean_name("evil\u{202E}gnp.exe", FileType::Png), "evilgnp.exe.png");
        assert_eq!(clean_name("a\n\tb  c.pdf", FileType::Pdf), "a b c.pdf");
        assert_eq!(clean_name("", FileType::Jpeg), "photo.jpg");
        assert_eq!(clean_name("...", FileType::Pdf), "document.pdf");
        let long = clean_name(&format!("{}.pdf", "é".repeat(300)), FileType::Pdf);
        assert_eq!(long.chars().count(), MAX_NAME_CHARS);
        assert!(long.ends_with(".pdf"));
    }
}

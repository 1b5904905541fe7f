//! Byte offsets ↔ LSP positions. The protocol counts columns in UTF-16 code units unless
//! client and server agree on another encoding (`positionEncoding`, LSP 3.17).

use lsp_types::{Position, PositionEncodingKind, Range};

use crate::source::LineIndex;

/// The unit of `Position::character` agreed with the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Utf16,
    Utf32,
}

impl Encoding {
    /// The client's first preference that pgrisk knows; UTF-16 when it states none.
    pub fn negotiate(offered: Option<&[PositionEncodingKind]>) -> Encoding {
        offered
            .unwrap_or_default()
            .iter()
            .find_map(|kind| match kind.as_str() {
                "utf-8" => Some(Encoding::Utf8),
                "utf-16" => Some(Encoding::Utf16),
                "utf-32" => Some(Encoding::Utf32),
                _ => None,
            })
            .unwrap_or(Encoding::Utf16)
    }

    pub fn kind(self) -> PositionEncodingKind {
        match self {
            Encoding::Utf8 => PositionEncodingKind::UTF8,
            Encoding::Utf16 => PositionEncodingKind::UTF16,
            Encoding::Utf32 => PositionEncodingKind::UTF32,
        }
    }

    fn width(self, c: char) -> usize {
        match self {
            Encoding::Utf8 => c.len_utf8(),
            Encoding::Utf16 => c.len_utf16(),
            Encoding::Utf32 => 1,
        }
    }
}

/// One text's line starts, for conversions both ways.
pub struct PositionMap<'a> {
    text: &'a str,
    lines: LineIndex,
    encoding: Encoding,
}

impl<'a> PositionMap<'a> {
    pub fn new(text: &'a str, encoding: Encoding) -> PositionMap<'a> {
        PositionMap {
            text,
            lines: LineIndex::new(text),
            encoding,
        }
    }

    /// The position of a byte offset (clamped to the text, and back to a char boundary).
    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.lines.position(self.text, offset).line;
        let start = self.lines.line_start(line).unwrap_or(0);
        let character = self.text[start..offset]
            .chars()
            .map(|c| self.encoding.width(c))
            .sum::<usize>();
        Position::new(to_u32(line - 1), to_u32(character))
    }

    pub fn range(&self, start: usize, end: usize) -> Range {
        Range::new(self.position(start), self.position(end))
    }

    /// The byte offset of a position. As the protocol asks, a column past the line's end means
    /// the end of the line, and a line past the last means the end of the text; a column in
    /// the middle of a character moves to its start.
    pub fn offset(&self, position: Position) -> usize {
        let Some(start) = self.lines.line_start(position.line as usize + 1) else {
            return self.text.len();
        };
        let line = &self.text[start..];
        let line = &line[..line.find('\n').map_or(line.len(), |n| n + 1)];
        let mut units = 0;
        for (i, c) in line.char_indices() {
            units += self.encoding.width(c);
            if c == '\n' || c == '\r' || units > position.character as usize {
                return start + i;
            }
        }
        start + line.len()
    }

    /// The byte offset of a 1-based line and character column (the report's positions).
    pub fn offset_of_column(&self, line: usize, column: usize) -> usize {
        let Some(start) = self.lines.line_start(line) else {
            return self.text.len();
        };
        self.text[start..]
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(self.text.len(), |(i, _)| start + i)
    }
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "SELECT 1;\nSELECT 'é😀', x;\n";

    #[test]
    fn columns_count_the_negotiated_units() {
        let x = TEXT.find('x').unwrap();
        let at = |encoding| PositionMap::new(TEXT, encoding).position(x);
        // 'é' is one UTF-16 unit and two bytes; the emoji two units and four bytes
        assert_eq!(at(Encoding::Utf16), Position::new(1, 14));
        assert_eq!(at(Encoding::Utf8), Position::new(1, 17));
        assert_eq!(at(Encoding::Utf32), Position::new(1, 13));
    }

    #[test]
    fn offsets_round_trip_and_clamp() {
        let map = PositionMap::new(TEXT, Encoding::Utf16);
        for (offset, _) in TEXT.char_indices() {
            assert_eq!(map.offset(map.position(offset)), offset);
        }
        assert_eq!(map.offset(Position::new(0, 99)), TEXT.find('\n').unwrap());
        assert_eq!(map.offset(Position::new(9, 0)), TEXT.len());
        // inside the emoji's surrogate pair: its start
        let emoji = TEXT.find('😀').unwrap();
        assert_eq!(map.offset(Position::new(1, 10)), emoji);
    }

    #[test]
    fn report_columns_are_characters() {
        let map = PositionMap::new(TEXT, Encoding::Utf16);
        assert_eq!(map.offset_of_column(2, 14), TEXT.find('x').unwrap());
    }
}

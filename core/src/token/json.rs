//! A strict RFC 8259 scanner for the header and the payload.
//!
//! It walks the top-level object once, hands each member name (escapes decoded
//! for comparison) to a callback that reads or skips the value, and validates
//! everything it skips: no comments, trailing commas, BOM, NaN, control
//! characters, bad escapes or lone surrogates. Nesting is tracked in a bit stack,
//! not by recursion, so hostile input cannot exhaust a microcontroller's stack.

use crate::error::Malformed;

/// Deepest nesting accepted; the top-level object is depth 1.
pub const MAX_DEPTH: u32 = 32;

type Result<T> = core::result::Result<T, Malformed>;

/// A JSON string as it appears in the token: raw, with escapes still encoded.
///
/// Comparisons decode escapes (`"\u0061"` equals `"a"`), so values written by
/// encoders that escape non-ASCII (PyJWT's default) compare as intended.
///
/// The scanner has validated the contents (escapes, and UTF-8 wherever a byte
/// is not ASCII), so the accessors cannot fail on a string it produced.
///
/// `==` compares decoded strings, like [`JsonStr::eq_str`].
#[derive(Clone, Copy, Debug)]
pub struct JsonStr<'a> {
    raw: &'a [u8],
    escaped: bool,
}

impl<'a> JsonStr<'a> {
    /// A string without escapes, for constants.
    pub(crate) const fn literal(raw: &'a str) -> Self {
        JsonStr {
            raw: raw.as_bytes(),
            escaped: false,
        }
    }

    /// The contents without surrounding quotes, escapes not decoded.
    pub fn raw(&self) -> &'a str {
        core::str::from_utf8(self.raw).unwrap_or_default()
    }

    /// The decoded string, when it has no escapes and so can be borrowed.
    pub fn as_str(&self) -> Option<&'a str> {
        if self.escaped {
            None
        } else {
            core::str::from_utf8(self.raw).ok()
        }
    }

    /// The raw bytes when there are no escapes (comparing needs no UTF-8 check).
    pub(crate) fn plain_bytes(&self) -> Option<&'a [u8]> {
        (!self.escaped).then_some(self.raw)
    }

    /// Whether the decoded string equals `s`.
    pub fn eq_str(&self, s: &str) -> bool {
        if !self.escaped {
            return self.raw == s.as_bytes();
        }
        self.eq_parts(&[s], false)
    }

    /// Whether the decoded string equals `s`, ASCII case-insensitively.
    pub fn eq_ignore_ascii_case(&self, s: &str) -> bool {
        self.eq_parts(&[s], true)
    }

    /// Whether the decoded string equals the concatenation of `parts`,
    /// streaming (no buffer, so no length limit).
    pub(crate) fn eq_parts(&self, parts: &[&str], fold_case: bool) -> bool {
        let mut rest = parts.iter().flat_map(|p| p.bytes());
        let mut equal = true;
        self.for_each_chunk(|chunk| {
            for &a in chunk {
                equal &= rest
                    .next()
                    .is_some_and(|b| a == b || (fold_case && a.eq_ignore_ascii_case(&b)));
            }
        });
        equal && rest.next().is_none()
    }

    /// The decoded characters.
    fn chars(&self) -> impl Iterator<Item = char> + 'a {
        let bytes = self.raw;
        let text = self.raw();
        let mut i = 0usize;
        core::iter::from_fn(move || {
            if bytes.get(i) == Some(&b'\\') {
                let (c, next) = decode_escape(bytes, i)?;
                i = next;
                return Some(c);
            }
            let c = text.get(i..)?.chars().next()?;
            i = i.saturating_add(c.len_utf8());
            Some(c)
        })
    }

    /// Feeds the decoded UTF-8 to `f` in pieces (borrowed runs and decoded escapes).
    pub fn for_each_chunk(&self, mut f: impl FnMut(&[u8])) {
        let bytes = self.raw;
        let mut start = 0;
        let mut i = 0;
        while let Some(&b) = bytes.get(i) {
            if b != b'\\' {
                i = i.saturating_add(1);
                continue;
            }
            f(bytes.get(start..i).unwrap_or_default());
            let (c, next) =
                decode_escape(bytes, i).unwrap_or((char::REPLACEMENT_CHARACTER, bytes.len()));
            let mut utf8 = [0u8; 4];
            f(c.encode_utf8(&mut utf8).as_bytes());
            i = next;
            start = next;
        }
        f(bytes.get(start..).unwrap_or_default());
    }

    /// Decodes into `out`, for callers that need an owned `&str`.
    pub fn decode_into<'o>(&self, out: &'o mut [u8]) -> Option<&'o str> {
        let mut len = 0usize;
        let mut fits = true;
        self.for_each_chunk(|chunk| {
            let end = len.saturating_add(chunk.len());
            match out.get_mut(len..end) {
                Some(dst) if fits => {
                    dst.copy_from_slice(chunk);
                    len = end;
                }
                _ => fits = false,
            }
        });
        if !fits {
            return None;
        }
        core::str::from_utf8(out.get(..len)?).ok()
    }
}

impl PartialEq for JsonStr<'_> {
    fn eq(&self, other: &Self) -> bool {
        if !self.escaped && !other.escaped {
            return self.raw == other.raw;
        }
        self.chars().eq(other.chars())
    }
}

impl Eq for JsonStr<'_> {}

fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let digits = bytes.get(at..at.checked_add(4)?)?;
    digits.iter().try_fold(0u32, |acc, &d| {
        let v = char::from(d).to_digit(16)?;
        Some((acc << 4) | v)
    })
}

/// Decodes the escape starting at `bytes[i] == b'\\'`; returns the char and the index after it.
fn decode_escape(bytes: &[u8], i: usize) -> Option<(char, usize)> {
    let kind = *bytes.get(i.checked_add(1)?)?;
    let after = i.checked_add(2)?;
    let simple = match kind {
        b'"' => '"',
        b'\\' => '\\',
        b'/' => '/',
        b'b' => '\u{8}',
        b'f' => '\u{c}',
        b'n' => '\n',
        b'r' => '\r',
        b't' => '\t',
        b'u' => {
            let hi = hex4(bytes, after)?;
            let next = after.checked_add(4)?;
            return match hi {
                0xD800..=0xDBFF => {
                    if bytes.get(next) != Some(&b'\\')
                        || bytes.get(next.checked_add(1)?) != Some(&b'u')
                    {
                        return None;
                    }
                    let lo = hex4(bytes, next.checked_add(2)?)?;
                    if !(0xDC00..=0xDFFF).contains(&lo) {
                        return None;
                    }
                    let c = 0x10000u32.checked_add(((hi & 0x3FF) << 10) | (lo & 0x3FF))?;
                    Some((char::from_u32(c)?, next.checked_add(6)?))
                }
                0xDC00..=0xDFFF => None,
                _ => Some((char::from_u32(hi)?, next)),
            };
        }
        _ => return None,
    };
    Some((simple, after))
}

/// Broadcasts a byte to every lane of a u64.
const fn lanes(b: u8) -> u64 {
    (b as u64).wrapping_mul(0x0101_0101_0101_0101)
}

/// Marks (with the lane's high bit) the bytes of `x` that a string scan must
/// stop at: `"`, `\\`, control characters, and non-ASCII. SWAR, eight bytes a
/// step; the lowest mark is exact, which is all the scan uses.
#[inline(always)]
pub(crate) fn special_mask(x: u64) -> u64 {
    const HIGH: u64 = lanes(0x80);
    const LOW: u64 = lanes(0x01);
    let zero = |v: u64| v.wrapping_sub(LOW) & !v & HIGH;
    let quote = zero(x ^ lanes(b'"'));
    let backslash = zero(x ^ lanes(b'\\'));
    // Bytes < 0x20 (non-ASCII bytes are marked by `x & HIGH` anyway).
    let control = x.wrapping_sub(lanes(0x20)) & !x & HIGH;
    quote | backslash | control | (x & HIGH)
}

/// A cursor over one JSON document.
pub(crate) struct Scanner<'a> {
    text: &'a [u8],
    pos: usize,
}

impl<'a> Scanner<'a> {
    pub(crate) const fn new(text: &'a [u8]) -> Self {
        Scanner { text, pos: 0 }
    }

    /// The bytes from `start` to the cursor.
    pub(crate) fn since(&self, start: usize) -> &'a [u8] {
        self.text.get(start..self.pos).unwrap_or_default()
    }

    pub(crate) const fn pos(&self) -> usize {
        self.pos
    }

    /// The bytes from the cursor on.
    #[cfg(any(feature = "paseto-local", feature = "paseto-public"))]
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.text.get(self.pos..).unwrap_or_default()
    }

    /// Moves the cursor `n` bytes on, for a caller that has read them from [`Self::rest`].
    #[cfg(any(feature = "paseto-local", feature = "paseto-public"))]
    pub(crate) fn advance(&mut self, n: usize) {
        self.pos = self.pos.saturating_add(n);
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.text.get(self.pos).copied()
    }

    pub(crate) fn bump(&mut self) {
        self.pos = self.pos.saturating_add(1);
    }

    #[inline]
    pub(crate) fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.bump();
        }
    }

    #[inline]
    pub(crate) fn expect(&mut self, byte: u8) -> Result<()> {
        self.skip_ws();
        if self.peek() == Some(byte) {
            self.bump();
            Ok(())
        } else {
            Err(Malformed::Json)
        }
    }

    /// Reads a string value; the cursor must be on whitespace or the opening quote.
    #[inline]
    pub(crate) fn string(&mut self) -> Result<JsonStr<'a>> {
        self.expect(b'"')?;
        let bytes = self.text;
        let start = self.pos;
        let mut escaped = false;
        let mut non_ascii = false;
        loop {
            // Jump over plain bytes eight at a time, then straight to the first
            // byte that needs a decision.
            while let Some(chunk) = bytes.get(self.pos..self.pos.saturating_add(8)) {
                let mut word = [0u8; 8];
                word.copy_from_slice(chunk);
                let mask = special_mask(u64::from_le_bytes(word));
                self.pos = self
                    .pos
                    .saturating_add((mask.trailing_zeros() / 8) as usize);
                if mask != 0 {
                    break;
                }
            }
            let b = self.peek().ok_or(Malformed::Json)?;
            match b {
                b'"' => break,
                b'\\' => {
                    let (_, next) = decode_escape(bytes, self.pos).ok_or(Malformed::Json)?;
                    self.pos = next;
                    escaped = true;
                }
                0x00..=0x1F => return Err(Malformed::Json),
                0x80..=0xFF => {
                    non_ascii = true;
                    self.bump();
                }
                _ => self.bump(),
            }
        }
        let raw = bytes.get(start..self.pos).ok_or(Malformed::Json)?;
        // Only strings may hold non-ASCII bytes; check just those.
        if non_ascii && core::str::from_utf8(raw).is_err() {
            return Err(Malformed::Utf8);
        }
        self.bump();
        Ok(JsonStr { raw, escaped })
    }

    /// Reads a NumericDate: a non-negative JSON integer no larger than 2^53.
    pub(crate) fn numeric_date(&mut self) -> Result<u64> {
        const LIMIT: u64 = 1 << 53;
        self.skip_ws();
        match self.peek() {
            Some(b'0'..=b'9') => {}
            // Negative numbers, strings, floats written as `.5`, etc.
            Some(b'-' | b'"' | b't' | b'f' | b'n' | b'[' | b'{') => {
                self.skip_value(1)?;
                return Err(Malformed::NumericDate);
            }
            _ => return Err(Malformed::Json),
        }
        let start = self.pos;
        let rest = self.text.get(start..).unwrap_or_default();
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        // Saturating: a 17th digit is over the limit anyway.
        let value = rest.iter().take(digits).fold(0u64, |v, d| {
            v.saturating_mul(10).saturating_add(u64::from(d & 0x0F))
        });
        let overflow = value > LIMIT;
        self.pos = start.saturating_add(digits);
        if digits > 1 && rest.first() == Some(&b'0') {
            return Err(Malformed::Json);
        }
        if matches!(self.peek(), Some(b'.' | b'e' | b'E')) {
            // Validate the rest as a number, then refuse it: floats are not NumericDates.
            self.pos = start;
            self.number()?;
            return Err(Malformed::NumericDate);
        }
        if overflow {
            return Err(Malformed::NumericDate);
        }
        Ok(value)
    }

    fn digits(&mut self) -> Result<()> {
        if !matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(Malformed::Json);
        }
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.bump();
        }
        Ok(())
    }

    pub(crate) fn number(&mut self) -> Result<()> {
        if self.peek() == Some(b'-') {
            self.bump();
        }
        match self.peek() {
            Some(b'0') => self.bump(),
            Some(b'1'..=b'9') => self.digits()?,
            _ => return Err(Malformed::Json),
        }
        if self.peek() == Some(b'.') {
            self.bump();
            self.digits()?;
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.bump();
            if matches!(self.peek(), Some(b'+' | b'-')) {
                self.bump();
            }
            self.digits()?;
        }
        Ok(())
    }

    pub(crate) fn literal(&mut self, word: &[u8]) -> Result<()> {
        let end = self.pos.checked_add(word.len()).ok_or(Malformed::Json)?;
        if self.text.get(self.pos..end) == Some(word) {
            self.pos = end;
            Ok(())
        } else {
            Err(Malformed::Json)
        }
    }

    /// Reads a string, or an array of strings, returning it raw for later matching.
    pub(crate) fn string_or_array(&mut self) -> Result<StrOrArray<'a>> {
        self.skip_ws();
        match self.peek() {
            Some(b'"') => Ok(StrOrArray::One(self.string()?)),
            Some(b'[') => {
                let start = self.pos;
                self.bump();
                self.skip_ws();
                if self.peek() == Some(b']') {
                    self.bump();
                } else {
                    loop {
                        self.skip_ws();
                        if self.peek() != Some(b'"') {
                            self.skip_value(2)?;
                            return Err(Malformed::MemberType);
                        }
                        self.string()?;
                        self.skip_ws();
                        match self.peek() {
                            Some(b',') => self.bump(),
                            Some(b']') => {
                                self.bump();
                                break;
                            }
                            _ => return Err(Malformed::Json),
                        }
                    }
                }
                let raw = self.text.get(start..self.pos).ok_or(Malformed::Json)?;
                Ok(StrOrArray::Many(raw))
            }
            Some(_) => {
                self.skip_value(1)?;
                Err(Malformed::MemberType)
            }
            None => Err(Malformed::Json),
        }
    }

    /// Validates and skips one value found at nesting `depth` (its container's depth).
    pub(crate) fn skip_value(&mut self, depth: u32) -> Result<()> {
        // Scalars, the common case, need no container bookkeeping.
        self.skip_ws();
        match self.peek() {
            Some(b'"') => return self.string().map(|_| ()),
            Some(b'-' | b'0'..=b'9') => return self.number(),
            _ => {}
        }
        // Bit i of `stack` is 1 when open container i is an object, 0 for an array.
        let mut stack: u64 = 0;
        let mut open: u32 = 0;
        loop {
            // Expect a value.
            self.skip_ws();
            match self.peek().ok_or(Malformed::Json)? {
                c @ (b'{' | b'[') => {
                    if depth.saturating_add(open) >= MAX_DEPTH {
                        return Err(Malformed::Depth);
                    }
                    self.bump();
                    stack = (stack << 1) | u64::from(c == b'{');
                    open = open.saturating_add(1);
                    self.skip_ws();
                    let close = if c == b'{' { b'}' } else { b']' };
                    if self.peek() == Some(close) {
                        self.bump();
                        stack >>= 1;
                        open = open.saturating_sub(1);
                    } else if c == b'{' {
                        self.string()?;
                        self.expect(b':')?;
                        continue;
                    } else {
                        continue;
                    }
                }
                b'"' => {
                    self.string()?;
                }
                b't' => self.literal(b"true")?,
                b'f' => self.literal(b"false")?,
                b'n' => self.literal(b"null")?,
                b'-' | b'0'..=b'9' => self.number()?,
                _ => return Err(Malformed::Json),
            }
            // After a value: close containers or move to the next element.
            loop {
                if open == 0 {
                    return Ok(());
                }
                self.skip_ws();
                let in_object = stack & 1 == 1;
                match self.peek() {
                    Some(b',') => {
                        self.bump();
                        if in_object {
                            self.string()?;
                            self.expect(b':')?;
                        }
                        break;
                    }
                    Some(b'}') if in_object => {}
                    Some(b']') if !in_object => {}
                    _ => return Err(Malformed::Json),
                }
                self.bump();
                stack >>= 1;
                open = open.saturating_sub(1);
            }
        }
    }
}

/// A string or an array of strings, kept raw (the `aud` claim).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StrOrArray<'a> {
    One(JsonStr<'a>),
    Many(&'a [u8]),
}

/// Iterates the strings of a validated array written as raw JSON text.
pub(crate) fn array_strings(raw: &[u8]) -> impl Iterator<Item = JsonStr<'_>> {
    let mut scanner = Scanner { text: raw, pos: 1 };
    core::iter::from_fn(move || {
        scanner.skip_ws();
        if scanner.peek() == Some(b',') {
            scanner.bump();
        }
        scanner.skip_ws();
        if scanner.peek() != Some(b'"') {
            return None;
        }
        scanner.string().ok()
    })
}

/// Walks a document that must be exactly one object, calling `member` for each
/// member with the name and a scanner positioned on the value. The callback must
/// consume exactly one value (or fail).
pub(crate) fn for_each_member<'a, E: From<Malformed>>(
    text: &'a [u8],
    mut member: impl FnMut(JsonStr<'a>, &mut Scanner<'a>) -> core::result::Result<(), E>,
) -> core::result::Result<(), E> {
    let mut s = Scanner { text, pos: 0 };
    s.expect(b'{')?;
    s.skip_ws();
    if s.peek() == Some(b'}') {
        s.bump();
    } else {
        loop {
            let name = s.string()?;
            s.expect(b':')?;
            member(name, &mut s)?;
            s.skip_ws();
            match s.peek() {
                Some(b',') => s.bump(),
                Some(b'}') => {
                    s.bump();
                    break;
                }
                _ => return Err(Malformed::Json.into()),
            }
        }
    }
    s.skip_ws();
    if s.pos == text.len() {
        Ok(())
    } else {
        Err(Malformed::Json.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(doc: &str) -> Result<()> {
        for_each_member(doc.as_bytes(), |_, s| s.skip_value(1))
    }

    #[test]
    fn accepts_strict_json() {
        for ok in [
            "{}",
            " { } ",
            r#"{"a":1,"b":[1,2,{"c":null}],"d":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","e":-0.5e+10,"f":true,"g":false}"#,
            r#"{"a":[],"b":{},"c":[[]],"d":0,"e":1E5,"f":-0}"#,
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_non_rfc8259() {
        for bad in [
            "",
            "[]",
            "\u{feff}{}",
            "{,}",
            r#"{"a":1,}"#,
            r#"{"a":[1,]}"#,
            r#"{"a":1}/*c*/"#,
            r#"{"a":1}x"#,
            r#"{"a":NaN}"#,
            r#"{"a":Infinity}"#,
            r#"{"a":01}"#,
            r#"{"a":1.}"#,
            r#"{"a":.5}"#,
            r#"{"a":+1}"#,
            r#"{"a":'x'}"#,
            r#"{a:1}"#,
            "{\"a\":\"\x01\"}",
            r#"{"a":"\x"}"#,
            r#"{"a":"\u12"}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\udc00"}"#,
            r#"{"a":"\ud800\u0041"}"#,
            r#"{"a":tru}"#,
            r#"{"a":1 "b":2}"#,
            r#"{"a" 1}"#,
            r#"{"a":[1}"#,
            r#"{"a":{"b":1]}"#,
        ] {
            assert!(check(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bounds_nesting_depth() {
        // The top-level object is depth 1, so 31 arrays reach MAX_DEPTH exactly.
        let ok = format!("{{\"a\":{}{}}}", "[".repeat(31), "]".repeat(31));
        assert_eq!(check(&ok), Ok(()));
        let deep = format!("{{\"a\":{}{}}}", "[".repeat(32), "]".repeat(32));
        assert_eq!(check(&deep), Err(Malformed::Depth));
        let huge = format!("{{\"a\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(check(&huge), Err(Malformed::Depth));
    }

    #[test]
    fn numeric_dates_are_integers_in_range() {
        let date = |doc: &str| {
            let mut out = None;
            for_each_member(doc.as_bytes(), |_, s| {
                out = Some(s.numeric_date()?);
                Ok::<_, Malformed>(())
            })
            .map(|_| out.unwrap())
        };
        assert_eq!(date(r#"{"exp":0}"#), Ok(0));
        assert_eq!(date(r#"{"exp":9007199254740992}"#), Ok(1 << 53));
        for bad in [
            "9007199254740993",
            "1.0",
            "1e3",
            "-1",
            "-0",
            "\"5\"",
            "null",
            "true",
            "[1]",
            "99999999999999999999999",
        ] {
            let doc = format!(r#"{{"exp":{bad}}}"#);
            assert_eq!(date(&doc), Err(Malformed::NumericDate), "{bad}");
        }
        assert_eq!(date(r#"{"exp":01}"#), Err(Malformed::Json));
    }

    #[test]
    fn escapes_decode_before_comparing() {
        let mut names = [None; 2];
        let doc = r#"{"\u0069ss":"caf\u00e9","x":"\ud83d\ude00 \"q\""}"#;
        let mut i = 0;
        for_each_member(doc.as_bytes(), |name, s| {
            let v = s.string()?;
            names[i] = Some((name, v));
            i += 1;
            Ok::<_, Malformed>(())
        })
        .unwrap();
        let (n0, v0) = names[0].unwrap();
        assert!(n0.eq_str("iss") && !n0.eq_str("is") && !n0.eq_str("isss"));
        assert!(v0.eq_str("café") && v0.as_str().is_none());
        let mut buf = [0u8; 16];
        assert_eq!(names[1].unwrap().1.decode_into(&mut buf), Some("😀 \"q\""));
        assert_eq!(names[1].unwrap().1.decode_into(&mut [0u8; 3]), None);
    }
}

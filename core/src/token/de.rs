//! A serde deserializer over a payload the scanner has already validated.
//!
//! Validation happened once, strictly, in [`crate::token::claims::Claims::parse`];
//! this pass only maps values onto the caller's type, borrowing strings from
//! the payload. It replaces a second general-purpose JSON parse on the hot path.

use core::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use crate::token::json::Scanner;

/// Why the payload does not fit the caller's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DeError;

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("claims do not fit the requested type")
    }
}

impl de::StdError for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(_: T) -> Self {
        DeError
    }
}

type Result<T> = core::result::Result<T, DeError>;

/// Longest escaped member name decoded without scratch (longer ones need it).
const MAX_ESCAPED_NAME: usize = 64;

/// Deserializes from validated JSON; escaped strings are unescaped into
/// `scratch` (if any) and handed over as transient strings.
pub(crate) struct Deserializer<'de, 's> {
    scanner: Scanner<'de>,
    /// The payload as text, so unescaped strings are borrowed by slicing
    /// (one UTF-8 check for the whole payload instead of one per string).
    text: &'de str,
    scratch: &'s mut [u8],
}

impl<'de, 's> Deserializer<'de, 's> {
    pub(crate) fn new(payload: &'de [u8], scratch: &'s mut [u8]) -> Result<Self> {
        let text = core::str::from_utf8(payload).map_err(|_| DeError)?;
        Ok(Deserializer {
            scanner: Scanner::new(payload),
            text,
            scratch,
        })
    }

    fn peek(&mut self) -> Result<u8> {
        self.scanner.skip_ws();
        self.scanner.peek().ok_or(DeError)
    }

    fn literal(&mut self, word: &[u8]) -> Result<()> {
        self.scanner.literal(word).map_err(|_| DeError)
    }

    /// A string: borrowed when unescaped, else decoded into `scratch`, or for
    /// a member `name` that does not fit there, into a small stack buffer.
    fn string<V: Visitor<'de>>(&mut self, visitor: V, name: bool) -> Result<V::Value> {
        let start = self.scanner.pos().saturating_add(1);
        let s = self.scanner.string().map_err(|_| DeError)?;
        if s.plain_bytes().is_some() {
            let end = self.scanner.pos().saturating_sub(1);
            return visitor.visit_borrowed_str(self.text.get(start..end).ok_or(DeError)?);
        }
        if let Some(decoded) = s.decode_into(self.scratch) {
            return visitor.visit_str(decoded);
        }
        let mut buf = [0u8; MAX_ESCAPED_NAME];
        match name.then(|| s.decode_into(&mut buf)).flatten() {
            Some(decoded) => visitor.visit_str(decoded),
            None => Err(DeError),
        }
    }

    fn number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value> {
        let start = self.scanner.pos();
        self.scanner.number().map_err(|_| DeError)?;
        let digits = self.scanner.since(start);
        // Plain non-negative integers that cannot overflow: no text round trip.
        if digits.len() <= 19 && digits.iter().all(u8::is_ascii_digit) {
            let n = digits.iter().fold(0u64, |n, d| {
                n.wrapping_mul(10).wrapping_add(u64::from(d & 0x0F))
            });
            return visitor.visit_u64(n);
        }
        let text = self.text.get(start..self.scanner.pos()).ok_or(DeError)?;
        if !text.contains(['.', 'e', 'E']) {
            if let Ok(n) = text.parse::<u64>() {
                return visitor.visit_u64(n);
            }
            if let Ok(n) = text.parse::<i64>() {
                return visitor.visit_i64(n);
            }
        }
        visitor.visit_f64(text.parse::<f64>().map_err(|_| DeError)?)
    }
}

impl<'de> de::Deserializer<'de> for &mut Deserializer<'de, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.peek()? {
            b'"' => self.string(visitor, false),
            b'{' => {
                self.scanner.bump();
                let value = visitor.visit_map(Members {
                    de: self,
                    first: true,
                })?;
                self.scanner.expect(b'}').map_err(|_| DeError)?;
                Ok(value)
            }
            b'[' => {
                self.scanner.bump();
                let value = visitor.visit_seq(Elements {
                    de: self,
                    first: true,
                })?;
                self.scanner.expect(b']').map_err(|_| DeError)?;
                Ok(value)
            }
            b't' => self
                .literal(b"true")
                .and_then(|()| visitor.visit_bool(true)),
            b'f' => self
                .literal(b"false")
                .and_then(|()| visitor.visit_bool(false)),
            b'n' => self.literal(b"null").and_then(|()| visitor.visit_unit()),
            _ => self.number(visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.peek()? == b'n' {
            self.literal(b"null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        // Unit variants only, written as strings: the common shape in claims.
        let s = self.scanner.string().map_err(|_| DeError)?;
        let name = s.as_str().ok_or(DeError)?;
        visitor.visit_enum(name.into_deserializer())
    }

    /// Member names of the caller's structs. An escaped name is decoded into
    /// `scratch`, or into a stack buffer of [`MAX_ESCAPED_NAME`] bytes when
    /// `scratch` is too small, so an escaped name the type ignores never fails.
    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        if self.peek()? == b'"' {
            self.string(visitor, true)
        } else {
            self.deserialize_any(visitor)
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.scanner.skip_value(1).map_err(|_| DeError)?;
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple tuple_struct map struct
    }
}

/// The members of an object; the opening brace is consumed.
struct Members<'a, 'de, 's> {
    de: &'a mut Deserializer<'de, 's>,
    first: bool,
}

impl<'de> MapAccess<'de> for Members<'_, 'de, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.de.peek()? {
            b'}' => return Ok(None),
            b',' if !self.first => self.de.scanner.bump(),
            _ if self.first => {}
            _ => return Err(DeError),
        }
        self.first = false;
        let key = seed.deserialize(&mut *self.de)?;
        self.de.scanner.expect(b':').map_err(|_| DeError)?;
        Ok(Some(key))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        seed.deserialize(&mut *self.de)
    }
}

/// The elements of an array; the opening bracket is consumed.
struct Elements<'a, 'de, 's> {
    de: &'a mut Deserializer<'de, 's>,
    first: bool,
}

impl<'de> SeqAccess<'de> for Elements<'_, 'de, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.de.peek()? {
            b']' => return Ok(None),
            b',' if !self.first => self.de.scanner.bump(),
            _ if self.first => {}
            _ => return Err(DeError),
        }
        self.first = false;
        seed.deserialize(&mut *self.de).map(Some)
    }
}

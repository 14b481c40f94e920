//! The signer's JSON writer: a serde `Serializer` straight into the caller's buffer.
//!
//! Valid by construction: strings are always quoted and escaped (runs of plain
//! bytes are copied whole), bytes become arrays of numbers, non-finite floats,
//! non-scalar map keys and nesting past [`MAX_DEPTH`] are refused. The top level
//! must be an object, and the registered claims in it are written so that our own
//! verifier accepts them: `exp`, `nbf`, `iat` as integers in `0..=2^53`; `iss`,
//! `sub`, `jti` as strings; `aud` as a string or an array of strings; none twice.
//! Anything else is an [`SerError::Unsupported`] or its own variant, never a panic.

use core::fmt::{self, Write as _};

use serde::ser::{
    self, Serialize, SerializeMap, SerializeSeq, SerializeStruct, SerializeStructVariant,
    SerializeTuple, SerializeTupleStruct, SerializeTupleVariant,
};

use crate::token::json::{special_mask, MAX_DEPTH};

/// Why claims could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum SerError {
    /// The output buffer is full.
    Full,
    /// A shape JSON or the token format cannot hold (see the module docs).
    Unsupported,
}

impl fmt::Display for SerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SerError::Full => "buffer too small",
            SerError::Unsupported => "claims cannot be written as token JSON",
        })
    }
}

impl ser::StdError for SerError {}

impl ser::Error for SerError {
    fn custom<T: fmt::Display>(_: T) -> Self {
        SerError::Unsupported
    }
}

type Result<T> = core::result::Result<T, SerError>;

/// Largest NumericDate, as the verifier accepts it.
const MAX_DATE: u64 = 1 << 53;

/// What a value must be, from the registered claim it is the value of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Role {
    Any,
    /// `exp`, `nbf`, `iat`: an integer in `0..=2^53`.
    Date,
    /// `iss`, `sub`, `jti` (and each element of an `aud` array): a string.
    Str,
    /// `aud`: a string or an array of strings.
    Aud,
}

/// The registered claims, in the order of the bits of [`Object::seen`].
const REGISTERED: [(&str, Role); 7] = [
    ("exp", Role::Date),
    ("nbf", Role::Date),
    ("iat", Role::Date),
    ("iss", Role::Str),
    ("sub", Role::Str),
    ("jti", Role::Str),
    ("aud", Role::Aud),
];

/// A cursor over the output buffer.
pub(crate) struct Writer<'o> {
    out: &'o mut [u8],
    len: usize,
    /// `exp`, `nbf`, `iat` are RFC 3339 strings (PASETO), not NumericDates.
    text_dates: bool,
}

impl<'o> Writer<'o> {
    pub(crate) fn new(out: &'o mut [u8]) -> Self {
        Writer {
            out,
            len: 0,
            text_dates: false,
        }
    }

    /// A writer for PASETO claims: `exp`, `nbf`, `iat` must be strings (the
    /// verifier then checks them as RFC 3339 date-times).
    #[cfg(any(feature = "paseto-local", feature = "paseto-public"))]
    pub(crate) fn with_text_dates(out: &'o mut [u8]) -> Self {
        Writer {
            text_dates: true,
            ..Writer::new(out)
        }
    }

    /// Bytes written so far.
    pub(crate) const fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn push(&mut self, bytes: &[u8]) -> Result<()> {
        let end = self.len.checked_add(bytes.len()).ok_or(SerError::Full)?;
        self.out
            .get_mut(self.len..end)
            .ok_or(SerError::Full)?
            .copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }

    /// Writes string contents (no quotes), escaping `"`, `\` and controls and
    /// copying the runs between them whole.
    fn escaped(&mut self, s: &str) -> Result<()> {
        let bytes = s.as_bytes();
        let mut run = 0usize;
        let mut i = 0usize;
        loop {
            // Eight bytes a step over plain text (non-ASCII is marked too and
            // simply stepped over: JSON carries UTF-8 as is).
            while let Some(chunk) = bytes.get(i..i.saturating_add(8)) {
                let mut word = [0u8; 8];
                word.copy_from_slice(chunk);
                let mask = special_mask(u64::from_le_bytes(word));
                i = i.saturating_add((mask.trailing_zeros() / 8) as usize);
                if mask != 0 {
                    break;
                }
            }
            let Some(&b) = bytes.get(i) else { break };
            let short = match b {
                b'"' => b'"',
                b'\\' => b'\\',
                b'\n' => b'n',
                b'\r' => b'r',
                b'\t' => b't',
                0x08 => b'b',
                0x0C => b'f',
                0x00..=0x1F => 0,
                _ => {
                    i = i.saturating_add(1);
                    continue;
                }
            };
            self.push(bytes.get(run..i).unwrap_or_default())?;
            if short == 0 {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                let hi = HEX.get(usize::from(b >> 4)).copied().unwrap_or(b'0');
                let lo = HEX.get(usize::from(b & 0x0F)).copied().unwrap_or(b'0');
                self.push(&[b'\\', b'u', b'0', b'0', hi, lo])?;
            } else {
                self.push(&[b'\\', short])?;
            }
            i = i.saturating_add(1);
            run = i;
        }
        self.push(bytes.get(run..).unwrap_or_default())
    }

    fn string(&mut self, s: &str) -> Result<()> {
        self.push(b"\"")?;
        self.escaped(s)?;
        self.push(b"\"")
    }

    /// Writes an integer given as sign and magnitude.
    fn integer(&mut self, negative: bool, magnitude: u128) -> Result<()> {
        let mut digits = [0u8; 40];
        let mut at = digits.len();
        let mut put = |digit: u8| {
            at = at.saturating_sub(1);
            if let Some(slot) = digits.get_mut(at) {
                *slot = b'0'.saturating_add(digit);
            }
        };
        // 128-bit division is slow: only for the digits beyond u64.
        let mut wide = magnitude;
        let mut n = loop {
            match u64::try_from(wide) {
                Ok(n) => break n,
                Err(_) => {
                    // `wide % 10 < 10`, so the cast is exact.
                    put((wide % 10) as u8);
                    wide /= 10;
                }
            }
        };
        loop {
            put((n % 10) as u8);
            n /= 10;
            if n == 0 {
                break;
            }
        }
        if negative {
            at = at.saturating_sub(1);
            if let Some(slot) = digits.get_mut(at) {
                *slot = b'-';
            }
        }
        self.push(digits.get(at..).unwrap_or_default())
    }
}

impl fmt::Write for Writer<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes()).map_err(|_| fmt::Error)
    }
}

/// Escapes what `Display` writes, for [`ser::Serializer::collect_str`].
struct EscapeWriter<'w, 'o>(&'w mut Writer<'o>);

impl fmt::Write for EscapeWriter<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.escaped(s).map_err(|_| fmt::Error)
    }
}

/// Writes `value` as the token's claims object.
pub(crate) fn to_writer<T: Serialize + ?Sized>(value: &T, w: &mut Writer<'_>) -> Result<()> {
    value.serialize(Ser {
        w,
        depth: 0,
        role: Role::Any,
    })
}

/// Serializes one value found inside `depth` open containers.
struct Ser<'a, 'o> {
    w: &'a mut Writer<'o>,
    depth: u32,
    role: Role,
}

impl<'a, 'o> Ser<'a, 'o> {
    /// Fails unless the value may be a scalar of the given kind here: never at
    /// the top (claims are an object), and only what a registered claim allows.
    fn scalar(&self, allowed: &[Role]) -> Result<()> {
        if self.depth == 0 || !(self.role == Role::Any || allowed.contains(&self.role)) {
            return Err(SerError::Unsupported);
        }
        Ok(())
    }

    fn integer(self, negative: bool, magnitude: u128) -> Result<()> {
        self.scalar(&[Role::Date])?;
        if self.role == Role::Date && (negative || magnitude > u128::from(MAX_DATE)) {
            return Err(SerError::Unsupported);
        }
        self.w.integer(negative && magnitude != 0, magnitude)
    }

    fn signed(self, v: i128) -> Result<()> {
        self.integer(v < 0, v.unsigned_abs())
    }

    fn float(self, debug: fmt::Arguments<'_>, finite: bool) -> Result<()> {
        self.scalar(&[])?;
        if !finite {
            return Err(SerError::Unsupported);
        }
        // `Debug` writes the shortest round-tripping form, with a `.0` or an
        // exponent: always a JSON number for finite values.
        self.w.write_fmt(debug).map_err(|_| SerError::Full)
    }

    fn str(self, v: &str) -> Result<()> {
        self.scalar(&[Role::Str, Role::Aud])?;
        self.w.string(v)
    }

    fn null(self) -> Result<()> {
        self.scalar(&[])?;
        self.w.push(b"null")
    }

    /// Opens a container of `extra` levels (two for `{"Variant":[`).
    fn open(self, extra: u32, role: Role) -> Result<Compound<'a, 'o>> {
        let depth = self.depth.checked_add(extra).ok_or(SerError::Unsupported)?;
        if depth > MAX_DEPTH {
            return Err(SerError::Unsupported);
        }
        Ok(Compound {
            w: self.w,
            depth,
            first: true,
            seen: 0,
            top: self.depth == 0,
            element: role,
            pending: Role::Any,
            close: b"",
        })
    }

    fn array(self, extra: u32) -> Result<Compound<'a, 'o>> {
        let element = match self.role {
            Role::Any => Role::Any,
            Role::Aud => Role::Str,
            Role::Date | Role::Str => return Err(SerError::Unsupported),
        };
        if self.depth == 0 {
            return Err(SerError::Unsupported);
        }
        let mut c = self.open(extra, element)?;
        c.w.push(b"[")?;
        c.close = b"]";
        Ok(c)
    }

    fn object(self) -> Result<Compound<'a, 'o>> {
        if self.role != Role::Any {
            return Err(SerError::Unsupported);
        }
        let mut c = self.open(1, Role::Any)?;
        c.w.push(b"{")?;
        c.close = b"}";
        Ok(c)
    }

    /// `{"variant":` for externally tagged enum variants (never at the top).
    fn variant(self, variant: &str, extra: u32) -> Result<Self> {
        if self.role != Role::Any || self.depth == 0 {
            return Err(SerError::Unsupported);
        }
        let depth = self.depth.checked_add(extra).ok_or(SerError::Unsupported)?;
        if depth > MAX_DEPTH {
            return Err(SerError::Unsupported);
        }
        self.w.push(b"{")?;
        self.w.string(variant)?;
        self.w.push(b":")?;
        Ok(Ser {
            w: self.w,
            depth: self.depth.saturating_add(1),
            role: Role::Any,
        })
    }
}

/// An open array or object.
struct Compound<'a, 'o> {
    w: &'a mut Writer<'o>,
    /// Depth of this container's members.
    depth: u32,
    first: bool,
    /// Whether this is the claims object itself (registered claims apply).
    top: bool,
    /// Registered claims written so far (bits in [`REGISTERED`] order).
    seen: u8,
    /// What each array element must be.
    element: Role,
    /// What the value of the member whose name was just written must be.
    pending: Role,
    /// `]`, `}`, or `]}` / `}}` after a variant.
    close: &'static [u8],
}

impl<'a, 'o> Compound<'a, 'o> {
    fn comma(&mut self) -> Result<()> {
        if !self.first {
            self.w.push(b",")?;
        }
        self.first = false;
        Ok(())
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.comma()?;
        value.serialize(Ser {
            w: self.w,
            depth: self.depth,
            role: self.element,
        })
    }

    /// Notes a member name of the claims object: a registered one sets the
    /// role of its value, and may appear once.
    fn name(&mut self, name: &str) -> Result<()> {
        self.pending = Role::Any;
        if !self.top || name.len() != 3 {
            return Ok(());
        }
        let mut bit = 1u8;
        for (registered, role) in REGISTERED {
            if name == registered {
                if self.seen & bit != 0 {
                    return Err(SerError::Unsupported);
                }
                self.seen |= bit;
                self.pending = match role {
                    Role::Date if self.w.text_dates => Role::Str,
                    role => role,
                };
            }
            bit <<= 1;
        }
        Ok(())
    }

    fn member<T: Serialize + ?Sized>(&mut self, name: &str, value: &T) -> Result<()> {
        self.comma()?;
        self.name(name)?;
        self.w.string(name)?;
        self.w.push(b":")?;
        self.value(value)
    }

    fn value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        value.serialize(Ser {
            w: self.w,
            depth: self.depth,
            role: self.pending,
        })
    }

    fn end(self) -> Result<()> {
        self.w.push(self.close)
    }

    /// Marks this container as a variant's content: closes with the wrapper.
    fn in_variant(mut self) -> Self {
        self.close = if self.close == b"]" { b"]}" } else { b"}}" };
        self
    }
}

impl<'a, 'o> ser::Serializer for Ser<'a, 'o> {
    type Ok = ();
    type Error = SerError;
    type SerializeSeq = Compound<'a, 'o>;
    type SerializeTuple = Compound<'a, 'o>;
    type SerializeTupleStruct = Compound<'a, 'o>;
    type SerializeTupleVariant = Compound<'a, 'o>;
    type SerializeMap = Compound<'a, 'o>;
    type SerializeStruct = Compound<'a, 'o>;
    type SerializeStructVariant = Compound<'a, 'o>;

    fn serialize_bool(self, v: bool) -> Result<()> {
        self.scalar(&[])?;
        self.w.push(if v { b"true" } else { b"false" })
    }

    fn serialize_i8(self, v: i8) -> Result<()> {
        self.signed(v.into())
    }

    fn serialize_i16(self, v: i16) -> Result<()> {
        self.signed(v.into())
    }

    fn serialize_i32(self, v: i32) -> Result<()> {
        self.signed(v.into())
    }

    fn serialize_i64(self, v: i64) -> Result<()> {
        self.signed(v.into())
    }

    fn serialize_i128(self, v: i128) -> Result<()> {
        self.signed(v)
    }

    fn serialize_u8(self, v: u8) -> Result<()> {
        self.integer(false, v.into())
    }

    fn serialize_u16(self, v: u16) -> Result<()> {
        self.integer(false, v.into())
    }

    fn serialize_u32(self, v: u32) -> Result<()> {
        self.integer(false, v.into())
    }

    fn serialize_u64(self, v: u64) -> Result<()> {
        self.integer(false, v.into())
    }

    fn serialize_u128(self, v: u128) -> Result<()> {
        self.integer(false, v)
    }

    fn serialize_f32(self, v: f32) -> Result<()> {
        self.float(format_args!("{v:?}"), v.is_finite())
    }

    fn serialize_f64(self, v: f64) -> Result<()> {
        self.float(format_args!("{v:?}"), v.is_finite())
    }

    fn serialize_char(self, v: char) -> Result<()> {
        self.str(v.encode_utf8(&mut [0u8; 4]))
    }

    fn serialize_str(self, v: &str) -> Result<()> {
        self.str(v)
    }

    /// Bytes are an array of numbers, as `serde_json` writes them: never raw text.
    fn serialize_bytes(self, v: &[u8]) -> Result<()> {
        let mut seq = self.array(1)?;
        v.iter().try_for_each(|b| seq.element(b))?;
        seq.end()
    }

    fn serialize_none(self) -> Result<()> {
        self.null()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result<()> {
        self.null()
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result<()> {
        self.null()
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        self.str(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<()> {
        let Ser { w, depth, .. } = self.variant(variant, 1)?;
        value.serialize(Ser {
            w: &mut *w,
            depth,
            role: Role::Any,
        })?;
        w.push(b"}")
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a, 'o>> {
        self.array(1)
    }

    fn serialize_tuple(self, _: usize) -> Result<Compound<'a, 'o>> {
        self.array(1)
    }

    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a, 'o>> {
        self.array(1)
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a, 'o>> {
        Ok(self.variant(variant, 2)?.array(1)?.in_variant())
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a, 'o>> {
        self.object()
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a, 'o>> {
        self.object()
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a, 'o>> {
        Ok(self.variant(variant, 2)?.object()?.in_variant())
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, value: &T) -> Result<()> {
        self.scalar(&[Role::Str, Role::Aud])?;
        self.w.push(b"\"")?;
        write!(EscapeWriter(&mut *self.w), "{value}").map_err(|_| SerError::Full)?;
        self.w.push(b"\"")
    }
}

impl SerializeSeq for Compound<'_, '_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }

    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl SerializeTuple for Compound<'_, '_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }

    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl SerializeTupleStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }

    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl SerializeTupleVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.element(value)
    }

    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl SerializeMap for Compound<'_, '_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<()> {
        self.comma()?;
        key.serialize(KeySer(self))?;
        self.w.push(b":")
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<()> {
        self.value(value)
    }

    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl SerializeStruct for Compound<'_, '_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, v: &T) -> Result<()> {
        self.member(name, v)
    }

    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

impl SerializeStructVariant for Compound<'_, '_> {
    type Ok = ();
    type Error = SerError;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, name: &'static str, v: &T) -> Result<()> {
        self.member(name, v)
    }

    fn end(self) -> Result<()> {
        Compound::end(self)
    }
}

/// Writes a map key as a JSON string: strings, chars, integers (quoted, as
/// `serde_json` does) and unit variants; any other key is refused.
struct KeySer<'c, 'a, 'o>(&'c mut Compound<'a, 'o>);

impl KeySer<'_, '_, '_> {
    fn name(self, name: &str) -> Result<()> {
        self.0.name(name)?;
        self.0.w.string(name)
    }

    fn integer(self, negative: bool, magnitude: u128) -> Result<()> {
        self.0.pending = Role::Any;
        self.0.w.push(b"\"")?;
        self.0.w.integer(negative && magnitude != 0, magnitude)?;
        self.0.w.push(b"\"")
    }
}

/// Refuses every key shape but those [`KeySer`] writes.
macro_rules! refuse {
    ($($name:ident($($arg:ty),*) -> $ok:ty;)*) => {$(
        fn $name(self, $(_: $arg),*) -> Result<$ok> {
            Err(SerError::Unsupported)
        }
    )*};
}

impl ser::Serializer for KeySer<'_, '_, '_> {
    type Ok = ();
    type Error = SerError;
    type SerializeSeq = ser::Impossible<(), SerError>;
    type SerializeTuple = ser::Impossible<(), SerError>;
    type SerializeTupleStruct = ser::Impossible<(), SerError>;
    type SerializeTupleVariant = ser::Impossible<(), SerError>;
    type SerializeMap = ser::Impossible<(), SerError>;
    type SerializeStruct = ser::Impossible<(), SerError>;
    type SerializeStructVariant = ser::Impossible<(), SerError>;

    fn serialize_str(self, v: &str) -> Result<()> {
        self.name(v)
    }

    fn serialize_char(self, v: char) -> Result<()> {
        self.name(v.encode_utf8(&mut [0u8; 4]))
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result<()> {
        self.name(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<()> {
        value.serialize(self)
    }

    fn serialize_i8(self, v: i8) -> Result<()> {
        self.integer(v < 0, v.unsigned_abs().into())
    }

    fn serialize_i16(self, v: i16) -> Result<()> {
        self.integer(v < 0, v.unsigned_abs().into())
    }

    fn serialize_i32(self, v: i32) -> Result<()> {
        self.integer(v < 0, v.unsigned_abs().into())
    }

    fn serialize_i64(self, v: i64) -> Result<()> {
        self.integer(v < 0, v.unsigned_abs().into())
    }

    fn serialize_i128(self, v: i128) -> Result<()> {
        self.integer(v < 0, v.unsigned_abs())
    }

    fn serialize_u8(self, v: u8) -> Result<()> {
        self.integer(false, v.into())
    }

    fn serialize_u16(self, v: u16) -> Result<()> {
        self.integer(false, v.into())
    }

    fn serialize_u32(self, v: u32) -> Result<()> {
        self.integer(false, v.into())
    }

    fn serialize_u64(self, v: u64) -> Result<()> {
        self.integer(false, v.into())
    }

    fn serialize_u128(self, v: u128) -> Result<()> {
        self.integer(false, v)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<()> {
        Err(SerError::Unsupported)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<()> {
        Err(SerError::Unsupported)
    }

    fn collect_str<T: fmt::Display + ?Sized>(self, _: &T) -> Result<()> {
        Err(SerError::Unsupported)
    }

    refuse! {
        serialize_bool(bool) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
        serialize_struct_variant(&'static str, u32, &'static str, usize) -> Self::SerializeStructVariant;
    }
}

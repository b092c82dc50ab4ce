//! A small JSON reader and writer for the serde data model, for the browser bundle (which
//! should not link serde_json: its generic code and error messages, which print floats,
//! weigh far more than the chat's JSON needs).
//!
//! [`from_str`] reads any JSON text into the types serde derive and std support: objects
//! into structs and maps (unknown fields skipped), arrays into sequences, tuples and tuple
//! structs, strings (fully unescaped) into strings, chars and unit enum variants, numbers
//! into integers (u64 and i64 full range, overflow is an error) and floats (not in the
//! browser build, which never receives one and leaves float parsing out), `null` into
//! `None` and `()`. Externally tagged enum variants with content (`{"Variant": …}`) are read
//! too. Unlike serde_json: map keys are always read as strings (no maps with integer
//! keys), a lone surrogate is an error even in an ignored value, and `-0` is the integer 0
//! (serde_json reads it as the float -0.0).
//!
//! [`to_string`] writes the same compact JSON as `serde_json::to_string`, byte for byte,
//! except that it refuses floats ([`ErrorKind::Float`]: the client never sends one, and
//! printing them costs more than all of this module) and map keys that are not strings
//! ([`ErrorKind::KeyMustBeString`]; serde_json quotes integer and bool keys).
//!
//! Errors carry a reason and a position, never a formatted message.

use std::borrow::Cow;

use serde::de::{self, Deserialize, DeserializeSeed, Visitor};
use serde::ser::{self, Serialize};

/// Why reading or writing JSON failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text ended inside a value.
    Eof,
    /// A character that does not belong there.
    Syntax,
    /// A bad escape, a lone surrogate or a control character in a string.
    String,
    /// A malformed number, or one too large for a float.
    Number,
    /// Something other than whitespace after the value.
    TrailingCharacters,
    /// More than 127 nested arrays and objects (as serde_json).
    TooDeep,
    /// An object key that is not a string.
    KeyMustBeString,
    /// A value of the wrong kind for its type.
    InvalidType,
    /// A value of the right kind out of range for its type.
    InvalidValue,
    /// An array or object with the wrong number of items.
    InvalidLength,
    UnknownVariant,
    UnknownField,
    MissingField,
    DuplicateField,
    /// A float to write (not supported).
    Float,
    /// Any other error of a `Deserialize` or `Serialize` implementation.
    Custom,
}

/// A JSON error: its reason and, when reading, where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    /// The byte offset in the text where reading stopped (0 for writing errors).
    pub position: usize,
}

impl From<ErrorKind> for Error {
    fn from(kind: ErrorKind) -> Self {
        Self { kind, position: 0 }
    }
}

fn fail<T>(kind: ErrorKind) -> Result<T, Error> {
    Err(kind.into())
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self.kind {
            ErrorKind::Eof => "unexpected end of JSON",
            ErrorKind::Syntax => "invalid JSON",
            ErrorKind::String => "invalid JSON string",
            ErrorKind::Number => "invalid JSON number",
            ErrorKind::TrailingCharacters => "trailing characters after JSON",
            ErrorKind::TooDeep => "JSON nested too deeply",
            ErrorKind::KeyMustBeString => "JSON object key is not a string",
            ErrorKind::InvalidType => "JSON value of the wrong type",
            ErrorKind::InvalidValue => "JSON value out of range",
            ErrorKind::InvalidLength => "JSON value of the wrong length",
            ErrorKind::UnknownVariant => "unknown variant",
            ErrorKind::UnknownField => "unknown field",
            ErrorKind::MissingField => "missing field",
            ErrorKind::DuplicateField => "duplicate field",
            ErrorKind::Float => "floats are not written",
            ErrorKind::Custom => "invalid data",
        })
    }
}

impl std::error::Error for Error {}

// Every method ignores its arguments: formatting them is what this module avoids.
impl de::Error for Error {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        ErrorKind::Custom.into()
    }
    fn invalid_type(_: de::Unexpected, _: &dyn de::Expected) -> Self {
        ErrorKind::InvalidType.into()
    }
    fn invalid_value(_: de::Unexpected, _: &dyn de::Expected) -> Self {
        ErrorKind::InvalidValue.into()
    }
    fn invalid_length(_: usize, _: &dyn de::Expected) -> Self {
        ErrorKind::InvalidLength.into()
    }
    fn unknown_variant(_: &str, _: &'static [&'static str]) -> Self {
        ErrorKind::UnknownVariant.into()
    }
    fn unknown_field(_: &str, _: &'static [&'static str]) -> Self {
        ErrorKind::UnknownField.into()
    }
    fn missing_field(_: &'static str) -> Self {
        ErrorKind::MissingField.into()
    }
    fn duplicate_field(_: &'static str) -> Self {
        ErrorKind::DuplicateField.into()
    }
}

impl ser::Error for Error {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        ErrorKind::Custom.into()
    }
}

// ---------------------------------------------------------------------------------------
// Reading

/// Reads `T` from JSON text (strings without escapes may be borrowed from `text`).
pub fn from_str<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, Error> {
    let mut reader = Reader {
        text,
        pos: 0,
        depth: 127,
    };
    T::deserialize(&mut reader)
        .and_then(|value| match reader.peek() {
            Err(_) => Ok(value), // only whitespace is left
            Ok(_) => fail(ErrorKind::TrailingCharacters),
        })
        .map_err(|error| Error {
            position: reader.pos,
            ..error
        })
}

struct Reader<'de> {
    text: &'de str,
    /// The next byte to read.
    pos: usize,
    /// How many more arrays and objects may open.
    depth: u8,
}

impl<'de> Reader<'de> {
    fn byte(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn next(&mut self) -> Result<u8, Error> {
        let byte = self.byte().ok_or(ErrorKind::Eof)?;
        self.pos += 1;
        Ok(byte)
    }

    fn eat(&mut self, byte: u8) -> bool {
        let found = self.byte() == Some(byte);
        if found {
            self.pos += 1;
        }
        found
    }

    /// The next byte after whitespace, not consumed.
    fn peek(&mut self) -> Result<u8, Error> {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.byte() {
            self.pos += 1;
        }
        self.byte().ok_or_else(|| ErrorKind::Eof.into())
    }

    /// Consumes `byte`, after whitespace.
    fn expect(&mut self, byte: u8) -> Result<(), Error> {
        if self.peek()? != byte {
            return fail(ErrorKind::Syntax);
        }
        self.pos += 1;
        Ok(())
    }

    fn keyword(&mut self, word: &str) -> Result<(), Error> {
        if !self.text.as_bytes()[self.pos..].starts_with(word.as_bytes()) {
            return fail(ErrorKind::Syntax);
        }
        self.pos += word.len();
        Ok(())
    }

    /// An array or object, its opening bracket next: visited, then closed with `close`.
    fn nested<T>(
        &mut self,
        close: u8,
        visit: impl FnOnce(Items<'_, 'de>) -> Result<T, Error>,
    ) -> Result<T, Error> {
        self.pos += 1;
        self.depth = self.depth.checked_sub(1).ok_or(ErrorKind::TooDeep)?;
        let value = visit(Items {
            reader: self,
            first: true,
        })?;
        self.depth += 1;
        self.expect(close)?;
        Ok(value)
    }

    /// A string, its opening quote consumed: borrowed from the text unless it has escapes.
    fn string(&mut self) -> Result<Cow<'de, str>, Error> {
        let mut unescaped: Option<String> = None;
        let mut start = self.pos;
        loop {
            // Slices start and end next to an ASCII byte, so on char boundaries.
            match self.byte().ok_or(ErrorKind::Eof)? {
                b'"' => {
                    let tail = &self.text[start..self.pos];
                    self.pos += 1;
                    return Ok(match unescaped {
                        None => Cow::Borrowed(tail),
                        Some(mut s) => {
                            s.push_str(tail);
                            Cow::Owned(s)
                        }
                    });
                }
                b'\\' => {
                    let s = unescaped.get_or_insert_with(String::new);
                    s.push_str(&self.text[start..self.pos]);
                    self.pos += 1;
                    s.push(self.escape()?);
                    start = self.pos;
                }
                0..=0x1f => return fail(ErrorKind::String),
                _ => self.pos += 1,
            }
        }
    }

    /// The char of an escape, its backslash consumed.
    fn escape(&mut self) -> Result<char, Error> {
        Ok(match self.next()? {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let mut code = self.hex4()?;
                if (0xD800..0xDC00).contains(&code) {
                    // A high surrogate: its low surrogate must follow.
                    if !(self.eat(b'\\') && self.eat(b'u')) {
                        return fail(ErrorKind::String);
                    }
                    let low = self.hex4()?;
                    if !(0xDC00..0xE000).contains(&low) {
                        return fail(ErrorKind::String);
                    }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
                }
                // None for a lone low surrogate.
                char::from_u32(code).ok_or(ErrorKind::String)?
            }
            _ => return fail(ErrorKind::String),
        })
    }

    fn hex4(&mut self) -> Result<u32, Error> {
        let mut code = 0;
        for _ in 0..4 {
            let digit = char::from(self.next()?)
                .to_digit(16)
                .ok_or(ErrorKind::String)?;
            code = code * 16 + digit;
        }
        Ok(code)
    }

    /// One or more digits.
    fn digits(&mut self) -> Result<(), Error> {
        let start = self.pos;
        while self.byte().is_some_and(|b| b.is_ascii_digit()) {
            self.pos += 1;
        }
        if self.pos == start {
            return fail(ErrorKind::Number);
        }
        Ok(())
    }

    /// The text of a number (validated), and whether it is an integer.
    #[inline(never)]
    fn number_text(&mut self) -> Result<(&'de str, bool), Error> {
        let start = self.pos;
        self.eat(b'-');
        // No leading zeros: a 0 is the whole integer part.
        if !self.eat(b'0') {
            self.digits()?;
        }
        let mut integer = true;
        if self.eat(b'.') {
            integer = false;
            self.digits()?;
        }
        if self.eat(b'e') || self.eat(b'E') {
            integer = false;
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            self.digits()?;
        }
        Ok((&self.text[start..self.pos], integer))
    }

    /// The number next, after whitespace.
    #[inline(never)]
    fn number(&mut self) -> Result<Number, Error> {
        if !matches!(self.peek()?, b'-' | b'0'..=b'9') {
            return fail(ErrorKind::InvalidType);
        }
        let (text, integer) = self.number_text()?;
        if integer {
            if let Ok(n) = text.parse() {
                return Ok(Number::Unsigned(n));
            }
            if let Ok(n) = text.parse() {
                return Ok(Number::Signed(n));
            }
        }
        float(text)
    }

    /// An integer (as read by the integer types).
    #[inline(never)]
    fn unsigned(&mut self) -> Result<u64, Error> {
        match self.number()? {
            Number::Unsigned(n) => Ok(n),
            _ => fail(ErrorKind::InvalidType),
        }
    }

    #[inline(never)]
    fn signed(&mut self) -> Result<i64, Error> {
        match self.number()? {
            Number::Unsigned(n) => i64::try_from(n).map_err(|_| ErrorKind::Number.into()),
            Number::Signed(n) => Ok(n),
            Number::Float(_) => fail(ErrorKind::InvalidType),
        }
    }

    #[inline(never)]
    fn boolean(&mut self) -> Result<bool, Error> {
        match self.peek()? {
            b't' => self.keyword("true").map(|()| true),
            b'f' => self.keyword("false").map(|()| false),
            _ => fail(ErrorKind::InvalidType),
        }
    }

    /// A string next, after whitespace.
    #[inline(never)]
    fn quoted(&mut self) -> Result<Cow<'de, str>, Error> {
        if self.peek()? != b'"' {
            return fail(ErrorKind::InvalidType);
        }
        self.pos += 1;
        self.string()
    }

    /// `open` next (after whitespace), or the value is of another type.
    fn opening(&mut self, open: u8) -> Result<(), Error> {
        if self.peek()? != open {
            return fail(ErrorKind::InvalidType);
        }
        Ok(())
    }

    /// Reads past one value of any kind.
    #[inline(never)]
    fn skip(&mut self) -> Result<(), Error> {
        de::Deserializer::deserialize_any(&mut *self, de::IgnoredAny).map(|_| ())
    }
}

/// A number that is not an integer. The browser never receives one (no field of the
/// protocol is a float), so its build leaves float parsing out (a few kilobytes of tables
/// and code) and refuses them; native builds, where the tests run, read them.
#[cfg(not(target_arch = "wasm32"))]
fn float(text: &str) -> Result<Number, Error> {
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(Number::Float(n)),
        _ => fail(ErrorKind::Number),
    }
}

#[cfg(target_arch = "wasm32")]
fn float(_: &str) -> Result<Number, Error> {
    fail(ErrorKind::Number)
}

/// A number as read.
enum Number {
    Unsigned(u64),
    Signed(i64),
    /// Never in the browser build (see [`float`]).
    #[cfg_attr(target_arch = "wasm32", allow(dead_code))]
    Float(f64),
}

/// Each of these reads one kind of value (without calling visitor methods the type cannot
/// take): the code serde derives for each type stays small.
macro_rules! integers {
    ($($method:ident $visit:ident $read:ident),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
            visitor.$visit(self.$read()?)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for &mut Reader<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.peek()? {
            b'n' => {
                self.keyword("null")?;
                visitor.visit_unit()
            }
            b't' => {
                self.keyword("true")?;
                visitor.visit_bool(true)
            }
            b'f' => {
                self.keyword("false")?;
                visitor.visit_bool(false)
            }
            b'"' => {
                self.pos += 1;
                match self.string()? {
                    Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
                    Cow::Owned(s) => visitor.visit_string(s),
                }
            }
            b'[' => self.nested(b']', |items| visitor.visit_seq(items)),
            b'{' => self.nested(b'}', |items| visitor.visit_map(items)),
            b'-' | b'0'..=b'9' => match self.number()? {
                Number::Unsigned(n) => visitor.visit_u64(n),
                Number::Signed(n) => visitor.visit_i64(n),
                Number::Float(n) => visitor.visit_f64(n),
            },
            _ => fail(ErrorKind::Syntax),
        }
    }

    integers! {
        deserialize_u8 visit_u64 unsigned, deserialize_u16 visit_u64 unsigned,
        deserialize_u32 visit_u64 unsigned, deserialize_u64 visit_u64 unsigned,
        deserialize_i8 visit_i64 signed, deserialize_i16 visit_i64 signed,
        deserialize_i32 visit_i64 signed, deserialize_i64 visit_i64 signed,
        deserialize_bool visit_bool boolean
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.number()? {
            Number::Unsigned(n) => visitor.visit_u64(n),
            Number::Signed(n) => visitor.visit_i64(n),
            Number::Float(n) => visitor.visit_f64(n),
        }
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.quoted()? {
            Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            Cow::Owned(s) => visitor.visit_string(s),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_str(visitor)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.opening(b'n')?;
        self.keyword("null")?;
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.skip()?;
        visitor.visit_unit()
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.opening(b'[')?;
        self.nested(b']', |items| visitor.visit_seq(items))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        self.opening(b'{')?;
        self.nested(b'}', |items| visitor.visit_map(items))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        self.deserialize_map(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        if self.peek()? == b'n' {
            self.keyword("null")?;
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.peek()? {
            b'"' => visitor.visit_enum(Variant {
                reader: self,
                object: false,
            }),
            b'{' => self.nested(b'}', |items| {
                visitor.visit_enum(Variant {
                    reader: items.reader,
                    object: true,
                })
            }),
            _ => fail(ErrorKind::InvalidType),
        }
    }

    serde::forward_to_deserialize_any! {
        i128 u128 bytes byte_buf
    }
}

/// The items of an array or the entries of an object.
struct Items<'a, 'de> {
    reader: &'a mut Reader<'de>,
    first: bool,
}

impl Items<'_, '_> {
    /// Whether another item follows (its comma consumed) rather than `close`.
    fn more(&mut self, close: u8) -> Result<bool, Error> {
        if self.reader.peek()? == close {
            return Ok(false);
        }
        if self.first {
            self.first = false;
        } else {
            self.reader.expect(b',')?;
        }
        Ok(true)
    }
}

impl<'de> de::SeqAccess<'de> for Items<'_, 'de> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        if !self.more(b']')? {
            return Ok(None);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }
}

impl<'de> de::MapAccess<'de> for Items<'_, 'de> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        if !self.more(b'}')? {
            return Ok(None);
        }
        if self.reader.peek()? != b'"' {
            return fail(ErrorKind::KeyMustBeString);
        }
        seed.deserialize(&mut *self.reader).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        self.reader.expect(b':')?;
        seed.deserialize(&mut *self.reader)
    }
}

/// An enum variant: a string, or (`object`) the single entry of an object, its `{` consumed.
struct Variant<'a, 'de> {
    reader: &'a mut Reader<'de>,
    object: bool,
}

impl<'a, 'de> Variant<'a, 'de> {
    /// The reader of the variant's content, which only an object has.
    fn content(self) -> Result<&'a mut Reader<'de>, Error> {
        if !self.object {
            return fail(ErrorKind::InvalidType);
        }
        Ok(self.reader)
    }
}

impl<'de> de::EnumAccess<'de> for Variant<'_, 'de> {
    type Error = Error;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self), Error> {
        if self.reader.peek()? != b'"' {
            return fail(ErrorKind::KeyMustBeString);
        }
        let variant = seed.deserialize(&mut *self.reader)?;
        if self.object {
            self.reader.expect(b':')?;
        }
        Ok((variant, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_, 'de> {
    type Error = Error;

    fn unit_variant(self) -> Result<(), Error> {
        // `"Variant"`, or `{"Variant": null}` as serde_json also accepts.
        if self.object {
            <()>::deserialize(self.reader)?;
        }
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, Error> {
        seed.deserialize(self.content()?)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_seq(self.content()?, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_map(self.content()?, visitor)
    }
}

// ---------------------------------------------------------------------------------------
// Writing

/// Writes `value` as compact JSON, as `serde_json::to_string` does (but see the module
/// documentation: no floats, string keys only).
pub fn to_string<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    let mut writer = Writer { out: String::new() };
    value.serialize(&mut writer)?;
    Ok(writer.out)
}

struct Writer {
    out: String,
}

impl Writer {
    /// A JSON string, escaped as serde_json does.
    fn string(&mut self, s: &str) {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        self.out.push('"');
        for c in s.chars() {
            match c {
                '"' => self.out.push_str("\\\""),
                '\\' => self.out.push_str("\\\\"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                '\t' => self.out.push_str("\\t"),
                '\u{8}' => self.out.push_str("\\b"),
                '\u{c}' => self.out.push_str("\\f"),
                '\0'..='\u{1f}' => {
                    let code = c as usize;
                    self.out.push_str("\\u00");
                    self.out.push(char::from(HEX[code >> 4]));
                    self.out.push(char::from(HEX[code & 0xf]));
                }
                _ => self.out.push(c),
            }
        }
        self.out.push('"');
    }

    /// The start of an externally tagged variant with content: `{"variant":`.
    fn tag(&mut self, variant: &str) {
        self.out.push('{');
        self.string(variant);
        self.out.push(':');
    }

    fn open(&mut self, open: char, close: &'static str) -> Compound<'_> {
        self.out.push(open);
        Compound {
            writer: self,
            first: true,
            close,
        }
    }

    fn integer(&mut self, n: impl ToString) -> Result<(), Error> {
        self.out.push_str(&n.to_string());
        Ok(())
    }
}

impl<'a> ser::Serializer for &'a mut Writer {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result<(), Error> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }
    fn serialize_i8(self, v: i8) -> Result<(), Error> {
        self.integer(v)
    }
    fn serialize_i16(self, v: i16) -> Result<(), Error> {
        self.integer(v)
    }
    fn serialize_i32(self, v: i32) -> Result<(), Error> {
        self.integer(v)
    }
    fn serialize_i64(self, v: i64) -> Result<(), Error> {
        self.integer(v)
    }
    fn serialize_i128(self, v: i128) -> Result<(), Error> {
        self.integer(v)
    }
    fn serialize_u8(self, v: u8) -> Result<(), Error> {
        self.integer(v)
    }
    fn serialize_u16(self, v: u16) -> Result<(), Error> {
        self.integer(v)
    }
    fn serialize_u32(self, v: u32) -> Result<(), Error> {
        self.integer(v)
    }
    fn serialize_u64(self, v: u64) -> Result<(), Error> {
        self.integer(v)
    }
    fn serialize_u128(self, v: u128) -> Result<(), Error> {
        self.integer(v)
    }
    fn serialize_f32(self, _: f32) -> Result<(), Error> {
        fail(ErrorKind::Float)
    }
    fn serialize_f64(self, _: f64) -> Result<(), Error> {
        fail(ErrorKind::Float)
    }
    fn serialize_char(self, v: char) -> Result<(), Error> {
        self.string(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, v: &str) -> Result<(), Error> {
        self.string(v);
        Ok(())
    }
    /// An array of numbers, as serde_json writes bytes.
    fn serialize_bytes(self, v: &[u8]) -> Result<(), Error> {
        use ser::SerializeSeq;
        let mut seq = self.serialize_seq(Some(v.len()))?;
        for byte in v {
            seq.serialize_element(byte)?;
        }
        seq.end()
    }
    fn serialize_none(self) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Error> {
        self.out.push_str("null");
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Error> {
        self.serialize_unit()
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), Error> {
        self.serialize_str(variant)
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.tag(variant);
        value.serialize(&mut *self)?;
        self.out.push('}');
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(self.open('[', "]"))
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Error> {
        Ok(self.open('[', "]"))
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        Ok(self.open('[', "]"))
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Error> {
        self.tag(variant);
        Ok(self.open('[', "]}"))
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Error> {
        Ok(self.open('{', "}"))
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Error> {
        Ok(self.open('{', "}"))
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Error> {
        self.tag(variant);
        Ok(self.open('{', "}}"))
    }
}

/// An array or object being written, closed by `close`.
struct Compound<'a> {
    writer: &'a mut Writer,
    first: bool,
    close: &'static str,
}

impl Compound<'_> {
    fn comma(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.writer.out.push(',');
        }
    }

    fn element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.comma();
        value.serialize(&mut *self.writer)
    }

    fn field<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Error> {
        self.comma();
        self.writer.string(key);
        self.writer.out.push(':');
        value.serialize(&mut *self.writer)
    }

    fn finish(self) -> Result<(), Error> {
        self.writer.out.push_str(self.close);
        Ok(())
    }
}

macro_rules! elements {
    ($($trait:ident :: $method:ident),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
                self.element(value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
}

elements!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        self.field(key, value)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        self.comma();
        let start = self.writer.out.len();
        key.serialize(&mut *self.writer)?;
        if self.writer.out.as_bytes().get(start) != Some(&b'"') {
            return fail(ErrorKind::KeyMustBeString);
        }
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        self.writer.out.push(':');
        value.serialize(&mut *self.writer)
    }

    fn end(self) -> Result<(), Error> {
        self.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::IgnoredAny;
    use serde::{Deserialize, Serialize};
    use serde_json::Value;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    enum Kind {
        Text,
        SystemNotice,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    enum Shape {
        Dot,
        Circle(u32),
        Line(i8, i8),
        Rect { w: u16, h: u16 },
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Author {
        name: String,
        #[serde(rename = "userId")]
        user_id: u64,
    }

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Wrapper(String);

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Point(i32, i32);

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Message {
        id: u64,
        client_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<i64>,
        edited: Option<String>,
        tags: Vec<String>,
        author: Author,
        #[serde(default)]
        readers: Vec<Author>,
        kind: Kind,
        shapes: Vec<Shape>,
        pair: (u8, i16),
        wrapper: Wrapper,
        point: Point,
        nothing: (),
        pinned: bool,
        letter: char,
    }

    fn message(text: &str, reply_to: Option<i64>, edited: Option<&str>) -> Message {
        Message {
            id: u64::MAX,
            client_id: text.into(),
            reply_to,
            edited: edited.map(Into::into),
            tags: vec![text.into(), String::new(), "\u{0}\u{1f}\u{7f}".into()],
            author: Author {
                name: "Ann \"the\" \\ 👋".into(),
                user_id: 7,
            },
            readers: vec![],
            kind: if reply_to.is_some() {
                Kind::SystemNotice
            } else {
                Kind::Text
            },
            shapes: vec![
                Shape::Dot,
                Shape::Circle(3),
                Shape::Line(-1, 1),
                Shape::Rect { w: 2, h: 0 },
            ],
            pair: (255, i16::MIN),
            wrapper: Wrapper(text.into()),
            point: Point(i32::MIN, i32::MAX),
            nothing: (),
            pinned: edited.is_some(),
            letter: text.chars().next().unwrap_or('\n'),
        }
    }

    fn messages() -> Vec<Message> {
        vec![
            message("hello", None, None),
            message(
                "two\nlines\t\"quoted\" \\ é 😀 \u{8}\u{c}\r/",
                Some(-3),
                Some("x"),
            ),
            message("", Some(i64::MIN), Some("")),
            message("\u{10ffff}\u{ffff}\u{e000}\u{d7ff}", Some(i64::MAX), None),
        ]
    }

    #[test]
    fn writes_what_serde_json_writes_and_reads_it_back() {
        for m in messages() {
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(to_string(&m).unwrap(), json);
            assert_eq!(from_str::<Message>(&json).unwrap(), m);
            let pretty = serde_json::to_string_pretty(&m).unwrap();
            assert_eq!(from_str::<Message>(&pretty).unwrap(), m);
        }
    }

    #[test]
    fn reads_like_serde_json() {
        let json = r#" {
            "extra": {"a": [1, -2.5e3, "\"]}", {"b": null}], "c": true},
            "kind" : "systemNotice", "letter": "\u00e9", "pinned": false,
            "nothing": null, "point": [ 1 , -2 ], "wrapper": "w", "pair": [0, -1],
            "shapes": ["Dot", {"Circle": 1}, {"Line": [1, 2]}, {"Rect": {"h": 1, "w": 2}},
                       {"Dot": null}],
            "author": {"userId": 1, "name": "\ud83d\ude00", "more": [[[]]]},
            "tags": [], "edited": null, "clientId": "c", "id": 0, "more": "\\\"\u0000"
        } "#;
        let mine = from_str::<Message>(json).unwrap();
        assert_eq!(mine, serde_json::from_str::<Message>(json).unwrap());
        assert_eq!(mine.author.name, "😀");
        assert_eq!((mine.reply_to, mine.edited), (None, None));

        // `&str` borrows when it can.
        assert_eq!(from_str::<&str>(r#""plain""#).unwrap(), "plain");
        assert!(from_str::<&str>(r#""a\nb""#).is_err());
        assert!(serde_json::from_str::<&str>(r#""a\nb""#).is_err());
    }

    #[test]
    fn refuses_what_does_not_fit_the_type() {
        let good = serde_json::to_string(&message("x", Some(1), None)).unwrap();
        let bad = [
            good.replace(r#""id":18446744073709551615"#, r#""id":-1"#),
            good.replace(
                r#""id":18446744073709551615"#,
                r#""id":18446744073709551616"#,
            ),
            good.replace(r#""id":18446744073709551615"#, r#""id":1.5"#),
            good.replace(r#""id":18446744073709551615"#, r#""id":"1""#),
            good.replace(r#""id":18446744073709551615,"#, ""),
            good.replace(r#""letter":"x""#, r#""letter":"xy""#),
            good.replace(r#""kind":"systemNotice""#, r#""kind":"SystemNotice""#),
            good.replace(r#""kind":"systemNotice""#, r#""kind":0"#),
            good.replace(r#""pair":[255,-32768]"#, r#""pair":[256,-32768]"#),
            good.replace(r#""pair":[255,-32768]"#, r#""pair":[255,-32769]"#),
            good.replace(r#""pair":[255,-32768]"#, r#""pair":[255]"#),
            good.replace(r#""pair":[255,-32768]"#, r#""pair":[255,0,0]"#),
            good.replace(r#""Dot""#, r#""Circle""#),
            good.replace(r#"{"Circle":3}"#, r#""Circle""#),
            good.replace(r#"{"Circle":3}"#, r#"{"Circle":3,"Dot":null}"#),
            good.replace(r#"{"Circle":3}"#, r#"{}"#),
            good.replace(r#""nothing":null"#, r#""nothing":0"#),
            good.replace(r#""pinned":false"#, r#""pinned":"false""#),
            good.replace(r#""tags":["#, r#""tags":{"#),
            good.replace("\"replyTo\":1", "\"replyTo\":1,\"replyTo\":2"),
        ];
        for bad in &bad {
            assert_ne!(bad, &good);
            assert!(serde_json::from_str::<Message>(bad).is_err(), "{bad}");
            assert!(from_str::<Message>(bad).is_err(), "{bad}");
        }
        assert_eq!(
            from_str::<u8>("256").unwrap_err().kind,
            ErrorKind::InvalidValue
        );
        assert_eq!(
            from_str::<Author>(r#"{"name":"a"}"#).unwrap_err().kind,
            ErrorKind::MissingField
        );
        assert_eq!(
            from_str::<Kind>(r#""other""#).unwrap_err().kind,
            ErrorKind::UnknownVariant
        );
    }

    #[test]
    fn strings_and_escapes() {
        let json = r#""\"\\\/\b\f\n\r\t\u0041\u00e9\u20AC\ud83d\ude00\uD834\uDD1E\u0000 é😀""#;
        let mine: String = from_str(json).unwrap();
        assert_eq!(mine, serde_json::from_str::<String>(json).unwrap());
        assert_eq!(mine, "\"\\/\u{8}\u{c}\n\r\tAé€😀𝄞\u{0} é😀");
        assert_eq!(from_str::<char>(r#""\ud83d\ude00""#).unwrap(), '😀');

        // Every ASCII char and a few others are written as serde_json writes them.
        let all: String = (0..0x80u8)
            .map(char::from)
            .chain("é€😀\u{2028}\u{10ffff}".chars())
            .collect();
        let written = to_string(&all).unwrap();
        assert_eq!(written, serde_json::to_string(&all).unwrap());
        assert_eq!(from_str::<String>(&written).unwrap(), all);
        for c in all.chars() {
            assert_eq!(to_string(&c).unwrap(), serde_json::to_string(&c).unwrap());
        }
    }

    #[test]
    fn numbers() {
        for json in [
            "0",
            "-0",
            "1",
            "-1",
            "18446744073709551615",
            "-9223372036854775808",
            "9223372036854775807",
            "9223372036854775808",
            "18446744073709551616",
            "-9223372036854775809",
            "1.5",
            "-0.25",
            "1e3",
            "1E-2",
            "2.5e+10",
            "0.0",
            "1e-400",
            "123456789.123456789",
            "5e-324",
            "1.7976931348623157e308",
        ] {
            let (mine, theirs): (Value, Value) =
                (from_str(json).unwrap(), serde_json::from_str(json).unwrap());
            assert!(close(&mine, &theirs), "{json}: {mine} {theirs}");
            let (mine, theirs): (f64, f64) =
                (from_str(json).unwrap(), serde_json::from_str(json).unwrap());
            assert_eq!(mine, theirs, "{json}");
        }
        assert_eq!(from_str::<u64>("18446744073709551615").unwrap(), u64::MAX);
        assert_eq!(from_str::<i64>("-9223372036854775808").unwrap(), i64::MIN);
        assert_eq!(from_str::<i64>("9223372036854775807").unwrap(), i64::MAX);
        assert_eq!(
            from_str::<u128>("18446744073709551615").unwrap(),
            u128::from(u64::MAX)
        );
        for bad in ["9223372036854775808", "-9223372036854775809", "1.0", "1e2"] {
            assert!(from_str::<i64>(bad).is_err(), "{bad}");
            assert!(serde_json::from_str::<i64>(bad).is_err(), "{bad}");
        }
        for n in [0, 1, u64::MAX, i64::MAX as u64] {
            assert_eq!(to_string(&n).unwrap(), serde_json::to_string(&n).unwrap());
        }
        for n in [i64::MIN, -1, 0, i64::MAX] {
            assert_eq!(to_string(&n).unwrap(), serde_json::to_string(&n).unwrap());
        }
        assert_eq!(to_string(&i128::MIN).unwrap(), i128::MIN.to_string());
        assert_eq!(to_string(&1.5).unwrap_err().kind, ErrorKind::Float);
    }

    #[test]
    fn malformed_is_refused() {
        let deep = |n| "[".repeat(n) + &"]".repeat(n);
        assert!(from_str::<Value>(&deep(127)).is_ok());
        assert!(serde_json::from_str::<Value>(&deep(127)).is_ok());
        for bad in [
            "",
            " ",
            "[",
            "[1",
            "[1,",
            "[1,]",
            "[,1]",
            "[1 2]",
            "[]]",
            "{",
            "{\"a\"",
            "{\"a\":",
            "{\"a\":1",
            "{\"a\":1,}",
            "{\"a\" 1}",
            "{\"a\":1 \"b\":2}",
            "{a:1}",
            "{1:2}",
            "{\"a\":1}}",
            "{,}",
            "01",
            "-01",
            "00",
            "+1",
            ".5",
            "1.",
            "1.e5",
            "1e",
            "1e+",
            "-",
            "- 1",
            "0x10",
            "NaN",
            "Infinity",
            "-Infinity",
            "1e400",
            "-1e400",
            "nul",
            "nulll",
            "tru",
            "truex",
            "True",
            "fals",
            "1 2",
            "{} x",
            "'a'",
            "\"abc",
            "\"\\\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12g4\"",
            "\"\\u+123\"",
            "\"\\U0041\"",
            "\"\\ud800\"",
            "\"\\udc00\"",
            "\"\\ud800\\u0041\"",
            "\"\\ud800\\ud800\"",
            "\"\\ud800x\"",
            "\"\\ud800\\\"",
            "\"a\nb\"",
            "\"\t\"",
            "\"\u{1}\"",
            "\"\u{1f}\"",
            "\u{feff}1",
            "[1]\u{0}",
            "\u{a0}1",
        ]
        .into_iter()
        .map(String::from)
        .chain([deep(128)])
        {
            assert!(serde_json::from_str::<Value>(&bad).is_err(), "{bad:?}");
            assert!(from_str::<Value>(&bad).is_err(), "{bad:?}");
            assert!(from_str::<IgnoredAny>(&bad).is_err(), "{bad:?}");
        }
        let error = from_str::<Value>("[1,]").unwrap_err();
        assert_eq!((error.kind, error.position), (ErrorKind::Syntax, 3));
        assert_eq!(error.to_string(), "invalid JSON");
        let error = from_str::<Value>("[1] x").unwrap_err();
        assert_eq!(
            (error.kind, error.position),
            (ErrorKind::TrailingCharacters, 4)
        );
    }

    #[test]
    fn whitespace_anywhere() {
        let json = " \t\r\n{ \t\r\n\"a\" \t\r\n: \t\r\n[ \t\r\n1 \t\r\n, \t\r\n{ } \t\r\n, [ ] , \
                    null , true , false , \"s\" , -1.5e2 \t\r\n] \t\r\n} \t\r\n";
        assert_eq!(
            from_str::<Value>(json).unwrap(),
            serde_json::from_str::<Value>(json).unwrap()
        );
        assert!(from_str::<IgnoredAny>(json).is_ok());
        // serde_json's pretty printer with odd whitespace for indentation.
        for m in messages() {
            let mut text = Vec::new();
            let formatter = serde_json::ser::PrettyFormatter::with_indent(b" \t\r");
            m.serialize(&mut serde_json::Serializer::with_formatter(
                &mut text, formatter,
            ))
            .unwrap();
            let text = String::from_utf8(text).unwrap();
            assert_eq!(from_str::<Message>(&text).unwrap(), m, "{text}");
        }
    }

    #[test]
    fn map_keys_must_be_strings() {
        let map = std::collections::BTreeMap::from([("b", 1), ("a", 2)]);
        assert_eq!(
            to_string(&map).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        let by_number = std::collections::BTreeMap::from([(1, 1)]);
        assert_eq!(
            to_string(&by_number).unwrap_err().kind,
            ErrorKind::KeyMustBeString
        );
        let back: std::collections::BTreeMap<String, u8> = from_str(r#"{"a":2,"b":1}"#).unwrap();
        assert_eq!(back.len(), 2);
    }

    /// Equal, but floats only nearly (serde_json's default float parsing may be off by a
    /// little; and it reads `-0` as a float).
    fn close(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                (x - y).abs() <= x.abs().max(y.abs()) * 1e-14 + 1e-300
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(x, y)| close(x, y))
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
            }
            _ => a == b,
        }
    }

    /// xorshift64.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn pick<T: Copy>(&mut self, items: &[T]) -> T {
            items[self.below(items.len() as u64) as usize]
        }

        fn char(&mut self) -> char {
            match self.below(4) {
                0 => self.pick(&['"', '\\', '/', '\0', '\u{1f}', '\n', '\u{8}', '\u{7f}', 'u']),
                1 => char::from(0x20 + self.below(0x5f) as u8),
                2 => self.pick(&[
                    'é',
                    '€',
                    '😀',
                    '\u{d7ff}',
                    '\u{e000}',
                    '\u{ffff}',
                    '\u{10000}',
                    '\u{10ffff}',
                ]),
                _ => char::from_u32(self.below(0x11_0000) as u32).unwrap_or('\u{fffd}'),
            }
        }

        fn string(&mut self) -> String {
            (0..self.below(8)).map(|_| self.char()).collect()
        }

        fn value(&mut self, depth: u32, floats: bool) -> Value {
            match self.below(if depth == 0 { 6 } else { 8 }) {
                0 => Value::Null,
                1 => Value::Bool(self.below(2) == 1),
                2 => Value::from(match self.below(3) {
                    0 => self.pick(&[0, 1, 9, 10, u64::MAX, i64::MAX as u64, 1 << 63]),
                    _ => self.next() >> self.below(64),
                }),
                3 => Value::from(match self.below(3) {
                    0 => self.pick(&[i64::MIN, -1, i64::MIN + 1]),
                    _ => -((self.next() >> (1 + self.below(63))) as i64),
                }),
                4 if floats => {
                    let bits = f64::from_bits(self.next());
                    let simple = (self.next() % 100_000) as f64 / 1000.0 - 50.0;
                    Value::from(if bits.is_finite() && self.below(2) == 0 {
                        bits
                    } else {
                        simple
                    })
                }
                4 | 5 => Value::String(self.string()),
                6 => Value::Array(
                    (0..self.below(5))
                        .map(|_| self.value(depth - 1, floats))
                        .collect(),
                ),
                _ => Value::Object(
                    (0..self.below(5))
                        .map(|_| (self.string(), self.value(depth - 1, floats)))
                        .collect(),
                ),
            }
        }
    }

    #[test]
    fn random_values() {
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..3000 {
            // Reading: what serde_json writes reads back to the same value.
            let value = rng.value(4, true);
            let json = serde_json::to_string(&value).unwrap();
            assert_eq!(from_str::<Value>(&json).unwrap(), value, "{json}");
            let pretty = serde_json::to_string_pretty(&value).unwrap();
            assert_eq!(from_str::<Value>(&pretty).unwrap(), value, "{pretty}");
            assert!(from_str::<IgnoredAny>(&pretty).is_ok(), "{pretty}");

            // Writing: the same bytes as serde_json (no floats), which reads them back.
            let value = rng.value(4, false);
            let json = to_string(&value).unwrap();
            assert_eq!(json, serde_json::to_string(&value).unwrap());
            assert_eq!(
                serde_json::from_str::<Value>(&json).unwrap(),
                value,
                "{json}"
            );
        }
    }

    #[test]
    fn random_damage_is_refused_like_serde_json() {
        const BYTES: &[u8] = b"{}[],:\"\\ \n0123456789eE.+-ntfrlsaux\x01\x7f";
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut accepted, mut refused) = (0, 0);
        for _ in 0..20_000 {
            let mut bytes = serde_json::to_vec(&rng.value(3, true)).unwrap();
            for _ in 0..1 + rng.below(2) {
                let at = rng.below(bytes.len() as u64 + 1) as usize;
                match rng.below(3) {
                    0 if at < bytes.len() => drop(bytes.remove(at)),
                    1 if at < bytes.len() => bytes[at] = rng.pick(BYTES),
                    _ => bytes.insert(at, rng.pick(BYTES)),
                }
            }
            let Ok(text) = String::from_utf8(bytes) else {
                continue;
            };
            match (
                from_str::<Value>(&text),
                serde_json::from_str::<Value>(&text),
            ) {
                (Ok(mine), Ok(theirs)) => {
                    assert!(close(&mine, &theirs), "{text:?}: {mine} {theirs}");
                    assert!(from_str::<IgnoredAny>(&text).is_ok(), "{text:?}");
                    accepted += 1;
                }
                (Err(_), Err(_)) => refused += 1,
                (mine, theirs) => panic!("{text:?}: {mine:?} {theirs:?}"),
            }
        }
        assert!(accepted > 1000 && refused > 1000, "{accepted} {refused}");
    }
}

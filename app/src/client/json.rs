//! A small JSON reader and writer for the serde data model, for the browser bundle (which
//! should not link serde_json: its generic code and error messages, which print floats,
//! weigh far more than the chat's JSON needs).
//!
//! [`from_str`] reads any JSON text into the types serde derive and std support: objects
//! into structs and maps (unknown fields skipped), arrays into sequences, tuples and tuple
//! structs, strings (fully unescaped) into strings, chars and unit enum variants, numbers
//! into integers (u64 and i64 full range, overflow is an error) and floats, `null` into
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
    /// More than 128 nested arrays and objects.
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
        depth: 128,
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

    /// A number, visited as u64 if it is one, else as i64, else as f64.
    fn number<V: Visitor<'de>>(&mut self, visitor: V) -> Result<V::Value, Error> {
        let start = self.pos;
        let negative = self.eat(b'-');
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
        let text = &self.text[start..self.pos];
        if integer {
            if !negative {
                if let Ok(n) = text.parse() {
                    return visitor.visit_u64(n);
                }
            } else if let Ok(n) = text.parse() {
                return visitor.visit_i64(n);
            }
        }
        match text.parse::<f64>() {
            Ok(n) if n.is_finite() => visitor.visit_f64(n),
            _ => fail(ErrorKind::Number),
        }
    }
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
            b'-' | b'0'..=b'9' => self.number(visitor),
            _ => fail(ErrorKind::Syntax),
        }
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
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        unit unit_struct seq tuple tuple_struct map struct identifier ignored_any
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
    let mut writer = Writer {
        out: String::new(),
    };
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

macro_rules! compound {
    ($($trait:ident :: $method:ident ($($key:ident)?)),*) => {$(
        impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Error;
            fn $method<T: Serialize + ?Sized>(
                &mut self,
                $($key: &'static str,)?
                value: &T,
            ) -> Result<(), Error> {
                compound!(@write self $($key)? value)
            }
            fn end(self) -> Result<(), Error> {
                self.finish()
            }
        }
    )*};
    (@write $self:ident $value:ident) => { $self.element($value) };
    (@write $self:ident $key:ident $value:ident) => { $self.field($key, $value) };
}

compound! {
    SerializeSeq::serialize_element(),
    SerializeTuple::serialize_element(),
    SerializeTupleStruct::serialize_field(),
    SerializeTupleVariant::serialize_field(),
    SerializeStruct::serialize_field(key),
    SerializeStructVariant::serialize_field(key)
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

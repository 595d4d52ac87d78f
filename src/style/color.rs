//! Colours written as CSS hex strings.

use serde::Deserialize;

/// A straight (not premultiplied) sRGB colour with alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct Color {
    /// Red, 0-255.
    pub r: u8,
    /// Green, 0-255.
    pub g: u8,
    /// Blue, 0-255.
    pub b: u8,
    /// Opacity, 0 (transparent) to 255 (opaque).
    pub a: u8,
}

/// A colour string that is not `#rgb`, `#rrggbb` or `#rrggbbaa`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a colour: write #rgb, #rrggbb or #rrggbbaa")]
pub struct ColorError(pub String);

impl Color {
    /// A colour from its four channels.
    pub const fn rgba(r: u8, g: u8, b: u8, a: u8) -> Self {
        Self { r, g, b, a }
    }

    /// Parses `#rgb`, `#rrggbb` or `#rrggbbaa`.
    ///
    /// # Examples
    /// ```
    /// use tessera::style::Color;
    /// assert_eq!(Color::parse("#ff000080").unwrap(), Color::rgba(255, 0, 0, 128));
    /// assert_eq!(Color::parse("#0f0").unwrap(), Color::rgba(0, 255, 0, 255));
    /// assert!(Color::parse("red").is_err());
    /// ```
    pub fn parse(s: &str) -> Result<Self, ColorError> {
        let err = || ColorError(s.to_owned());
        let hex = s.strip_prefix('#').ok_or_else(err)?;
        if !hex.is_ascii() {
            return Err(err());
        }
        let digit = |i: usize, n: usize| u8::from_str_radix(&hex[i..i + n], 16).map_err(|_| err());
        match hex.len() {
            3 => Ok(Self::rgba(digit(0, 1)? * 17, digit(1, 1)? * 17, digit(2, 1)? * 17, 255)),
            6 => Ok(Self::rgba(digit(0, 2)?, digit(2, 2)?, digit(4, 2)?, 255)),
            8 => Ok(Self::rgba(digit(0, 2)?, digit(2, 2)?, digit(4, 2)?, digit(6, 2)?)),
            _ => Err(err()),
        }
    }
}

impl TryFrom<String> for Color {
    type Error = ColorError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

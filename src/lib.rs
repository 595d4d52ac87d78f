//! tessera: a map tile service.
//!
//! Loads GeoJSON layers, indexes them, renders raster tiles and serves tiles, TileJSON and
//! OGC API - Features over HTTP. Dependencies point one way: [`tile`] <- [`layer`] <- [`render`]
//! <- [`http`]; nothing below [`http`] knows about the web. [`glyphs`] makes the vector style's
//! glyphs from the fonts of [`render`].

pub mod archive;
pub mod cache;
pub mod cli;
pub mod config;
pub mod events;
pub mod export;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod geom;
pub mod glyphs;
pub mod http;
pub mod imagery;
pub mod layer;
pub mod metrics;
pub mod mvt;
pub mod render;
pub mod service;
pub mod style;
pub mod tile;

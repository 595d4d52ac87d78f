//! Integration tests: the real server on 127.0.0.1:0 and the real binary, checked through
//! decoded responses.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, reason = "tests fail loudly")]

mod api_definition;
mod battery;
mod box_edge;
mod caching;
mod caching_load;
mod cli;
mod cli_serve;
mod common;
mod data_dir_lock;
mod edit_page;
mod events_api;
mod events_durability;
mod events_etags;
mod events_import;
mod events_items;
mod events_markers;
mod events_overlay;
mod events_versions;
mod fast_path;
mod fuzz_replay;
mod golden;
mod hardening;
mod http_features;
mod http_tiles;
mod imagery;
mod labels;
mod limits;
mod metrics;
mod modules;
mod mvt;
mod mvt_seams;
mod mvt_validity;
mod ogc_collections;
mod pg_cluster;
mod pg_scale;
mod publish;
mod raw;
mod readme;
mod reload;
mod request_log;
mod seams;
mod statics;
mod storage_faults;
mod tile_formats;
mod tilejson;
mod vector_labels;

//! The event service: what a write does with a parsed body (a Feature, a batch, a merge patch),
//! checked against the event model and handed to the store off the async executor.
//!
//! The store applies each committed write to its in-memory copy and tells the tile service,
//! which drops the cached tiles the change touches, before the write returns; so the service
//! needs no cache of its own to keep fresh.

use std::sync::Arc;

use serde_json::Value;

use crate::events::{Event, EventFilter, EventInput, EventStore, Expect, FieldError, StorageFault, StoreError};
use crate::metrics::{Metrics, WriteOp, WriteOutcome};

/// The members a batch (a FeatureCollection) may have; any other is refused.
const BATCH_MEMBERS: [&str; 3] = ["type", "features", "bbox"];

/// What a POST stored: one event, or a batch.
#[derive(Debug)]
pub enum Created {
    /// One Feature, stored.
    One(Arc<Event>),
    /// A FeatureCollection, stored all together.
    Batch(Vec<Arc<Event>>),
}

/// Why a write was refused or failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum EventError {
    /// No event has this id.
    #[error("no event '{0}'")]
    NotFound(String),
    /// A new event's id is taken.
    #[error("an event with id '{0}' exists already")]
    Conflict(String),
    /// The event changed since the client read it.
    #[error("{0}")]
    Stale(String),
    /// The body is JSON but not a valid event (or batch); each field with its problem.
    #[error("the event is not valid")]
    Invalid(Vec<FieldError>),
    /// A batch over the limit.
    #[error("a batch holds at most {max} events; this one has {got}")]
    TooMany {
        /// `events.max_batch`.
        max: usize,
        /// The batch's size.
        got: usize,
    },
    /// The store cannot write now; nothing of the write was stored.
    #[error("{}", .0.explain())]
    Unavailable(StorageFault),
}

/// Event reads and writes over a store; cheap to clone.
#[derive(Debug, Clone)]
pub struct EventService {
    store: Arc<dyn EventStore>,
    max_batch: usize,
    metrics: Arc<Metrics>,
}

impl EventService {
    /// The service of `store`, taking batches of at most `max_batch` events, counting writes
    /// and store errors in `metrics`.
    pub fn new(store: Arc<dyn EventStore>, max_batch: usize, metrics: Arc<Metrics>) -> Self {
        Self { store, max_batch, metrics }
    }

    /// Counts a write's outcome, and the store's fault when it could not write.
    fn counted<T>(&self, op: WriteOp, result: Result<T, EventError>) -> Result<T, EventError> {
        let outcome = match &result {
            Ok(_) => WriteOutcome::Stored,
            Err(EventError::NotFound(_)) => WriteOutcome::NotFound,
            Err(EventError::Conflict(_)) => WriteOutcome::Conflict,
            Err(EventError::Stale(_)) => WriteOutcome::Stale,
            Err(EventError::Invalid(_) | EventError::TooMany { .. }) => WriteOutcome::Invalid,
            Err(EventError::Unavailable(fault)) => {
                self.metrics.store_error(fault_name(*fault));
                WriteOutcome::Unavailable
            }
        };
        self.metrics.event_write(op, outcome);
        result
    }

    /// The store (reads that need nothing more: health, extent).
    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.store
    }

    /// One event.
    pub fn get(&self, id: &str) -> Option<Arc<Event>> {
        self.store.get(id)
    }

    /// A page of the events that pass `filter`, and how many pass in all.
    pub async fn query(&self, filter: EventFilter, offset: usize, limit: usize) -> (usize, Vec<Arc<Event>>) {
        let store = Arc::clone(&self.store);
        // A read of the in-memory index: quick, but it may walk many events, so off the executor.
        let query = move || store.query(&filter, offset, limit);
        tokio::task::spawn_blocking(query).await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "an events query failed");
            (0, Vec::new())
        })
    }

    /// Stores a Feature, or a FeatureCollection as one batch (all or nothing).
    pub async fn create(&self, body: &Value) -> Result<Created, EventError> {
        let result = self.create_uncounted(body).await;
        self.counted(WriteOp::Create, result)
    }

    async fn create_uncounted(&self, body: &Value) -> Result<Created, EventError> {
        let (inputs, batch) = match body.get("type").and_then(Value::as_str) {
            Some("FeatureCollection") => (self.batch(body)?, true),
            _ => (vec![EventInput::from_feature(body, "").map_err(EventError::Invalid)?], false),
        };
        let store = Arc::clone(&self.store);
        let mut created = blocking(move || store.insert(inputs)).await?;
        if batch {
            return Ok(Created::Batch(created));
        }
        created.pop().map(Created::One).ok_or(EventError::Unavailable(StorageFault::Failed))
    }

    /// The events of a FeatureCollection, every feature checked (all problems reported).
    fn batch(&self, body: &Value) -> Result<Vec<EventInput>, EventError> {
        let members = body.as_object().into_iter().flat_map(|o| o.keys());
        let unknown: Vec<FieldError> = members
            .filter(|k| !BATCH_MEMBERS.contains(&k.as_str()))
            .map(|k| {
                let name: String = k.chars().take(64).collect();
                field(&name, &format!("unknown member; a batch has {}", BATCH_MEMBERS.join(", ")))
            })
            .collect();
        if !unknown.is_empty() {
            return Err(EventError::Invalid(unknown));
        }
        let Some(features) = body.get("features").and_then(Value::as_array) else {
            return Err(EventError::Invalid(vec![field("features", "must be an array of Features")]));
        };
        if features.len() > self.max_batch {
            return Err(EventError::TooMany { max: self.max_batch, got: features.len() });
        }
        if features.is_empty() {
            return Err(EventError::Invalid(vec![field("features", "is empty")]));
        }
        let (mut inputs, mut errors) = (Vec::with_capacity(features.len()), Vec::new());
        for (i, f) in features.iter().enumerate() {
            match EventInput::from_feature(f, &format!("features[{i}].")) {
                Ok(e) => inputs.push(e),
                Err(mut errs) => errors.append(&mut errs),
            }
        }
        if errors.is_empty() { Ok(inputs) } else { Err(EventError::Invalid(errors)) }
    }

    /// Replaces `current` with the Feature `body` (PUT), if the store still holds the version
    /// `expect` names.
    pub async fn replace(&self, current: &Event, body: &Value, expect: Expect) -> Result<Arc<Event>, EventError> {
        let result = match EventInput::from_feature(body, "") {
            Ok(input) => self.store_replacement(current, input, expect, "differs from the id in the URL").await,
            Err(errors) => Err(EventError::Invalid(errors)),
        };
        self.counted(WriteOp::Replace, result)
    }

    /// Applies a JSON Merge Patch (RFC 7396) to `current` (PATCH), if the store still holds the
    /// version `expect` names.
    pub async fn patch(&self, current: &Event, patch: &Value, expect: Expect) -> Result<Arc<Event>, EventError> {
        let mut doc = current.to_feature();
        merge_patch(&mut doc, patch);
        let result = match EventInput::from_feature(&doc, "") {
            Ok(input) => self.store_replacement(current, input, expect, "cannot be changed").await,
            Err(errors) => Err(EventError::Invalid(errors)),
        };
        self.counted(WriteOp::Patch, result)
    }

    /// The end of PUT and PATCH: the id must stay, and the store replaces the event.
    async fn store_replacement(
        &self,
        current: &Event,
        input: EventInput,
        expect: Expect,
        id_problem: &str,
    ) -> Result<Arc<Event>, EventError> {
        if input.id.as_ref().is_some_and(|id| *id != current.id) {
            return Err(EventError::Invalid(vec![field("id", id_problem)]));
        }
        let (store, id) = (Arc::clone(&self.store), current.id.clone());
        blocking(move || store.replace(&id, input, expect)).await
    }

    /// Deletes an event, if the store still holds the version `expect` names.
    pub async fn delete(&self, id: &str, expect: Expect) -> Result<(), EventError> {
        let (store, id) = (Arc::clone(&self.store), id.to_owned());
        let result = blocking(move || store.delete(&id, expect)).await.map(drop);
        self.counted(WriteOp::Delete, result)
    }
}

/// RFC 7396: objects merge key by key, `null` removes, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Default::default());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// A store fault as the metrics name it.
fn fault_name(fault: StorageFault) -> &'static str {
    match fault {
        StorageFault::Full => "full",
        StorageFault::ReadOnly => "read_only",
        StorageFault::Failed => "failed",
        StorageFault::Unreachable => "unreachable",
        StorageFault::Unconfirmed => "unconfirmed",
    }
}

fn field(name: &str, problem: &str) -> FieldError {
    FieldError { field: name.into(), problem: problem.into() }
}

/// Runs a store write off the executor and maps its errors.
async fn blocking<T: Send + 'static>(
    write: impl FnOnce() -> Result<T, StoreError> + Send + 'static,
) -> Result<T, EventError> {
    let done = tokio::task::spawn_blocking(write).await.map_err(|e| {
        tracing::error!(error = %e, "an event write's task failed");
        EventError::Unavailable(StorageFault::Failed)
    })?;
    done.map_err(|e| match e {
        StoreError::NotFound(id) => EventError::NotFound(id),
        StoreError::Conflict(id) => EventError::Conflict(id),
        StoreError::Stale { .. } => EventError::Stale(e.to_string()),
        // The store has logged what failed.
        StoreError::Unwritable { fault, .. } => EventError::Unavailable(fault),
        other => {
            tracing::error!(error = %other, "an event write failed");
            EventError::Unavailable(StorageFault::Failed)
        }
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn merge_patch_follows_rfc_7396() {
        let mut doc = json!({"a": "b", "c": {"d": "e", "f": "g"}});
        merge_patch(&mut doc, &json!({"a": "z", "c": {"f": null}}));
        assert_eq!(doc, json!({"a": "z", "c": {"d": "e"}}));
    }
}

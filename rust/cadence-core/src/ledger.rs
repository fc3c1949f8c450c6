//! The speculation ledger: the commit/discard state machine for speculative
//! responses.
//!
//! Dialogue starts a *draft* response before the user has finished speaking and
//! tags everything it produces (text tokens, TTS audio chunks) with an *epoch*.
//! When the floor prediction firms up the draft is either committed (its items
//! are released downstream, in order, exactly once) or discarded (its items are
//! never released, and are counted as waste).
//!
//! ## States
//!
//! ```text
//!            open(e)            commit(e)             close(e)
//!   (none) ──────────► Draft ─────────────► Committed ─────────► Closed
//!                        │
//!                        │ discard(e), or open(e') with e' > e
//!                        ▼
//!                    Discarded
//! ```
//!
//! * Epochs are `u64` and strictly increasing: `open(e)` needs `e` greater than
//!   every epoch ever opened ([`CadenceError::StaleEpoch`] otherwise).
//! * Opening a newer epoch discards every older *draft* (so at most one draft
//!   exists at a time). Older *committed* epochs are left alone: a committed
//!   response keeps streaming while the next draft is being prepared.
//! * `append` is accepted by a Draft (held back) and by a Committed epoch: an
//!   item appended after the commit is releasable immediately. This is the
//!   choice for the common case where the LLM/TTS is still producing the answer
//!   when it is committed. `close(e)` ends the committed epoch: later appends
//!   raise [`CadenceError::EpochClosed`], items already appended stay
//!   releasable.
//! * `discard` is accepted by a Draft; discarding an already-discarded epoch is
//!   a no-op (the caller need not know whether a newer `open` already did it).
//!   A committed or closed epoch cannot be discarded: its items may already be
//!   out (stopping playback on barge-in is the output stage's job).
//! * `commit` is accepted by a Draft only.
//! * [`Ledger::release`] returns the not-yet-released items of committed and
//!   closed epochs, ordered by epoch then by append order, each exactly once.
//!
//! Unknown epochs raise [`CadenceError::UnknownEpoch`]. No operation that
//! fails changes the ledger.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::error::{CadenceError, Result};

/// The state of one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EpochState {
    Draft,
    Committed,
    Discarded,
    Closed,
}

impl EpochState {
    /// Lower-case name, as used in errors and by the Python binding.
    pub fn as_str(self) -> &'static str {
        match self {
            EpochState::Draft => "draft",
            EpochState::Committed => "committed",
            EpochState::Discarded => "discarded",
            EpochState::Closed => "closed",
        }
    }
}

/// An item the ledger can account for. Text tokens have no audio; audio chunks
/// report their duration so that discarded audio is measured in seconds.
pub trait LedgerItem {
    /// Seconds of audio this item carries (0 for text).
    fn audio_seconds(&self) -> f64 {
        0.0
    }
}

/// A ready-made item type: a text token or a chunk of synthesized audio.
#[derive(Debug, Clone, PartialEq)]
pub enum SpecItem {
    /// A text token (or delta) of the response.
    Text(String),
    /// A chunk of audio: its samples (mono f32), the media timestamp of its
    /// first sample (ns) and its duration (ns).
    Audio {
        samples: Vec<f32>,
        media_ts_ns: u64,
        duration_ns: u64,
    },
}

impl LedgerItem for SpecItem {
    fn audio_seconds(&self) -> f64 {
        match self {
            SpecItem::Text(_) => 0.0,
            SpecItem::Audio { duration_ns, .. } => *duration_ns as f64 * 1e-9,
        }
    }
}

impl LedgerItem for String {}
impl LedgerItem for &str {}
impl LedgerItem for u32 {}
impl LedgerItem for u64 {}

/// Counters of a ledger. `items_appended == items_released + items_wasted +
/// items_pending` holds at all times (pending: appended, neither released nor
/// wasted yet, i.e. held in drafts or waiting in committed epochs).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LedgerMetrics {
    pub drafts_opened: u64,
    pub drafts_committed: u64,
    pub drafts_discarded: u64,
    pub items_appended: u64,
    pub items_released: u64,
    pub items_wasted: u64,
    pub items_pending: u64,
    /// Seconds of audio appended (all epochs).
    pub audio_seconds_appended: f64,
    /// Seconds of audio in committed epochs (appended before or after commit).
    pub audio_seconds_committed: f64,
    /// Seconds of audio in discarded epochs (never released).
    pub audio_seconds_wasted: f64,
}

#[derive(Debug)]
struct Epoch<T> {
    state: EpochState,
    /// Appended, not yet released (committed/closed) or held (draft).
    pending: VecDeque<T>,
    pending_audio: f64,
}

/// The speculation ledger, generic over the item payload.
#[derive(Debug)]
pub struct Ledger<T> {
    epochs: BTreeMap<u64, Epoch<T>>,
    /// The draft, if any (at most one: opening a newer epoch discards it).
    draft: Option<u64>,
    /// Committed/closed epochs that hold releasable items.
    releasable: BTreeSet<u64>,
    latest: Option<u64>,
    metrics: LedgerMetrics,
}

impl<T> Default for Ledger<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Ledger<T> {
    pub fn new() -> Self {
        Ledger {
            epochs: BTreeMap::new(),
            draft: None,
            releasable: BTreeSet::new(),
            latest: None,
            metrics: LedgerMetrics::default(),
        }
    }

    /// The newest epoch ever opened.
    pub fn latest(&self) -> Option<u64> {
        self.latest
    }

    /// The current draft epoch, if any.
    pub fn draft(&self) -> Option<u64> {
        self.draft
    }

    pub fn metrics(&self) -> LedgerMetrics {
        self.metrics
    }

    /// The state of `epoch`.
    pub fn state(&self, epoch: u64) -> Result<EpochState> {
        self.epochs
            .get(&epoch)
            .map(|e| e.state)
            .ok_or(CadenceError::UnknownEpoch(epoch))
    }

    /// Number of items of `epoch` appended and not yet released or wasted.
    pub fn pending(&self, epoch: u64) -> Result<usize> {
        self.epochs
            .get(&epoch)
            .map(|e| e.pending.len())
            .ok_or(CadenceError::UnknownEpoch(epoch))
    }

    /// Open a new draft. `epoch` must be newer than every epoch opened before;
    /// the previous draft, if any, is discarded.
    pub fn open(&mut self, epoch: u64) -> Result<()> {
        if let Some(latest) = self.latest {
            if epoch <= latest {
                return Err(CadenceError::StaleEpoch { epoch, latest });
            }
        }
        if let Some(old) = self.draft.take() {
            self.discard_draft(old);
        }
        self.epochs.insert(
            epoch,
            Epoch {
                state: EpochState::Draft,
                pending: VecDeque::new(),
                pending_audio: 0.0,
            },
        );
        self.draft = Some(epoch);
        self.latest = Some(epoch);
        self.metrics.drafts_opened += 1;
        Ok(())
    }

    fn epoch_mut(&mut self, epoch: u64) -> Result<&mut Epoch<T>> {
        self.epochs
            .get_mut(&epoch)
            .ok_or(CadenceError::UnknownEpoch(epoch))
    }

    /// Move a draft to Discarded, counting its items as waste.
    fn discard_draft(&mut self, epoch: u64) {
        let e = self
            .epochs
            .get_mut(&epoch)
            .expect("draft epoch is in the map");
        debug_assert_eq!(e.state, EpochState::Draft);
        let n = e.pending.len() as u64;
        e.state = EpochState::Discarded;
        e.pending = VecDeque::new(); // free the buffer: a finished epoch keeps only its state
        self.metrics.items_wasted += n;
        self.metrics.items_pending -= n;
        self.metrics.audio_seconds_wasted += e.pending_audio;
        e.pending_audio = 0.0;
        self.metrics.drafts_discarded += 1;
        if self.draft == Some(epoch) {
            self.draft = None;
        }
    }

    /// Commit the draft `epoch`: its items (and later appends until
    /// [`Ledger::close`]) become releasable.
    pub fn commit(&mut self, epoch: u64) -> Result<()> {
        let e = self.epoch_mut(epoch)?;
        if e.state != EpochState::Draft {
            return Err(CadenceError::EpochClosed {
                epoch,
                state: e.state.as_str(),
                action: "commit",
            });
        }
        e.state = EpochState::Committed;
        let has_items = !e.pending.is_empty();
        let audio = e.pending_audio;
        e.pending_audio = 0.0;
        self.metrics.audio_seconds_committed += audio;
        self.metrics.drafts_committed += 1;
        self.draft = None;
        if has_items {
            self.releasable.insert(epoch);
        }
        Ok(())
    }

    /// Discard the draft `epoch`: its items are never released. Discarding an
    /// already-discarded epoch is a no-op.
    pub fn discard(&mut self, epoch: u64) -> Result<()> {
        let state = self.state(epoch)?;
        match state {
            EpochState::Draft => {
                self.discard_draft(epoch);
                Ok(())
            }
            EpochState::Discarded => Ok(()),
            EpochState::Committed | EpochState::Closed => Err(CadenceError::EpochClosed {
                epoch,
                state: state.as_str(),
                action: "discard",
            }),
        }
    }

    /// Close the committed `epoch`: no more appends. Items already appended
    /// stay releasable.
    pub fn close(&mut self, epoch: u64) -> Result<()> {
        let e = self.epoch_mut(epoch)?;
        if e.state != EpochState::Committed {
            return Err(CadenceError::EpochClosed {
                epoch,
                state: e.state.as_str(),
                action: "close",
            });
        }
        e.state = EpochState::Closed;
        if e.pending.is_empty() {
            e.pending = VecDeque::new();
        }
        Ok(())
    }

    /// Release, into `out`, every not-yet-released item of committed/closed
    /// epochs, ordered by epoch then append order, tagged with its epoch.
    /// Returns the number of items released.
    pub fn release_into(&mut self, out: &mut Vec<(u64, T)>) -> usize {
        let mut n = 0usize;
        while let Some(epoch) = self.releasable.pop_first() {
            let e = self
                .epochs
                .get_mut(&epoch)
                .expect("releasable epoch is in the map");
            n += e.pending.len();
            out.extend(e.pending.drain(..).map(|item| (epoch, item)));
            if e.state == EpochState::Closed {
                e.pending = VecDeque::new();
            }
        }
        self.metrics.items_released += n as u64;
        self.metrics.items_pending -= n as u64;
        n
    }

    /// Release every not-yet-released item of committed/closed epochs.
    pub fn release(&mut self) -> Vec<T> {
        let mut out = Vec::new();
        self.release_into(&mut out);
        out.into_iter().map(|(_, item)| item).collect()
    }
}

impl<T: LedgerItem> Ledger<T> {
    /// Append an item to `epoch` (a draft, or a committed epoch not closed).
    pub fn append(&mut self, epoch: u64, item: T) -> Result<()> {
        let secs = item.audio_seconds();
        self.append_with_audio(epoch, item, secs)
    }
}

impl<T> Ledger<T> {
    /// Append an item whose audio duration is given by the caller (the Python
    /// binding stores arbitrary objects with an optional `audio_seconds`).
    pub fn append_with_audio(&mut self, epoch: u64, item: T, audio_seconds: f64) -> Result<()> {
        if !audio_seconds.is_finite() || audio_seconds < 0.0 {
            return Err(CadenceError::InvalidArgument(format!(
                "audio_seconds must be finite and >= 0, got {audio_seconds}"
            )));
        }
        let e = self.epoch_mut(epoch)?;
        match e.state {
            EpochState::Draft => {
                e.pending.push_back(item);
                e.pending_audio += audio_seconds;
            }
            EpochState::Committed => {
                e.pending.push_back(item);
                self.releasable.insert(epoch);
                self.metrics.audio_seconds_committed += audio_seconds;
            }
            EpochState::Discarded | EpochState::Closed => {
                return Err(CadenceError::EpochClosed {
                    epoch,
                    state: e.state.as_str(),
                    action: "append",
                })
            }
        }
        self.metrics.items_appended += 1;
        self.metrics.items_pending += 1;
        self.metrics.audio_seconds_appended += audio_seconds;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::HashMap;

    #[test]
    fn commit_releases_in_order_once() {
        let mut l: Ledger<u32> = Ledger::new();
        l.open(1).unwrap();
        l.append(1, 10).unwrap();
        l.append(1, 11).unwrap();
        assert!(l.release().is_empty(), "a draft releases nothing");
        l.commit(1).unwrap();
        l.append(1, 12).unwrap();
        assert_eq!(l.release(), vec![10, 11, 12]);
        assert!(l.release().is_empty());
        l.close(1).unwrap();
        assert!(matches!(
            l.append(1, 13),
            Err(CadenceError::EpochClosed { .. })
        ));
    }

    #[test]
    fn newer_open_discards_draft_and_counts_audio() {
        let mut l: Ledger<SpecItem> = Ledger::new();
        l.open(3).unwrap();
        let chunk = SpecItem::Audio {
            samples: vec![0.0; 160],
            media_ts_ns: 0,
            duration_ns: 10_000_000,
        };
        l.append(3, chunk.clone()).unwrap();
        l.append(3, SpecItem::Text("hi".into())).unwrap();
        l.open(5).unwrap();
        assert_eq!(l.state(3).unwrap(), EpochState::Discarded);
        assert!(matches!(
            l.append(3, chunk),
            Err(CadenceError::EpochClosed { .. })
        ));
        assert!(matches!(
            l.open(4),
            Err(CadenceError::StaleEpoch {
                epoch: 4,
                latest: 5
            })
        ));
        assert!(matches!(l.open(5), Err(CadenceError::StaleEpoch { .. })));
        assert!(matches!(l.commit(3), Err(CadenceError::EpochClosed { .. })));
        assert!(matches!(
            l.append(9, SpecItem::Text("x".into())),
            Err(CadenceError::UnknownEpoch(9))
        ));
        let m = l.metrics();
        assert_eq!(
            (m.items_wasted, m.drafts_discarded, m.drafts_opened),
            (2, 1, 2)
        );
        assert!((m.audio_seconds_wasted - 0.01).abs() < 1e-12);
        l.discard(3).unwrap(); // idempotent
        assert_eq!(l.metrics().drafts_discarded, 1);
    }

    #[test]
    fn committed_epoch_survives_newer_open() {
        let mut l: Ledger<u32> = Ledger::new();
        l.open(1).unwrap();
        l.append(1, 1).unwrap();
        l.commit(1).unwrap();
        l.open(2).unwrap();
        l.append(1, 2).unwrap();
        l.append(2, 3).unwrap();
        assert_eq!(l.state(1).unwrap(), EpochState::Committed);
        assert_eq!(l.release(), vec![1, 2]);
        assert!(matches!(
            l.discard(1),
            Err(CadenceError::EpochClosed { .. })
        ));
        assert!(matches!(l.close(2), Err(CadenceError::EpochClosed { .. })));
    }

    #[test]
    fn bad_audio_seconds_is_rejected() {
        let mut l: Ledger<u32> = Ledger::new();
        l.open(0).unwrap();
        assert!(matches!(
            l.append_with_audio(0, 1, f64::NAN),
            Err(CadenceError::InvalidArgument(_))
        ));
        assert!(matches!(
            l.append_with_audio(0, 1, -1.0),
            Err(CadenceError::InvalidArgument(_))
        ));
        assert_eq!(l.metrics().items_appended, 0);
    }

    // ---- property test against a deliberately naive reference model --------

    #[derive(Debug, Clone)]
    enum Op {
        Open(u64),
        Append(u64, f64),
        Commit(u64),
        Discard(u64),
        Close(u64),
        Release,
    }

    fn op() -> impl Strategy<Value = Op> {
        // Small epoch range so that stale/unknown/closed paths are all hit.
        prop_oneof![
            2 => (0u64..12).prop_map(Op::Open),
            6 => (0u64..12, prop_oneof![Just(0.0), 0.0f64..0.5]).prop_map(|(e, s)| Op::Append(e, s)),
            2 => (0u64..12).prop_map(Op::Commit),
            1 => (0u64..12).prop_map(Op::Discard),
            1 => (0u64..12).prop_map(Op::Close),
            2 => Just(Op::Release),
        ]
    }

    /// Reference: every item ever appended, with its epoch, in one flat log;
    /// epoch states in a map. Release = scan the whole log.
    #[derive(Default)]
    struct Model {
        states: HashMap<u64, EpochState>,
        log: Vec<(u64, u64, f64)>, // (epoch, item id, seconds)
        released: Vec<bool>,
        latest: Option<u64>,
    }

    impl Model {
        fn open(&mut self, e: u64) -> bool {
            if self.latest.is_some_and(|l| e <= l) {
                return false;
            }
            for s in self.states.values_mut() {
                if *s == EpochState::Draft {
                    *s = EpochState::Discarded;
                }
            }
            self.states.insert(e, EpochState::Draft);
            self.latest = Some(e);
            true
        }
        fn append(&mut self, e: u64, id: u64, secs: f64) -> bool {
            match self.states.get(&e) {
                Some(EpochState::Draft) | Some(EpochState::Committed) => {
                    self.log.push((e, id, secs));
                    self.released.push(false);
                    true
                }
                _ => false,
            }
        }
        fn transition(&mut self, e: u64, from: &[EpochState], to: EpochState) -> bool {
            match self.states.get_mut(&e) {
                Some(s) if from.contains(s) => {
                    *s = to;
                    true
                }
                _ => false,
            }
        }
        fn release(&mut self) -> Vec<u64> {
            let mut idx: Vec<usize> = (0..self.log.len())
                .filter(|&i| {
                    !self.released[i]
                        && matches!(
                            self.states[&self.log[i].0],
                            EpochState::Committed | EpochState::Closed
                        )
                })
                .collect();
            idx.sort_by_key(|&i| (self.log[i].0, i)); // by epoch, then append order
            idx.iter()
                .map(|&i| {
                    self.released[i] = true;
                    self.log[i].1
                })
                .collect()
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn ledger_matches_reference(ops in proptest::collection::vec(op(), 1..120)) {
            let mut l: Ledger<u64> = Ledger::new();
            let mut m = Model::default();
            let mut next_id = 0u64;
            let mut released_ids: Vec<u64> = Vec::new();
            let mut opened: Vec<u64> = Vec::new();
            for op in ops {
                match op {
                    Op::Open(e) => {
                        let ok = m.open(e);
                        prop_assert_eq!(l.open(e).is_ok(), ok);
                        if ok { opened.push(e); }
                    }
                    Op::Append(e, s) => {
                        let id = next_id;
                        next_id += 1;
                        prop_assert_eq!(l.append_with_audio(e, id, s).is_ok(), m.append(e, id, s));
                    }
                    Op::Commit(e) => {
                        let ok = m.transition(e, &[EpochState::Draft], EpochState::Committed);
                        prop_assert_eq!(l.commit(e).is_ok(), ok);
                    }
                    Op::Discard(e) => {
                        let ok = m.transition(e, &[EpochState::Draft, EpochState::Discarded], EpochState::Discarded);
                        prop_assert_eq!(l.discard(e).is_ok(), ok);
                    }
                    Op::Close(e) => {
                        let ok = m.transition(e, &[EpochState::Committed], EpochState::Closed);
                        prop_assert_eq!(l.close(e).is_ok(), ok);
                    }
                    Op::Release => {
                        let got = l.release();
                        prop_assert_eq!(&got, &m.release());
                        released_ids.extend(got);
                    }
                }
                // States agree for every epoch the model knows; others are unknown.
                for (e, s) in &m.states {
                    prop_assert_eq!(l.state(*e).unwrap(), *s);
                }
                prop_assert_eq!(l.latest(), m.latest);
                let mt = l.metrics();
                prop_assert_eq!(mt.items_appended, m.log.len() as u64);
                prop_assert_eq!(mt.items_appended, mt.items_released + mt.items_wasted + mt.items_pending);
                let wasted: Vec<_> = m.log.iter().filter(|x| m.states[&x.0] == EpochState::Discarded).collect();
                prop_assert_eq!(mt.items_wasted, wasted.len() as u64);
                let wasted_s: f64 = wasted.iter().map(|x| x.2).sum();
                prop_assert!((mt.audio_seconds_wasted - wasted_s).abs() < 1e-9);
                let committed_s: f64 = m.log.iter()
                    .filter(|x| matches!(m.states[&x.0], EpochState::Committed | EpochState::Closed))
                    .map(|x| x.2).sum();
                prop_assert!((mt.audio_seconds_committed - committed_s).abs() < 1e-9);
                let n_disc = m.states.values().filter(|s| **s == EpochState::Discarded).count() as u64;
                prop_assert_eq!(mt.drafts_discarded, n_disc);
                prop_assert_eq!(mt.drafts_opened, m.states.len() as u64);
            }
            // Epochs were opened strictly increasing.
            prop_assert!(opened.windows(2).all(|w| w[0] < w[1]));
            // Every released id was appended to a committed/closed epoch, once.
            let mut seen = std::collections::HashSet::new();
            for id in &released_ids {
                prop_assert!(seen.insert(*id), "item {} released twice", id);
                let (e, _, _) = m.log.iter().find(|x| x.1 == *id).unwrap();
                prop_assert!(matches!(m.states[e], EpochState::Committed | EpochState::Closed));
            }
        }
    }
}

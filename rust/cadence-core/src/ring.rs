//! Lock-free single-producer / single-consumer ring of `f32` samples.
//!
//! One [`AudioRing`] is shared (by `&` / `Arc`) between one writer thread and
//! one reader thread. Positions are monotonic `u64` counters (`write_pos`,
//! `read_pos`); a slot is `pos % capacity`. The SPSC contract is *enforced*,
//! not assumed: each side takes a lock-free guard (an `AtomicBool` swap) for
//! the duration of a call, and a second concurrent writer (or reader) gets
//! [`CadenceError::InvalidArgument`] instead of corrupting the ring.
//!
//! The position counters carry the `Release`/`Acquire` edges. Under the
//! `Error` policy the writer only touches slots the reader has released and
//! the reader only slots the writer has published, so slot copies are plain
//! `memcpy`s. Under `OverwriteOldest` the writer may recycle slots the reader
//! is copying at that moment, so every slot access of such a ring is an
//! `AtomicU32` (`Relaxed`) access — free of data races — and:
//!
//! * the writer first moves `read_pos` forward with a CAS (claiming the oldest
//!   slots), then writes the slots, then publishes `write_pos`;
//! * the reader copies `[r, r + k)` and then commits with
//!   `CAS(read_pos, r, r + k)`. If the writer claimed any of those slots in
//!   the meantime the CAS fails (positions never repeat) and the reader
//!   retries; a successful CAS happens-before the writer's next claim, so the
//!   copied samples were not overwritten.
//!
//! Under the `Error` policy a write that does not fit writes nothing and
//! returns [`CadenceError::RingOverrun`]; a write longer than the capacity is
//! [`CadenceError::Oversize`] under both policies.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use crate::error::{CadenceError, Result};

/// Largest ring capacity, in samples (2^31: 8 GiB of f32).
pub const MAX_CAPACITY: usize = 1 << 31;

/// What a write that does not fit does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overrun {
    /// Write nothing and return [`CadenceError::RingOverrun`].
    Error,
    /// Drop the oldest unread samples to make room (counted in the stats).
    OverwriteOldest,
}

/// Counters of one ring. All totals are in samples unless named `*_events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct RingStats {
    pub capacity: u64,
    pub fill: u64,
    pub peak_fill: u64,
    pub total_written: u64,
    pub total_read: u64,
    /// Writes that did not fit (rejected under `Error`, or that dropped samples).
    pub overrun_events: u64,
    /// Samples rejected (`Error`) or dropped unread (`OverwriteOldest`).
    pub overrun_samples: u64,
    /// Reads (`read`, `read_exact`) that asked for more than was available.
    pub underrun_events: u64,
}

/// Resets a side guard when a call ends (also on early return).
struct SideGuard<'a>(&'a AtomicBool);

impl<'a> SideGuard<'a> {
    fn take(flag: &'a AtomicBool, side: &str) -> Result<Self> {
        if flag.swap(true, Ordering::Acquire) {
            return Err(CadenceError::InvalidArgument(format!(
                "AudioRing is single-{side}: two threads called a {side} method at the same time"
            )));
        }
        Ok(SideGuard(flag))
    }
}

impl Drop for SideGuard<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

/// A fixed-capacity SPSC ring of f32 samples. `Sync`: share it by reference.
pub struct AudioRing {
    slots: Box<[UnsafeCell<f32>]>,
    policy: Overrun,
    write_pos: AtomicU64,
    read_pos: AtomicU64,
    writer_busy: AtomicBool,
    reader_busy: AtomicBool,
    peak_fill: AtomicU64,
    total_read: AtomicU64,
    overrun_events: AtomicU64,
    overrun_samples: AtomicU64,
    underrun_events: AtomicU64,
}

// SAFETY: slot accesses follow the protocol documented at the top of this
// module (SPSC enforced by the side guards; atomics where sides may overlap).
unsafe impl Sync for AudioRing {}
unsafe impl Send for AudioRing {}

impl std::fmt::Debug for AudioRing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioRing")
            .field("capacity", &self.capacity())
            .field("policy", &self.policy)
            .field("available", &self.available())
            .finish()
    }
}

impl AudioRing {
    /// A ring holding at most `capacity` samples (`capacity >= 1`).
    pub fn new(capacity: usize, policy: Overrun) -> Result<Self> {
        if capacity == 0 {
            return Err(CadenceError::InvalidArgument(
                "ring capacity must be at least 1".into(),
            ));
        }
        if capacity > MAX_CAPACITY {
            return Err(CadenceError::InvalidArgument(format!(
                "ring capacity {capacity} exceeds the maximum of {MAX_CAPACITY}"
            )));
        }
        let slots = (0..capacity)
            .map(|_| UnsafeCell::new(0.0))
            .collect::<Vec<_>>()
            .into_boxed_slice();
        Ok(Self {
            slots,
            policy,
            write_pos: AtomicU64::new(0),
            read_pos: AtomicU64::new(0),
            writer_busy: AtomicBool::new(false),
            reader_busy: AtomicBool::new(false),
            peak_fill: AtomicU64::new(0),
            total_read: AtomicU64::new(0),
            overrun_events: AtomicU64::new(0),
            overrun_samples: AtomicU64::new(0),
            underrun_events: AtomicU64::new(0),
        })
    }

    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    pub fn policy(&self) -> Overrun {
        self.policy
    }

    /// Samples ready to read (a snapshot; exact when called by either side).
    pub fn available(&self) -> usize {
        // Load read first: write only grows, so w - r never underflows.
        let r = self.read_pos.load(Ordering::Acquire);
        let w = self.write_pos.load(Ordering::Acquire);
        (w.saturating_sub(r) as usize).min(self.capacity())
    }

    /// Samples that can be written without an overrun.
    pub fn free(&self) -> usize {
        self.capacity() - self.available()
    }

    pub fn stats(&self) -> RingStats {
        RingStats {
            capacity: self.capacity() as u64,
            fill: self.available() as u64,
            peak_fill: self.peak_fill.load(Ordering::Relaxed),
            total_written: self.write_pos.load(Ordering::Acquire),
            total_read: self.total_read.load(Ordering::Relaxed),
            overrun_events: self.overrun_events.load(Ordering::Relaxed),
            overrun_samples: self.overrun_samples.load(Ordering::Relaxed),
            underrun_events: self.underrun_events.load(Ordering::Relaxed),
        }
    }

    /// Write all of `src`. Returns the number of samples written (`src.len()`).
    pub fn write(&self, src: &[f32]) -> Result<usize> {
        self.write_impl(src.len(), |ring, slot, off, len| {
            // SAFETY: see `write_impl`; slot + len <= capacity, off + len <= src.len().
            unsafe {
                match ring.policy {
                    Overrun::Error => std::ptr::copy_nonoverlapping(
                        src.as_ptr().add(off),
                        ring.base().add(slot),
                        len,
                    ),
                    Overrun::OverwriteOldest => {
                        ring.store_run(slot, len, &mut src[off..off + len].iter().copied())
                    }
                }
            }
        })
    }

    /// Write every item of `src` (e.g. int16 scaled on the fly). All or nothing.
    pub fn write_iter<I>(&self, src: I) -> Result<usize>
    where
        I: ExactSizeIterator<Item = f32>,
    {
        let mut src = src;
        // SAFETY: see `write_impl`.
        self.write_impl(src.len(), |ring, slot, _off, len| unsafe {
            ring.store_run(slot, len, &mut src)
        })
    }

    /// Shared write path: checks, overrun policy, then `store(ring, slot,
    /// offset_in_src, len)` for each of the (at most two) contiguous runs, then
    /// publish. The runs given to `store` are free for the writer: under
    /// `Error` the reader does not touch them until `write_pos` is published;
    /// under `OverwriteOldest` all slot accesses are atomic.
    fn write_impl(
        &self,
        n: usize,
        mut store: impl FnMut(&Self, usize, usize, usize),
    ) -> Result<usize> {
        let cap = self.capacity();
        if n > cap {
            return Err(CadenceError::Oversize { len: n, max: cap });
        }
        let _guard = SideGuard::take(&self.writer_busy, "producer")?;
        if n == 0 {
            return Ok(0);
        }
        let w = self.write_pos.load(Ordering::Relaxed); // only this side stores it
        let need_r = (w + n as u64).saturating_sub(cap as u64); // oldest position that may survive
        loop {
            let r = self.read_pos.load(Ordering::Acquire);
            if r >= need_r {
                break;
            }
            match self.policy {
                Overrun::Error => {
                    self.overrun_events.fetch_add(1, Ordering::Relaxed);
                    self.overrun_samples.fetch_add(n as u64, Ordering::Relaxed);
                    let free = cap - (w - r) as usize;
                    return Err(CadenceError::RingOverrun { requested: n, free });
                }
                Overrun::OverwriteOldest => {
                    if self
                        .read_pos
                        .compare_exchange(r, need_r, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                    {
                        // Pairs with the acquire fence of a concurrent `peek`:
                        // a peek that loads any slot stored after this claim
                        // also sees the claim and discards its copy.
                        std::sync::atomic::fence(Ordering::Release);
                        self.overrun_events.fetch_add(1, Ordering::Relaxed);
                        self.overrun_samples
                            .fetch_add(need_r - r, Ordering::Relaxed);
                        break;
                    }
                    // The reader committed a read meanwhile: re-evaluate.
                }
            }
        }
        let start = (w % cap as u64) as usize;
        let first = (cap - start).min(n);
        store(self, start, 0, first);
        if first < n {
            store(self, 0, first, n - first);
        }
        let new_w = w + n as u64;
        self.write_pos.store(new_w, Ordering::Release);
        let fill = new_w.saturating_sub(self.read_pos.load(Ordering::Acquire));
        self.peak_fill.fetch_max(fill, Ordering::Relaxed);
        Ok(n)
    }

    fn base(&self) -> *mut f32 {
        UnsafeCell::raw_get(self.slots.as_ptr())
    }

    /// Store `len` items of `src` into slots `[start, start + len)`.
    ///
    /// # Safety
    /// The range is in bounds and no other thread accesses it non-atomically.
    unsafe fn store_run<I: Iterator<Item = f32>>(&self, start: usize, len: usize, src: &mut I) {
        debug_assert!(start + len <= self.capacity());
        let base = self.base().add(start);
        match self.policy {
            Overrun::Error => {
                for i in 0..len {
                    *base.add(i) = src.next().unwrap_or(0.0);
                }
            }
            Overrun::OverwriteOldest => {
                for i in 0..len {
                    let bits = src.next().unwrap_or(0.0).to_bits();
                    AtomicU32::from_ptr(base.add(i).cast::<u32>()).store(bits, Ordering::Relaxed);
                }
            }
        }
    }

    /// Copy `out.len()` samples from position `r` (slot arithmetic only).
    fn copy_out(&self, r: u64, out: &mut [f32]) {
        let cap = self.capacity();
        let start = (r % cap as u64) as usize;
        let first = (cap - start).min(out.len());
        let (a, b) = out.split_at_mut(first);
        debug_assert!(b.len() <= start);
        // SAFETY: in bounds (b.len() <= start < cap). Under `Error` the slots
        // of [r, r + len) are published (write_pos acquired) and the writer
        // cannot reuse them before our read_pos release; under
        // `OverwriteOldest` every access is atomic and a torn copy is
        // discarded by the caller's CAS / re-check.
        unsafe {
            let base = self.base();
            match self.policy {
                Overrun::Error => {
                    std::ptr::copy_nonoverlapping(base.add(start), a.as_mut_ptr(), a.len());
                    std::ptr::copy_nonoverlapping(base, b.as_mut_ptr(), b.len());
                }
                Overrun::OverwriteOldest => {
                    for (i, o) in a.iter_mut().enumerate() {
                        *o = f32::from_bits(
                            AtomicU32::from_ptr(base.add(start + i).cast::<u32>())
                                .load(Ordering::Relaxed),
                        );
                    }
                    for (i, o) in b.iter_mut().enumerate() {
                        *o = f32::from_bits(
                            AtomicU32::from_ptr(base.add(i).cast::<u32>()).load(Ordering::Relaxed),
                        );
                    }
                }
            }
        }
    }

    /// Copy up to `out.len()` of the oldest samples into `out`, optionally
    /// consuming them. With `exact`, copy nothing unless `out.len()` are
    /// available. Returns `(copied, available_at_copy)`.
    fn take(&self, out: &mut [f32], exact: bool, consume: bool) -> (usize, usize) {
        let cap = self.capacity();
        loop {
            let r = self.read_pos.load(Ordering::Acquire);
            let w = self.write_pos.load(Ordering::Acquire);
            let avail = w.saturating_sub(r) as usize;
            if avail > cap {
                std::hint::spin_loop();
                continue; // the writer lapped us between the two loads
            }
            if exact && avail < out.len() {
                return (0, avail);
            }
            let k = avail.min(out.len());
            self.copy_out(r, &mut out[..k]);
            let ok = if consume {
                k == 0
                    || self
                        .read_pos
                        .compare_exchange(r, r + k as u64, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
            } else {
                // A peek is valid if nothing it copied was reclaimed meanwhile
                // (a seqlock read). The fence keeps the relaxed slot loads above
                // from being satisfied after the re-check: an Acquire load alone
                // orders only what follows it.
                std::sync::atomic::fence(Ordering::Acquire);
                self.read_pos.load(Ordering::Relaxed) == r
            };
            if ok {
                return (k, avail);
            }
            std::hint::spin_loop();
        }
    }

    /// Read up to `out.len()` samples; returns how many were read. Asking for
    /// more than is available counts one underrun.
    pub fn read(&self, out: &mut [f32]) -> Result<usize> {
        self.read_request(out, out.len())
    }

    /// [`read`](Self::read) into a buffer that may be shorter than the request
    /// (e.g. capped at the capacity): the underrun counts against `requested`.
    pub fn read_request(&self, out: &mut [f32], requested: usize) -> Result<usize> {
        let _guard = SideGuard::take(&self.reader_busy, "consumer")?;
        let (k, avail) = self.take(out, false, true);
        if avail < requested.max(out.len()) {
            self.underrun_events.fetch_add(1, Ordering::Relaxed);
        }
        self.total_read.fetch_add(k as u64, Ordering::Relaxed);
        Ok(k)
    }

    /// Fill all of `out` or read nothing. Returns `false` (and counts an
    /// underrun) when fewer than `out.len()` samples are available.
    pub fn read_exact(&self, out: &mut [f32]) -> Result<bool> {
        let _guard = SideGuard::take(&self.reader_busy, "consumer")?;
        let n = out.len();
        if n > self.capacity() {
            return Err(CadenceError::Oversize {
                len: n,
                max: self.capacity(),
            });
        }
        let (k, _) = self.take(out, true, true);
        if k < n {
            self.underrun_events.fetch_add(1, Ordering::Relaxed);
            return Ok(false);
        }
        self.total_read.fetch_add(k as u64, Ordering::Relaxed);
        Ok(true)
    }

    /// Copy up to `out.len()` of the oldest samples without consuming them.
    pub fn peek(&self, out: &mut [f32]) -> Result<usize> {
        let _guard = SideGuard::take(&self.reader_busy, "consumer")?;
        Ok(self.take(out, false, false).0)
    }

    /// Drop up to `n` of the oldest samples without copying; returns how many.
    pub fn skip(&self, n: usize) -> Result<usize> {
        let _guard = SideGuard::take(&self.reader_busy, "consumer")?;
        loop {
            let r = self.read_pos.load(Ordering::Acquire);
            let w = self.write_pos.load(Ordering::Acquire);
            let k = (w.saturating_sub(r) as usize).min(n).min(self.capacity());
            if k == 0
                || self
                    .read_pos
                    .compare_exchange(r, r + k as u64, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                self.total_read.fetch_add(k as u64, Ordering::Relaxed);
                return Ok(k);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;
    use std::sync::Arc;

    #[test]
    fn capacity_zero_is_rejected() {
        assert!(matches!(
            AudioRing::new(0, Overrun::Error),
            Err(CadenceError::InvalidArgument(_))
        ));
    }

    #[test]
    fn write_read_wraps_around() {
        let ring = AudioRing::new(5, Overrun::Error).unwrap();
        let mut out = [0.0f32; 5];
        for round in 0..10 {
            let base = round as f32 * 10.0;
            assert_eq!(ring.write(&[base, base + 1.0, base + 2.0]).unwrap(), 3);
            assert_eq!(ring.read(&mut out[..3]).unwrap(), 3);
            assert_eq!(&out[..3], &[base, base + 1.0, base + 2.0]);
        }
        let s = ring.stats();
        assert_eq!(
            (s.total_written, s.total_read, s.fill, s.peak_fill),
            (30, 30, 0, 3)
        );
    }

    #[test]
    fn error_policy_writes_nothing_on_overrun() {
        let ring = AudioRing::new(4, Overrun::Error).unwrap();
        ring.write(&[1.0, 2.0, 3.0]).unwrap();
        let e = ring.write(&[4.0, 5.0]).unwrap_err();
        assert_eq!(
            e,
            CadenceError::RingOverrun {
                requested: 2,
                free: 1
            }
        );
        assert_eq!(ring.available(), 3);
        let s = ring.stats();
        assert_eq!(
            (s.overrun_events, s.overrun_samples, s.total_written),
            (1, 2, 3)
        );
        assert!(matches!(
            ring.write(&[0.0; 5]),
            Err(CadenceError::Oversize { len: 5, max: 4 })
        ));
    }

    #[test]
    fn overwrite_policy_drops_oldest() {
        let ring = AudioRing::new(4, Overrun::OverwriteOldest).unwrap();
        ring.write(&[1.0, 2.0, 3.0]).unwrap();
        ring.write(&[4.0, 5.0, 6.0]).unwrap();
        let mut out = [0.0f32; 4];
        assert_eq!(ring.read(&mut out).unwrap(), 4);
        assert_eq!(out, [3.0, 4.0, 5.0, 6.0]);
        let s = ring.stats();
        assert_eq!(
            (s.overrun_events, s.overrun_samples, s.total_read),
            (1, 2, 4)
        );
    }

    #[test]
    fn read_exact_and_peek() {
        let ring = AudioRing::new(8, Overrun::Error).unwrap();
        ring.write(&[1.0, 2.0, 3.0]).unwrap();
        let mut four = [0.0f32; 4];
        assert!(!ring.read_exact(&mut four).unwrap());
        assert_eq!(ring.available(), 3);
        assert_eq!(ring.stats().underrun_events, 1);
        let mut two = [0.0f32; 2];
        assert_eq!(ring.peek(&mut two).unwrap(), 2);
        assert_eq!(two, [1.0, 2.0]);
        assert!(ring.read_exact(&mut two).unwrap());
        assert_eq!(two, [1.0, 2.0]);
        assert_eq!(ring.available(), 1);
        assert_eq!(ring.skip(5).unwrap(), 1);
        assert_eq!(ring.available(), 0);
    }

    #[test]
    fn concurrent_second_writer_is_rejected_not_corrupting() {
        let ring = AudioRing::new(8, Overrun::Error).unwrap();
        let _g = SideGuard::take(&ring.writer_busy, "producer").unwrap();
        assert!(matches!(
            ring.write(&[1.0]),
            Err(CadenceError::InvalidArgument(_))
        ));
        drop(_g);
        assert_eq!(ring.write(&[1.0]).unwrap(), 1);
    }

    fn stress(policy: Overrun) {
        const TOTAL: u64 = 400_000;
        let ring = Arc::new(AudioRing::new(1021, policy).unwrap());
        let w = {
            let ring = Arc::clone(&ring);
            std::thread::spawn(move || {
                let mut next = 0u64;
                let mut chunk = Vec::new();
                let mut len = 1usize;
                while next < TOTAL {
                    len = len * 7 % 300 + 1;
                    let n = (len as u64).min(TOTAL - next) as usize;
                    chunk.clear();
                    chunk.extend((0..n as u64).map(|i| (next + i) as f32));
                    match ring.write(&chunk) {
                        Ok(k) => next += k as u64,
                        Err(CadenceError::RingOverrun { .. }) => std::thread::yield_now(),
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        };
        let mut last: i64 = -1;
        let mut buf = vec![0.0f32; 257];
        let mut got = 0u64;
        loop {
            let k = ring.read(&mut buf).unwrap();
            for &x in &buf[..k] {
                let v = x as i64;
                match policy {
                    Overrun::Error => assert_eq!(v, last + 1, "sequence broken"),
                    Overrun::OverwriteOldest => assert!(v > last, "order broken: {v} after {last}"),
                }
                last = v;
            }
            got += k as u64;
            if k == 0 && w.is_finished() && ring.available() == 0 {
                break;
            }
        }
        w.join().unwrap();
        let s = ring.stats();
        assert_eq!(s.total_written, TOTAL);
        assert_eq!(s.total_read, got);
        assert_eq!(
            got + s.overrun_samples * (policy == Overrun::OverwriteOldest) as u64,
            TOTAL
        );
        assert_eq!(last, TOTAL as i64 - 1);
    }

    #[test]
    fn two_thread_stress_error_policy_in_order() {
        stress(Overrun::Error);
    }

    #[test]
    fn two_thread_stress_overwrite_policy_in_order() {
        stress(Overrun::OverwriteOldest);
    }

    #[derive(Debug, Clone)]
    enum Op {
        Write(usize),
        Read(usize),
        ReadExact(usize),
        Peek(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (0usize..40).prop_map(Op::Write),
            (0usize..40).prop_map(Op::Read),
            (0usize..40).prop_map(Op::ReadExact),
            (0usize..40).prop_map(Op::Peek),
        ]
    }

    proptest! {
        #[test]
        fn matches_vecdeque_model(cap in 1usize..33, overwrite in any::<bool>(),
                                  ops in proptest::collection::vec(op(), 0..120)) {
            let policy = if overwrite { Overrun::OverwriteOldest } else { Overrun::Error };
            let ring = AudioRing::new(cap, policy).unwrap();
            let mut model: VecDeque<f32> = VecDeque::new();
            let (mut next, mut dropped, mut rejected, mut underruns, mut peak) = (0u32, 0u64, 0u64, 0u64, 0usize);
            for op in ops {
                match op {
                    Op::Write(n) => {
                        let data: Vec<f32> = (0..n).map(|i| (next + i as u32) as f32).collect();
                        let r = ring.write(&data);
                        if n > cap {
                            prop_assert!(
                                matches!(r, Err(CadenceError::Oversize { .. })),
                                "expected Oversize, got {:?}", r
                            );
                            continue;
                        }
                        if model.len() + n > cap {
                            if overwrite {
                                let d = model.len() + n - cap;
                                model.drain(..d);
                                dropped += d as u64;
                            } else {
                                prop_assert_eq!(r, Err(CadenceError::RingOverrun { requested: n, free: cap - model.len() }));
                                rejected += n as u64;
                                continue;
                            }
                        }
                        prop_assert_eq!(r, Ok(n));
                        model.extend(data);
                        next += n as u32;
                        peak = peak.max(model.len());
                    }
                    Op::Read(n) => {
                        let mut out = vec![-1.0f32; n];
                        let k = ring.read(&mut out).unwrap();
                        if n > model.len() { underruns += 1; }
                        let want: Vec<f32> = model.drain(..n.min(model.len())).collect();
                        prop_assert_eq!(&out[..k], &want[..]);
                    }
                    Op::ReadExact(n) => {
                        let mut out = vec![-1.0f32; n];
                        let r = ring.read_exact(&mut out);
                        if n > cap {
                            prop_assert!(r.is_err());
                        } else if n > model.len() {
                            prop_assert_eq!(r, Ok(false));
                            underruns += 1;
                        } else {
                            prop_assert_eq!(r, Ok(true));
                            let want: Vec<f32> = model.drain(..n).collect();
                            prop_assert_eq!(&out[..], &want[..]);
                        }
                    }
                    Op::Peek(n) => {
                        let mut out = vec![-1.0f32; n];
                        let k = ring.peek(&mut out).unwrap();
                        let want: Vec<f32> = model.iter().take(n).copied().collect();
                        prop_assert_eq!(&out[..k], &want[..]);
                    }
                }
                prop_assert_eq!(ring.available(), model.len());
            }
            let s = ring.stats();
            prop_assert_eq!(s.fill as usize, model.len());
            prop_assert_eq!(s.peak_fill as usize, peak);
            prop_assert_eq!(s.overrun_samples, if overwrite { dropped } else { rejected });
            prop_assert_eq!(s.underrun_events, underruns);
            prop_assert_eq!(s.total_written, next as u64);
        }
    }
}

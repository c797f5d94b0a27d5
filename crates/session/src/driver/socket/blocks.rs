//! The blocks a reader copies a batch's text messages into (one allocation per batch, not one
//! per message), and the reader's pool that takes a block back once the last frame using it is
//! dropped, to fill it again.
//!
//! Why a pool, not the allocator: on a multi-thread runtime the reader runs on whichever worker
//! polls the session's loop, and the application drops the frames on its own worker. A frame
//! freed by another thread goes back to the allocator's arena of the thread that made it (glibc
//! keeps one per thread), so over a busy run each worker's arena grew to the whole backlog of
//! frames waiting for the application (docs/perf/mem10.md §1, mem11.md). A block taken back by
//! the pool is filled again by the reader whatever worker it runs on: the backlog is held once.
//!
//! Bounded: the pool keeps at most [`POOLED`] blocks of at most [`POOLED_CAPACITY`] bytes, and
//! none while the socket is quiet ([`BlockPool::rest`]): an idle session keeps no block.

use slack_rtm_codec::types::socket_mode::TextBlock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Most blocks a pool keeps: a busy socket's backlog (the session's 512 KiB byte budget and the
/// readers' queue, in blocks of ~32 KiB) with some room.
pub(super) const POOLED: usize = 32;

/// A new block's room: a full batch ([`READ_BATCH_BYTES`](super::reader::READ_BATCH_BYTES),
/// ended by its first message reaching it) and a large last message, so a busy reader's
/// blocks do not grow (and copy) as they fill.
pub(super) const BLOCK: usize = super::reader::READ_BATCH_BYTES + 16 * 1024;

/// A block that grew larger than this (a batch that ended with a large message) is given back
/// to the allocator rather than kept.
pub(super) const POOLED_CAPACITY: usize = 4 * super::reader::READ_BATCH_BYTES;

/// A reader's blocks, taken back when their last frame is dropped (on any thread).
#[derive(Debug, Default)]
pub(super) struct BlockPool {
    free: Mutex<Vec<String>>,
    /// The socket is quiet (its reader waits): a block coming back is not kept.
    resting: AtomicBool,
}

impl BlockPool {
    /// An empty block to fill: one taken back, or a new one of [`BLOCK`] bytes.
    pub(super) fn take(&self) -> String {
        self.free.lock().ok().and_then(|mut free| free.pop()).unwrap_or_else(|| String::with_capacity(BLOCK))
    }

    /// Takes a block back, emptied, unless the socket is quiet, the pool is full or the block
    /// grew too large (then it is freed).
    fn give(&self, mut block: String) {
        if self.resting.load(Ordering::Acquire) || block.capacity() > POOLED_CAPACITY {
            return;
        }
        block.clear();
        if let Ok(mut free) = self.free.lock()
            && free.len() < POOLED
        {
            free.push(block);
        }
    }

    /// The reader waits for the socket after a batch of at most one text message (a quiet
    /// socket): every block kept is freed, and so is every block that comes back until it
    /// reads again.
    pub(super) fn rest(&self) {
        self.resting.store(true, Ordering::Release);
        if let Ok(mut free) = self.free.lock() {
            *free = Vec::new();
        }
    }

    /// The reader reads again: blocks coming back are kept.
    pub(super) fn wake(&self) {
        self.resting.store(false, Ordering::Release);
    }

    /// Blocks kept.
    #[cfg(test)]
    pub(super) fn kept(&self) -> usize {
        self.free.lock().map(|f| f.len()).unwrap_or(0)
    }
}

/// A filled block shared by the frames read into it; back to its pool when the last is dropped.
pub(super) struct PooledBlock {
    pub(super) text: String,
    pub(super) pool: Arc<BlockPool>,
}

impl TextBlock for PooledBlock {
    fn text(&self) -> &str {
        &self.text
    }
}

impl Drop for PooledBlock {
    fn drop(&mut self) {
        self.pool.give(std::mem::take(&mut self.text));
    }
}

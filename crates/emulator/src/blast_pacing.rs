//! How the blast's frames are cut into writes.
//!
//! By default a turn of the connection's actor appends [`BLAST_CHUNK`] pre-encoded frames to
//! its output buffer and writes them with one system call: hundreds of frames per write, the
//! friendliest traffic a client can get (its reads are always full, and the emulator costs
//! about 0.1 µs per event, leaving the client the machine's other core).
//!
//! A real server writes one frame per wake-up: every frame is its own write (its own TCP
//! segment on loopback), and the server spends a system call per frame, competing with the
//! client for the cores. With [`crate::EmulatorConfig::blast_frame_per_write`]
//! (`--blast-frame-per-write`, cargo feature `blast`) the blast writes that way: one frame per
//! turn of the actor, one `write` per frame.

/// Events written per blast turn by default.
const BLAST_CHUNK: u64 = 512;

/// The most blast frames the actor appends in one turn (then writes with one system call).
pub(crate) fn frames_per_turn(config: &crate::EmulatorConfig) -> u64 {
    if config.blast_frame_per_write { 1 } else { BLAST_CHUNK }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_frame_per_write_only_when_asked() {
        let config = crate::EmulatorConfig::default();
        assert_eq!(frames_per_turn(&config), BLAST_CHUNK);
        assert_eq!(frames_per_turn(&config.blast_frame_per_write(true)), 1);
    }
}

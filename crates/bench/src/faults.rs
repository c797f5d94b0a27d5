//! The Socket Mode soaks' faults (`sm-soak`, `fleet-soak`): a small seeded generator, and one
//! random fault on one random open socket of an in-process emulator.

use slack_rtm_emulator::{Emulator, Rejection, SocketTarget};
use std::sync::Arc;
use std::time::Duration;

/// xorshift64*: a small seeded generator (no `rand` dependency).
#[derive(Clone, Debug)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator for this seed (any value, 0 included).
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        let mut x = self.0.max(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        if n == 0 { 0 } else { x.wrapping_mul(0x2545_F491_4F6C_DD1D) % n }
    }
}

/// Injects one random fault on a random open socket: a refresh, a drop, a 1011 close, a stall
/// of 0.3–2 s (acks wait: the emulator redelivers), a half-open socket (pings unanswered), a
/// `disconnect` warning, or a 429 on the next `apps.connections.open` (and a drop). Returns
/// its name.
pub fn socket_fault(emu: &Arc<Emulator>, rng: &mut XorShift) -> &'static str {
    let open = emu.open_sockets();
    if open.is_empty() {
        return "skipped (no socket open)";
    }
    let target = SocketTarget::Socket(open[rng.below(open.len() as u64) as usize]);
    match rng.below(7) {
        0 => {
            emu.refresh_socket(target);
            "refresh"
        }
        1 => {
            emu.drop_socket(target);
            "drop"
        }
        2 => {
            emu.close_socket(target, 1011, "server error");
            "close 1011"
        }
        3 => {
            // A stall: nothing read (acks wait: redeliveries), nothing sent, then resumed.
            emu.stall_socket(target, true);
            let (emu, ms) = (emu.clone(), 300 + rng.below(1700));
            tokio::spawn(async move {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                emu.stall_socket(target, false);
            });
            "stall"
        }
        4 => {
            emu.answer_pings(target, false);
            "half-open"
        }
        5 => {
            emu.disconnect_socket(target, "warning", None);
            "warning"
        }
        _ => {
            emu.reject_next_opens(1, Rejection::RateLimited { retry_after: Duration::from_secs(1) });
            emu.drop_socket(target);
            "429 on the next open"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_seeded_and_stays_in_range() {
        let (mut a, mut b) = (XorShift::new(7), XorShift::new(7));
        let xs: Vec<u64> = (0..100).map(|_| a.below(10)).collect();
        assert_eq!(xs, (0..100).map(|_| b.below(10)).collect::<Vec<_>>());
        assert!(xs.iter().all(|x| *x < 10));
        assert!((0..10).all(|v| xs.contains(&v)), "every value comes up: {xs:?}");
        assert_ne!(xs, (0..100).map(|_| XorShift::new(8).below(10)).collect::<Vec<_>>());
        assert_eq!(XorShift::new(0).below(0), 0);
    }
}

"""Conformance script for the official Python client (`slack_sdk.rtm_v2`) against the emulator.

Run by `cargo xtask conformance` (xtask/src/conformance.rs) with the venv's interpreter:

    python conformance.py API_URL TOKEN CHANNEL

The emulator must run with `--blast 1 --goodbye-after SECS`: every connection gets one
`message` event from another user right after `hello`, and `goodbye` SECS after it opened.
Prints one `STEP <name> <ok|fail|known-issue> [detail]` line per step, in order, and exits 0
only when every step passed. Gives up after CONFORMANCE_TIMEOUT_MS (default 30 s) overall.
"""

import logging
import os
import sys
import threading
import time

from slack_sdk.rtm_v2 import RTMClient

TIMEOUT_S = int(os.environ.get("CONFORMANCE_TIMEOUT_MS", "30000")) / 1000.0
STEPS = ["connect", "hello", "event", "ack", "fan-out", "goodbye", "reconnect", "ack-after-reconnect"]

results = {}
failed = False
out_lock = threading.Lock()


def report(step, status, detail=""):
    global failed
    with out_lock:
        if step in results:
            return
        results[step] = status
        if status == "fail":
            failed = True
        detail = " ".join(str(detail).split())
        sys.stdout.write(f"STEP {step} {status}{' ' + detail if detail else ''}\n")
        sys.stdout.flush()


def finish(code):
    for step in STEPS:
        if step not in results:
            report(step, "fail", "not reached")
    sys.stdout.flush()
    sys.stderr.flush()
    # The client's worker threads are not daemons: leave without waiting for them.
    os._exit(1 if failed else code)


class Recorder:
    """Collects every frame a client's listeners see; lets the script wait for one."""

    def __init__(self):
        self.events = []
        self.cond = threading.Condition()

    def record(self, event):
        with self.cond:
            self.events.append(event)
            self.cond.notify_all()

    def wait(self, pred, timeout, start=0):
        """Waits for an event matching `pred` at index >= start; returns (index, event)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                for i in range(start, len(self.events)):
                    if pred(self.events[i]):
                        return i, self.events[i]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"not seen within {timeout} s")
                self.cond.wait(left)


def step(name, fn):
    try:
        detail = fn()
        report(name, "ok", detail or "")
        return True
    except Exception as e:  # noqa: BLE001 - every failure is a failed step
        report(name, "fail", f"{type(e).__name__}: {e}")
        return False


clients = []


def make_client(api_url, token):
    rtm = RTMClient(token=token, base_url=api_url, logger=logging.getLogger(f"rtm.{len(clients)}"))
    clients.append(rtm)
    rec = Recorder()

    # The client checks that a listener takes exactly (client, event).
    def listener(client, event):
        rec.record(event)

    rtm.on("*")(listener)
    return rtm, rec


def send_and_ack(rtm, rec, msg_id, channel, text, timeout=10):
    start = len(rec.events)
    rtm.send({"id": msg_id, "type": "message", "channel": channel, "text": text})
    _, reply = rec.wait(lambda e: e.get("reply_to") == msg_id, timeout, start)
    if reply.get("ok") is not True or not isinstance(reply.get("ts"), str):
        raise RuntimeError(f"unexpected reply {reply}")
    return f"ts={reply['ts']}"


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: python conformance.py API_URL TOKEN CHANNEL\n")
        os._exit(2)
    api_url, token, channel = sys.argv[1:]
    # CONFORMANCE_LOG=debug shows what the client does (on stderr).
    level = getattr(logging, os.environ.get("CONFORMANCE_LOG", "error").upper(), logging.ERROR)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(threadName)s %(message)s")

    def overall_timeout():
        sys.stderr.write(f"overall timeout of {TIMEOUT_S} s\n")
        for s in STEPS:
            if s not in results:
                report(s, "fail", "overall timeout")
        finish(1)

    timer = threading.Timer(TIMEOUT_S, overall_timeout)
    timer.daemon = True
    timer.start()

    a, rec_a = make_client(api_url, token)
    b, rec_b = make_client(api_url, token)
    is_hello = lambda e: e.get("type") == "hello"  # noqa: E731

    def connect():
        a.connect()  # auth.test, rtm.connect, then the socket
        if not a.is_connected():
            raise RuntimeError("not connected after connect()")
        return f"bot_id={a.bot_id}"

    if not step("connect", connect):
        finish(1)
    state = {}

    def hello():
        state["hello_a"], _ = rec_a.wait(is_hello, 10)

    if not step("hello", hello):
        finish(1)

    def event():
        _, ev = rec_a.wait(lambda e: e.get("type") == "message" and "user" in e and "reply_to" not in e, 10)
        return f"user={ev['user']} channel={ev.get('channel')}"

    step("event", event)

    b_ok = step_quiet(lambda: (b.connect(), rec_b.wait(is_hello, 10)))
    marker = f"conformance python {int(time.time() * 1000)}"
    fan_start = len(rec_b.events)
    step("ack", lambda: send_and_ack(a, rec_a, 1, channel, marker))

    def fan_out():
        if not b_ok:
            raise RuntimeError("second client did not connect")
        _, ev = rec_b.wait(lambda e: e.get("type") == "message" and e.get("text") == marker, 10, fan_start)
        return f"channel={ev.get('channel')}"

    step("fan-out", fan_out)

    # `goodbye` (sent by the emulator): the client reconnects on its own (it listens for it).
    def goodbye():
        state["goodbye"], _ = rec_a.wait(lambda e: e.get("type") == "goodbye", 20)

    if not step("goodbye", goodbye):
        finish(1)

    def reconnect():
        rec_a.wait(is_hello, 20, state["goodbye"] + 1)

    if not step("reconnect", reconnect):
        finish(1)
    step("ack-after-reconnect", lambda: send_and_ack(a, rec_a, 2, channel, marker + " again"))
    finish(0)


def step_quiet(fn):
    try:
        fn()
        return True
    except Exception as e:  # noqa: BLE001
        sys.stderr.write(f"second client: {type(e).__name__}: {e}\n")
        return False


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        sys.stderr.write(f"unexpected: {type(e).__name__}: {e}\n")
        finish(1)

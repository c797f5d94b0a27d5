"""End-to-end benchmark of the official Python client (`slack_sdk.rtm_v2`), for issue 6.

Run by xtask/src/official.rs (`run_official_bench`) with the venv's interpreter:

    python bench.py API_URL TOKEN events N
        The emulator runs with `--blast N`: count the `message` events delivered to the
        application's handler until N, then exit.
    python bench.py API_URL TOKEN rtt M CHANNEL
        The emulator runs with `--no-rate-limit`: send M messages one at a time, awaiting each
        ack (seen by an `@rtm.on("*")` handler).

Prints ONE JSON line:
    {"client":"python-slack-sdk","mode":…,"n":…,"connect_to_hello_us":…,"elapsed_us":…,
     "cpu_us":…,"peak_rss_kb":…}
connect_to_hello covers what `connect()` does first (auth.test, rtm.connect, the socket
handshake) until the `hello` handler runs; elapsed: from hello to the Nth event (events), or
from the first send to the last ack (rtt); cpu: user+sys of the whole process over that
interval (getrusage); peak_rss_kb: ru_maxrss. Any failure (a reconnect in the middle, an error
reply, an exception) exits non-zero with the reason on stderr.
"""

import json
import logging
import os
import resource
import sys
import threading
import time

from slack_sdk.rtm_v2 import RTMClient


def die(reason):
    sys.stderr.write(f"bench failed: {reason}\n")
    sys.stderr.flush()
    os._exit(1)


def cpu_us():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return int((r.ru_utime + r.ru_stime) * 1_000_000)


def now_us():
    return time.monotonic_ns() // 1000


def main():
    args = sys.argv[1:]
    usage = "usage: python bench.py API_URL TOKEN events N | python bench.py API_URL TOKEN rtt M CHANNEL\n"
    if len(args) < 4 or args[2] not in ("events", "rtt") or not args[3].isdigit() or int(args[3]) <= 0:
        sys.stderr.write(usage)
        os._exit(2)
    api_url, token, mode, n = args[0], args[1], args[2], int(args[3])
    channel = args[4] if len(args) > 4 else None
    if mode == "rtt" and not channel:
        sys.stderr.write(usage)
        os._exit(2)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)

    lock = threading.Lock()
    st = {"hellos": 0, "count": 0, "connect_start": 0, "connect_to_hello": 0, "start": 0, "cpu": 0}

    # Any error the client reports means lost or garbled frames (the count can no longer be
    # trusted): fail with the first one instead of its traceback.
    def on_error(error):
        with lock:
            n_seen = st["count"]
        die(f"client error after {n_seen} events: {type(error).__name__}: {str(error)[:200]}")

    quiet = logging.getLogger("bench.rtm")
    quiet.setLevel(logging.CRITICAL + 1)
    rtm = RTMClient(token=token, base_url=api_url, logger=quiet, on_error_listeners=[on_error])
    hello_seen = threading.Event()
    done = threading.Event()
    replies = {}
    reply_cond = threading.Condition()

    @rtm.on("hello")
    def on_hello(client, event):
        with lock:
            st["hellos"] += 1
            if st["hellos"] > 1:
                die(f"reconnected in the middle of the run (after {st['count']} events)")
            st["connect_to_hello"] = now_us() - st["connect_start"]
            st["start"] = now_us()
            st["cpu"] = cpu_us()
        hello_seen.set()

    if mode == "events":

        @rtm.on("message")
        def on_message(client, event):
            with lock:
                st["count"] += 1
                if st["count"] == n:
                    st["elapsed"] = now_us() - st["start"]
                    st["cpu_used"] = cpu_us() - st["cpu"]
                    done.set()

    else:

        @rtm.on("*")
        def on_any(client, event):
            reply_to = event.get("reply_to")
            if reply_to is not None:
                with reply_cond:
                    replies[reply_to] = event
                    reply_cond.notify_all()

    st["connect_start"] = now_us()
    try:
        rtm.connect()
    except Exception as e:  # noqa: BLE001
        die(f"connect failed: {type(e).__name__}: {e}")
    if not hello_seen.wait(30):
        die("no hello within 30 s")

    if mode == "rtt":
        start, cpu0 = now_us(), cpu_us()
        for i in range(1, n + 1):
            try:
                rtm.send({"id": i, "type": "message", "channel": channel, "text": f"bench round trip {i}"})
            except Exception as e:  # noqa: BLE001
                die(f"send {i} failed: {type(e).__name__}: {e}")
            with reply_cond:
                if not reply_cond.wait_for(lambda: i in replies, timeout=10):
                    die(f"no ack for message {i} within 10 s")
                reply = replies.pop(i)
            if reply.get("ok") is not True:
                die(f"bad reply {reply} at {i}")
        st["elapsed"] = now_us() - start
        st["cpu_used"] = cpu_us() - cpu0
    else:
        # The caller's timeout bounds this wait; poll so a dead session is reported.
        while not done.wait(1.0):
            if not rtm.is_connected():
                die(f"disconnected after {st['count']} events")

    line = {
        "client": "python-slack-sdk",
        "mode": mode,
        "n": n,
        "connect_to_hello_us": st["connect_to_hello"],
        "elapsed_us": st["elapsed"],
        "cpu_us": st["cpu_used"],
        "peak_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    }
    sys.stdout.write(json.dumps(line, separators=(",", ":")) + "\n")
    sys.stdout.flush()
    # The client's worker threads are not daemons: leave without waiting for them.
    os._exit(0)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        die(f"{type(e).__name__}: {e}")

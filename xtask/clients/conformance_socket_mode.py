"""Socket Mode conformance script for the official Python client (`slack_sdk.socket_mode`,
its built-in WebSocket client) against the emulator.

Run by `cargo xtask conformance` (xtask/src/conformance.rs) with the venv's interpreter:

    python conformance_socket_mode.py API_URL APP_TOKEN

The emulator must run with `--socket-mode-script` (crates/emulator/src/bin_script.rs): once
the socket is open it sends a `message` (events_api), a slash command, a block action and a
`message` containing `ack-late`, one at a time; this script withholds the ack of that last
one's first delivery and must see it redelivered; then the emulator refreshes the socket and
sends `after-refresh` on the client's next socket. Prints one
`STEP <name> <ok|fail|known-issue> [detail]` line per step, in order, and exits 0 only when
every step passed. Gives up after CONFORMANCE_TIMEOUT_MS (default 60 s) overall.
"""

import json
import logging
import os
import sys
import threading
import time

from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web import WebClient

TIMEOUT_S = int(os.environ.get("CONFORMANCE_TIMEOUT_MS", "60000")) / 1000.0
STEPS = ["connect", "hello", "events_api", "slash_commands", "interactive", "redelivery", "refresh", "after-refresh"]

results = {}
failed = False
out_lock = threading.Lock()
done = threading.Event()


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


def main():
    if len(sys.argv) != 3:
        sys.stderr.write("usage: python conformance_socket_mode.py API_URL APP_TOKEN\n")
        sys.exit(2)
    api_url, app_token = sys.argv[1], sys.argv[2]
    if os.environ.get("CONFORMANCE_LOG") == "debug":
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
    state = {"hellos": 0, "disconnects": 0, "withheld": None, "seen": set()}
    lock = threading.Lock()

    client = SocketModeClient(app_token=app_token, web_client=WebClient(base_url=api_url))

    def on_message(_client, message, _raw):
        kind = message.get("type")
        with lock:
            if kind == "hello":
                state["hellos"] += 1
                if state["hellos"] == 1:
                    report("hello", "ok")
                elif state["disconnects"] > 0:
                    report("refresh", "ok", f"reconnected after disconnect ({state['hellos']} hellos)")

    def on_raw(raw):
        # Runs on the socket's reader thread, before the client's own `disconnect` handling.
        try:
            if json.loads(raw).get("type") == "disconnect":
                with lock:
                    state["disconnects"] += 1
        except ValueError:
            pass

    def on_request(client, req):
        payload = req.payload or {}
        text = (payload.get("event") or {}).get("text", "") if req.type == "events_api" else ""
        if req.type == "events_api" and "ack-late" in text:
            with lock:
                if req.retry_attempt in (0, None) and state["withheld"] is None:
                    state["withheld"] = payload.get("event_id")
                    return  # no ack: the emulator must redeliver
                withheld = state["withheld"]
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            if payload.get("event_id") == withheld and (req.retry_attempt or 0) >= 1:
                report("redelivery", "ok", f"retry_attempt {req.retry_attempt}")
            else:
                report("redelivery", "fail", f"event {payload.get('event_id')} retry {req.retry_attempt}")
            return
        if req.type == "slash_commands":
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id, payload={"text": "ok"}))
        else:
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
        if req.type == "events_api" and "after-refresh" in text:
            report("after-refresh", "ok")
            done.set()
            return
        with lock:
            first = req.type not in state["seen"]
            state["seen"].add(req.type)
        if first:
            report(req.type, "ok")

    client.message_listeners.append(on_message)
    client.on_message_listeners.append(on_raw)
    client.socket_mode_request_listeners.append(on_request)
    try:
        client.connect()
        report("connect", "ok")
    except Exception as e:  # noqa: BLE001 - any failure to connect is the step's failure
        report("connect", "fail", f"{type(e).__name__}: {e}")
        finish(1)
    ok = done.wait(TIMEOUT_S)
    # Leave time for the last ack to go out.
    time.sleep(0.5)
    finish(0 if ok else 1)


if __name__ == "__main__":
    main()

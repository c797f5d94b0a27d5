// Socket Mode conformance script for the official Node client (`@slack/socket-mode`) against
// the emulator.
//
// Run by `cargo xtask conformance` (xtask/src/conformance.rs) with NODE_PATH pointing at the
// installed client:
//
//   node conformance_socket_mode.js API_URL APP_TOKEN
//
// The emulator must run with `--socket-mode-script` (crates/emulator/src/bin_script.rs): once
// the socket is open it sends a `message` (events_api), a slash command, a block action and a
// `message` containing `ack-late`, one at a time; this script withholds the ack of that last
// one's first delivery and must see it redelivered; then the emulator refreshes the socket
// and sends `after-refresh` on the client's next socket. Prints one
// `STEP <name> <ok|fail|known-issue> [detail]` line per step, in order, and exits 0 only when
// every step passed. Gives up after TIMEOUT_MS overall.
'use strict';

const { SocketModeClient, LogLevel } = require('@slack/socket-mode');

const TIMEOUT_MS = Number(process.env.CONFORMANCE_TIMEOUT_MS || 60000);
const STEPS = [
  'connect', 'hello', 'events_api', 'slash_commands', 'interactive', 'redelivery', 'refresh', 'after-refresh',
];

const [apiUrl, appToken] = process.argv.slice(2);
if (!apiUrl || !appToken) {
  process.stderr.write('usage: node conformance_socket_mode.js API_URL APP_TOKEN\n');
  process.exit(2);
}

const results = new Map();
let failed = false;

function report(step, status, detail) {
  if (results.has(step)) return;
  results.set(step, status);
  if (status === 'fail') failed = true;
  process.stdout.write(`STEP ${step} ${status}${detail ? ` ${String(detail).replace(/\s+/g, ' ')}` : ''}\n`);
}

function finish(code) {
  for (const step of STEPS) {
    if (!results.has(step)) report(step, 'fail', 'not reached');
  }
  process.exit(failed ? 1 : code);
}

setTimeout(() => finish(1), TIMEOUT_MS).unref();

const client = new SocketModeClient({
  appToken,
  logLevel: process.env.CONFORMANCE_LOG === 'debug' ? LogLevel.DEBUG : LogLevel.ERROR,
  // Reconnect after 1 s instead of 5 (the wait before a reconnect is this timeout).
  clientPingTimeout: 1000,
  clientOptions: { slackApiUrl: apiUrl },
});

let hellos = 0;
let disconnects = 0;
let withheld = null;
const seen = new Set();

client.on('connected', () => {
  hellos += 1;
  if (hellos === 1) report('hello', 'ok');
  if (hellos >= 2 && disconnects > 0) report('refresh', 'ok', `reconnected after disconnect (${hellos} hellos)`);
});
client.on('ws_message', (data) => {
  try {
    const m = JSON.parse(String(data));
    if (m.type === 'disconnect') disconnects += 1;
  } catch (_) { /* not JSON: the client reports it */ }
});
client.on('error', (e) => process.stderr.write(`client error: ${e}\n`));

client.on('slack_event', async ({ ack, type, body, retry_num: retry }) => {
  const text = body && body.event && body.event.text ? body.event.text : '';
  if (type === 'events_api' && text.includes('ack-late')) {
    if (retry === 0 && withheld === null) {
      withheld = body.event_id; // no ack: the emulator must redeliver
      return;
    }
    await ack();
    if (body.event_id === withheld && retry >= 1) report('redelivery', 'ok', `retry_attempt ${retry}`);
    else report('redelivery', 'fail', `event ${body.event_id} retry ${retry}, withheld ${withheld}`);
    return;
  }
  if (type === 'slash_commands') {
    await ack({ text: 'ok' });
  } else {
    await ack();
  }
  if (type === 'events_api' && text.includes('after-refresh')) {
    report('after-refresh', 'ok');
    // Leave time for the ack to go out.
    setTimeout(() => finish(0), 500);
    return;
  }
  if (!seen.has(type)) {
    seen.add(type);
    report(type, 'ok');
  }
});

client.start().then(
  () => report('connect', 'ok'),
  (e) => {
    report('connect', 'fail', e.message);
    finish(1);
  },
);

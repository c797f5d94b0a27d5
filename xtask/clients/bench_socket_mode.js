// End-to-end Socket Mode benchmark of the official Node client (`@slack/socket-mode`), for
// issue 13.
//
// Run by xtask/src/official.rs (`run_official_bench`) with NODE_PATH pointing at the installed
// client:
//
//   node bench_socket_mode.js API_URL APP_TOKEN envelopes N
//       The emulator runs with `--sm-blast N`: ack every envelope in the app's `slack_event`
//       handler (the client's documented way) and count the `events_api` ones until N.
//
// Prints ONE JSON line:
//   {"client":"node-socket-mode","mode":"envelopes","n":…,"connect_to_hello_us":…,
//    "elapsed_us":…,"cpu_us":…,"peak_rss_kb":…}
// elapsed: from hello to the Nth envelope; cpu: user+sys of this process over that interval;
// peak_rss_kb: the process's peak RSS. The ack latencies are measured by the emulator. Any
// failure (a crash, a reconnect in the middle) exits non-zero with the reason on stderr.
'use strict';

const { SocketModeClient, LogLevel } = require('@slack/socket-mode');

const [apiUrl, appToken, mode, nArg] = process.argv.slice(2);
const n = Number(nArg);
if (!apiUrl || !appToken || mode !== 'envelopes' || !Number.isInteger(n) || n <= 0) {
  process.stderr.write('usage: node bench_socket_mode.js API_URL APP_TOKEN envelopes N\n');
  process.exit(2);
}

function die(reason) {
  process.stderr.write(`bench failed: ${reason}\n`);
  process.exit(1);
}
process.on('uncaughtException', (e) => die(`uncaught exception: ${e && e.stack ? e.stack : e}`));
process.on('unhandledRejection', (e) => die(`unhandled rejection: ${e && e.stack ? e.stack : e}`));

const nowUs = () => Number(process.hrtime.bigint() / 1000n);
const cpuUs = (c) => c.user + c.system;

const client = new SocketModeClient({ appToken, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: apiUrl } });
let hellos = 0;
let count = 0;
let connectToHello = 0;
let startUs = 0;
let startCpu;
const connectStart = nowUs();

client.on('connected', () => {
  hellos += 1;
  if (hellos > 1) die(`reconnected in the middle of the run (after ${count} envelopes)`);
  connectToHello = nowUs() - connectStart;
  startUs = nowUs();
  startCpu = process.cpuUsage();
});
client.on('error', (e) => die(`client error after ${count} envelopes: ${e}`));

client.on('slack_event', async ({ ack, type }) => {
  await ack();
  if (type !== 'events_api') return;
  count += 1;
  if (count === n) {
    const line = {
      client: 'node-socket-mode',
      mode,
      n,
      connect_to_hello_us: connectToHello,
      elapsed_us: nowUs() - startUs,
      cpu_us: cpuUs(process.cpuUsage(startCpu)),
      peak_rss_kb: process.resourceUsage().maxRSS,
    };
    // Leave time for the last acks to go out before exiting.
    setTimeout(() => process.stdout.write(`${JSON.stringify(line)}\n`, () => process.exit(0)), 200);
  }
});

client.start().catch((e) => die(`start failed: ${e && e.message}`));

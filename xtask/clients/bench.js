// End-to-end benchmark of the official Node client (`@slack/rtm-api` 7.x), for issue 6.
//
// Run by xtask/src/official.rs (`run_official_bench`) with NODE_PATH pointing at the installed
// client:
//
//   node bench.js API_URL TOKEN events N
//       The emulator runs with `--blast N`: count the `message` events delivered to the
//       application's handler until N, then exit.
//   node bench.js API_URL TOKEN rtt M CHANNEL
//       The emulator runs with `--no-rate-limit`: send M messages one at a time, awaiting each
//       ack.
//
// Prints ONE JSON line:
//   {"client":"node-rtm-api","mode":…,"n":…,"connect_to_hello_us":…,"elapsed_us":…,
//    "cpu_us":…,"peak_rss_kb":…}
// elapsed: from hello to the Nth event (events), or from the first send to the last ack (rtt;
// the client holds sends until it is `ready`, up to 2 s after hello); cpu: user+sys of this
// process over that interval; peak_rss_kb: the process's peak RSS. Any failure (a crash, a
// reconnect in the middle, an error reply) exits non-zero with the reason on stderr.
'use strict';

const { RTMClient, LogLevel } = require('@slack/rtm-api');

const [apiUrl, token, mode, nArg, channel] = process.argv.slice(2);
const n = Number(nArg);
if (!apiUrl || !token || !['events', 'rtt'].includes(mode) || !Number.isInteger(n) || n <= 0 || (mode === 'rtt' && !channel)) {
  process.stderr.write('usage: node bench.js API_URL TOKEN events N | node bench.js API_URL TOKEN rtt M CHANNEL\n');
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

function emit(connectToHello, startUs, startCpu) {
  const elapsed = nowUs() - startUs;
  const cpu = cpuUs(process.cpuUsage(startCpu));
  const line = {
    client: 'node-rtm-api',
    mode,
    n,
    connect_to_hello_us: connectToHello,
    elapsed_us: elapsed,
    cpu_us: cpu,
    peak_rss_kb: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`${JSON.stringify(line)}\n`, () => process.exit(0));
}

async function main() {
  const rtm = new RTMClient(token, { slackApiUrl: apiUrl, logLevel: LogLevel.ERROR });
  let hellos = 0;
  let connectToHello = 0;
  let startUs = 0;
  let startCpu;
  let count = 0;
  const connectStart = nowUs();
  const hello = new Promise((resolve) => {
    rtm.on('hello', () => {
      hellos += 1;
      if (hellos > 1) die(`reconnected in the middle of the run (after ${count} events)`);
      connectToHello = nowUs() - connectStart;
      startUs = nowUs();
      startCpu = process.cpuUsage();
      resolve();
    });
  });
  rtm.on('disconnected', (e) => die(`disconnected after ${count} events${e ? `: ${e.message}` : ''}`));
  rtm.on('unable_to_rtm_start', (e) => die(`unable to start: ${e && e.message}`));
  if (mode === 'events') {
    rtm.on('message', () => {
      count += 1;
      if (count === n) emit(connectToHello, startUs, startCpu);
    });
  }
  await rtm.start();
  await hello;
  if (mode === 'rtt') {
    await new Promise((resolve) => rtm.once('ready', resolve));
    startUs = nowUs();
    startCpu = process.cpuUsage();
    for (let i = 0; i < n; i += 1) {
      const reply = await rtm.sendMessage(`bench round trip ${i}`, channel);
      if (!reply || reply.ok !== true) die(`bad reply ${JSON.stringify(reply)} at ${i}`);
      count += 1;
    }
    emit(connectToHello, startUs, startCpu);
  }
}

main().catch((e) => die(e && e.stack ? e.stack : e));

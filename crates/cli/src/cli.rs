//! Command-line arguments.

use clap::{Args as ClapArgs, Parser, Subcommand};
use slack_rtm_fleet::RedisUrl;
use std::path::PathBuf;

/// Exit codes (documented in `--help`).
pub mod exit {
    /// Success.
    pub const OK: u8 = 0;
    /// Any other failure.
    pub const OTHER: u8 = 1;
    /// Bad usage (clap also uses 2).
    pub const USAGE: u8 = 2;
    /// Authentication or authorization failure: a token Slack will never accept (invalid_auth,
    /// account_inactive, not_allowed_token_type, missing_scope, …).
    pub const AUTH: u8 = 3;
    /// Rate limited (HTTP 429 / ratelimited).
    pub const RATE_LIMITED: u8 = 4;
    /// Network failure: connection refused, TLS, timeout, 5xx, an HTML page instead of JSON.
    pub const NETWORK: u8 = 5;
    /// Some messages were not acknowledged (`send`).
    pub const NOT_ALL_SENT: u8 = 6;
}

const AFTER_HELP: &str = "\
Token: set SLACK_BOT_TOKEN (SLACK_TOKEN also works; SLACK_APP_TOKEN for `socket`), or pass --token-file PATH. A token given with --token is visible to
every user of this machine in `ps`: it works, with a warning.

Exit codes:
  0  success
  1  other failure
  2  bad usage
  3  authentication failure (invalid_auth, account_inactive, not_allowed_token_type, ...;
     for `socket`: also link_disabled, Socket Mode turned off for the app)
  4  rate limited (HTTP 429)
  5  network failure (connect, TLS, timeout, HTTP 5xx, non-JSON answer)
  6  send: some messages were not acknowledged (or, with --blocks, may not have been posted);
     upload: the files may or may not have been shared

`fleet`: the Redis URL comes from --redis or SLACK_RTM_REDIS_URL; a bad URL exits 2, a Redis that
does not answer at start exits 5.

Try it without a token:  slack-rtm demo";

/// A command-line client for Slack's real-time APIs (RTM and Socket Mode) and its Web API.
#[derive(Debug, Parser)]
#[command(name = "slack-rtm", version, about, after_help = AFTER_HELP)]
pub struct Args {
    /// More logging on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less logging on stderr (-q errors only, -qq nothing).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub quiet: u8,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Where to connect and with which token. (`Debug` is written by hand: it must not print
/// `--token`.)
#[derive(Clone, ClapArgs)]
pub struct ConnOpts {
    /// Web API base URL (default https://slack.com/api/). http:// is accepted only for loopback
    /// addresses (a local emulator) or with --insecure.
    #[arg(long, env = "SLACK_API_URL")]
    pub api_url: Option<String>,
    /// Read the token from this file (first line).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// The token itself (discouraged: visible in `ps`; prefer SLACK_BOT_TOKEN or --token-file).
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Allow http:// and ws:// to non-loopback hosts.
    #[arg(long)]
    pub insecure: bool,
}

/// Options of the commands that open an RTM session.
#[derive(Clone, Copy, Debug, Default, ClapArgs)]
pub struct RtmOpts {
    /// Send batch_presence_aware=true (presence_change events carry `users`).
    #[arg(long)]
    pub batch_presence: bool,
}

impl std::fmt::Debug for ConnOpts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnOpts")
            .field("api_url", &self.api_url)
            .field("token_file", &self.token_file)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// Socket Mode: where to connect and with which app-level token. (`Debug` is written by hand:
/// it must not print `--token`.)
#[derive(Clone, ClapArgs)]
pub struct SocketOpts {
    /// Web API base URL (default https://slack.com/api/). http:// is accepted only for loopback
    /// addresses (a local emulator) or with --insecure.
    #[arg(long, env = "SLACK_API_URL")]
    pub api_url: Option<String>,
    /// Read the app-level token (xapp-…) from this file (first line).
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// The app-level token itself (discouraged: visible in `ps`; prefer SLACK_APP_TOKEN or
    /// --token-file).
    #[arg(long, value_name = "TOKEN")]
    pub token: Option<String>,
    /// Allow http:// and ws:// to non-loopback hosts.
    #[arg(long)]
    pub insecure: bool,
}

impl std::fmt::Debug for SocketOpts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocketOpts")
            .field("api_url", &self.api_url)
            .field("token_file", &self.token_file)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// The Socket Mode commands.
#[derive(Debug, Subcommand)]
pub enum SocketCommand {
    /// Stream Socket Mode envelopes until Ctrl-C: every envelope is acked the moment it
    /// arrives, then printed (and given to --exec). Lifecycle lines go to stderr.
    Tail {
        /// Connection options.
        #[command(flatten)]
        opts: SocketOpts,
        /// What to print and run. The NDJSON line: envelope_id, type, event_id,
        /// retry_attempt, event_type, accepts_response_payload and the payload.
        #[command(flatten)]
        out: TailOutput,
        /// Sockets to keep open (1 to 10).
        #[arg(long, default_value_t = 2, value_name = "N")]
        connections: usize,
    },
}

/// The HTTP mode commands (Slack's Request URLs).
#[derive(Debug, Subcommand)]
pub enum HttpCommand {
    /// Serve a Request URL until Ctrl-C: every request Slack signs is verified, answered 200 at
    /// once (an empty ack), then printed (and given to --exec); anything unsigned, stale or
    /// badly signed is refused (401) and never printed. The HTTP twin of `socket tail`.
    Tail {
        /// Address to listen on (port 0: a free port). The Request URL is printed on stderr.
        #[arg(long, value_name = "ADDR")]
        listen: std::net::SocketAddr,
        /// The path Slack posts to (404 elsewhere).
        #[arg(long, default_value = "/slack/events", value_name = "PATH")]
        path: String,
        /// Read the app's signing secret from this file (first line); else SLACK_SIGNING_SECRET.
        #[arg(long, value_name = "PATH")]
        signing_secret_file: Option<PathBuf>,
        /// The installation store to look each request's workspace up in.
        #[command(flatten)]
        store: crate::installations::TailStoreOpts,
        /// What to print and run. The NDJSON line: kind, type, event_id, retry_num,
        /// retry_reason and the payload (with --store: workspace and installed).
        #[command(flatten)]
        out: TailOutput,
    },
}

/// What `socket tail` and `http tail` print and run, per item Slack delivers.
#[derive(Debug, ClapArgs)]
pub struct TailOutput {
    /// One JSON object per line (NDJSON).
    #[arg(long)]
    pub json: bool,
    /// Stop after this many.
    #[arg(long)]
    pub count: Option<u64>,
    /// Run this shell command once per item, with its JSON line on stdin (a shell-script bot).
    /// The ack never waits for it.
    #[arg(long, value_name = "CMD")]
    pub exec: Option<String>,
    /// Most --exec commands running at once (1 to 64).
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub exec_concurrency: usize,
}

/// Where the fleet's Redis is and which app's keys to use.
#[derive(Clone, Debug, ClapArgs)]
pub struct FleetOpts {
    /// The Redis (or Valkey) server: redis://[user:password@]host[:port][/db]. Its password is
    /// never printed.
    #[arg(long, env = "SLACK_RTM_REDIS_URL", hide_env_values = true, value_name = "URL",
          value_parser = parse_redis_url)]
    pub redis: RedisUrl,
    /// The app's name: names its Redis keys (slack-rtm:{NAME}:events, …). Gateways and tails of
    /// one app use the same.
    #[arg(long, default_value = "app", value_name = "NAME")]
    pub app: String,
}

fn parse_redis_url(s: &str) -> Result<RedisUrl, String> {
    Ok(RedisUrl::new(s))
}

/// The fleet commands: a Socket Mode app run as several processes over a Redis Stream.
#[derive(Debug, Subcommand)]
pub enum FleetCommand {
    /// Hold a share of the app's Socket Mode sockets and append every envelope to the fleet's
    /// Redis Stream; an envelope is acked only once Redis has it (Slack redelivers the others).
    /// Runs until Ctrl-C or SIGTERM; lifecycle and counts (every 10 s) go to stderr.
    Gateway {
        /// Socket Mode connection options.
        #[command(flatten)]
        opts: SocketOpts,
        /// Redis and the app's name.
        #[command(flatten)]
        fleet: FleetOpts,
        /// Sockets this gateway holds (1 to 10; the app's gateways share Slack's 10).
        #[arg(long, default_value_t = 2, value_name = "N")]
        connections: usize,
        /// Back-pressure: past this many unhandled entries in the stream, stop acking (Slack
        /// holds the events). Default 100000.
        #[arg(long, value_name = "N")]
        max_backlog: Option<u64>,
    },
    /// A worker: read the fleet's stream in consumer group G and print every event as one JSON
    /// line on stdout (written and flushed before it is acked). Ctrl-C or SIGTERM stops after
    /// the current event; counts go to stderr.
    Tail {
        /// Redis and the app's name.
        #[command(flatten)]
        fleet: FleetOpts,
        /// The consumer group: tails of one group share the events; each group gets them all.
        #[arg(long, value_name = "G")]
        group: String,
        /// This tail's name in the group (default <host>-<pid>); a tail restarted under the same
        /// name first takes back what it held.
        #[arg(long, value_name = "NAME")]
        consumer: Option<String>,
        /// Stop after this many events (handled and acked).
        #[arg(long, value_name = "N")]
        count: Option<u64>,
        /// An event held this long by a tail that did not ack it (it died) is taken over by
        /// another; looked for every tenth of it.
        #[arg(long, default_value_t = 30_000, value_name = "MS")]
        claim_idle_ms: u64,
        /// Deliveries of one event before it goes to the dead-letter stream
        /// (slack-rtm:{APP}:dead) instead.
        #[arg(long, default_value_t = 5, value_name = "N")]
        max_attempts: u32,
        /// Handle each event with `sh -c CMD`, its JSON line on stdin: exit status 0 means
        /// handled (the line is then printed and the event acked), anything else is a failure
        /// (retried, then dead-lettered). CMD may see an event more than once: make it
        /// idempotent (key on event_id). Its own output goes to stderr.
        #[arg(long, value_name = "CMD")]
        exec: Option<String>,
    },
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Call rtm.connect once and print the team, the connecting user, the socket URL's expiry
    /// and any warnings.
    Connect {
        /// Connection options.
        #[command(flatten)]
        conn: ConnOpts,
        /// RTM options.
        #[command(flatten)]
        rtm: RtmOpts,
        /// Print the answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Stream events until Ctrl-C. Reconnects are reported on stderr.
    Tail {
        /// Connection options.
        #[command(flatten)]
        conn: ConnOpts,
        /// RTM options.
        #[command(flatten)]
        rtm: RtmOpts,
        /// One JSON object per line (NDJSON) instead of human-readable lines.
        #[arg(long)]
        json: bool,
        /// Only events of these types (repeatable), e.g. --type message --type reaction_added.
        #[arg(long = "type", value_name = "TYPE")]
        types: Vec<String>,
        /// Only events in these channels (repeatable).
        #[arg(long = "channel", value_name = "CHANNEL")]
        channels: Vec<String>,
        /// Stop after this many printed events.
        #[arg(long)]
        count: Option<u64>,
        /// Subscribe to the presence of these users (repeatable).
        #[arg(long = "presence", value_name = "USER")]
        presence: Vec<String>,
    },
    /// Post messages through the Web API (chat.postMessage) and print each one's ts. Without
    /// --text, posts one message per line of standard input, paced by the rate limit. --rtm
    /// posts over an RTM socket instead (classic apps only).
    Send {
        /// Connection options.
        #[command(flatten)]
        conn: ConnOpts,
        /// RTM options (with --rtm).
        #[command(flatten)]
        rtm_opts: RtmOpts,
        /// Post over an RTM socket (rtm.connect) instead of the Web API: only classic apps' bot
        /// tokens and user tokens can.
        #[arg(long, conflicts_with = "blocks")]
        rtm: bool,
        /// The channel id (C…, G…, D…).
        #[arg(long)]
        channel: String,
        /// The text; read from stdin (one message per line) when absent.
        #[arg(long)]
        text: Option<String>,
        /// Reply in this thread.
        #[arg(long, value_name = "TS")]
        thread: Option<String>,
        /// Messages per second to send at most (Slack allows about 1 sustained).
        #[arg(long, default_value_t = 1.0)]
        rate: f64,
        /// Post one Block Kit message through chat.postMessage: a JSON array of blocks (or an
        /// object with `blocks`, as Block Kit Builder exports) read from FILE, or stdin with
        /// `-`. --text becomes the notification fallback.
        #[arg(long, value_name = "FILE|-")]
        blocks: Option<String>,
    },
    /// Upload files and share them in one message (files.getUploadURLExternal, the bytes
    /// streamed from disk, files.completeUploadExternal); prints each file's id. A progress
    /// bar on stderr when it is a terminal, none when piped.
    Upload {
        /// Connection options.
        #[command(flatten)]
        conn: ConnOpts,
        /// The files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The channel to share them in.
        #[arg(long)]
        channel: String,
        /// Share them in this thread.
        #[arg(long, value_name = "TS")]
        thread: Option<String>,
        /// The message shared with them.
        #[arg(long, value_name = "TEXT")]
        comment: Option<String>,
    },
    /// Pipe standard input into a streamed reply (chat.startStream / appendStream / stopStream)
    /// as it arrives, e.g. `some-llm-cli ask … | slack-rtm stream --channel C`. All of it is
    /// shown once, in order, whatever the stream's lifetime, length and rate limits (a long
    /// reply goes on in further messages). Prints each message's ts; exits 0 only when all
    /// of the input was posted.
    Stream {
        /// Connection options.
        #[command(flatten)]
        conn: ConnOpts,
        /// The channel id (C…, G…, D…).
        #[arg(long)]
        channel: String,
        /// Reply in this thread.
        #[arg(long, value_name = "TS")]
        thread: Option<String>,
        /// The user the reply is for (required by Slack outside a direct message).
        #[arg(long, value_name = "USER")]
        recipient: Option<String>,
        /// The recipient's workspace (with --recipient).
        #[arg(long, value_name = "TEAM")]
        team: Option<String>,
    },
    /// Call any Web API method and print its JSON answer (pretty on a terminal, compact when
    /// piped). Waits out 429s (Retry-After); reads are retried after 5xx, writes never.
    Api {
        /// Connection options.
        #[command(flatten)]
        conn: ConnOpts,
        /// The method, e.g. conversations.info.
        method: String,
        /// Arguments as key=value (strings).
        #[arg(value_name = "KEY=VALUE")]
        args: Vec<String>,
        /// A JSON object of arguments, sent as a JSON body (key=value pairs are added to it).
        #[arg(long, value_name = "BODY")]
        json: Option<String>,
    },
    /// Print a channel's messages (conversations.history), oldest first.
    History {
        /// Connection options.
        #[command(flatten)]
        conn: ConnOpts,
        /// The channel id (C…, G…, D…).
        #[arg(long)]
        channel: String,
        /// Only messages after this ts.
        #[arg(long, value_name = "TS")]
        since: Option<String>,
        /// The most recent N messages at most.
        #[arg(long, default_value_t = 100)]
        limit: usize,
        /// One JSON object per line (NDJSON): each message with the fields slack-rtm types.
        #[arg(long)]
        json: bool,
    },
    /// Run the local Slack emulator standalone: prints its API URL, a bot token, a classic
    /// token for RTM, an app-level token, the Socket Mode URL and a control URL. With an
    /// action (say, mention, command, click, submit, home, posted, acks), acts on a running
    /// emulator through its control URL instead.
    #[command(args_conflicts_with_subcommands = true)]
    Emulator {
        /// Port to listen on (0: any free port).
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Serve https:// and wss:// with a self-signed certificate (written to stdout as PEM).
        #[arg(long)]
        tls: bool,
        /// Port of the control API on 127.0.0.1 (0: any free port).
        #[arg(long, default_value_t = 0)]
        control_port: u16,
        /// Act on a running emulator.
        #[command(subcommand)]
        action: Option<crate::emulator::EmulatorAction>,
    },
    /// A live demo against the embedded emulator, no token needed: a bot answers simulated
    /// users who talk, type, change presence and trigger a reconnect; ends with a summary.
    Demo {
        /// How long to run (both protocols: half the time each).
        #[arg(long, default_value_t = 20)]
        seconds: u64,
        /// Print each summary as one JSON line (for tests and scripts): RTM's, then Socket
        /// Mode's.
        #[arg(long)]
        json: bool,
        /// Show only RTM: a classic bot answers in threads, a goodbye makes it reconnect.
        #[arg(long, conflicts_with = "socket_mode")]
        rtm: bool,
        /// Show only Socket Mode: a slash command answered through its ack and a mention
        /// answered through the Web API.
        #[arg(long)]
        socket_mode: bool,
    },
    /// Socket Mode (apps with an app-level token, xapp-…).
    Socket {
        /// The Socket Mode command.
        #[command(subcommand)]
        command: SocketCommand,
    },
    /// The OAuth installations an app keeps (many workspaces): list, show, delete. Tokens are
    /// never printed.
    Installations {
        /// The installations command.
        #[command(subcommand)]
        command: crate::installations::InstallationsCommand,
    },
    /// HTTP mode: serve a Request URL Slack posts signed requests to.
    Http {
        /// The HTTP mode command.
        #[command(subcommand)]
        command: HttpCommand,
    },
    /// Run a Socket Mode app as a fleet of processes over a Redis Stream: gateways hold the
    /// sockets, tails (workers) handle the events, nothing lost.
    Fleet {
        /// The fleet command.
        #[command(subcommand)]
        command: FleetCommand,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[test]
    fn debug_output_never_shows_the_token() {
        let args =
            Args::try_parse_from(["slack-rtm", "connect", "--token", "xoxb-secret-123"]).expect("parses");
        let Command::Connect { conn, .. } = &args.command else { panic!("connect") };
        assert_eq!(conn.token.as_deref(), Some("xoxb-secret-123"));
        let printed = format!("{args:?}");
        assert!(!printed.contains("secret"), "{printed}");
        assert!(printed.contains("<redacted>"), "{printed}");
    }

    #[test]
    fn fleet_debug_output_never_shows_the_token_or_the_redis_password() {
        let args = Args::try_parse_from([
            "slack-rtm",
            "fleet",
            "gateway",
            "--redis",
            "redis://u:pw-secret-9@cache:6380/1",
            "--token",
            "xapp-1-A1-2-secret",
        ])
        .expect("parses");
        let Command::Fleet { command: FleetCommand::Gateway { fleet, connections, max_backlog, .. } } =
            &args.command
        else {
            panic!("fleet gateway")
        };
        assert_eq!((fleet.app.as_str(), *connections, *max_backlog), ("app", 2, None));
        assert_eq!(fleet.redis.redacted(), "redis://cache:6380/1");
        let printed = format!("{args:?}");
        assert!(!printed.contains("secret"), "{printed}");
        assert!(printed.contains("redis://cache:6380/1"), "{printed}");
    }

    #[test]
    fn socket_debug_output_never_shows_the_app_token() {
        let args = Args::try_parse_from(["slack-rtm", "socket", "tail", "--token", "xapp-1-A1-2-secret"])
            .expect("parses");
        let Command::Socket { command: SocketCommand::Tail { opts, out, connections } } = &args.command
        else {
            panic!("socket tail")
        };
        assert_eq!(opts.token.as_deref(), Some("xapp-1-A1-2-secret"));
        assert_eq!((out.exec_concurrency, *connections), (4, 2));
        let printed = format!("{args:?}");
        assert!(!printed.contains("secret"), "{printed}");
        assert!(printed.contains("<redacted>"), "{printed}");
    }
}

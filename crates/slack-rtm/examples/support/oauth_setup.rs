//! The OAuth side of an example served over HTTP: `--store sqlite:PATH`, `SLACK_CLIENT_ID`,
//! `SLACK_CLIENT_SECRET`, `SLACK_SCOPES` (comma-separated bot scopes), optional
//! `SLACK_USER_SCOPES`, `SLACK_REDIRECT_URI` and `SLACK_STATE_SECRET` (default: the client
//! secret), and `SLACK_API_URL` (the authorize page is at its origin).

use slack_rtm::app::App;
use slack_rtm::app::http::HttpConfig;
use slack_rtm::app::oauth::{ClientSecret, InstallConfig, Installations, OAuthClient, StateSecret};
use slack_rtm::codec::ApiBase;
use slack_rtm_oauth::SqliteInstallationStore;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Plain `http://` (and `ws://`) only for an API on this machine.
pub fn is_loopback(url: &str) -> bool {
    let host = url.parse::<slack_rtm::transport::http::Uri>().ok().and_then(|u| u.host().map(str::to_owned));
    host.is_some_and(|h| {
        h == "localhost"
            || h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
    })
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn list(v: Option<String>) -> Vec<String> {
    v.unwrap_or_default().split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect()
}

/// `--store sqlite:PATH` from the command line.
pub fn store_path() -> Result<Option<String>, BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(i) = args.iter().position(|a| a == "--store") else { return Ok(None) };
    let url = args.get(i + 1).ok_or("--store needs a URL, e.g. sqlite:installs.db")?;
    let path = url.strip_prefix("sqlite:").ok_or("only --store sqlite:PATH is supported here")?;
    Ok(Some(path.to_owned()))
}

/// Whether the environment asks for the install flow (`SLACK_CLIENT_ID` set).
pub fn wanted() -> bool {
    var("SLACK_CLIENT_ID").is_some()
}

/// Makes `app` serve every workspace installed into the SQLite store at `--store`, and
/// `config` serve the install pages.
pub fn setup(app: &mut App, config: HttpConfig, is_loopback: bool) -> Result<HttpConfig, BoxError> {
    let path = store_path()?.ok_or("the install flow needs --store sqlite:PATH")?;
    let client_id = var("SLACK_CLIENT_ID").ok_or("SLACK_CLIENT_ID is not set")?;
    let secret = var("SLACK_CLIENT_SECRET").ok_or("SLACK_CLIENT_SECRET is not set")?;
    let scopes = list(var("SLACK_SCOPES"));
    if scopes.is_empty() {
        return Err("SLACK_SCOPES is not set (comma-separated bot scopes)".into());
    }
    let api = var("SLACK_API_URL").unwrap_or_else(|| "https://slack.com/api/".to_owned());
    let client = OAuthClient {
        client_id,
        client_secret: ClientSecret::new(secret.clone()),
        scopes,
        user_scopes: list(var("SLACK_USER_SCOPES")),
        redirect_uri: var("SLACK_REDIRECT_URI"),
        api_base: ApiBase::parse(&api, is_loopback)?,
    };
    let state_secret = StateSecret::new(var("SLACK_STATE_SECRET").unwrap_or(secret).into_bytes());
    let installations = Installations::new(SqliteInstallationStore::open(path)?);
    app.installations(installations.clone());
    Ok(config.install(InstallConfig::new(client, state_secret, &installations)))
}

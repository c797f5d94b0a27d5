//! OAuth v2, sans-IO: the authorize URL, the state, the redirect and `oauth.v2.access`.

use http::header::AUTHORIZATION;
use proptest::prelude::*;
use slack_rtm_codec::ApiBase;
use slack_rtm_codec::Token;
use slack_rtm_codec::oauth::{
    ClientSecret, OAuthClient, OAuthError, STATE_TTL, StateLedger, StateSecret, StateSigner,
    parse_access_response, parse_redirect,
};

const NONCE: &str = "n0nce-0123456789abcdef";
const BROWSER: &str = "browser-cookie-value";
const NOW: u64 = 1_700_000_000;

fn signer() -> StateSigner {
    StateSigner::new(StateSecret::new(b"a state secret of 32 bytes......".to_vec()))
}

fn client(base: &str) -> OAuthClient {
    OAuthClient {
        client_id: "111.222".into(),
        client_secret: ClientSecret::new("cl1ent-s3cret"),
        scopes: vec!["chat:write".into(), "commands".into()],
        user_scopes: vec!["search:read".into()],
        redirect_uri: Some("https://app.example/slack/oauth_redirect".into()),
        api_base: ApiBase::parse(base, true).unwrap(),
    }
}

#[test]
fn the_authorize_page_is_at_the_api_origin() {
    assert_eq!(client("https://slack.com/api/").authorize_page(), "https://slack.com/oauth/v2/authorize");
    assert_eq!(
        client("http://127.0.0.1:4000/api/").authorize_page(),
        "http://127.0.0.1:4000/oauth/v2/authorize"
    );
    let url = client("https://slack.com/api/").authorize_url("v1.1.abc.def");
    let (page, query) = url.split_once('?').unwrap();
    assert_eq!(page, "https://slack.com/oauth/v2/authorize");
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query).unwrap();
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    assert_eq!(get("client_id"), Some("111.222"));
    assert_eq!(get("scope"), Some("chat:write,commands"));
    assert_eq!(get("user_scope"), Some("search:read"));
    assert_eq!(get("redirect_uri"), Some("https://app.example/slack/oauth_redirect"));
    assert_eq!(get("state"), Some("v1.1.abc.def"));
    assert!(!url.contains("s3cret"));
}

#[test]
fn a_state_is_accepted_once_by_its_browser_within_ten_minutes() {
    let s = signer();
    let state = s.issue(NOW, NONCE, BROWSER).unwrap();
    let ok = s.verify(&state, Some(BROWSER), NOW + 599).unwrap();
    assert_eq!(ok.nonce, NONCE);
    assert_eq!(ok.expires_at, NOW + STATE_TTL.as_secs());
    assert_eq!(s.verify(&state, Some(BROWSER), NOW + 600), Err(OAuthError::StateExpired));
    assert_eq!(s.verify(&state, Some("another-browser"), NOW), Err(OAuthError::StateForged));
    assert_eq!(s.verify(&state, None, NOW), Err(OAuthError::StateNoBrowser));
    let other = StateSigner::new(StateSecret::new(b"another secret".to_vec()));
    assert_eq!(other.verify(&state, Some(BROWSER), NOW), Err(OAuthError::StateForged));
    let future = s.issue(NOW + 3600, NONCE, BROWSER).unwrap();
    assert_eq!(s.verify(&future, Some(BROWSER), NOW), Err(OAuthError::StateForged));
    assert_eq!(s.issue(NOW, "short", BROWSER), Err(OAuthError::BadNonce));
    assert_eq!(s.issue(NOW, "has.a.dot.in.it.0123", BROWSER), Err(OAuthError::BadNonce));
}

#[test]
fn the_ledger_refuses_a_second_use_and_forgets_expired_states() {
    let s = signer();
    let mut ledger = StateLedger::new(2);
    let a = s.verify(&s.issue(NOW, NONCE, BROWSER).unwrap(), Some(BROWSER), NOW).unwrap();
    assert_eq!(ledger.consume(&a, NOW), Ok(()));
    assert_eq!(ledger.consume(&a, NOW + 1), Err(OAuthError::StateReused));
    let b = s.verify(&s.issue(NOW, "nonce-bbbbbbbbbbbbbbbb", BROWSER).unwrap(), Some(BROWSER), NOW).unwrap();
    let c = s.verify(&s.issue(NOW, "nonce-cccccccccccccccc", BROWSER).unwrap(), Some(BROWSER), NOW).unwrap();
    assert_eq!(ledger.consume(&b, NOW), Ok(()));
    assert_eq!(ledger.consume(&c, NOW), Err(OAuthError::TooManyPendingStates), "full: refuse, never forget");
    assert_eq!(ledger.consume(&c, NOW + 600), Ok(()), "expired nonces leave");
    assert_eq!(ledger.len(), 1);
}

proptest! {
    #[test]
    fn any_change_to_a_state_is_refused(pos in 0usize..200, byte in any::<u8>()) {
        let s = signer();
        let state = s.issue(NOW, NONCE, BROWSER).unwrap();
        let mut bytes = state.clone().into_bytes();
        let i = pos % bytes.len();
        prop_assume!(bytes[i] != byte);
        bytes[i] = byte;
        let changed = String::from_utf8_lossy(&bytes).into_owned();
        prop_assume!(changed != state);
        prop_assert!(s.verify(&changed, Some(BROWSER), NOW).is_err());
    }

    #[test]
    fn truncated_or_extended_states_are_refused(cut in 0usize..80, tail in "[A-Za-z0-9._-]{1,8}") {
        let s = signer();
        let state = s.issue(NOW, NONCE, BROWSER).unwrap();
        let cut = cut % state.len();
        prop_assert_eq!(s.verify(&state[..cut], Some(BROWSER), NOW), Err(OAuthError::StateForged));
        let longer = format!("{state}{tail}");
        prop_assert_eq!(s.verify(&longer, Some(BROWSER), NOW), Err(OAuthError::StateForged));
    }
}

#[test]
fn the_redirect_gives_the_code_or_a_typed_error() {
    let r = parse_redirect("code=abc&state=v1.2.x.y").unwrap();
    assert_eq!((r.code.as_str(), r.state.as_str()), ("abc", "v1.2.x.y"));
    assert_eq!(parse_redirect("error=access_denied&state=s"), Err(OAuthError::AccessDenied));
    assert_eq!(parse_redirect("error=weird"), Err(OAuthError::Authorize("weird".into())));
    assert_eq!(parse_redirect("code=abc"), Err(OAuthError::MissingState));
    assert_eq!(parse_redirect("state=s"), Err(OAuthError::MissingCode));
}

fn form(req: &http::Request<Vec<u8>>) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes(req.body()).unwrap()
}

#[test]
fn the_code_and_refresh_requests_carry_the_secret_only_in_basic_auth() {
    let c = client("https://slack.com/api/");
    let req = c.code_request("the-code").unwrap();
    assert_eq!(req.method(), http::Method::POST);
    assert_eq!(req.uri(), "https://slack.com/api/oauth.v2.access");
    let auth = req.headers().get(AUTHORIZATION).unwrap();
    assert!(auth.is_sensitive());
    // base64("111.222:cl1ent-s3cret")
    assert_eq!(auth.to_str().unwrap(), "Basic MTExLjIyMjpjbDFlbnQtczNjcmV0");
    assert_eq!(
        form(&req),
        [
            ("code".into(), "the-code".into()),
            ("redirect_uri".into(), "https://app.example/slack/oauth_redirect".into())
        ]
    );
    assert!(!format!("{req:?}").contains("MTExLjIyMjpjbDFlbnQtczNjcmV0"));
    assert!(!format!("{c:?}").contains("s3cret"));
    let req = c.refresh_request(&Token::new("xoxe-1-refresh")).unwrap();
    assert_eq!(
        form(&req),
        [("grant_type".into(), "refresh_token".into()), ("refresh_token".into(), "xoxe-1-refresh".into())]
    );
    let mut empty = c.clone();
    empty.client_secret = ClientSecret::new("");
    assert!(matches!(empty.code_request("x"), Err(OAuthError::Build(_))));
}

fn answer(body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(200)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .unwrap()
}

#[test]
fn access_answers_parse_and_errors_are_typed() {
    let ok = parse_access_response(&answer(
        r#"{"ok":true,"access_token":"xoxb-1","token_type":"bot","bot_user_id":"U0","team":{"id":"T1"},"new":1}"#,
    ))
    .unwrap();
    assert_eq!(ok.team.unwrap().id, "T1");
    assert_eq!(ok.extra["new"], 1);
    for (code, want) in [
        ("invalid_code", OAuthError::InvalidCode),
        ("invalid_client_id", OAuthError::InvalidClientId),
        ("bad_client_secret", OAuthError::BadClientSecret),
        ("invalid_refresh_token", OAuthError::InvalidRefreshToken),
        ("bad_redirect_uri", OAuthError::BadRedirectUri),
    ] {
        let got = parse_access_response(&answer(&format!(r#"{{"ok":false,"error":"{code}"}}"#))).unwrap_err();
        assert_eq!(got, want);
        assert_eq!(got.reason(), code);
    }
    let other = parse_access_response(&answer(r#"{"ok":false,"error":"something_new"}"#)).unwrap_err();
    assert!(matches!(other, OAuthError::Api(_)), "{other:?}");
}

#[test]
fn the_browser_cookie_is_set_read_back_and_cleared() {
    use slack_rtm_codec::oauth::{BROWSER_COOKIE, browser_cookie, clear_browser_cookie, set_browser_cookie};
    let set = set_browser_cookie(BROWSER.replace('-', "_").as_str(), true).unwrap();
    assert!(set.starts_with(&format!("{BROWSER_COOKIE}=browser_cookie_value;")), "{set}");
    for attr in ["HttpOnly", "SameSite=Lax", "Secure", "Max-Age=600", "Path=/"] {
        assert!(set.contains(attr), "{attr} missing in {set}");
    }
    assert!(!set_browser_cookie(BROWSER, false).unwrap().contains("Secure"));
    assert_eq!(set_browser_cookie("a;b=c", true), Err(OAuthError::BadNonce));
    assert!(clear_browser_cookie(false).contains("Max-Age=0"));

    let mut headers = http::HeaderMap::new();
    assert_eq!(browser_cookie(&headers), None);
    headers.append("cookie", "other=1; slack-rtm-oauth-browserX=no".parse().unwrap());
    assert_eq!(browser_cookie(&headers), None, "only the exact name");
    headers.append("cookie", format!("a=b; {BROWSER_COOKIE}={BROWSER}; c=d").parse().unwrap());
    assert_eq!(browser_cookie(&headers), Some(BROWSER));
}

#[test]
fn a_nonce_from_random_bytes_is_a_valid_state_nonce_and_short_input_is_refused() {
    let signer = slack_rtm_codec::oauth::StateSigner::new(slack_rtm_codec::oauth::StateSecret::new(
        b"0123456789abcdef0123456789abcdef".to_vec(),
    ));
    let nonce = slack_rtm_codec::oauth::nonce_from_random(&[0xfb; 24]).unwrap();
    let browser = slack_rtm_codec::oauth::nonce_from_random(&[7; 16]).unwrap();
    assert_eq!(nonce.len(), 32);
    assert!(nonce.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
    let state = signer.issue(1_000, &nonce, &browser).unwrap();
    assert_eq!(signer.verify(&state, Some(&browser), 1_001).unwrap().nonce, nonce);
    assert!(slack_rtm_codec::oauth::nonce_from_random(&[1; 8]).is_err());
    assert!(slack_rtm_codec::oauth::nonce_from_random(&[1; 49]).is_err());
}

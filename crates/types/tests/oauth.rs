//! `oauth.v2.access` answers and installations.

use slack_rtm_types::oauth::{Installation, InstallationError, OAuthV2Access};

const FULL: &str = r##"{"ok":true,"app_id":"A1","access_token":"xoxb-bot-secret","token_type":"bot",
 "scope":"chat:write, commands","bot_user_id":"U0BOT","team":{"id":"T1","name":"One"},
 "enterprise":{"id":"E1","name":"Org"},"is_enterprise_install":false,
 "authed_user":{"id":"U1","scope":"search:read","access_token":"xoxp-user-secret","token_type":"user",
   "expires_in":43200,"refresh_token":"xoxe-1-user-refresh"},
 "incoming_webhook":{"url":"https://hooks.example/secret-hook","channel":"#g","channel_id":"C1",
   "configuration_url":"https://x.example/conf"},
 "expires_in":43200,"refresh_token":"xoxe-1-bot-refresh","future_field":{"a":1}}"##;

fn parse(s: &str) -> OAuthV2Access {
    serde_json::from_str(s).unwrap()
}

#[test]
fn a_code_exchange_becomes_an_installation_with_every_part() {
    let answer = parse(FULL);
    assert_eq!(answer.extra["future_field"]["a"], 1, "unknown fields are kept");
    let inst = Installation::from_access(answer, 1000).unwrap();
    assert_eq!(inst.team_id.as_ref().unwrap(), "T1");
    assert_eq!(inst.enterprise_id.as_ref().unwrap(), "E1");
    assert_eq!(inst.team_name.as_deref(), Some("One"));
    let bot = inst.bot.as_ref().unwrap();
    assert_eq!(bot.grant.token.expose_secret(), "xoxb-bot-secret");
    assert_eq!(bot.grant.scopes, ["chat:write", "commands"]);
    assert_eq!(bot.grant.expires_at, Some(44200));
    assert_eq!(bot.grant.refresh_token.as_ref().unwrap().expose_secret(), "xoxe-1-bot-refresh");
    assert_eq!(bot.user_id, "U0BOT");
    let user = inst.user.as_ref().unwrap();
    assert_eq!(user.user_id, "U1");
    let ug = user.grant.as_ref().unwrap();
    assert_eq!(ug.token.expose_secret(), "xoxp-user-secret");
    assert_eq!(ug.scopes, ["search:read"]);
    assert_eq!(ug.expires_at, Some(44200));
    assert_eq!(inst.incoming_webhook.as_ref().unwrap().channel_id.as_deref(), Some("C1"));
    assert_eq!(inst.installed_at, 1000);
}

#[test]
fn debug_never_shows_a_secret() {
    let answer = parse(FULL);
    let inst = Installation::from_access(answer.clone(), 1000).unwrap();
    for text in [format!("{answer:?}"), format!("{inst:?}"), format!("{inst:#?}")] {
        for secret in ["bot-secret", "user-secret", "bot-refresh", "user-refresh", "secret-hook"] {
            assert!(!text.contains(secret), "{secret} leaked in {text}");
        }
    }
}

#[test]
fn an_org_wide_install_has_no_team() {
    let answer = parse(
        r#"{"ok":true,"access_token":"xoxb-1","token_type":"bot","bot_user_id":"U0",
        "team":null,"enterprise":{"id":"E9"},"is_enterprise_install":true,"authed_user":{"id":"W1"}}"#,
    );
    let inst = Installation::from_access(answer, 0).unwrap();
    assert!(inst.is_enterprise_install);
    assert_eq!(inst.team_id, None);
    assert_eq!(inst.enterprise_id.as_ref().unwrap(), "E9");
    assert!(inst.user.as_ref().unwrap().grant.is_none());
}

#[test]
fn an_answer_without_team_or_token_is_refused() {
    let no_team = parse(r#"{"ok":true,"access_token":"xoxb-1","bot_user_id":"U0"}"#);
    assert_eq!(Installation::from_access(no_team, 0), Err(InstallationError::NoTeam));
    let no_token = parse(r#"{"ok":true,"team":{"id":"T1"},"authed_user":{"id":"U1"}}"#);
    assert_eq!(Installation::from_access(no_token, 0), Err(InstallationError::NoToken));
}

#[test]
fn a_refresh_replaces_the_token_it_names() {
    let mut inst = Installation::from_access(parse(FULL), 1000).unwrap();
    let bot = parse(
        r#"{"ok":true,"access_token":"xoxb-new","token_type":"bot","expires_in":100,
        "refresh_token":"xoxe-1-next","team":{"id":"T1"}}"#,
    );
    assert!(inst.apply_refresh(bot, 2000));
    let g = &inst.bot.as_ref().unwrap().grant;
    assert_eq!(g.token.expose_secret(), "xoxb-new");
    assert_eq!(g.expires_at, Some(2100));
    assert_eq!(g.refresh_token.as_ref().unwrap().expose_secret(), "xoxe-1-next");
    assert_eq!(g.scopes, ["chat:write", "commands"], "scopes kept when the answer has none");
    let user = parse(r#"{"ok":true,"access_token":"xoxp-new","token_type":"user","expires_in":5}"#);
    assert!(inst.apply_refresh(user, 3000));
    let ug = inst.user.as_ref().unwrap().grant.as_ref().unwrap();
    assert_eq!(ug.token.expose_secret(), "xoxp-new");
    assert_eq!(ug.expires_at, Some(3005));
    assert_eq!(ug.refresh_token.as_ref().unwrap().expose_secret(), "xoxe-1-user-refresh");
    assert!(!inst.apply_refresh(parse(r#"{"ok":true}"#), 0), "no token: nothing replaced");
}

#[test]
fn the_stored_form_reads_back_identically() {
    let mut inst = Installation::from_access(parse(FULL), 1000).unwrap();
    inst.bot.as_mut().unwrap().bot_id = Some("B1".into());
    let json = inst.to_json_with_secrets();
    assert_eq!(json["bot"]["grant"]["token"], "xoxb-bot-secret");
    let back = Installation::from_json_with_secrets(json).unwrap();
    assert_eq!(back, inst);
    let bad = Installation::from_json_with_secrets(serde_json::json!({"v": 99}));
    assert!(matches!(bad, Err(InstallationError::Stored(_))));
}

#[test]
fn rotating_tokens_are_due_for_refresh_before_they_expire() {
    // FULL: both tokens expire at 1000 + 43200 = 44200 and have refresh tokens.
    let mut inst = Installation::from_access(parse(FULL), 1000).unwrap();
    let bot = inst.bot.as_ref().unwrap().grant.clone();
    assert!(!bot.needs_refresh(44200 - 301, 300));
    assert!(bot.needs_refresh(44200 - 300, 300));
    assert!(!bot.is_expired(44199));
    assert!(bot.is_expired(44200));
    assert_eq!(inst.next_refresh_at(300), Some(44200 - 300));
    inst.user.as_mut().unwrap().grant.as_mut().unwrap().expires_at = Some(5000);
    assert_eq!(inst.next_refresh_at(300), Some(4700), "the sooner of the two");
    // Without a refresh token (rotation off) nothing is due, whatever the expiry.
    let plain = Installation::from_access(
        parse(r#"{"ok":true,"access_token":"xoxb-1","token_type":"bot","bot_user_id":"U0","team":{"id":"T1"},"expires_in":10}"#),
        0,
    )
    .unwrap();
    assert!(!plain.bot.as_ref().unwrap().grant.needs_refresh(100, 0));
    assert_eq!(plain.next_refresh_at(0), None);
}

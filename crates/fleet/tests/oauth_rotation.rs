//! Token rotation with two app instances on one real Redis store, against the emulator's
//! `oauth.v2.access` with a 4 s token lifetime (so a 14 s run sees several rotations).
#![cfg(feature = "testing")]

#[path = "../../slack-rtm/tests/oauth_support/mod.rs"]
mod oauth_support;

use oauth_support::*;
use slack_rtm::app::oauth::{Installations, RotationPolicy, Workspace};
use slack_rtm_emulator::GrantKind;
use slack_rtm_fleet::testing::RedisServer;
use slack_rtm_fleet::{FleetConfig, RedisInstallationStore};
use std::time::{Duration, Instant};

const LIFETIME: Duration = Duration::from_secs(4);
const MARGIN: Duration = Duration::from_secs(2);
const RUN: Duration = Duration::from_secs(14);

fn policy() -> RotationPolicy {
    RotationPolicy {
        margin: MARGIN,
        first_retry: Duration::from_millis(200),
        max_retry: Duration::from_secs(1),
        attempts: 3,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_redis_refresh_each_token_once_per_period_and_never_use_an_expired_one() {
    let redis = RedisServer::start().unwrap();
    let emu = emulator().await;
    emu.oauth().set_token_lifetime(Some(LIFETIME));
    let teams = ["T0AAAA001", "T0BBBB002"];
    let infos: Vec<_> = teams.iter().map(|t| emu.add_workspace(t, t)).collect();
    let store = |_| RedisInstallationStore::new(&FleetConfig::new(redis.url(), "rotation")).unwrap();
    let one = Installations::new(store(1)).rotate(oauth_client(&emu), policy());
    let two = Installations::new(store(2)).rotate(oauth_client(&emu), policy());
    let app_one = serve(&emu, pong_app(), &one).await;
    let app_two = serve(&emu, pong_app(), &two).await;
    for t in teams {
        assert_eq!(install(&emu, app_one.local_addr(), t).await.status, 200);
    }

    // Events from both workspaces all along, delivered to one instance then the other.
    let started = Instant::now();
    let mut pings = 0;
    while started.elapsed() < RUN {
        let target = if (started.elapsed().as_secs() / 3).is_multiple_of(2) { &app_one } else { &app_two };
        emu.set_request_url(Some(&target.url())).await.unwrap();
        for info in &infos {
            emu.in_team(info.team_id.as_str())
                .user(&info.installer)
                .say(&info.general_channel, "ping")
                .unwrap();
            pings += 1;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    until("the last pongs", || {
        emu.oauth().token_uses().iter().filter(|u| u.method == "chat.postMessage").count() >= pings
    })
    .await;

    let uses = emu.oauth().token_uses();
    if std::env::var_os("ROTATION_DEBUG").is_some() {
        let t0 = started;
        for c in emu.oauth().calls() {
            eprintln!(
                "call {:?} {:?} {:?} {:?}",
                c.at.saturating_duration_since(t0),
                c.grant,
                c.team_id,
                c.error
            );
        }
        for u in &uses {
            eprintln!(
                "use {:?} {:?} {:?} {:?}",
                u.at.saturating_duration_since(t0),
                u.method,
                u.team_id,
                u.error
            );
        }
    }
    assert!(
        emu.oauth().expired_token_uses().is_empty(),
        "never an expired token: {:?}",
        emu.oauth().expired_token_uses()
    );
    let posts: Vec<_> = uses.iter().filter(|u| u.method == "chat.postMessage").collect();
    assert!(posts.iter().all(|u| u.error.is_none()), "every pong went through: {posts:?}");

    let calls = emu.oauth().calls();
    let refreshes: Vec<_> = calls.iter().filter(|c| c.grant == GrantKind::RefreshToken).collect();
    assert!(refreshes.iter().all(|c| c.error.is_none()), "no refresh token used twice: {refreshes:?}");
    for t in teams {
        let at: Vec<Instant> = refreshes
            .iter()
            .filter(|c| c.team_id.as_ref().map(|x| x.as_str()) == Some(t))
            .map(|c| c.at)
            .collect();
        // One refresh per period (LIFETIME - MARGIN = 2 s, give or take the stored expiry's
        // whole second): at least one every 3 s, and never two within one period.
        let expected_min = (RUN.as_secs() / 3) as usize;
        assert!(at.len() >= expected_min, "{t}: {} refreshes in {RUN:?}", at.len());
        assert!(at.len() <= (RUN.as_secs() as usize) + 1, "{t}: {} refreshes in {RUN:?}", at.len());
        for w in at.windows(2) {
            assert!(w[1] - w[0] >= Duration::from_millis(900), "{t}: two refreshes {:?} apart", w[1] - w[0]);
        }
    }
    // Both instances see the same, current installation.
    let ws = Workspace { enterprise_id: None, team_id: Some(teams[0].into()) };
    let a = one.store().find(ws.clone(), None).await.unwrap().unwrap();
    let b = two.store().find(ws, None).await.unwrap().unwrap();
    assert_eq!(a.bot.unwrap().grant.token, b.bot.unwrap().grant.token);
    app_one.shutdown(Duration::from_secs(2)).await;
    app_two.shutdown(Duration::from_secs(2)).await;
}

//! The key exchange a TLS connection negotiates with the provider the crate features choose:
//! the post-quantum hybrid X25519MLKEM768 with `aws-lc-rs` (default), a classical group with
//! `ring` alone. The server is the emulator's TLS mode, which supports both kinds, so the
//! client's provider decides. CI runs this file with the default features and with
//! `--no-default-features --features ring,webpki-roots`.
#![cfg(all(
    any(feature = "aws-lc-rs", feature = "ring"),
    any(feature = "webpki-roots", feature = "native-roots")
))]

use rustls::NamedGroup;
use rustls::pki_types::{CertificateDer, ServerName};
use slack_rtm_emulator::{Emulator, EmulatorConfig};
use std::sync::Arc;
use tokio::net::TcpStream;

/// A TLS handshake with a TLS-mode emulator, with the features' provider and the emulator's
/// certificate as the only root; returns the negotiated group.
async fn negotiated_group() -> NamedGroup {
    let emu = Emulator::start(EmulatorConfig::default().tls(true)).await.unwrap();
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(emu.tls_root_cert_der().unwrap())).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(slack_rtm_hyper::crypto_provider().unwrap())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let tcp = TcpStream::connect(emu.local_addr()).await.unwrap();
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.unwrap();
    let (_, conn) = tls.get_ref();
    let group = conn.negotiated_key_exchange_group().expect("a finished handshake has a group").name();
    emu.shutdown().await;
    group
}

/// The default configuration (the one the transport and, through the facade, the sockets use)
/// is built on the same provider, with the same key-exchange preference.
fn default_config_groups() -> Vec<NamedGroup> {
    let config = slack_rtm_hyper::default_tls_config().unwrap();
    config.crypto_provider().kx_groups.iter().map(|g| g.name()).collect()
}

#[cfg(feature = "aws-lc-rs")]
#[tokio::test]
async fn aws_lc_rs_negotiates_x25519mlkem768_with_the_emulator() {
    assert_eq!(negotiated_group().await, NamedGroup::X25519MLKEM768);
    assert_eq!(default_config_groups().first(), Some(&NamedGroup::X25519MLKEM768), "preferred first");
}

#[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
#[tokio::test]
async fn ring_negotiates_a_classical_group_with_the_emulator() {
    let group = negotiated_group().await;
    let classical = [NamedGroup::X25519, NamedGroup::secp256r1, NamedGroup::secp384r1];
    assert!(classical.contains(&group), "{group:?}");
    let offered = default_config_groups();
    assert!(!offered.contains(&NamedGroup::X25519MLKEM768), "{offered:?}");
    assert!(offered.iter().all(|g| classical.contains(g)), "{offered:?}");
}

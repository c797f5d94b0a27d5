//! Optional TLS: a self-signed certificate for `127.0.0.1` and `localhost`, made at start.

use crate::EmulatorError;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

#[cfg(not(any(feature = "aws-lc-rs", feature = "ring")))]
compile_error!(
    "slack-rtm-emulator needs a TLS crypto provider: enable its `aws-lc-rs` (default) or `ring` feature"
);

/// The crypto provider the crate features choose (aws-lc-rs when both are on), passed
/// explicitly: with both providers in the graph rustls has no default.
fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    #[cfg(feature = "aws-lc-rs")]
    {
        Arc::new(rustls::crypto::aws_lc_rs::default_provider())
    }
    #[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
    {
        Arc::new(ring::provider())
    }
}

/// A ring provider for the emulator's own certificate only. rustls 0.23.48 deprecates
/// `rustls::crypto::ring::default_provider()` (no post-quantum key exchange, which is what the
/// opt-in `ring` feature chooses), so it is put together from rustls's undeprecated ring items:
/// all its cipher suites and classical groups, but only the one signature algorithm the
/// certificate `rcgen` makes here uses (ECDSA P-256 with SHA-256), for the client config that
/// trusts it. The client crates' full ring provider lives in `slack-rtm-hyper`, which the
/// emulator may not depend on.
#[cfg(all(feature = "ring", not(feature = "aws-lc-rs")))]
mod ring {
    use rustls::crypto::ring::{DEFAULT_CIPHER_SUITES, DEFAULT_KX_GROUPS, sign};
    use rustls::crypto::{
        CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms,
    };
    use rustls::{SignatureScheme, pki_types::PrivateKeyDer, sign::SigningKey};
    use std::sync::Arc;

    pub(super) fn provider() -> CryptoProvider {
        static P256: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
            all: &[webpki::ring::ECDSA_P256_SHA256],
            mapping: &[(SignatureScheme::ECDSA_NISTP256_SHA256, &[webpki::ring::ECDSA_P256_SHA256])],
        };
        CryptoProvider {
            cipher_suites: DEFAULT_CIPHER_SUITES.to_vec(),
            kx_groups: DEFAULT_KX_GROUPS.to_vec(),
            signature_verification_algorithms: P256,
            secure_random: &EcdsaFromRing,
            key_provider: &EcdsaFromRing,
        }
    }

    /// ring's random numbers; ECDSA keys (what `rcgen` generates) loaded by rustls.
    #[derive(Debug)]
    struct EcdsaFromRing;

    impl SecureRandom for EcdsaFromRing {
        fn fill(&self, out: &mut [u8]) -> Result<(), GetRandomFailed> {
            ::ring::rand::SecureRandom::fill(&::ring::rand::SystemRandom::new(), out)
                .map_err(|_| GetRandomFailed)
        }
    }

    impl KeyProvider for EcdsaFromRing {
        fn load_private_key(
            &self,
            der: PrivateKeyDer<'static>,
        ) -> Result<Arc<dyn SigningKey>, rustls::Error> {
            sign::any_ecdsa_type(&der)
        }
    }
}

/// The certificate and the acceptor built from it.
pub(crate) struct TlsMaterial {
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    pub acceptor: TlsAcceptor,
}

impl TlsMaterial {
    /// Makes a fresh self-signed certificate and a server config offering `h2` (if asked) and
    /// `http/1.1`, with the provider the crate features choose (see [`provider`]).
    pub fn generate(http2: bool) -> Result<Self, EmulatorError> {
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let certified =
            rcgen::generate_simple_self_signed(names).map_err(|e| EmulatorError::Tls(e.to_string()))?;
        let cert_der = certified.cert.der().to_vec();
        let cert_pem = certified.cert.pem();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| EmulatorError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(cert_der.clone())], key)
            .map_err(|e| EmulatorError::Tls(e.to_string()))?;
        config.alpn_protocols =
            if http2 { vec![b"h2".to_vec(), b"http/1.1".to_vec()] } else { vec![b"http/1.1".to_vec()] };
        Ok(Self { cert_der, cert_pem, acceptor: TlsAcceptor::from(Arc::new(config)) })
    }

    /// A client config (the same provider) trusting only this certificate, without ALPN.
    pub fn client_config(&self) -> Result<rustls::ClientConfig, EmulatorError> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.cert_der.clone()))
            .map_err(|e| EmulatorError::Tls(e.to_string()))?;
        Ok(rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| EmulatorError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth())
    }
}

//! Optional TLS: a self-signed certificate for `127.0.0.1` and `localhost`, made at start.

use crate::EmulatorError;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::sync::Arc;
use tokio_rustls::TlsAcceptor;

/// The certificate and the acceptor built from it.
pub(crate) struct TlsMaterial {
    pub cert_der: Vec<u8>,
    pub cert_pem: String,
    pub acceptor: TlsAcceptor,
}

impl TlsMaterial {
    /// Makes a fresh self-signed certificate and a server config offering `h2` (if asked) and
    /// `http/1.1`. The `ring` provider is passed explicitly (both providers may be in the graph).
    pub fn generate(http2: bool) -> Result<Self, EmulatorError> {
        let names = vec!["127.0.0.1".to_owned(), "localhost".to_owned()];
        let certified =
            rcgen::generate_simple_self_signed(names).map_err(|e| EmulatorError::Tls(e.to_string()))?;
        let cert_der = certified.cert.der().to_vec();
        let cert_pem = certified.cert.pem();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
        let mut config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| EmulatorError::Tls(e.to_string()))?
                .with_no_client_auth()
                .with_single_cert(vec![CertificateDer::from(cert_der.clone())], key)
                .map_err(|e| EmulatorError::Tls(e.to_string()))?;
        config.alpn_protocols =
            if http2 { vec![b"h2".to_vec(), b"http/1.1".to_vec()] } else { vec![b"http/1.1".to_vec()] };
        Ok(Self { cert_der, cert_pem, acceptor: TlsAcceptor::from(Arc::new(config)) })
    }

    /// A client config (ring provider) trusting only this certificate, without ALPN.
    pub fn client_config(&self) -> Result<rustls::ClientConfig, EmulatorError> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.cert_der.clone()))
            .map_err(|e| EmulatorError::Tls(e.to_string()))?;
        Ok(rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| EmulatorError::Tls(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth())
    }
}

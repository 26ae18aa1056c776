//! TLS with rustls: a configured certificate and key (PEM), or a
//! self-signed development certificate generated on first use.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

#[derive(Debug, Clone)]
pub enum TlsSource {
    /// PEM certificate chain and private key files.
    Files { cert: PathBuf, key: PathBuf },
    /// A self-signed certificate for localhost, kept at these paths (created
    /// if missing) so clients can trust it across restarts.
    Dev { cert: PathBuf, key: PathBuf },
}

impl TlsSource {
    pub fn acceptor(&self) -> Result<TlsAcceptor, String> {
        let (cert, key) = match self {
            TlsSource::Files { cert, key } => (cert, key),
            TlsSource::Dev { cert, key } => {
                if !cert.exists() || !key.exists() {
                    generate_dev_cert(cert, key)?;
                }
                (cert, key)
            }
        };
        let certs = read_certs(cert)?;
        let key = read_key(key)?;
        let _ = tokio_rustls::rustls::crypto::aws_lc_rs::default_provider().install_default();
        let mut config = ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .map_err(|e| format!("TLS certificate/key: {e}"))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("TLS certificate {}: {e}", path.display()))?;
    let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
        .collect::<Result<_, _>>()
        .map_err(|e| format!("TLS certificate {}: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("TLS certificate {}: no CERTIFICATE block found", path.display()));
    }
    Ok(certs)
}

fn read_key(path: &Path) -> Result<PrivateKeyDer<'static>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("TLS key {}: {e}", path.display()))?;
    rustls_pemfile::private_key(&mut pem.as_slice())
        .map_err(|e| format!("TLS key {}: {e}", path.display()))?
        .ok_or_else(|| format!("TLS key {}: no PRIVATE KEY block found", path.display()))
}

fn generate_dev_cert(cert: &Path, key: &Path) -> Result<(), String> {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()];
    let generated =
        rcgen::generate_simple_self_signed(names).map_err(|e| format!("generating a dev certificate: {e}"))?;
    let write = |p: &Path, s: String| {
        quasm_controller::write_new_private(p, s.as_bytes()).map_err(|e| format!("writing {}: {e}", p.display()))
    };
    write(key, generated.key_pair.serialize_pem())?;
    write(cert, generated.cert.pem())?;
    Ok(())
}

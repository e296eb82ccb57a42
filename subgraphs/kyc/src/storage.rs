//! Encrypted object storage through the `object_store` crate: the local filesystem by default
//! (`file:///dir`), any S3-compatible store by configuration (`s3://bucket/prefix`, endpoint and
//! credentials from the standard `AWS_*` variables). Only ciphertext is ever written.

use std::sync::Arc;

use anyhow::Context as _;
use bytes::Bytes;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::crypto::Vault;

/// Sealed blobs under opaque paths.
#[derive(Clone)]
pub struct ObjectVault {
    store: Arc<dyn ObjectStore>,
    prefix: Path,
    vault: Vault,
}

impl ObjectVault {
    pub fn from_url(url: &str, vault: Vault) -> anyhow::Result<Self> {
        let parsed = url::Url::parse(url).context("KYC_OBJECT_STORE_URL is not a URL")?;
        let (store, prefix): (Arc<dyn ObjectStore>, Path) = match parsed.scheme() {
            "file" => {
                let dir = parsed
                    .to_file_path()
                    .map_err(|()| anyhow::anyhow!("KYC_OBJECT_STORE_URL is not a local path"))?;
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                let fs = LocalFileSystem::new_with_prefix(&dir)
                    .context("opening the object directory")?;
                (Arc::new(fs), Path::default())
            }
            "s3" => {
                let s3 = AmazonS3Builder::from_env()
                    .with_url(url)
                    .build()
                    .context("configuring the S3 object store")?;
                (Arc::new(s3), Path::from(parsed.path().trim_matches('/')))
            }
            other => anyhow::bail!("unsupported object store scheme {other:?}"),
        };
        Ok(Self {
            store,
            prefix,
            vault,
        })
    }

    fn location(&self, key: &str) -> Path {
        self.prefix.parts().chain(Path::from(key).parts()).collect()
    }

    /// Encrypt `plaintext` (bound to `key`) on the blocking pool, then store it. Returns the
    /// master key id the object was sealed under.
    pub async fn put(&self, key: &str, plaintext: Bytes) -> anyhow::Result<String> {
        let vault = self.vault.clone();
        let context = key.as_bytes().to_vec();
        let sealed = tokio::task::spawn_blocking(move || vault.seal(&context, &plaintext))
            .await
            .context("encryption task")?;
        self.store
            .put(&self.location(key), sealed.into())
            .await
            .context("writing the object")?;
        Ok(self.vault.current_key_id().to_owned())
    }

    /// Read and decrypt (on the blocking pool) the object at `key`.
    pub async fn get(&self, key: &str) -> anyhow::Result<Vec<u8>> {
        let sealed = self
            .store
            .get(&self.location(key))
            .await
            .context("reading the object")?
            .bytes()
            .await
            .context("reading the object")?;
        let vault = self.vault.clone();
        let context = key.as_bytes().to_vec();
        tokio::task::spawn_blocking(move || vault.open(&context, &sealed))
            .await
            .context("decryption task")?
            .context("decrypting the object")
    }

    /// Idempotent: an object already gone counts as deleted.
    pub async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match self.store.delete(&self.location(key)).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(anyhow::Error::new(e).context("deleting the object")),
        }
    }

    /// Readiness: the store answers a listing.
    pub async fn reachable(&self) -> anyhow::Result<()> {
        use futures::StreamExt;
        let mut listing = self.store.list(Some(&self.prefix));
        match listing.next().await {
            Some(Err(e)) => Err(e.into()),
            _ => Ok(()),
        }
    }
}

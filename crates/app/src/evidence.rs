//! Reports' evidence files, kept out of the database: in the data folder's `evidence/`,
//! each named by its SHA-256 and readable by its owner only. What they may take is limited
//! in total and by a floor of free space the disk always keeps, so evidence can never fill
//! the disk that ballots are written to.

use crate::files::write_owner_only;
use minping_domain::{report::NewEvidence, settings::EvidenceSettings};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// Why evidence was not kept.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// Keeping it would pass the total allowed or the free-space floor.
    #[error("there is no room for more evidence now; send the report without files, or try later")]
    Full,
    /// The file system failed.
    #[error("evidence file: {0}")]
    Io(#[from] std::io::Error),
}

/// The evidence folder and its limits.
#[derive(Debug, Clone)]
pub struct EvidenceFiles {
    dir: PathBuf,
    limits: EvidenceSettings,
}

const MIB: u64 = 1024 * 1024;

impl EvidenceFiles {
    /// The `evidence/` folder of a data folder, under `limits`.
    pub fn new(data: &Path, limits: EvidenceSettings) -> Self {
        Self {
            dir: data.join("evidence"),
            limits,
        }
    }

    fn path(&self, sha256: &str) -> Option<PathBuf> {
        (sha256.len() == 64 && sha256.bytes().all(|b| b.is_ascii_hexdigit()))
            .then(|| self.dir.join(sha256.to_ascii_lowercase()))
    }

    /// Whether `adding` more bytes fit: the total stays within the limit (`stored` is what
    /// the evidence takes now) and the disk keeps its floor of free space.
    pub fn room_for(&self, stored: u64, adding: u64) -> Result<(), EvidenceError> {
        if adding == 0 {
            return Ok(());
        }
        if stored.saturating_add(adding) > self.limits.max_total_mib.saturating_mul(MIB) {
            return Err(EvidenceError::Full);
        }
        self.create_dir()?;
        let free = free_bytes(&self.dir)?;
        let floor = self.limits.free_space_floor_mib.saturating_mul(MIB);
        if free < floor.saturating_add(adding) {
            return Err(EvidenceError::Full);
        }
        Ok(())
    }

    fn create_dir(&self) -> std::io::Result<()> {
        let mut folder = std::fs::DirBuilder::new();
        folder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            folder.mode(0o700);
        }
        folder.create(&self.dir)
    }

    /// Writes each file (owner-only, flushed to disk, under its hash: a file sent twice is
    /// kept once). Blocking: run it off the async threads.
    pub fn keep(&self, files: &[NewEvidence]) -> Result<(), EvidenceError> {
        self.create_dir()?;
        for file in files {
            let sha = hex::encode(Sha256::digest(file.bytes()));
            let path = self.path(&sha).expect("a SHA-256 in hex names a file");
            // Kept once: a file already there with this content stays; one that no longer
            // has it (damaged on disk) is written anew.
            if self.read(&sha)?.is_some() {
                continue;
            }
            let temp = self
                .dir
                .join(format!(".{sha}.{:016x}.part", rand::random::<u64>()));
            write_owner_only(&temp, file.bytes())?;
            std::fs::rename(&temp, &path)?;
        }
        Ok(())
    }

    /// The content of the file with this SHA-256, checked against it; `None` if it is
    /// missing or no longer matches.
    pub fn read(&self, sha256: &str) -> std::io::Result<Option<Vec<u8>>> {
        let Some(path) = self.path(sha256) else {
            return Ok(None);
        };
        match std::fs::read(path) {
            Ok(bytes) if hex::encode(Sha256::digest(&bytes)) == sha256.to_ascii_lowercase() => {
                Ok(Some(bytes))
            }
            Ok(_) => Ok(None),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// Bytes an unprivileged writer may still use on the disk holding `dir`.
fn free_bytes(dir: &Path) -> std::io::Result<u64> {
    let stat = rustix::fs::statvfs(dir).map_err(std::io::Error::from)?;
    Ok(stat.f_bavail.saturating_mul(stat.f_frsize))
}

#[cfg(test)]
mod tests {
    use super::*;
    use minping_domain::report::check_evidence;

    fn png() -> Vec<u8> {
        let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
        bytes.extend_from_slice(&[0u8; 64]);
        bytes
    }

    #[test]
    fn evidence_is_kept_by_hash_owner_only_and_read_back_checked() {
        let dir = tempfile::tempdir().unwrap();
        let files = EvidenceFiles::new(dir.path(), EvidenceSettings::default());
        let evidence = check_evidence([("photo.png".to_string(), png())]).unwrap();
        files.keep(&evidence).unwrap();
        let sha = hex::encode(Sha256::digest(png()));
        assert_eq!(files.read(&sha).unwrap(), Some(png()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("evidence").join(&sha))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // A file changed on disk no longer reads as the evidence it was.
        std::fs::write(dir.path().join("evidence").join(&sha), b"tampered").unwrap();
        assert_eq!(files.read(&sha).unwrap(), None);
        assert_eq!(files.read("../../etc/passwd").unwrap(), None);
    }

    #[test]
    fn the_total_and_the_free_space_floor_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        let limits = EvidenceSettings {
            max_total_mib: 100,
            free_space_floor_mib: 0,
            per_client_mib_per_hour: 60,
        };
        let files = EvidenceFiles::new(dir.path(), limits.clone());
        assert!(files.room_for(99 * MIB, MIB).is_ok());
        assert!(matches!(
            files.room_for(99 * MIB, MIB + 1),
            Err(EvidenceError::Full)
        ));
        // A floor larger than any disk refuses everything but nothing.
        let floor = EvidenceFiles::new(
            dir.path(),
            EvidenceSettings {
                free_space_floor_mib: u64::MAX / MIB,
                ..limits
            },
        );
        assert!(matches!(floor.room_for(0, 1), Err(EvidenceError::Full)));
        assert!(floor.room_for(0, 0).is_ok());
    }
}

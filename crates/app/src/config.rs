//! A deployment's configuration, read from its data folder: the settings (`minping.toml`),
//! the accountability rules (`rules.toml`) and the key one-time codes are digested with
//! (`code.key`). Each file is written with its documented defaults (the key: random) the
//! first time a folder is used, so a new deployment needs no editing.

use minping_domain::{Settings, rules::Rules};
use std::{
    fmt,
    path::{Path, PathBuf},
};

/// Everything a deployment is configured with.
#[derive(Clone)]
pub struct Config {
    /// The data folder.
    pub data: PathBuf,
    /// A `postgres://` URL; without one the SQLite file `minping.db` in the data folder.
    pub database_url: Option<String>,
    /// `minping.toml`.
    pub settings: Settings,
    /// `rules.toml`.
    pub rules: Rules,
    /// `code.key`.
    pub code_key: CodeKey,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("data", &self.data)
            .field("database_url", &self.database_url.as_ref().map(|_| "…"))
            .field("settings", &self.settings)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

/// Why a data folder's configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A file or the folder could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// Which.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A file is there but not valid.
    #[error("{path} is not valid: {message}")]
    Invalid {
        /// Which.
        path: PathBuf,
        /// What is wrong with it.
        message: String,
    },
}

/// The secret one-time codes and tracking codes are derived and digested with. It lives in
/// the data folder, outside the database, so a dump alone cannot be searched for codes; every
/// node serving one database needs the same file.
#[derive(Clone, PartialEq, Eq)]
pub struct CodeKey(Vec<u8>);

impl CodeKey {
    /// The shortest key accepted, in bytes.
    pub const MIN_LEN: usize = 16;

    /// A key from its bytes; `None` if shorter than [`CodeKey::MIN_LEN`].
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        (bytes.len() >= Self::MIN_LEN).then(|| Self(bytes.to_vec()))
    }

    /// A new random key of 32 bytes.
    pub fn generate() -> Self {
        Self(rand::random::<[u8; 32]>().to_vec())
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeKey(…)")
    }
}

impl Config {
    /// Reads the configuration of the data folder `data` (created if missing), writing each
    /// file's defaults first if it is absent.
    pub fn load(data: &Path, database_url: Option<&str>) -> Result<Self, ConfigError> {
        // A new data folder is its owner's only: it holds the code key, the database and
        // the panel's personal data.
        let mut folder = std::fs::DirBuilder::new();
        folder.recursive(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            folder.mode(0o700);
        }
        folder.create(data).map_err(|source| ConfigError::Io {
            path: data.to_path_buf(),
            source,
        })?;
        let settings = read_or_write(&data.join("minping.toml"), &Settings::default_toml(), |t| {
            Settings::from_toml(t).map_err(|e| e.to_string())
        })?;
        let rules = read_or_write(&data.join("rules.toml"), Rules::default_toml(), |t| {
            Rules::from_toml(t).map_err(|e| e.to_string())
        })?;
        let code_key = load_code_key(&data.join("code.key"))?;
        Ok(Self {
            data: data.to_path_buf(),
            database_url: database_url.map(String::from),
            settings,
            rules,
            code_key,
        })
    }
}

/// Reads a settings file, writing `default` there first if it does not exist.
fn read_or_write<T>(
    path: &Path,
    default: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<T, ConfigError> {
    let io = |source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    };
    if !path.exists() {
        std::fs::write(path, default).map_err(io)?;
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    parse(&text).map_err(|message| ConfigError::Invalid {
        path: path.to_path_buf(),
        message,
    })
}

/// Reads `code.key` (hex), creating it with a random key, readable by its owner only, if absent.
fn load_code_key(path: &Path) -> Result<CodeKey, ConfigError> {
    let io = |source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    };
    if !path.exists() {
        write_private(path, hex::encode(CodeKey::generate().as_bytes()).as_bytes()).map_err(io)?;
    }
    let text = std::fs::read_to_string(path).map_err(io)?;
    let invalid = |message: &str| ConfigError::Invalid {
        path: path.to_path_buf(),
        message: message.into(),
    };
    let bytes = hex::decode(text.trim()).map_err(|_| invalid("not a hex key"))?;
    CodeKey::from_bytes(&bytes).ok_or_else(|| invalid("the key is shorter than 16 bytes"))
}

/// Creates a file only its owner can read, and flushes it to disk.
fn write_private(path: &Path, content: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(content)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_data_folder_gets_documented_defaults_and_a_private_key_that_stays() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let config = Config::load(&data, None).unwrap();
        assert_eq!(config.settings, Settings::default());
        assert_eq!(config.rules, Rules::default());
        assert_eq!(config.code_key.as_bytes().len(), 32);
        for file in ["minping.toml", "rules.toml", "code.key"] {
            assert!(data.join(file).exists(), "{file}");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(data.join("code.key"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key is readable by its owner only");
            let folder = std::fs::metadata(&data).unwrap().permissions().mode();
            assert_eq!(folder & 0o077, 0, "the data folder is its owner's only");
        }
        let again = Config::load(&data, Some("postgres://x")).unwrap();
        assert!(again.code_key == config.code_key, "the key is kept");
        assert_eq!(again.database_url.as_deref(), Some("postgres://x"));
    }

    #[test]
    fn a_bad_file_is_named_with_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("rules.toml"), "[removal]\nhead = 2").unwrap();
        let e = Config::load(dir.path(), None).unwrap_err().to_string();
        assert!(e.contains("rules.toml") && e.contains("head"), "{e}");
        std::fs::write(dir.path().join("rules.toml"), "").unwrap();
        std::fs::write(dir.path().join("code.key"), "abcd").unwrap();
        let e = Config::load(dir.path(), None).unwrap_err().to_string();
        assert!(e.contains("code.key") && e.contains("16 bytes"), "{e}");
    }
}

//! Files inbound creates or rewrites.
//!
//! What it creates, the database, its folder and the plugin cache, is the
//! owner's alone (folders 0700, files 0600): they hold every event body and
//! incident. What it rewrites, `config.toml` in `inbound sources add`, keeps
//! its mode, owner and symlinks, and is replaced atomically: the new text is
//! written and flushed beside the real file, then renamed over it, so a crash
//! leaves the old file or the new one, never half of one.

use anyhow::Context;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Creates `dir` and any missing parent, each new one owner-only. Folders
/// that already exist keep their mode: the operator chose it.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Creates `path` empty and owner-only if it does not exist; an existing
/// file is left as it is.
pub fn create_private_file(path: &Path) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(error),
    }
}

/// Creates (or truncates) `path` for writing, owner-only when it is new.
pub fn create_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)
}

/// Writes `contents` to `target` atomically, owner-only.
pub fn write_private(target: &Path, contents: &[u8]) -> io::Result<()> {
    let dir = target.parent().unwrap_or(Path::new("."));
    // tempfile creates its files 0600.
    let mut staged = tempfile::NamedTempFile::new_in(dir)?;
    staged.write_all(contents)?;
    staged.persist(target).map_err(|error| error.error)?;
    Ok(())
}

/// Replaces the file `path` names, through any symlinks, with `contents`,
/// keeping its mode and owner. Nothing changes when it fails.
pub fn replace_keeping_metadata(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let target = fs::canonicalize(path)
        .with_context(|| format!("cannot find the file {} names", path.display()))?;
    let metadata =
        fs::metadata(&target).with_context(|| format!("cannot read {}", target.display()))?;
    let dir = target.parent().unwrap_or(Path::new("/"));
    let mut staged = tempfile::Builder::new()
        .prefix(".inbound-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .with_context(|| format!("cannot write a file in {}", dir.display()))?;
    staged.write_all(contents)?;
    keep_owner(staged.as_file(), &metadata, &target)?;
    fs::set_permissions(staged.path(), metadata.permissions())
        .with_context(|| format!("cannot give the new file the mode of {}", target.display()))?;
    staged.as_file().sync_all()?;
    staged
        .persist(&target)
        .map_err(|error| error.error)
        .with_context(|| format!("cannot replace {}", target.display()))?;
    // The rename itself is durable once the folder is.
    File::open(dir).and_then(|dir| dir.sync_all()).ok();
    Ok(())
}

#[cfg(unix)]
fn keep_owner(staged: &File, original: &fs::Metadata, target: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let created = staged.metadata()?;
    if (created.uid(), created.gid()) == (original.uid(), original.gid()) {
        return Ok(());
    }
    std::os::unix::fs::fchown(staged, Some(original.uid()), Some(original.gid())).with_context(
        || {
            format!(
                "cannot keep the owner of {} (uid {}, gid {}); run the command as that user or as root",
                target.display(),
                original.uid(),
                original.gid()
            )
        },
    )
}

#[cfg(not(unix))]
fn keep_owner(_: &File, _: &fs::Metadata, _: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt, symlink};

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().mode() & 0o777
    }

    #[test]
    fn a_replaced_file_keeps_its_mode_and_its_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("real.toml");
        fs::write(&real, "old").unwrap();
        fs::set_permissions(&real, fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.path().join("link.toml");
        symlink(&real, &link).unwrap();
        replace_keeping_metadata(&link, b"new").unwrap();
        assert!(fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(fs::read_to_string(&real).unwrap(), "new");
        assert_eq!(mode(&real), 0o640);
        let names: Vec<_> =
            fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 2, "no staged file is left behind: {names:?}");
    }

    #[test]
    fn created_folders_and_files_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        create_private_dir(&nested).unwrap();
        assert_eq!((mode(&dir.path().join("a")), mode(&nested)), (0o700, 0o700));
        let file = nested.join("db");
        create_private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        write_private(&nested.join("artifact"), b"x").unwrap();
        assert_eq!(mode(&nested.join("artifact")), 0o600);
        assert_eq!(fs::metadata(&file).unwrap().uid(), fs::metadata(&nested).unwrap().uid());
    }
}

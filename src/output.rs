//! Output files written atomically: a reader (or a later run) sees either the old file, no
//! file, or the complete new one — never a partial file, whenever the process is killed.
//!
//! Every command that writes a file (`dedup -o`, `sketch -o`, `check -o`, the baseline,
//! `check --init`) goes through [`AtomicFile`]:
//!
//! - On Linux the data goes to an *unnamed* file (`O_TMPFILE`) in the output's directory: a
//!   process killed while writing leaves nothing behind, the kernel frees it. When complete it
//!   is linked into place under the output's name (`linkat`), which is atomic when there is
//!   no file there yet. Replacing an existing file needs a rename, so the file is linked under
//!   a temporary name first and renamed over the output: only a kill between those two calls
//!   leaves a named temporary file.
//! - Where `O_TMPFILE` is not supported (other systems, some file systems) the data goes to a
//!   named temporary file beside the output, renamed over it when complete. Setting
//!   `DEJA_OUTPUT_NAMED=1` in the environment chooses this way everywhere (the tests use it).
//!
//! Temporary names are `.NAME.deja-tmp-XXXXXXXXXXXXXXXX` and their writer holds a `flock` on
//! them while it lives. Creating an output removes the temporary files of that output whose
//! lock nobody holds: those a killed run left. [`abandon_all`] removes those of this process
//! (for a SIGINT/SIGTERM handler, which then exits).

use crate::error::{Error, Result};
use rustix::fs::{AtFlags, FlockOperation, Mode, OFlags};
use std::fs::File;
use std::io::{self, Seek, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What makes a temporary file ours: `.NAME` + this + 16 hex digits.
const TMP_MARK: &str = ".deja-tmp-";

/// Named temporary files of this process, and whether [`abandon_all`] ran (then nothing more is
/// published). A commit holds the lock from its first name to its last, so a signal handler
/// sees a commit either not begun or finished.
static IN_FLIGHT: Mutex<(Vec<PathBuf>, bool)> = Mutex::new((Vec::new(), false));

fn in_flight() -> std::sync::MutexGuard<'static, (Vec<PathBuf>, bool)> {
    // A panic while the lock was held leaves the list valid: keep using it.
    IN_FLIGHT.lock().unwrap_or_else(|p| p.into_inner())
}

/// Removes the named temporary files this process is writing and makes later commits fail. For
/// a signal handler that is about to exit: an unnamed file needs nothing, the kernel frees it.
pub fn abandon_all() {
    let mut g = in_flight();
    g.1 = true;
    for p in g.0.drain(..) {
        let _ = std::fs::remove_file(p);
    }
}

/// A file being written in place of `target`; [`AtomicFile::commit`] publishes it, dropping it
/// uncommitted leaves `target` as it was.
#[derive(Debug)]
pub struct AtomicFile {
    file: File,
    dir: OwnedFd,
    dir_path: PathBuf,
    name: String,
    target: PathBuf,
    /// The temporary name of a named file, `None` for an unnamed one.
    tmp: Option<String>,
}

impl AtomicFile {
    /// Starts writing `target` (created with mode 0666 less the umask, as `File::create`),
    /// after removing temporary files that killed runs left for it.
    pub fn create(target: &Path) -> Result<AtomicFile> {
        let err = |e: io::Error| Error::Io {
            path: target.to_path_buf(),
            source: e,
        };
        let (dir_path, name) = split(target).map_err(err)?;
        let dir = rustix::fs::open(
            &dir_path,
            OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| err(e.into()))?;
        remove_stale(&dir, &dir_path, &name);
        #[cfg(target_os = "linux")]
        if std::env::var_os("DEJA_OUTPUT_NAMED").is_none_or(|v| v != "1") {
            match rustix::fs::openat(
                &dir,
                ".",
                OFlags::TMPFILE | OFlags::RDWR | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o666),
            ) {
                Ok(fd) => {
                    let file = File::from(fd);
                    // Held while it lives: a cleaner never takes the name it gets at commit.
                    rustix::fs::flock(&file, FlockOperation::LockExclusive)
                        .map_err(|e| err(e.into()))?;
                    return Ok(AtomicFile {
                        file,
                        dir,
                        dir_path,
                        name,
                        target: target.to_path_buf(),
                        tmp: None,
                    });
                }
                // Not supported by this kernel or file system: a named file below.
                Err(e)
                    if e == rustix::io::Errno::OPNOTSUPP
                        || e == rustix::io::Errno::ISDIR
                        || e == rustix::io::Errno::INVAL
                        || e == rustix::io::Errno::NOENT => {}
                Err(e) => return Err(err(e.into())),
            }
        }
        Self::create_named(target, dir, dir_path, name).map_err(err)
    }

    /// The fallback: a named temporary file beside `target`, locked while it lives.
    fn create_named(
        target: &Path,
        mut dir: OwnedFd,
        mut dir_path: PathBuf,
        mut name: String,
    ) -> io::Result<AtomicFile> {
        loop {
            let tmp = tmp_name(&name);
            let mut g = in_flight();
            let fd = match rustix::fs::openat(
                &dir,
                tmp.as_str(),
                OFlags::CREATE | OFlags::EXCL | OFlags::RDWR | OFlags::CLOEXEC,
                Mode::from_raw_mode(0o666),
            ) {
                Ok(fd) => fd,
                Err(rustix::io::Errno::EXIST) => continue,
                Err(e) => return Err(e.into()),
            };
            g.0.push(dir_path.join(&tmp));
            drop(g);
            let me = AtomicFile {
                file: File::from(fd),
                dir,
                dir_path,
                name,
                target: target.to_path_buf(),
                tmp: Some(tmp),
            };
            rustix::fs::flock(&me.file, FlockOperation::LockExclusive)?;
            // A cleaner may have taken the name between its creation and the lock; then the
            // name is gone and this file must not be published: take another.
            if me.still_named() {
                return Ok(me);
            }
            (dir, dir_path, name) = me.forget()?;
        }
    }

    fn still_named(&self) -> bool {
        let Some(tmp) = &self.tmp else { return true };
        let named = rustix::fs::statat(&self.dir, tmp.as_str(), AtFlags::SYMLINK_NOFOLLOW);
        let mine = rustix::fs::fstat(&self.file);
        matches!((named, mine), (Ok(a), Ok(b)) if a.st_ino == b.st_ino && a.st_dev == b.st_dev)
    }

    /// Gives back the directory without removing anything (the name is not ours any more).
    fn forget(mut self) -> io::Result<(OwnedFd, PathBuf, String)> {
        if let Some(tmp) = self.tmp.take() {
            let p = self.dir_path.join(tmp);
            in_flight().0.retain(|x| *x != p);
        }
        Ok((
            self.dir.try_clone()?,
            self.dir_path.clone(),
            self.name.clone(),
        ))
    }

    /// The file being written (to set its length, read it back, …).
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The path the file will have.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// True when the data goes to an unnamed (`O_TMPFILE`) file.
    pub fn is_unnamed(&self) -> bool {
        self.tmp.is_none()
    }

    /// Syncs the data and puts the file in place of the target, replacing it atomically.
    pub fn commit(self) -> Result<()> {
        self.publish(true)
    }

    /// As [`AtomicFile::commit`], but fails with `AlreadyExists` (and leaves the target as it
    /// is) when the target exists.
    pub fn commit_new(self) -> Result<()> {
        self.publish(false)
    }

    fn publish(mut self, replace: bool) -> Result<()> {
        let target = self.target.clone();
        let err = |e: io::Error| Error::Io {
            path: target.clone(),
            source: e,
        };
        self.file.sync_all().map_err(err)?;
        let mut g = in_flight();
        if g.1 {
            return Err(err(io::Error::new(
                io::ErrorKind::Interrupted,
                "interrupted: not written",
            )));
        }
        let res = match self.tmp.take() {
            Some(tmp) => {
                let res = self.place(&tmp, replace);
                let _ = rustix::fs::unlinkat(&self.dir, tmp.as_str(), AtFlags::empty());
                g.0.retain(|x| *x != self.dir_path.join(&tmp));
                res
            }
            None => self.place_unnamed(&mut g.0, replace),
        };
        drop(g);
        match res {
            Err(e) if e.kind() == io::ErrorKind::Unsupported => return self.copy_out(replace),
            other => other.map_err(err)?,
        }
        // The new name is only durable once the directory is synced.
        let _ = rustix::fs::fsync(&self.dir);
        Ok(())
    }

    /// Links or renames the named file `tmp` to the target.
    fn place(&self, tmp: &str, replace: bool) -> io::Result<()> {
        if replace {
            rustix::fs::renameat(&self.dir, tmp, &self.dir, self.name.as_str())?;
        } else {
            // link fails when the target exists; the temporary name is removed by the caller.
            rustix::fs::linkat(
                &self.dir,
                tmp,
                &self.dir,
                self.name.as_str(),
                AtFlags::empty(),
            )?;
        }
        Ok(())
    }

    /// Links the unnamed file to the target: directly when there is none, else under a
    /// temporary name that is renamed over it.
    fn place_unnamed(&self, names: &mut Vec<PathBuf>, replace: bool) -> io::Result<()> {
        match self.link_unnamed(&self.name) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && replace => {}
            other => return other,
        }
        loop {
            let tmp = tmp_name(&self.name);
            match self.link_unnamed(&tmp) {
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(e),
                Ok(()) => {}
            }
            let path = self.dir_path.join(&tmp);
            names.push(path.clone());
            let res = self.place(&tmp, true);
            if res.is_err() {
                let _ = rustix::fs::unlinkat(&self.dir, tmp.as_str(), AtFlags::empty());
            }
            names.retain(|x| *x != path);
            return res;
        }
    }

    /// Gives the unnamed file the name `name` in its directory.
    #[cfg(target_os = "linux")]
    fn link_unnamed(&self, name: &str) -> io::Result<()> {
        use std::os::fd::AsRawFd;
        // Through /proc (any user may); AT_EMPTY_PATH needs a capability on older kernels.
        let proc = format!("/proc/self/fd/{}", self.file.as_raw_fd());
        let by_proc = rustix::fs::linkat(
            rustix::fs::CWD,
            proc.as_str(),
            &self.dir,
            name,
            AtFlags::SYMLINK_FOLLOW,
        );
        let res = match by_proc {
            Err(e) if e == rustix::io::Errno::NOENT || e == rustix::io::Errno::ACCESS => {
                rustix::fs::linkat(&self.file, "", &self.dir, name, AtFlags::EMPTY_PATH)
            }
            other => other,
        };
        match res {
            Err(e) if e == rustix::io::Errno::EXIST => Err(io::ErrorKind::AlreadyExists.into()),
            Err(e) if e == rustix::io::Errno::NOENT || e == rustix::io::Errno::PERM => {
                Err(io::ErrorKind::Unsupported.into())
            }
            other => other.map_err(Into::into),
        }
    }

    #[cfg(not(target_os = "linux"))]
    fn link_unnamed(&self, _name: &str) -> io::Result<()> {
        Err(io::ErrorKind::Unsupported.into())
    }

    /// Last resort when an unnamed file cannot be linked (no /proc, no capability): copy it
    /// to a named temporary file and publish that.
    fn copy_out(self, replace: bool) -> Result<()> {
        let err = |e: io::Error| Error::Io {
            path: self.target.clone(),
            source: e,
        };
        let dir = self.dir.try_clone().map_err(err)?;
        let mut named =
            Self::create_named(&self.target, dir, self.dir_path.clone(), self.name.clone())
                .map_err(err)?;
        let mut src = &self.file;
        src.rewind().map_err(err)?;
        io::copy(&mut src, &mut named).map_err(err)?;
        named.publish(replace)
    }
}

impl Write for AtomicFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.file.write_all(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(tmp) = self.tmp.take() {
            let mut g = in_flight();
            let _ = rustix::fs::unlinkat(&self.dir, tmp.as_str(), AtFlags::empty());
            let p = self.dir_path.join(tmp);
            g.0.retain(|x| *x != p);
        }
    }
}

/// The directory (`.` for a bare name) and file name of `target`.
fn split(target: &Path) -> io::Result<(PathBuf, String)> {
    let name = target
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "not a file name"))?;
    let dir = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_string()))
}

fn tmp_name(name: &str) -> String {
    format!(".{name}{TMP_MARK}{:016x}", fastrand::u64(..))
}

/// Removes the temporary files of `name` in `dir` that no live writer holds locked.
fn remove_stale(dir: &OwnedFd, dir_path: &Path, name: &str) {
    let prefix = format!(".{name}{TMP_MARK}");
    let Ok(entries) = std::fs::read_dir(dir_path) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(n) = file_name.to_str() else {
            continue;
        };
        let Some(rest) = n.strip_prefix(&prefix) else {
            continue;
        };
        if rest.len() != 16 || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let Ok(fd) = rustix::fs::openat(
            dir,
            n,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
            Mode::empty(),
        ) else {
            continue;
        };
        let is_file = rustix::fs::fstat(&fd)
            .map(|s| rustix::fs::FileType::from_raw_mode(s.st_mode).is_file())
            .unwrap_or(false);
        // Lock held: a live writer's. Taken: its writer is gone (a lock dies with its process).
        if is_file
            && rustix::fs::flock(fd.as_fd(), FlockOperation::NonBlockingLockExclusive).is_ok()
        {
            let _ = rustix::fs::unlinkat(dir, n, AtFlags::empty());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_and_replaces_leaving_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.txt");
        let mut f = AtomicFile::create(&out).unwrap();
        f.write_all(b"first").unwrap();
        assert!(!out.exists(), "nothing is visible before the commit");
        f.commit().unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"first");
        let mut f = AtomicFile::create(&out).unwrap();
        f.write_all(b"second").unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"first");
        f.commit().unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"second");
        assert_eq!(names(dir.path()), ["out.txt"]);
    }

    #[test]
    fn dropped_uncommitted_leaves_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.txt");
        std::fs::write(&out, "old").unwrap();
        for named in [false, true] {
            let mut f = if named {
                let (d, n) = split(&out).unwrap();
                let fd = rustix::fs::open(&d, OFlags::DIRECTORY | OFlags::RDONLY, Mode::empty())
                    .unwrap();
                AtomicFile::create_named(&out, fd, d, n).unwrap()
            } else {
                AtomicFile::create(&out).unwrap()
            };
            f.write_all(b"new").unwrap();
            drop(f);
            assert_eq!(std::fs::read(&out).unwrap(), b"old");
            assert_eq!(names(dir.path()), ["out.txt"]);
        }
    }

    #[test]
    fn named_fallback_commits_and_refuses_to_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("out.bin");
        let named = |p: &Path| {
            let (d, n) = split(p).unwrap();
            let fd =
                rustix::fs::open(&d, OFlags::DIRECTORY | OFlags::RDONLY, Mode::empty()).unwrap();
            AtomicFile::create_named(p, fd, d, n).unwrap()
        };
        let mut f = named(&out);
        assert!(!f.is_unnamed());
        f.write_all(b"one").unwrap();
        f.commit_new().unwrap();
        let mut f = named(&out);
        f.write_all(b"two").unwrap();
        let e = f.commit_new().unwrap_err();
        assert!(
            matches!(&e, Error::Io { source, .. } if source.kind() == io::ErrorKind::AlreadyExists),
            "{e}"
        );
        assert_eq!(std::fs::read(&out).unwrap(), b"one");
        let mut f = named(&out);
        f.write_all(b"three").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read(&out).unwrap(), b"three");
        assert_eq!(names(dir.path()), ["out.bin"]);
    }

    #[test]
    fn unnamed_commit_new_refuses_to_clobber() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("deja.toml");
        let mut f = AtomicFile::create(&out).unwrap();
        f.write_all(b"a").unwrap();
        f.commit_new().unwrap();
        let mut f = AtomicFile::create(&out).unwrap();
        f.write_all(b"b").unwrap();
        assert!(f.commit_new().is_err());
        assert_eq!(std::fs::read(&out).unwrap(), b"a");
        assert_eq!(names(dir.path()), ["deja.toml"]);
    }

    #[test]
    fn stale_temporaries_are_removed_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("sigs.bin");
        // What a killed run leaves: a temporary name nobody holds a lock on.
        let stale = dir.path().join(".sigs.bin.deja-tmp-00000000000000ab");
        std::fs::write(&stale, "partial").unwrap();
        // A live writer's: locked.
        let live = dir.path().join(".sigs.bin.deja-tmp-00000000000000cd");
        std::fs::write(&live, "writing").unwrap();
        let held = File::open(&live).unwrap();
        rustix::fs::flock(&held, FlockOperation::LockExclusive).unwrap();
        // Not ours: other names are never touched.
        let other = dir.path().join(".other.bin.deja-tmp-00000000000000ef");
        std::fs::write(&other, "x").unwrap();
        let odd = dir.path().join(".sigs.bin.deja-tmp-notours");
        std::fs::write(&odd, "x").unwrap();
        let mut f = AtomicFile::create(&out).unwrap();
        f.write_all(b"sigs").unwrap();
        f.commit().unwrap();
        assert!(!stale.exists());
        assert!(live.exists() && other.exists() && odd.exists());
        drop(held);
        AtomicFile::create(&out).unwrap();
        assert!(!live.exists());
    }

    #[test]
    fn output_in_a_missing_directory_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("no/such/dir/out.txt");
        let e = AtomicFile::create(&out).unwrap_err().to_string();
        assert!(e.contains("no/such/dir/out.txt"), "{e}");
    }
}

//! Projects from a git repository: a bare mirror fetched on demand and one read-only tree per
//! commit (`git archive` unpacked beside it, then renamed into place), so a run always works on
//! the exact commit it was started with while a later sync moves the project on. Git runs with
//! prompts off and a time limit; credentials come from git's own configuration (SSH keys,
//! credential helpers).

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

const GIT_TIMEOUT: Duration = Duration::from_secs(300);

/// A project's repository and where its checkouts live.
#[derive(Debug)]
pub struct GitProject {
    /// What git clones: a URL or a path.
    pub url: String,
    /// Branch, tag or commit to follow (`HEAD` when not given).
    pub reference: String,
    /// `<checkouts>/<project>`: `repo.git` and `trees/<commit>`.
    pub dir: PathBuf,
    /// The commit the project is at, and its tree.
    current: Mutex<Option<(String, PathBuf)>>,
    /// One git operation at a time per project.
    busy: tokio::sync::Mutex<()>,
}

/// `git+URL[#REF]` (the form `--project NAME=...` takes for a repository).
pub fn parse(spec: &str) -> Option<(String, String)> {
    let rest = spec.strip_prefix("git+")?;
    let (url, reference) = match rest.rsplit_once('#') {
        Some((u, r)) if !r.is_empty() => (u, r),
        _ => (rest, "HEAD"),
    };
    Some((url.to_string(), reference.to_string()))
}

async fn git(args: &[&str], dir: Option<&Path>) -> Result<String, String> {
    let mut cmd = tokio::process::Command::new("git");
    cmd.args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_ASKPASS", "/bin/false")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    if let Some(d) = dir {
        cmd.current_dir(d);
    }
    let out = tokio::time::timeout(GIT_TIMEOUT, cmd.output())
        .await
        .map_err(|_| format!("git {}: no answer in {} s", args[0], GIT_TIMEOUT.as_secs()))?
        .map_err(|e| format!("git: {e} (is git installed?)"))?;
    if !out.status.success() {
        return Err(format!(
            "git {}: {}",
            args[0],
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn is_commit(s: &str) -> bool {
    s.len() == 40 && s.chars().all(|c| c.is_ascii_hexdigit())
}

impl GitProject {
    pub fn new(url: String, reference: String, dir: PathBuf) -> GitProject {
        GitProject {
            url,
            reference,
            dir,
            current: Mutex::new(None),
            busy: tokio::sync::Mutex::new(()),
        }
    }

    fn repo(&self) -> PathBuf {
        self.dir.join("repo.git")
    }

    /// The commit and tree the project is at (after the first sync).
    pub fn current(&self) -> Option<(String, PathBuf)> {
        self.current
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Fetches the repository (cloning it the first time), moves the project to the newest
    /// commit of its reference and returns it with its tree.
    pub async fn sync(&self) -> Result<(String, PathBuf), String> {
        let _one = self.busy.lock().await;
        self.fetch().await?;
        let repo = self.repo();
        let commit = git(
            &[
                "rev-parse",
                "--verify",
                &format!("{}^{{commit}}", self.reference),
            ],
            Some(&repo),
        )
        .await
        .map_err(|e| format!("{} has no `{}`: {e}", self.url, self.reference))?;
        let tree = self.unpack(&commit).await?;
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) =
            Some((commit.clone(), tree.clone()));
        Ok((commit, tree))
    }

    /// The tree of `commit` (fetching when this instance has not seen it yet).
    pub async fn tree(&self, commit: &str) -> Result<PathBuf, String> {
        if !is_commit(commit) {
            return Err(format!("`{commit}` is not a commit id"));
        }
        let _one = self.busy.lock().await;
        let known = git(
            &["cat-file", "-e", &format!("{commit}^{{commit}}")],
            Some(&self.repo()),
        )
        .await
        .is_ok();
        if !known {
            self.fetch().await?;
        }
        self.unpack(commit).await
    }

    async fn fetch(&self) -> Result<(), String> {
        let repo = self.repo();
        if repo.join("HEAD").is_file() {
            git(
                &[
                    "fetch",
                    "--quiet",
                    "--prune",
                    "--force",
                    "origin",
                    "+refs/heads/*:refs/heads/*",
                    "+refs/tags/*:refs/tags/*",
                ],
                Some(&repo),
            )
            .await?;
            // HEAD follows the remote's default branch.
            let _ = git(&["remote", "set-head", "origin", "--auto"], Some(&repo)).await;
        } else {
            std::fs::create_dir_all(&self.dir)
                .map_err(|e| format!("{}: {e}", self.dir.display()))?;
            let tmp = self
                .dir
                .join(format!("repo.git.tmp-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&tmp);
            git(
                &[
                    "clone",
                    "--quiet",
                    "--bare",
                    "--",
                    &self.url,
                    &tmp.display().to_string(),
                ],
                None,
            )
            .await?;
            std::fs::rename(&tmp, &repo).map_err(|e| format!("{}: {e}", repo.display()))?;
        }
        Ok(())
    }

    /// `trees/<commit>`, unpacked once: `git archive` into a temporary directory, renamed into
    /// place (never half-written).
    async fn unpack(&self, commit: &str) -> Result<PathBuf, String> {
        let trees = self.dir.join("trees");
        let tree = trees.join(commit);
        if tree.is_dir() {
            return std::fs::canonicalize(&tree).map_err(|e| format!("{}: {e}", tree.display()));
        }
        std::fs::create_dir_all(&trees).map_err(|e| format!("{}: {e}", trees.display()))?;
        let tmp = trees.join(format!(".{commit}.tmp-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        std::fs::create_dir_all(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        let archive = tmp.join(".archive.tar");
        git(
            &[
                "archive",
                "--format=tar",
                "-o",
                &archive.display().to_string(),
                commit,
            ],
            Some(&self.repo()),
        )
        .await?;
        let status = tokio::process::Command::new("tar")
            .args(["-x", "-f"])
            .arg(&archive)
            .arg("-C")
            .arg(&tmp)
            .status()
            .await
            .map_err(|e| format!("tar: {e}"))?;
        let _ = std::fs::remove_file(&archive);
        if !status.success() {
            return Err(format!("unpacking {commit} failed"));
        }
        match std::fs::rename(&tmp, &tree) {
            Ok(()) => {}
            // Another instance on this machine unpacked it first.
            Err(_) if tree.is_dir() => {
                let _ = std::fs::remove_dir_all(&tmp);
            }
            Err(e) => return Err(format!("{}: {e}", tree.display())),
        }
        std::fs::canonicalize(&tree).map_err(|e| format!("{}: {e}", tree.display()))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn specs() {
        assert_eq!(
            super::parse("git+https://example.com/ha.git#release-2"),
            Some(("https://example.com/ha.git".into(), "release-2".into()))
        );
        assert_eq!(
            super::parse("git+/srv/ha.git"),
            Some(("/srv/ha.git".into(), "HEAD".into()))
        );
        assert_eq!(super::parse("/srv/ha"), None);
    }
}

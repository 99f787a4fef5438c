//! Reading project files safely: a module file that is a symlink loop, a
//! dangling symlink, a folder, a FIFO or a device is a problem named as
//! such, never skipped and never opened (reading a FIFO blocks until a
//! writer comes; `/dev/zero` never ends). And text YAML does not allow (a
//! NUL byte, other control characters) is a problem at its position: the
//! parser would stop there and silently read a file cut short.

use std::fs::Metadata;
use std::io::{ErrorKind, Read};
use std::path::{Path, PathBuf};

/// Why a project file cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unusable {
    #[error("it does not exist")]
    Missing,
    #[error("it is a symlink to `{}`, which does not exist", target.display())]
    Dangling { target: PathBuf },
    #[error("it is a symlink loop (it points back at itself, through `{}`)", target.display())]
    Loop { target: PathBuf },
    #[error("it is a folder, not a file")]
    Folder,
    #[error("it is a named pipe (FIFO), not a file; it was not opened")]
    Fifo,
    #[error("it is a device, not a file; it was not opened")]
    Device,
    #[error("it is a socket, not a file")]
    Socket,
    #[error("it is not a regular file")]
    Other,
    #[error("permission denied: {what} cannot be read by this user")]
    Denied { what: &'static str },
    #[error("it cannot be read: {0}")]
    Io(String),
}

impl Unusable {
    pub fn hint(&self) -> &'static str {
        match self {
            Unusable::Missing => "create it, or remove the reference to it",
            Unusable::Dangling { .. } | Unusable::Loop { .. } => {
                "point the symlink at a real file, or replace it with the file"
            }
            Unusable::Folder
            | Unusable::Fifo
            | Unusable::Device
            | Unusable::Socket
            | Unusable::Other => "replace it with a regular YAML file",
            Unusable::Denied { .. } => {
                "give this user read access (`chmod u+r`, `u+rx` for a folder), or list the project's modules under `modules:` in ftl-project.yaml to leave the folder out"
            }
            Unusable::Io(_) => "check the file and the disk it is on",
        }
    }
}

/// What kind of thing `path` is, following symlinks, without opening it.
/// `Ok(())`: a regular file.
pub fn check(path: &Path) -> Result<(), Unusable> {
    let link = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) => return Err(from_io(&e, "its folder")),
    };
    if link.file_type().is_symlink() {
        let target = std::fs::read_link(path).unwrap_or_default();
        return match std::fs::metadata(path) {
            Ok(m) => kind(&m),
            Err(e) if e.kind() == ErrorKind::NotFound => Err(Unusable::Dangling { target }),
            Err(e) if is_loop(&e) => Err(Unusable::Loop { target }),
            Err(e) => Err(from_io(&e, "its target")),
        };
    }
    kind(&link)
}

/// The bytes of a project file, once `check` says it is a regular file.
pub fn read(path: &Path) -> Result<Vec<u8>, Unusable> {
    check(path)?;
    let mut file = std::fs::File::open(path).map_err(|e| from_io(&e, "the file"))?;
    // Replaced between the check and the open: look again at what was opened.
    let m = file.metadata().map_err(|e| from_io(&e, "the file"))?;
    kind(&m)?;
    let mut bytes = Vec::with_capacity(usize::try_from(m.len()).unwrap_or(0));
    file.read_to_end(&mut bytes)
        .map_err(|e| from_io(&e, "the file"))?;
    Ok(bytes)
}

fn kind(m: &Metadata) -> Result<(), Unusable> {
    let t = m.file_type();
    if t.is_file() {
        return Ok(());
    }
    if t.is_dir() {
        return Err(Unusable::Folder);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if t.is_fifo() {
            return Err(Unusable::Fifo);
        }
        if t.is_char_device() || t.is_block_device() {
            return Err(Unusable::Device);
        }
        if t.is_socket() {
            return Err(Unusable::Socket);
        }
    }
    Err(Unusable::Other)
}

fn is_loop(e: &std::io::Error) -> bool {
    #[cfg(unix)]
    {
        rustix::io::Errno::from_io_error(e) == Some(rustix::io::Errno::LOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

fn from_io(e: &std::io::Error, what: &'static str) -> Unusable {
    match e.kind() {
        ErrorKind::NotFound => Unusable::Missing,
        ErrorKind::PermissionDenied => Unusable::Denied { what },
        _ if is_loop(e) => Unusable::Loop {
            target: PathBuf::new(),
        },
        _ => Unusable::Io(e.to_string()),
    }
}

/// Characters YAML does not allow in a file (YAML 1.2 §5.1: C0 controls
/// other than tab, line feed and carriage return; DEL; C1 controls other
/// than NEL; U+FFFE and U+FFFF), with their byte index.
pub fn disallowed(text: &str) -> impl Iterator<Item = (usize, char)> + '_ {
    text.char_indices().filter(|(_, c)| not_yaml(*c))
}

fn not_yaml(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{7f}')
        || (('\u{80}'..='\u{9f}').contains(&c) && c != '\u{85}')
        || c == '\u{fffe}'
        || c == '\u{ffff}'
}

/// `text` with each disallowed character replaced by U+FFFD (one
/// character for one, so columns stay right): the source line shown under
/// a problem never sends control characters to the terminal.
pub fn shown(text: &str) -> String {
    text.chars()
        .map(|c| if not_yaml(c) { '\u{fffd}' } else { c })
        .collect()
}

/// How a disallowed character is named in a message.
pub fn name(c: char) -> String {
    match c {
        '\u{0}' => "a NUL byte (U+0000)".to_string(),
        '\u{1b}' => "an escape character (U+001B)".to_string(),
        c => format!("the control character U+{:04X}", c as u32),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_nul_and_control_characters_but_not_tabs_or_line_ends() {
        let got: Vec<(usize, char)> =
            disallowed("a\tb\r\nc\u{0}d\u{1b}[31m\u{85}é\u{7f}").collect();
        assert_eq!(got, vec![(6, '\u{0}'), (8, '\u{1b}'), (17, '\u{7f}')]);
        assert_eq!(shown("x\u{0}y"), "x\u{fffd}y");
        assert_eq!(name('\u{0}'), "a NUL byte (U+0000)");
        assert_eq!(name('\u{1}'), "the control character U+0001");
    }

    #[cfg(unix)]
    #[test]
    fn names_what_a_file_that_cannot_be_used_is() {
        use std::os::unix::fs::symlink;
        let d = tempfile::tempdir().unwrap();
        let p = |n: &str| d.path().join(n);
        std::fs::write(p("ok.yaml"), "a: 1\n").unwrap();
        assert_eq!(read(&p("ok.yaml")).unwrap(), b"a: 1\n");
        assert_eq!(check(&p("none")), Err(Unusable::Missing));
        symlink("gone.yaml", p("dangling")).unwrap();
        assert_eq!(
            check(&p("dangling")),
            Err(Unusable::Dangling {
                target: "gone.yaml".into()
            })
        );
        symlink("loop", p("loop")).unwrap();
        assert!(matches!(check(&p("loop")), Err(Unusable::Loop { .. })));
        std::fs::create_dir(p("dir")).unwrap();
        assert_eq!(check(&p("dir")), Err(Unusable::Folder));
        assert_eq!(read(Path::new("/dev/zero")), Err(Unusable::Device));
        symlink("/dev/null", p("null")).unwrap();
        assert_eq!(read(&p("null")), Err(Unusable::Device));
        let fifo = std::process::Command::new("mkfifo")
            .arg(p("fifo"))
            .status()
            .unwrap();
        assert!(fifo.success());
        // Never opened: this would block forever otherwise.
        assert_eq!(read(&p("fifo")), Err(Unusable::Fifo));
    }
}

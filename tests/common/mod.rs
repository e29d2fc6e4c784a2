//! Test harness: a real Azurite on a free loopback port, the test corpus generated with
//! h5py and uploaded once per test binary, and helpers to run HDF5's tools through the
//! Blob VFD. Azurite dies with the test process (PR_SET_PDEATHSIG on a parked thread).
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

pub const ACCOUNT: &str = "devstoreaccount1";
/// Azurite's published development key (not a secret).
pub const KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

fn cache_dir() -> PathBuf {
    std::env::var_os("H5BLOB_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var("HOME").unwrap()).join(".cache/h5blob"))
}

pub fn hdf5_dir() -> PathBuf {
    std::env::var_os("HDF5_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_dir().join("hdf5-1.14.6"))
}

pub fn python() -> PathBuf {
    std::env::var_os("H5BLOB_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_dir().join("venv/bin/python"))
}

fn azurite_bin() -> PathBuf {
    std::env::var_os("H5BLOB_AZURITE")
        .map(PathBuf::from)
        .unwrap_or_else(|| cache_dir().join("azurite-3.35.0/node_modules/.bin/azurite-blob"))
}

pub fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Directory holding libh5blob.so built for this test run (target/<profile>).
pub fn plugin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    assert!(
        dir.join("libh5blob.so").exists(),
        "libh5blob.so not built in {}",
        dir.display()
    );
    dir
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub struct Azurite {
    pub port: u16,
}

impl Azurite {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}/{ACCOUNT}", self.port)
    }
    /// Config string for h5dump's --vfd-info with the account key.
    pub fn vfd_info(&self) -> String {
        format!(
            "account={ACCOUNT};account_key={KEY};endpoint={}",
            self.endpoint()
        )
    }
    pub fn connection_string(&self) -> String {
        format!(
            "DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};BlobEndpoint={}",
            self.endpoint()
        )
    }
    /// Uploads files (as their basenames, with `prefix`) into `container`.
    pub fn upload(&self, container: &str, public: bool, prefix: &str, files: &[&Path]) {
        let mut c = Command::new(python());
        c.arg(repo().join("scripts/azurite_upload.py")).args([
            "--endpoint",
            &self.endpoint(),
            "--container",
            container,
            "--name-prefix",
            prefix,
        ]);
        if public {
            c.arg("--public");
        }
        c.args(files);
        let out = c.output().unwrap();
        assert!(
            out.status.success(),
            "upload failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    /// Runs a Python snippet with `CS` (connection string) and `ENDPOINT` defined.
    pub fn py(&self, code: &str) -> String {
        let prelude = format!(
            "import sys, datetime\nfrom azure.storage.blob import *\nCS={:?}\nENDPOINT={:?}\nsvc=BlobServiceClient.from_connection_string(CS)\n",
            self.connection_string(),
            self.endpoint()
        );
        let out = Command::new(python())
            .arg("-c")
            .arg(format!("{prelude}{code}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "python failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }
}

static AZURITE: OnceLock<Azurite> = OnceLock::new();

/// The Azurite of this test binary, started on first use.
pub fn azurite() -> &'static Azurite {
    AZURITE.get_or_init(|| {
        let port = free_port();
        let (tx, rx) = std::sync::mpsc::channel();
        let bin = azurite_bin();
        std::thread::spawn(move || {
            let mut c = Command::new(&bin);
            c.args(["--blobHost", "127.0.0.1", "--blobPort", &port.to_string()])
                .args([
                    "--inMemoryPersistence",
                    "--skipApiVersionCheck",
                    "--loose",
                    "--disableTelemetry",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null());
            // SAFETY: prctl in the child before exec; async-signal-safe.
            unsafe {
                use std::os::unix::process::CommandExt;
                c.pre_exec(|| {
                    libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                    Ok(())
                });
            }
            let child = c.spawn();
            tx.send(
                child
                    .map(|_| ())
                    .map_err(|e| format!("cannot start {}: {e}", bin.display())),
            )
            .unwrap();
            // The child is killed when this thread exits, so it never does.
            loop {
                std::thread::park();
            }
        });
        rx.recv().unwrap().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "Azurite did not start on port {port}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Azurite { port }
    })
}

/// The corpus of varied HDF5 files (tests/data/make_corpus.py), generated once.
pub fn corpus() -> &'static (PathBuf, Vec<PathBuf>) {
    static CORPUS: OnceLock<(PathBuf, Vec<PathBuf>)> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("h5blob-corpus-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let out = Command::new(python())
            .arg(repo().join("tests/data/make_corpus.py"))
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "make_corpus failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "h5"))
            .collect();
        files.sort();
        assert!(files.len() >= 8, "corpus too small: {files:?}");
        let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
        azurite().upload("corpus", false, "", &refs);
        (dir, files)
    })
}

/// An HDF5 tool (h5dump, h5ls) with the plugin path set and no inherited driver settings.
pub fn tool(name: &str) -> Command {
    let mut c = Command::new(hdf5_dir().join("bin").join(name));
    c.env("HDF5_PLUGIN_PATH", plugin_dir())
        .env("LD_LIBRARY_PATH", hdf5_dir().join("lib"));
    for v in [
        "HDF5_DRIVER",
        "HDF5_DRIVER_CONFIG",
        "AZURE_STORAGE_CONNECTION_STRING",
        "AZURE_STORAGE_ACCOUNT",
        "AZURE_STORAGE_ACCOUNT_NAME",
        "AZURE_STORAGE_KEY",
        "AZURE_STORAGE_SAS_TOKEN",
        "H5BLOB_STATS",
    ] {
        c.env_remove(v);
    }
    c
}

pub fn run(c: &mut Command) -> Output {
    c.output().unwrap()
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// h5dump output comparable across runs and file names: the first line (which names the
/// file) dropped, and object-reference pointer values masked (h5dump 1.14 prints an
/// in-memory pointer for them).
pub fn normalise(dump: &str) -> String {
    let mut out = String::new();
    for line in dump.lines().skip(1) {
        let mut l = line.to_string();
        for kw in ["DATASET ", "GROUP ", "DATATYPE "] {
            if let Some(i) = l.find(kw) {
                let rest = &l[i + kw.len()..];
                let digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
                if digits > 6 && rest[digits..].starts_with(" \"") {
                    l = format!("{}{kw}<ref>{}", &l[..i], &rest[digits..]);
                }
            }
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// `h5dump ARGS FILE` for a local file.
pub fn local_dump(args: &[&str], file: &Path) -> String {
    let out = run(tool("h5dump").args(args).arg(file));
    assert!(
        out.status.success(),
        "local h5dump of {} failed: {}",
        file.display(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A real HSDS (PyPI `hsds`) on a Unix socket, POSIX storage in a temp dir, users
/// admin/admin. A bash watchdog leads its process group and kills the whole group (HSDS
/// runs several processes) when this test process is gone.
pub struct Hsds {
    /// `http+unix://...` endpoint.
    pub endpoint: String,
}

pub fn hsds() -> &'static Hsds {
    static HSDS: OnceLock<Hsds> = OnceLock::new();
    HSDS.get_or_init(|| {
        // Socket paths must stay under ~63 characters.
        let base = PathBuf::from(format!("/tmp/h5bhs-{}", std::process::id()));
        let (root, sock) = (base.join("root"), base.join("s"));
        std::fs::create_dir_all(root.join("hsdstest")).unwrap();
        std::fs::create_dir_all(&sock).unwrap();
        let bin = python().parent().unwrap().join("hsds");
        let script = format!(
            "{bin} --root_dir {root} --bucket_name hsdstest --socket_dir {sock} --count 1 \
             --hs_username admin --hs_password admin >{base}/log 2>&1 &\n\
             while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; kill -TERM 0",
            bin = bin.display(),
            root = root.display(),
            sock = sock.display(),
            base = base.display(),
            pid = std::process::id()
        );
        let mut watchdog = Command::new("setsid")
            .args(["bash", "-c", &script])
            .env("BUCKET_NAME", "hsdstest")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cannot start hsds");
        // Reaped when it exits (it outlives this process only by its last half second).
        std::thread::spawn(move || watchdog.wait());
        let socket = sock.join("sn_1.sock");
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = socket.exists()
                && Command::new("curl")
                    .args(["-s", "--unix-socket"])
                    .arg(&socket)
                    .arg("http://localhost/about")
                    .output()
                    .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("READY"));
            if ready {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "HSDS did not become ready; see {}/log",
                base.display()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        let encoded = socket.to_str().unwrap().replace('/', "%2F");
        Hsds {
            endpoint: format!("http+unix://{encoded}"),
        }
    })
}

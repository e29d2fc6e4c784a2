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

/// The corpus of varied HDF5 files (tests/data/make_corpus.py), generated once per test
/// binary, local only: for tests that need no Azurite (the HSDS ones).
pub fn corpus_local() -> &'static (PathBuf, Vec<PathBuf>) {
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
        (dir, files)
    })
}

/// The corpus (see `corpus_local`), also uploaded once to this binary's Azurite as
/// container `corpus`.
pub fn corpus() -> &'static (PathBuf, Vec<PathBuf>) {
    static UPLOADED: OnceLock<()> = OnceLock::new();
    let corpus = corpus_local();
    UPLOADED.get_or_init(|| {
        let refs: Vec<&Path> = corpus.1.iter().map(|p| p.as_path()).collect();
        azurite().upload("corpus", false, "", &refs);
    });
    corpus
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
    // References print the name of their file (path, URL or domain) before the object's
    // path: `GROUP "<file>/g1"`.
    let file = dump
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("HDF5 \""))
        .and_then(|l| l.strip_suffix("\" {"))
        .map(|f| format!("\"{f}/"));
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
        if let Some(f) = &file {
            l = l.replace(f.as_str(), "\"<file>/");
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
    /// The service node's Unix socket (for curl --unix-socket).
    pub socket: PathBuf,
}

/// HSDS user and password of the test server (not a secret).
pub const HS_USER: &str = "admin";
pub const HS_PASSWORD: &str = "admin";

impl Hsds {
    /// Points a command at this HSDS as admin: `HS_*` set, and the `HSDS_*` spellings
    /// (which connectors also read) removed so nothing leaks in from the environment.
    pub fn env<'a>(&self, c: &'a mut Command) -> &'a mut Command {
        for v in [
            "HSDS_ENDPOINT",
            "HSDS_USERNAME",
            "HSDS_PASSWORD",
            "HS_API_KEY",
        ] {
            c.env_remove(v);
        }
        c.env("HS_ENDPOINT", &self.endpoint)
            .env("HS_USERNAME", HS_USER)
            .env("HS_PASSWORD", HS_PASSWORD)
    }

    /// Creates folder `path` (`PUT /?domain=<path>` with `{"folder": true}`, no trailing
    /// slash); one that exists already (409) is fine.
    pub fn folder(&self, path: &str) {
        let out = Command::new("curl")
            .args([
                "-sS",
                "-o",
                "/dev/null",
                "-w",
                "%{http_code}",
                "--unix-socket",
            ])
            .arg(&self.socket)
            .args(["-u", &format!("{HS_USER}:{HS_PASSWORD}"), "-X", "PUT"])
            .args([
                "-H",
                "Content-Type: application/json",
                "-d",
                r#"{"folder": true}"#,
            ])
            .arg(format!("http://localhost/?domain={path}"))
            .output()
            .expect("cannot run curl");
        let code = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(
            code == "201" || code == "409",
            "creating HSDS folder {path}: HTTP {code} {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The folders `/home` and `/home/admin`, created once; domains go under the latter.
    pub fn home(&self) {
        static HOME: OnceLock<()> = OnceLock::new();
        HOME.get_or_init(|| {
            self.folder("/home");
            self.folder(&format!("/home/{HS_USER}"));
        });
    }
}

/// One of h5pyd's command-line tools (hsload, hsget, hsls, ...) from the venv, pointed at
/// the test HSDS.
pub fn hs_tool(name: &str) -> Command {
    let mut c = Command::new(python().parent().unwrap().join(name));
    hsds().env(&mut c);
    c
}

/// Runs an h5pyd-based command again while it fails with HTTP 503. HSDS answers 503 when
/// its service node has more than `max_task_count` (100) requests in flight, which
/// connector tests running alongside cause; h5pyd retries 503 on TCP endpoints but not on
/// `http+unix://` ones.
pub fn run_retrying_503(mut make: impl FnMut() -> Command) -> Output {
    let mut attempt = 0;
    loop {
        let out = run(&mut make());
        attempt += 1;
        let busy = !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("503");
        if !busy || attempt == 5 {
            return out;
        }
        std::thread::sleep(Duration::from_secs(attempt));
    }
}

/// `hsload FILE DOMAIN` into the test HSDS (folders created first). hsload copies the
/// data too (no --link) and overwrites an existing domain.
pub fn hsload(file: &Path, domain: &str) {
    hsds().home();
    let out = run_retrying_503(|| {
        let mut c = hs_tool("hsload");
        c.arg(file).arg(domain);
        c
    });
    assert!(
        out.status.success(),
        "hsload {} {domain} failed: {}{}",
        file.display(),
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// `hsget [--nodata] DOMAIN FILE`: the domain written back as a local HDF5 file by h5py.
pub fn hsget(domain: &str, file: &Path, nodata: bool) -> Output {
    run_retrying_503(|| {
        let mut c = hs_tool("hsget");
        if nodata {
            c.arg("--nodata");
        }
        c.arg(domain).arg(file);
        c
    })
}

/// Directory holding libh5blob_vol.so, the REST VOL plugin (target/<profile>, next to
/// libh5blob.so).
pub fn vol_plugin_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
    assert!(
        dir.join("libh5blob_vol.so").exists(),
        "the REST VOL plugin libh5blob_vol.so is not built in {} (cargo build --workspace)",
        dir.display()
    );
    dir
}

/// An HDF5 tool reading HSDS through the REST VOL connector as admin.
pub fn vol_tool(name: &str) -> Command {
    let mut c = tool(name);
    c.env("HDF5_PLUGIN_PATH", vol_plugin_dir())
        .env("HDF5_VOL_CONNECTOR", "REST");
    hsds().env(&mut c);
    c
}

/// Runs a command, killing it after `limit` (a hung connector must not hang the tests).
pub fn run_timeout(c: &mut Command, limit: Duration) -> Output {
    use std::io::Read;
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let status = child.wait().unwrap();
            let mut err = stderr.join().unwrap();
            err.extend_from_slice(format!("\n[killed after {limit:?}]\n").as_bytes());
            return Output {
                status,
                stdout: stdout.join().unwrap(),
                stderr: err,
            };
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
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
            // The service node answers READY before the data node is up (a PUT then fails
            // with 500); the launcher logs "READY!" once every node is.
            let ready = std::fs::read_to_string(base.join("log"))
                .is_ok_and(|l| l.contains("READY!"))
                && socket.exists()
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
            socket,
        }
    })
}

//! Failure modes Azurite cannot produce, against a small loopback HTTP server that serves
//! one blob with ranges and misbehaves on demand: throttling with Retry-After, server
//! errors, a server that never answers, truncated bodies. Each must end in a clear error
//! or a correct read, never a hang.

use h5blob::blob::ErrorKind;
use h5blob::cache::{MemKind, RemoteFile};
use h5blob::config::{Layer, parse_url, resolve};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug)]
enum Mode {
    Normal,
    /// The first n requests get 503 with `Retry-After: 1`.
    Throttle(usize),
    Fail500,
    Hang,
    /// The first n responses stop after half their body.
    Truncate(usize),
}

struct Server {
    port: u16,
    mode: Arc<Mutex<Mode>>,
    requests: Arc<Mutex<usize>>,
}

/// A file the driver accepts: HDF5 signature and a v0 superblock with no root group.
fn blob() -> Vec<u8> {
    let mut b = b"\x89HDF\r\n\x1a\n".to_vec();
    b.extend([0, 0, 0, 0, 0, 8, 8, 0, 4, 0, 16, 0, 0, 0, 0, 0]);
    b.extend(0u64.to_le_bytes());
    b.extend(u64::MAX.to_le_bytes());
    b.extend((1u64 << 20).to_le_bytes());
    b.extend(u64::MAX.to_le_bytes());
    b.extend([0u8; 40]);
    b.resize(1 << 20, 0);
    for (i, x) in b.iter_mut().enumerate().skip(4096) {
        *x = (i % 251) as u8;
    }
    b
}

fn serve(mode: Mode) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mode = Arc::new(Mutex::new(mode));
    let requests = Arc::new(Mutex::new(0));
    let (m, r) = (mode.clone(), requests.clone());
    let data = Arc::new(blob());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let (m, r, data) = (m.clone(), r.clone(), data.clone());
            std::thread::spawn(move || {
                let _ = handle(stream, &m, &r, &data);
            });
        }
    });
    Server {
        port,
        mode,
        requests,
    }
}

fn handle(
    stream: TcpStream,
    mode: &Mutex<Mode>,
    count: &Mutex<usize>,
    data: &[u8],
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut range = None;
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let lower = h.to_ascii_lowercase();
            if let Some(v) = lower
                .strip_prefix("range:")
                .or_else(|| lower.strip_prefix("x-ms-range:"))
            {
                let v = v.trim().trim_start_matches("bytes=");
                let (a, b) = v.split_once('-').unwrap();
                range = Some((a.parse::<usize>().unwrap(), b.parse::<usize>().unwrap()));
            }
            if h == "\r\n" || h.is_empty() {
                break;
            }
        }
        let n = {
            let mut c = count.lock().unwrap();
            *c += 1;
            *c
        };
        let current = *mode.lock().unwrap();
        match current {
            Mode::Throttle(k) if n <= k => {
                write!(
                    out,
                    "HTTP/1.1 503 Service Unavailable\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"
                )?;
                continue;
            }
            Mode::Fail500 => {
                let body = "<?xml version=\"1.0\"?><Error><Code>InternalError</Code><Message>boom</Message></Error>";
                write!(
                    out,
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )?;
                continue;
            }
            Mode::Hang => {
                std::thread::sleep(Duration::from_secs(30));
                return Ok(());
            }
            _ => {}
        }
        let (a, b) = range.unwrap_or((0, data.len() - 1));
        let b = b.min(data.len() - 1);
        let body = &data[a..=b];
        write!(
            out,
            "HTTP/1.1 206 Partial Content\r\nContent-Length: {}\r\nContent-Range: bytes {a}-{b}/{}\r\nETag: \"v1\"\r\n\
             Last-Modified: Wed, 21 Oct 2015 07:28:00 GMT\r\n\r\n",
            body.len(),
            data.len()
        )?;
        if matches!(current, Mode::Truncate(k) if n <= k) {
            out.write_all(&body[..body.len() / 2])?;
            return Ok(()); // close mid-body
        }
        out.write_all(body)?;
    }
}

fn open(s: &Server, settings: &str) -> Result<Arc<RemoteFile>, h5blob::blob::BlobError> {
    let url = parse_url(&format!("http://127.0.0.1:{}/acct01/c01/f.h5", s.port)).unwrap();
    let layer = Layer::parse(
        &format!("page_size=4K;head_size=4K;meta_prefetch=0;readahead=0;{settings}"),
        "test",
    )
    .unwrap();
    let r = resolve(&url, &[&layer]).unwrap();
    RemoteFile::open(&r)
}

fn read(f: &Arc<RemoteFile>, at: u64, len: usize) -> Result<Vec<u8>, h5blob::blob::BlobError> {
    let mut buf = vec![0u8; len];
    f.read(&mut [(at, &mut buf[..])], MemKind::Raw)?;
    Ok(buf)
}

#[test]
fn reads_are_exact_including_past_the_end() {
    let s = serve(Mode::Normal);
    let f = open(&s, "").unwrap();
    let data = blob();
    assert_eq!(f.size, data.len() as u64);
    assert_eq!(read(&f, 100_000, 50_000).unwrap(), data[100_000..150_000]);
    let tail = read(&f, (data.len() - 10) as u64, 20).unwrap();
    assert_eq!(&tail[..10], &data[data.len() - 10..]);
    assert_eq!(&tail[10..], &[0u8; 10], "bytes past the end read as zeros");
}

#[test]
fn throttling_is_retried_after_the_servers_retry_after() {
    let s = serve(Mode::Throttle(2));
    let started = Instant::now();
    let f = open(&s, "retries=5").unwrap();
    let st = f.stats().snapshot();
    assert_eq!(st.throttled, 2, "{st:?}");
    assert_eq!(st.requests, 3);
    assert_eq!(st.retries, 2);
    // Two 503s with Retry-After: 1 each; our own backoff alone would be ~0.3 s.
    assert!(
        started.elapsed() >= Duration::from_millis(1900),
        "Retry-After not honoured: {:?}",
        started.elapsed()
    );
}

#[test]
fn server_errors_end_in_an_error_after_the_configured_retries() {
    let s = serve(Mode::Fail500);
    let e = open(&s, "retries=2").err().expect("open succeeded");
    assert_eq!(e.kind, ErrorKind::Server);
    assert!(
        e.msg.contains("HTTP 500") && e.msg.contains("InternalError"),
        "{}",
        e.msg
    );
    assert_eq!(*s.requests.lock().unwrap(), 3, "1 try + 2 retries");
}

#[test]
fn a_server_that_never_answers_times_out() {
    let s = serve(Mode::Hang);
    let started = Instant::now();
    let e = open(&s, "retries=1;timeout=1;retry_timeout=5")
        .err()
        .expect("open succeeded");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert!(
        e.msg.contains("timed out") || e.kind == ErrorKind::Timeout,
        "{}",
        e.msg
    );
}

#[test]
fn a_truncated_body_is_retried_or_reported() {
    // Cut once: the body is re-requested from where it stopped and the read is exact.
    let s = serve(Mode::Normal);
    let f = open(&s, "retries=3").unwrap();
    *s.mode.lock().unwrap() = Mode::Truncate(*s.requests.lock().unwrap() + 1);
    let data = blob();
    assert_eq!(read(&f, 8192, 200_000).unwrap(), data[8192..208_192]);
    // Cut every time: an error, not a short or corrupt buffer.
    *s.mode.lock().unwrap() = Mode::Truncate(usize::MAX);
    let e = read(&f, 500_000, 100_000).expect_err("read succeeded");
    assert!(!e.msg.is_empty());
}

//! HDF5's own tools through the Blob VFD against a real Azurite: output identical to the
//! local file for a varied corpus, every URL form and credential kind, and clear errors.

mod common;
use common::*;
use std::path::Path;

fn blob_dump(args: &[&str], url: &str, info: &str) -> std::process::Output {
    run(tool("h5dump")
        .args(args)
        .arg("--vfd-name=blob")
        .arg(format!("--vfd-info={info}"))
        .arg(url))
}

fn name(p: &Path) -> String {
    p.file_name().unwrap().to_string_lossy().into_owned()
}

#[test]
fn corpus_h5dump_matches_local_files() {
    let az = azurite();
    let (_, files) = corpus();
    for f in files {
        for args in [&[][..], &["-H"][..], &["-p", "-A"][..]] {
            let local = normalise(&local_dump(args, f));
            let out = blob_dump(args, &format!("az://corpus/{}", name(f)), &az.vfd_info());
            assert!(
                out.status.success(),
                "{} {args:?}: {}",
                name(f),
                text(&out.stderr)
            );
            let remote = normalise(&text(&out.stdout));
            assert!(remote.len() > 50, "{}: dump too short", name(f));
            assert_eq!(remote, local, "h5dump {args:?} of {} differs", name(f));
        }
    }
}

#[test]
fn corpus_h5ls_matches_local_files() {
    let az = azurite();
    let (_, files) = corpus();
    for f in files {
        let local = run(tool("h5ls").args(["-r", "-v"]).arg(f));
        let url = format!("{}/corpus/{}", az.endpoint(), name(f));
        let remote = run(tool("h5ls")
            .args(["-r", "-v"])
            .arg(&url)
            .env("HDF5_DRIVER", "blob")
            .env("HDF5_DRIVER_CONFIG", format!("account_key={}", KEY)));
        assert!(
            remote.status.success(),
            "{}: {}",
            name(f),
            text(&remote.stderr)
        );
        // h5ls -v names the file in its "Opened" line and location lines; compare the rest.
        // ... and the driver in its first line ("with sec2 driver" / "with unknown driver").
        let strip = |s: &str, n: &str| {
            s.replace(n, "FILE")
                .lines()
                .filter(|l| !l.starts_with("Opened "))
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert_eq!(
            strip(&text(&remote.stdout), &url),
            strip(&text(&local.stdout), &f.to_string_lossy()),
            "h5ls -r -v of {}",
            name(f)
        );
    }
}

#[test]
fn url_forms_and_credentials() {
    let az = azurite();
    let (_, files) = corpus();
    let f = files.iter().find(|f| name(f) == "groups_attrs.h5").unwrap();
    let expect = normalise(&local_dump(&["-H"], f));
    az.upload("public", true, "", &[f.as_path()]);
    let sas = az.py(
        "print(generate_blob_sas(account_name='devstoreaccount1', container_name='corpus', blob_name='groups_attrs.h5', \
         account_key=svc.credential.account_key, permission=BlobSasPermissions(read=True), \
         expiry=datetime.datetime.utcnow()+datetime.timedelta(hours=1)))",
    );
    let path_url = format!("{}/corpus/groups_attrs.h5", az.endpoint());
    // (what, URL, environment, --vfd-info)
    type Case<'a> = (&'a str, String, Vec<(&'a str, String)>, String);
    let cases: Vec<Case> = vec![
        (
            "shared key in config string, az://",
            "az://corpus/groups_attrs.h5".into(),
            vec![],
            az.vfd_info(),
        ),
        (
            "path-style URL, key from environment",
            path_url.clone(),
            vec![
                ("AZURE_STORAGE_KEY", KEY.into()),
                ("AZURE_STORAGE_ACCOUNT", ACCOUNT.into()),
            ],
            String::new(),
        ),
        (
            "connection string in environment",
            "az://corpus/groups_attrs.h5".into(),
            vec![("AZURE_STORAGE_CONNECTION_STRING", az.connection_string())],
            String::new(),
        ),
        (
            "connection string as config string",
            "az://corpus/groups_attrs.h5".into(),
            vec![],
            az.connection_string(),
        ),
        (
            "SAS in the URL",
            format!("{path_url}?{sas}"),
            vec![],
            String::new(),
        ),
        (
            "SAS in the environment",
            path_url.clone(),
            vec![("AZURE_STORAGE_SAS_TOKEN", sas.clone())],
            String::new(),
        ),
        (
            "per-account key",
            path_url.clone(),
            vec![],
            format!("account_key.{ACCOUNT}={KEY}"),
        ),
        (
            "anonymous public container",
            format!("{}/public/groups_attrs.h5", az.endpoint()),
            vec![],
            String::new(),
        ),
    ];
    for (what, url, env, info) in cases {
        let mut c = tool("h5dump");
        c.args(["-H", "--vfd-name=blob"]);
        if !info.is_empty() {
            c.arg(format!("--vfd-info={info}"));
        }
        for (k, v) in &env {
            c.env(k, v);
        }
        let out = run(c.arg(&url));
        assert!(out.status.success(), "{what}: {}", text(&out.stderr));
        assert_eq!(normalise(&text(&out.stdout)), expect, "{what}");
    }
    // HDF5_DRIVER selects the driver for programs that never heard of it.
    let out = run(tool("h5ls")
        .arg("-r")
        .arg(format!("{path_url}?{sas}"))
        .env("HDF5_DRIVER", "blob"));
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).lines().count() > 200);
}

/// Runs h5dump with the error stack shown; returns (exit ok, stderr).
fn failing(url: &str, info: &str, env: &[(&str, &str)]) -> String {
    let mut c = tool("h5dump");
    c.args(["-H", "--enable-error-stack", "--vfd-name=blob"]);
    if !info.is_empty() {
        c.arg(format!("--vfd-info={info}"));
    }
    for (k, v) in env {
        c.env(k, v);
    }
    let started = std::time::Instant::now();
    let out = run(c.arg(url));
    assert!(!out.status.success(), "{url} unexpectedly opened");
    assert!(
        started.elapsed().as_secs() < 60,
        "{url}: took {:?}",
        started.elapsed()
    );
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    // h5dump repeats its own argument ("unable to open file <url>"); everything else is
    // ours or HDF5's error stack and must not show a key or a signature.
    let ours: String = err
        .lines()
        .filter(|l| !l.starts_with("h5dump error:"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !ours.contains(KEY) && (!ours.contains("sig=") || ours.contains("sig=REDACTED")),
        "secret leaked: {ours}"
    );
    err
}

#[test]
fn errors_are_clear_and_leak_nothing() {
    let az = azurite();
    corpus();
    let not_hdf5 = std::env::temp_dir().join("h5blob-not-hdf5.h5");
    std::fs::write(&not_hdf5, "this is a text file, not HDF5\n".repeat(100)).unwrap();
    let (_, files) = corpus();
    let good = files.iter().find(|f| name(f) == "scattered.h5").unwrap();
    let data = std::fs::read(good).unwrap();
    let truncated = std::env::temp_dir().join("h5blob-truncated.h5");
    std::fs::write(&truncated, &data[..data.len() / 3]).unwrap();
    az.upload(
        "errors",
        false,
        "",
        &[not_hdf5.as_path(), truncated.as_path()],
    );
    let expired = az.py(
        "print(generate_blob_sas(account_name='devstoreaccount1', container_name='corpus', blob_name='scattered.h5', \
         account_key=svc.credential.account_key, permission=BlobSasPermissions(read=True), \
         start=datetime.datetime.utcnow()-datetime.timedelta(hours=2), expiry=datetime.datetime.utcnow()-datetime.timedelta(hours=1)))",
    );
    let wrong_key =
        "d3Jvbmcga2V5IHdyb25nIGtleSB3cm9uZyBrZXkgd3Jvbmcga2V5IHdyb25nIGtleSB3cm9uZyBrZXk=";
    let ep = az.endpoint();
    let dead = format!("http://127.0.0.1:{}/{ACCOUNT}", free_port());
    // (what, URL, --vfd-info, environment, what the error must say)
    type Case<'a> = (
        &'a str,
        String,
        String,
        Vec<(&'a str, &'a str)>,
        &'a [&'a str],
    );
    let cases: Vec<Case> = vec![
        (
            "missing blob",
            "az://corpus/nope.h5".into(),
            az.vfd_info(),
            vec![],
            &["blob not found", "HTTP 404", "BlobNotFound"],
        ),
        (
            "missing container",
            "az://nocontainer/x.h5".into(),
            az.vfd_info(),
            vec![],
            &["container not found", "404"],
        ),
        (
            "wrong key",
            "az://corpus/scattered.h5".into(),
            format!("account={ACCOUNT};endpoint={ep};account_key={wrong_key}"),
            vec![],
            &["HTTP 403"],
        ),
        (
            "expired SAS",
            format!("{ep}/corpus/scattered.h5?{expired}"),
            String::new(),
            vec![],
            &["HTTP 403", "SAS token expired at"],
        ),
        (
            "no credential, private container",
            format!("{ep}/corpus/scattered.h5"),
            String::new(),
            vec![],
            &["HTTP 40", "no credential is configured"],
        ),
        (
            "unreachable endpoint",
            "az://corpus/scattered.h5".into(),
            format!(
                "account={ACCOUNT};account_key={KEY};endpoint={dead};retries=1;connect_timeout=2"
            ),
            vec![],
            &["cannot reach"],
        ),
        (
            "malformed URL",
            "https://acct.blob.core.windows.net/onlycontainer".into(),
            String::new(),
            vec![],
            &["malformed blob URL", "missing blob name"],
        ),
        (
            "unknown config key",
            "az://corpus/scattered.h5".into(),
            format!("{};cache_sise=1M", az.vfd_info()),
            vec![],
            &["\"cache_sise\"", "unknown key"],
        ),
        (
            "not an HDF5 file",
            "az://errors/h5blob-not-hdf5.h5".into(),
            az.vfd_info(),
            vec![],
            &["not an HDF5 file"],
        ),
        (
            "truncated file",
            "az://errors/h5blob-truncated.h5".into(),
            az.vfd_info(),
            vec![],
            &["truncated"],
        ),
        (
            "account missing for az://",
            "az://corpus/scattered.h5".into(),
            String::new(),
            vec![],
            &["no storage account"],
        ),
    ];
    for (what, url, info, env, needles) in cases {
        let err = failing(&url, &info, &env);
        for n in needles {
            assert!(err.contains(n), "{what}: expected {n:?} in:\n{err}");
        }
        assert!(!err.contains(wrong_key), "{what}: key leaked");
        if !what.contains("truncated") {
            assert!(
                err.contains("h5blob"),
                "{what}: error not under our class:\n{err}"
            );
        }
    }
}

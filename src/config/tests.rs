use super::settings::{DEV_ACCOUNT, parse_size};
use super::*;
use proptest::prelude::*;

fn url(s: &str) -> BlobUrl {
    parse_url(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn https_account_host() {
    let u = url("https://myacct.blob.core.windows.net/data/run1.h5");
    assert_eq!(u.account.as_deref(), Some("myacct"));
    assert_eq!((u.container.as_str(), u.blob.as_str()), ("data", "run1.h5"));
    assert_eq!(
        u.endpoint.as_deref(),
        Some("https://myacct.blob.core.windows.net")
    );
    assert_eq!(u.sas, None);
}

#[test]
fn sas_is_kept_apart_and_never_displayed() {
    let u = url(
        "https://a1b.blob.core.windows.net/c01/dir/f.h5?sv=2022-11-02&se=2030&sp=r&sig=SECRET%2B",
    );
    assert_eq!(u.blob, "dir/f.h5");
    assert!(u.sas.as_deref().unwrap().contains("sig=SECRET%2B"));
    let shown = format!("{} {:?}", u.display(), u);
    assert!(!shown.contains("SECRET"), "{shown}");
}

#[test]
fn other_forms() {
    let u = url("az://data/run1.h5");
    assert_eq!(
        (u.account, u.container.as_str(), u.blob.as_str()),
        (None, "data", "run1.h5")
    );
    let u = url("abfss://data@acct01.dfs.core.windows.net/x/y.h5");
    assert_eq!(
        u.endpoint.as_deref(),
        Some("https://acct01.blob.core.windows.net")
    );
    assert_eq!(u.blob, "x/y.h5");
    let u = url("wasb://data@acct01.blob.core.chinacloudapi.cn/y.h5");
    assert_eq!(
        u.endpoint.as_deref(),
        Some("http://acct01.blob.core.chinacloudapi.cn")
    );
    let u = url("http://127.0.0.1:10000/devstoreaccount1/c01/a%20b.h5");
    assert_eq!(u.account.as_deref(), Some("devstoreaccount1"));
    assert_eq!(
        u.endpoint.as_deref(),
        Some("http://127.0.0.1:10000/devstoreaccount1")
    );
    assert_eq!(u.blob, "a b.h5");
    let u = url("https://acct01.privatelink.blob.core.windows.net/c01/f.h5");
    assert_eq!(
        u.endpoint.as_deref(),
        Some("https://acct01.privatelink.blob.core.windows.net")
    );
}

#[test]
fn malformed_urls_say_why() {
    for (s, why) in [
        ("run1.h5", "expected"),
        ("ftp://x/y/z", "unsupported scheme"),
        ("https://acct.blob.core.windows.net/data", "missing blob"),
        (
            "https://acct.blob.core.windows.net/Data/f.h5",
            "container name",
        ),
        ("az://data/f.h5?foo=1", "not a shared access signature"),
        ("abfss://acct.dfs.core.windows.net/f.h5", "<container>@"),
        ("https://ab.blob.core.windows.net/data/f.h5", "account name"),
    ] {
        let e = parse_url(s).unwrap_err().to_string();
        assert!(e.contains(why), "{s}: {e}");
    }
    let e = parse_url("https://x.blob.core.windows.net/Bad/f?sig=SECRET")
        .unwrap_err()
        .to_string();
    assert!(!e.contains("SECRET"), "{e}");
}

#[test]
fn config_string_keys() {
    let l = Layer::parse(
        "account=acct01; cache_size=1G;page_size=64K ;sas_token=?sv=1&sig=a=b",
        "test",
    )
    .unwrap();
    assert_eq!(l.values[&Key::Account], "acct01");
    assert_eq!(
        l.values[&Key::Sas],
        "?sv=1&sig=a=b",
        "values may contain '='"
    );
    let e = Layer::parse("acount=x", "test").unwrap_err().to_string();
    assert!(e.contains("\"acount\"") && e.contains("unknown key"), "{e}");
    // Connection strings are config strings too.
    let l = Layer::parse("DefaultEndpointsProtocol=https;AccountName=acct01;AccountKey=k==;EndpointSuffix=core.windows.net", "t").unwrap();
    assert_eq!(l.values[&Key::AccountKey], "k==");
    assert!(
        !format!("{l:?}").contains("k=="),
        "secrets are not in Debug output"
    );
}

#[test]
fn precedence_and_per_account_keys() {
    let env = Layer::from_env(|k| match k {
        "AZURE_STORAGE_ACCOUNT" => Some("acct01".into()),
        "AZURE_STORAGE_KEY" => Some("envkey".into()),
        "H5BLOB_CACHE_SIZE" => Some("1M".into()),
        _ => None,
    })
    .unwrap();
    let cfg = Layer::parse("cache_size=2M;account_key.other01=otherkey", "cfg").unwrap();
    let r = resolve(&url("az://data/f.h5"), &[&cfg, &env]).unwrap();
    assert_eq!(r.account, "acct01");
    assert_eq!(r.credential, Credential::SharedKey("envkey".into()));
    assert_eq!(
        r.tuning.cache_bytes,
        2 << 20,
        "config string over environment"
    );
    assert_eq!(r.endpoint, "https://acct01.blob.core.windows.net");
    let r = resolve(
        &url("https://other01.blob.core.windows.net/data/f.h5"),
        &[&cfg, &env],
    )
    .unwrap();
    assert_eq!(r.credential, Credential::SharedKey("otherkey".into()));
    let r = resolve(
        &url("https://third01.blob.core.windows.net/data/f.h5"),
        &[&cfg, &env],
    )
    .unwrap();
    assert_eq!(
        r.credential,
        Credential::Anonymous,
        "a key for another account is never sent"
    );
    let r = resolve(
        &url("https://acct01.blob.core.windows.net/data/f.h5?sv=1&sig=x"),
        &[&cfg, &env],
    )
    .unwrap();
    assert_eq!(
        r.credential,
        Credential::Sas("sv=1&sig=x".into()),
        "a SAS in the URL wins"
    );
}

#[test]
fn development_storage() {
    let l = Layer::parse("UseDevelopmentStorage=true", "t").unwrap();
    let r = resolve(&url("az://data/f.h5"), &[&l]).unwrap();
    assert_eq!(r.account, DEV_ACCOUNT);
    assert_eq!(r.endpoint, "http://127.0.0.1:10000/devstoreaccount1");
    assert!(matches!(r.credential, Credential::SharedKey(_)));
}

#[test]
fn missing_account_is_explained() {
    let e = resolve(&url("az://data/f.h5"), &[])
        .unwrap_err()
        .to_string();
    assert!(e.contains("AZURE_STORAGE_ACCOUNT_NAME"), "{e}");
}

#[test]
fn bad_tuning_values() {
    for cfg in [
        "page_size=3000",
        "max_requests=0",
        "timeout=-1",
        "stats=maybe",
        "cache_size=12X",
    ] {
        let l = Layer::parse(cfg, "t").unwrap();
        assert!(
            resolve(&url("https://acct01.blob.core.windows.net/c01/f"), &[&l]).is_err(),
            "{cfg}"
        );
    }
    assert_eq!(parse_size("64KiB").unwrap(), 65536);
}

proptest! {
    #[test]
    fn parsing_never_panics(s in "\\PC{0,80}") {
        let _ = parse_url(&s);
        let _ = Layer::parse(&s, "fuzz");
    }

    #[test]
    fn round_trip_of_valid_https_urls(acct in "[a-z0-9]{3,24}", cont in "[a-z0-9]{3,20}", blob in "[A-Za-z0-9_.]{1,10}(/[A-Za-z0-9_.]{1,10}){0,3}") {
        let u = parse_url(&format!("https://{acct}.blob.core.windows.net/{cont}/{blob}")).unwrap();
        prop_assert_eq!(u.account.as_deref(), Some(acct.as_str()));
        prop_assert_eq!(u.container, cont);
        prop_assert_eq!(u.blob, blob);
    }
}

#[test]
fn base64_keys_survive_parsing() {
    let key =
        "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";
    let l = Layer::parse(&format!("account=devstoreaccount1;account_key={key};endpoint=http://127.0.0.1:1/devstoreaccount1"), "t").unwrap();
    let r = resolve(&url("az://data/f.h5"), &[&l]).unwrap();
    assert_eq!(r.credential, Credential::SharedKey(key.into()));
}

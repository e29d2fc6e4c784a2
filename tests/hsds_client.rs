//! The HSDS client against a real HSDS on a Unix socket: folders and domains, objects and
//! links, binary values with exact byte counts, the one-request metadata fetch, and errors
//! that explain the status without leaking the password.

mod common;
use common::*;
use h5blob::hsds::{HsConfig, HsdsClient};
use reqwest::Method;
use serde_json::json;

fn client(user: &str, password: &str) -> HsdsClient {
    let hs = hsds();
    let env = |k: &str| match k {
        "HS_ENDPOINT" => Some(hs.endpoint.clone()),
        "HS_USERNAME" => Some(user.to_string()),
        "HS_PASSWORD" => Some(password.to_string()),
        _ => None,
    };
    HsdsClient::new(&HsConfig::load(env, None, None)).unwrap()
}

#[test]
fn domains_objects_and_binary_values() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let c = client("admin", "admin");
        let about = c.get_json("/about", &[]).await.unwrap();
        assert_eq!(about["state"], "READY");
        for folder in ["/home", "/home/admin"] {
            match c
                .send_json(
                    Method::PUT,
                    "/",
                    &[("domain", folder)],
                    json!({"folder": true}),
                )
                .await
            {
                Ok(_) => {}
                Err(e) => assert_eq!(e.status, Some(409), "{e}"),
            }
        }
        let dom = "/home/admin/client_test.h5";
        let _ = c.delete("/", &[("domain", dom)]).await;
        let created = c
            .send_json(Method::PUT, "/", &[("domain", dom)], json!({}))
            .await
            .unwrap();
        let root = created["root"].as_str().unwrap().to_string();
        assert!(root.starts_with("g-"), "{created}");

        let d = c
            .send_json(
                Method::POST,
                "/datasets",
                &[("domain", dom)],
                json!({"type": "H5T_STD_I32LE", "shape": [100]}),
            )
            .await
            .unwrap();
        let dset = d["id"].as_str().unwrap().to_string();
        let link = format!("/groups/{root}/links/values");
        c.send_json(Method::PUT, &link, &[("domain", dom)], json!({"id": dset}))
            .await
            .unwrap();

        let values: Vec<u8> = (0..100i32).flat_map(|i| (i * 3).to_le_bytes()).collect();
        c.put_binary(
            &format!("/datasets/{dset}/value"),
            &[("domain", dom)],
            values.into(),
        )
        .await
        .unwrap();
        let got = c
            .get_binary(
                &format!("/datasets/{dset}/value"),
                &[("domain", dom), ("select", "[10:20]")],
                40,
            )
            .await
            .unwrap();
        let ints: Vec<i32> = got
            .chunks(4)
            .map(|b| i32::from_le_bytes(b.try_into().unwrap()))
            .collect();
        assert_eq!(ints, (10..20).map(|i| i * 3).collect::<Vec<_>>());

        // Object metadata. (`getobjs=1` returns every object in one request only once HSDS
        // has written the domain's summary after a background scan; a fresh domain has none.)
        let meta = c
            .get_json(&format!("/datasets/{dset}"), &[("domain", dom)])
            .await
            .unwrap();
        assert_eq!(meta["shape"]["dims"], json!([100]), "{meta}");
        assert_eq!(meta["type"]["base"], "H5T_STD_I32LE", "{meta}");

        // Errors name the status and what it means.
        // (Re-creating an identical link is a no-op in HSDS; the same name for another object conflicts.)
        let e = c
            .send_json(Method::PUT, &link, &[("domain", dom)], json!({"id": root}))
            .await
            .unwrap_err();
        assert_eq!(e.status, Some(409));
        assert!(e.msg.contains("already exists"), "{e}");
        let e = c
            .get_json("/", &[("domain", "/home/admin/nope.h5")])
            .await
            .unwrap_err();
        assert_eq!(e.status, Some(404));
        assert!(
            e.msg.contains("not found") && e.msg.contains("nope.h5"),
            "{e}"
        );
        let e = client("admin", "wrong-password-123")
            .get_json("/", &[("domain", dom)])
            .await
            .unwrap_err();
        assert_eq!(e.status, Some(401));
        assert!(
            e.msg.contains("authentication failed") && !e.msg.contains("wrong-password-123"),
            "{e}"
        );

        c.delete("/", &[("domain", dom)]).await.unwrap();
        let e = c.get_json("/", &[("domain", dom)]).await.unwrap_err();
        assert!(matches!(e.status, Some(404) | Some(410)), "{e}");
    });
}

#[test]
fn unreachable_server_is_a_clear_error() {
    let env = |k: &str| {
        (k == "HS_ENDPOINT").then(|| "http+unix://%2Ftmp%2Fno-such-hsds.sock".to_string())
    };
    let c = HsdsClient::new(&HsConfig::load(env, None, None)).unwrap();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let e = rt.block_on(c.get_json("/about", &[])).unwrap_err();
    assert!(
        e.msg.contains("cannot connect") && e.msg.contains("no-such-hsds.sock"),
        "{e}"
    );
}

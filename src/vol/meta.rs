//! One open HSDS domain: its client, and a cache of its metadata (object descriptions,
//! links, attributes) filled at open in a few requests and kept current by our own writes.
//! Pure Rust over the HSDS client; nothing here touches C.

use super::{R, hs_err};
use crate::blob::{BlobError, ErrorKind};
use crate::hsds::{HsConfig, HsdsClient};
use crate::runtime::block_on;
use crate::sync::lock;
use bytes::Bytes;
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock, Mutex};

/// Default upper bound on objects whose descriptions are fetched in parallel at open
/// (`H5BLOB_REST_PREFETCH`; 0 switches the open-time prefetch off).
const PREFETCH_OBJECTS: usize = 1000;
/// Requests in flight at once for one operation.
pub(crate) const PARALLEL: usize = 8;
/// How deep soft links may chain before a path is called circular.
const MAX_SOFT_HOPS: usize = 16;

/// Where following a path within one domain ends.
enum Step {
    /// At an object of this domain.
    Here(String),
    /// At an external link: the rest of the path (from the target's root) is in `file`.
    External { file: String, path: String },
}

/// What a link points at.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Hard(String),
    Soft(String),
    External { file: String, path: String },
}

#[derive(Debug, Clone)]
pub struct Link {
    pub name: String,
    pub target: Target,
    /// Creation time (seconds since the epoch), for creation-order iteration.
    pub created: f64,
}

/// An attribute's value as the server gave it.
#[derive(Debug, Clone)]
pub enum AttrValue {
    /// HSDS binary encoding of the whole value.
    Binary(Bytes),
    /// The value in HSDS's JSON form.
    Json(Value),
}

#[derive(Debug, Clone)]
pub struct AttrMeta {
    pub name: String,
    pub type_json: Value,
    pub shape: Value,
    pub value: Option<AttrValue>,
    pub created: f64,
}

#[derive(Default)]
struct Meta {
    objs: HashMap<String, Arc<Value>>,
    links: HashMap<String, Arc<Vec<Link>>>,
    attrs: HashMap<String, Arc<Vec<AttrMeta>>>,
    ids: HashMap<[u8; 16], String>,
    /// Objects whose links and attributes came from the server's domain summary, which
    /// may predate changes made since its last scan: a lookup that misses asks again.
    summarised: HashSet<String>,
    /// Hard links to each object among the groups above, counted when first asked.
    refcounts: Option<HashMap<String, u32>>,
}

impl Meta {
    fn put_links(&mut self, gid: &str, links: Arc<Vec<Link>>) {
        self.links.insert(gid.to_string(), links);
        self.refcounts = None;
    }

    fn drop_links(&mut self, gid: &str) {
        self.links.remove(gid);
        self.refcounts = None;
    }
}

/// An open domain.
pub struct FileCtx {
    pub client: Arc<HsdsClient>,
    pub domain: String,
    pub root: String,
    pub writable: bool,
    /// The H5F_ACC_* flags of the open.
    pub flags: u32,
    /// A number unique to this open file in this process (H5Fget_fileno).
    pub fileno: u64,
    /// The server's `max_request_size`: requests and responses are split below it.
    pub max_request: usize,
    meta: Mutex<Meta>,
    /// Domains reached through external links from this one, by domain path.
    externals: Mutex<HashMap<String, Arc<FileCtx>>>,
    /// The client's request and byte counts when the file was opened.
    start: (u64, u64),
}

fn counts(c: &HsdsClient) -> (u64, u64) {
    (
        c.stats.requests.load(Ordering::Relaxed),
        c.stats.bytes.load(Ordering::Relaxed),
    )
}

/// Requests and bytes of every HSDS client of this process.
pub fn total_counts() -> (u64, u64) {
    lock(&CLIENTS)
        .iter()
        .map(|(_, c)| counts(c))
        .fold((0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
}

impl Drop for FileCtx {
    /// With `H5BLOB_STATS=1`, one line per closed domain on stderr.
    fn drop(&mut self) {
        if crate::config::process::var("H5BLOB_STATS").is_some_and(|v| v != "0" && !v.is_empty()) {
            let (r, b) = counts(&self.client);
            eprintln!(
                "h5blob REST: {}: {} requests, {} bytes received",
                self.domain,
                r - self.start.0,
                b - self.start.1
            );
        }
    }
}

static FILENO: AtomicU64 = AtomicU64::new(1);

/// One client (and so one connection pool) per distinct configuration.
/// Clients by the configuration that made them.
type Clients = Vec<(HsConfig, Arc<HsdsClient>)>;
static CLIENTS: LazyLock<Mutex<Clients>> = LazyLock::new(Default::default);

fn client_for(cfg: &HsConfig) -> R<Arc<HsdsClient>> {
    let mut all = lock(&CLIENTS);
    if let Some((_, c)) = all.iter().find(|(k, _)| k == cfg) {
        return Ok(c.clone());
    }
    let c = Arc::new(HsdsClient::new(cfg).map_err(hs_err)?);
    all.push((cfg.clone(), c.clone()));
    Ok(c)
}

/// The configuration of this process (HS_* variables, HSDS_* names, .hscfg files).
pub fn config() -> R<HsConfig> {
    let cfg = HsConfig::from_process();
    if cfg.endpoint.is_none() {
        return Err(BlobError::new(
            ErrorKind::Config,
            "no HSDS endpoint: set HS_ENDPOINT (or HSDS_ENDPOINT, or `hs_endpoint` in .hscfg)",
        ));
    }
    Ok(cfg)
}

/// The HSDS collection an object id belongs to.
pub fn collection(id: &str) -> R<&'static str> {
    match id.as_bytes().first() {
        Some(b'g') => Ok("groups"),
        Some(b'd') => Ok("datasets"),
        Some(b't') => Ok("datatypes"),
        _ => Err(BlobError::new(
            ErrorKind::Internal,
            format!("unrecognised HSDS object id {id:?}"),
        )),
    }
}

/// The 16-byte object token of an HSDS id: its 32 hex digits.
pub fn token_of(id: &str) -> [u8; 16] {
    let hex: Vec<u8> = id
        .get(2..)
        .unwrap_or("")
        .bytes()
        .filter(u8::is_ascii_hexdigit)
        .collect();
    let mut t = [0u8; 16];
    for (i, pair) in hex.chunks(2).take(16).enumerate() {
        let s = std::str::from_utf8(pair).unwrap_or("0");
        t[i] = u8::from_str_radix(s, 16).unwrap_or(0);
    }
    t
}

fn domain_path(name: &str) -> R<String> {
    let d = name.trim();
    if !d.starts_with('/') || d.len() < 2 || d.ends_with('/') {
        return Err(BlobError::new(
            ErrorKind::Config,
            format!(
                "{name:?} is not an HSDS domain path: expected an absolute path such as \
                 /home/<user>/<file>.h5"
            ),
        ));
    }
    Ok(d.to_string())
}

fn f64_of(v: &Value) -> f64 {
    v.as_f64().unwrap_or(0.0)
}

/// One link from HSDS's JSON (`{"class","title","id"|"h5path"|"file","created"}`).
pub fn parse_link(name: Option<&str>, v: &Value) -> Option<Link> {
    let name = name.or_else(|| v["title"].as_str())?.to_string();
    let target = match v["class"].as_str()? {
        "H5L_TYPE_HARD" => Target::Hard(v["id"].as_str()?.to_string()),
        "H5L_TYPE_SOFT" => Target::Soft(v["h5path"].as_str()?.to_string()),
        "H5L_TYPE_EXTERNAL" => Target::External {
            file: v["file"].as_str().or(v["h5domain"].as_str())?.to_string(),
            path: v["h5path"].as_str()?.to_string(),
        },
        _ => return None,
    };
    Some(Link {
        name,
        target,
        created: f64_of(&v["created"]),
    })
}

/// A list or a `name -> item` map, as HSDS returns in different places.
fn items<'a>(v: &'a Value, key: &str) -> Vec<(Option<&'a str>, &'a Value)> {
    match v {
        Value::Array(a) => a.iter().map(|x| (None, x)).collect(),
        Value::Object(m) => m
            .iter()
            .map(|(k, x)| {
                (
                    if key.is_empty() {
                        None
                    } else {
                        Some(k.as_str())
                    },
                    x,
                )
            })
            .collect(),
        _ => Vec::new(),
    }
}

pub fn parse_attr(name: Option<&str>, v: &Value) -> Option<AttrMeta> {
    let name = name.or_else(|| v["name"].as_str())?.to_string();
    let value = match (&v["value"], v["encoding"].as_str()) {
        (Value::String(s), Some("base64")) => super::types::base64_decode(s)
            .ok()
            .map(|b| AttrValue::Binary(b.into())),
        (Value::Null, _) if v.get("value").is_none() => None,
        (x, _) => Some(AttrValue::Json(x.clone())),
    };
    Some(AttrMeta {
        name,
        type_json: v["type"].clone(),
        shape: v["shape"].clone(),
        value,
        created: f64_of(&v["created"]),
    })
}

impl FileCtx {
    fn new(client: Arc<HsdsClient>, domain: String, root: String, flags: u32) -> FileCtx {
        FileCtx {
            start: counts(&client),
            client,
            domain,
            root,
            writable: flags & crate::h5::H5F_ACC_RDWR != 0,
            flags,
            fileno: FILENO.fetch_add(1, Ordering::Relaxed),
            max_request: 100 * 1024 * 1024,
            meta: Mutex::new(Meta::default()),
            externals: Mutex::new(HashMap::new()),
        }
    }

    pub fn q<'a>(&'a self, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut q = vec![("domain", self.domain.as_str())];
        q.extend_from_slice(extra);
        q
    }

    /// Opens an existing domain and prefetches its metadata.
    pub fn open(name: &str, flags: u32) -> R<Arc<FileCtx>> {
        let domain = domain_path(name)?;
        let client = client_for(&config()?)?;
        let q = [
            ("domain", domain.as_str()),
            ("getobjs", "1"),
            ("include_attrs", "1"),
        ];
        let v = block_on(client.get_json("/", &q)).map_err(hs_err)?;
        let root = match v["root"].as_str() {
            Some(r) => r.to_string(),
            None => {
                return Err(BlobError::new(
                    ErrorKind::NotFound,
                    format!("{domain} at {} is a folder, not a domain", client.display),
                ));
            }
        };
        let mut f = FileCtx::new(client, domain, root, flags);
        if let Some(m) = v["limits"]["max_request_size"].as_u64() {
            f.max_request = (m as usize).max(1024 * 1024);
        }
        let f = Arc::new(f);
        // A writer must see the domain as it is; the summary is as of HSDS's last scan.
        let summary = if flags & crate::h5::H5F_ACC_RDWR == 0 {
            &v["domain_objs"]
        } else {
            &Value::Null
        };
        f.prefetch(summary)?;
        Ok(f)
    }

    /// Creates a domain (H5F_ACC_TRUNC replaces an existing one; H5F_ACC_EXCL refuses).
    pub fn create(name: &str, flags: u32) -> R<Arc<FileCtx>> {
        let domain = domain_path(name)?;
        let client = client_for(&config()?)?;
        let q = [("domain", domain.as_str())];
        if flags & crate::h5::H5F_ACC_TRUNC != 0 {
            match block_on(client.delete("/", &q)) {
                Ok(()) => {}
                Err(e) if e.status == Some(404) => {}
                Err(e) => return Err(hs_err(e)),
            }
        }
        let v =
            block_on(client.send_json(reqwest::Method::PUT, "/", &q, json!({}))).map_err(hs_err)?;
        let root = v["root"].as_str().map(str::to_string).ok_or_else(|| {
            BlobError::new(
                ErrorKind::Server,
                format!("creating {domain}: the server's answer names no root group"),
            )
        })?;
        let f = FileCtx::new(
            client,
            domain,
            root.clone(),
            flags | crate::h5::H5F_ACC_RDWR,
        );
        {
            let mut m = lock(&f.meta);
            m.put_links(&root, Arc::new(Vec::new()));
            m.attrs.insert(root.clone(), Arc::new(Vec::new()));
            m.ids.insert(token_of(&root), root);
        }
        Ok(Arc::new(f))
    }

    /// Deletes a domain (H5Fdelete).
    pub fn delete(name: &str) -> R<()> {
        let domain = domain_path(name)?;
        let client = client_for(&config()?)?;
        block_on(client.delete("/", &[("domain", domain.as_str())])).map_err(hs_err)
    }

    /// Whether `name` is a domain this user can read (H5Fis_accessible).
    pub fn accessible(name: &str) -> R<bool> {
        let domain = domain_path(name)?;
        let client = client_for(&config()?)?;
        match block_on(client.get_json("/", &[("domain", domain.as_str())])) {
            Ok(v) => Ok(v["root"].is_string()),
            Err(e) if matches!(e.status, Some(400 | 403 | 404 | 410)) => Ok(false),
            Err(e) => Err(hs_err(e)),
        }
    }

    /// Fills the cache: from the server's consolidated summary when it has one, otherwise
    /// every link and every attribute (values included) in two requests, then the
    /// descriptions of the datasets and named datatypes, several at a time.
    fn prefetch(&self, domain_objs: &Value) -> R<()> {
        let limit = crate::config::process::var("H5BLOB_REST_PREFETCH")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .unwrap_or(PREFETCH_OBJECTS);
        self.register(&self.root.clone());
        if limit == 0 {
            return Ok(());
        }
        if let Value::Object(objs) = domain_objs {
            let mut m = lock(&self.meta);
            for (id, o) in objs {
                m.ids.insert(token_of(id), id.clone());
                if id.starts_with('g') {
                    let links = items(&o["links"], "title")
                        .into_iter()
                        .filter_map(|(n, l)| parse_link(n, l))
                        .collect();
                    m.put_links(id, Arc::new(links));
                }
                let attrs = items(&o["attributes"], "name")
                    .into_iter()
                    .filter_map(|(n, a)| parse_attr(n, a))
                    .collect();
                m.attrs.insert(id.clone(), Arc::new(attrs));
                m.summarised.insert(id.clone());
                if !id.starts_with('g') {
                    m.objs.insert(id.clone(), Arc::new(o.clone()));
                }
            }
            if !objs.is_empty() {
                return Ok(());
            }
        }
        let gpath = format!("/groups/{}/links", self.root);
        let apath = format!("/groups/{}/attributes", self.root);
        let lq = self.q(&[("follow_links", "1")]);
        let aq = self.q(&[
            ("follow_links", "1"),
            ("IncludeData", "1"),
            ("encoding", "base64"),
        ]);
        let (links, attrs) = block_on(async {
            futures::join!(
                self.client.get_json(&gpath, &lq),
                self.client.get_json(&apath, &aq)
            )
        });
        let links = links.map_err(hs_err)?;
        // Attribute prefetch is an optimisation: without it attributes load per object.
        let attrs = attrs.ok();
        let mut wanted = Vec::new();
        {
            let mut m = lock(&self.meta);
            if let Value::Object(groups) = &links["links"] {
                for (gid, list) in groups {
                    let parsed: Vec<Link> = items(list, "")
                        .into_iter()
                        .filter_map(|(n, l)| parse_link(n, l))
                        .collect();
                    for l in &parsed {
                        if let Target::Hard(id) = &l.target {
                            m.ids.insert(token_of(id), id.clone());
                            if !id.starts_with('g') && !m.objs.contains_key(id) {
                                wanted.push(id.clone());
                            }
                        }
                    }
                    m.ids.insert(token_of(gid), gid.clone());
                    m.put_links(gid, Arc::new(parsed));
                }
            }
            if let Some(Value::Object(per_obj)) = attrs.as_ref().map(|a| &a["attributes"]) {
                for (id, list) in per_obj {
                    let parsed = items(list, "")
                        .into_iter()
                        .filter_map(|(n, a)| parse_attr(n, a))
                        .collect();
                    m.attrs.insert(id.clone(), Arc::new(parsed));
                }
            }
        }
        wanted.sort();
        wanted.dedup();
        if wanted.len() <= limit {
            let fetched: Vec<_> = block_on(
                futures::stream::iter(wanted.into_iter().map(|id| async move {
                    let path = format!("/{}/{id}", collection(&id)?);
                    let v = self
                        .client
                        .get_json(&path, &self.q(&[]))
                        .await
                        .map_err(hs_err)?;
                    Ok::<_, BlobError>((id, v))
                }))
                .buffer_unordered(PARALLEL)
                .collect(),
            );
            let mut m = lock(&self.meta);
            for r in fetched {
                let (id, v) = r?;
                m.objs.insert(id, Arc::new(v));
            }
        }
        Ok(())
    }

    /// Remembers an id so its token can be turned back into it.
    pub fn register(&self, id: &str) -> [u8; 16] {
        let t = token_of(id);
        lock(&self.meta)
            .ids
            .entry(t)
            .or_insert_with(|| id.to_string());
        t
    }

    /// The id behind a token this file handed out.
    pub fn id_of_token(&self, token: &[u8; 16]) -> R<String> {
        lock(&self.meta).ids.get(token).cloned().ok_or_else(|| {
            BlobError::new(
                ErrorKind::NotFound,
                format!("no object with this token in {}", self.domain),
            )
        })
    }

    /// An object's description (`GET /datasets/<id>` and friends), cached.
    pub fn object(&self, id: &str) -> R<Arc<Value>> {
        if let Some(v) = lock(&self.meta).objs.get(id) {
            return Ok(v.clone());
        }
        let path = format!("/{}/{id}", collection(id)?);
        let v = Arc::new(block_on(self.client.get_json(&path, &self.q(&[]))).map_err(hs_err)?);
        lock(&self.meta).objs.insert(id.to_string(), v.clone());
        self.register(id);
        Ok(v)
    }

    pub fn forget_object(&self, id: &str) {
        lock(&self.meta).objs.remove(id);
    }

    /// A group's links, cached.
    pub fn links(&self, gid: &str) -> R<Arc<Vec<Link>>> {
        if let Some(v) = lock(&self.meta).links.get(gid) {
            return Ok(v.clone());
        }
        let path = format!("/groups/{gid}/links");
        let v = block_on(self.client.get_json(&path, &self.q(&[]))).map_err(hs_err)?;
        let links: Vec<Link> = items(&v["links"], "")
            .into_iter()
            .filter_map(|(n, l)| parse_link(n, l))
            .collect();
        for l in &links {
            if let Target::Hard(id) = &l.target {
                self.register(id);
            }
        }
        let links = Arc::new(links);
        lock(&self.meta).put_links(gid, links.clone());
        Ok(links)
    }

    pub fn set_links(&self, gid: &str, links: Vec<Link>) {
        lock(&self.meta).put_links(gid, Arc::new(links));
    }

    pub fn forget_links(&self, gid: &str) {
        lock(&self.meta).drop_links(gid);
    }

    /// An object's attributes (values when the prefetch brought them), cached.
    pub fn attrs(&self, id: &str) -> R<Arc<Vec<AttrMeta>>> {
        if let Some(v) = lock(&self.meta).attrs.get(id) {
            return Ok(v.clone());
        }
        let path = format!("/{}/{id}/attributes", collection(id)?);
        let v = block_on(self.client.get_json(&path, &self.q(&[]))).map_err(hs_err)?;
        let attrs = Arc::new(
            items(&v["attributes"], "")
                .into_iter()
                .filter_map(|(n, a)| parse_attr(n, a))
                .collect::<Vec<_>>(),
        );
        lock(&self.meta).attrs.insert(id.to_string(), attrs.clone());
        Ok(attrs)
    }

    pub fn set_attrs(&self, id: &str, attrs: Vec<AttrMeta>) {
        lock(&self.meta)
            .attrs
            .insert(id.to_string(), Arc::new(attrs));
    }

    /// A new object has no attributes: no need to ask.
    pub fn set_attrs_empty(&self, id: &str) {
        self.set_attrs(id, Vec::new());
    }

    pub fn forget_attrs(&self, id: &str) {
        lock(&self.meta).attrs.remove(id);
    }

    /// The link `name` of group `gid`, if there is one.
    pub fn link(&self, gid: &str, name: &str) -> R<Option<Link>> {
        let found = self.links(gid)?.iter().find(|l| l.name == name).cloned();
        if found.is_none() && self.unsummarise(gid) {
            return Ok(self.links(gid)?.iter().find(|l| l.name == name).cloned());
        }
        Ok(found)
    }

    /// Forgets what the domain summary said about `id` (when it did); true if it did.
    pub fn unsummarise(&self, id: &str) -> bool {
        let mut m = lock(&self.meta);
        if m.summarised.remove(id) {
            m.drop_links(id);
            m.attrs.remove(id);
            true
        } else {
            false
        }
    }

    /// Number of hard links to `id` among the groups we know (at least 1).
    pub fn refcount(&self, id: &str) -> u32 {
        let mut m = lock(&self.meta);
        if m.refcounts.is_none() {
            let mut counts = HashMap::new();
            for l in m.links.values().flat_map(|ls| ls.iter()) {
                if let Target::Hard(t) = &l.target {
                    *counts.entry(t.clone()).or_insert(0u32) += 1;
                }
            }
            m.refcounts = Some(counts);
        }
        m.refcounts
            .as_ref()
            .and_then(|c| c.get(id).copied())
            .unwrap_or(0)
            .max(1)
    }

    /// Splits `path` relative to group `start` into the group holding its last component
    /// and that component's name (intermediate components resolved).
    pub fn parent_of<'p>(&self, start: &str, path: &'p str) -> R<(String, &'p str)> {
        let trimmed = path.trim_end_matches('/');
        let (dir, last) = match trimmed.rfind('/') {
            Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
            None => ("", trimmed),
        };
        let base = if path.starts_with('/') && dir.is_empty() {
            self.root.clone()
        } else if dir.is_empty() {
            start.to_string()
        } else {
            self.resolve(start, dir)?
        };
        if last.is_empty() || last == "." {
            return Err(BlobError::new(
                ErrorKind::Config,
                format!("{path:?} does not name a link"),
            ));
        }
        Ok((base, last))
    }

    /// The domain an external link's file name designates: absolute paths as they are,
    /// relative ones next to this domain (as HDF5 looks next to the parent file).
    pub fn external_domain(&self, file: &str) -> String {
        if file.starts_with('/') {
            return file.to_string();
        }
        let folder = self.domain.rsplit_once('/').map_or("", |(d, _)| d);
        format!("{folder}/{file}")
    }

    /// The domain an external link leads to, opened once (read-only) and kept.
    fn external(&self, file: &str) -> R<Arc<FileCtx>> {
        let domain = self.external_domain(file);
        if let Some(f) = lock(&self.externals).get(&domain) {
            return Ok(f.clone());
        }
        let f = FileCtx::open(&domain, 0)
            .map_err(|e| BlobError::new(e.kind, format!("external link to {domain}: {}", e.msg)))?;
        lock(&self.externals).insert(domain, f.clone());
        Ok(f)
    }

    /// The object `path` leads to from group `start`, following soft and external links;
    /// returns the domain that holds it with its id.
    pub fn locate_path(self: &Arc<Self>, start: &str, path: &str) -> R<(Arc<FileCtx>, String)> {
        let (mut file, mut start, mut path) = (self.clone(), start.to_string(), path.to_string());
        for _ in 0..=MAX_SOFT_HOPS {
            match file.walk(&start, &path, 0)? {
                Step::Here(id) => return Ok((file, id)),
                Step::External {
                    file: ext,
                    path: rest,
                } => {
                    let target = file.external(&ext)?;
                    (start, path, file) = (target.root.clone(), rest, target);
                }
            }
        }
        Err(BlobError::new(
            ErrorKind::NotFound,
            format!("{path:?}: too many external links (circular?)"),
        ))
    }

    /// The domain and id behind a token, looking in domains reached by external links
    /// too.
    pub fn locate_token(self: &Arc<Self>, token: &[u8; 16]) -> R<(Arc<FileCtx>, String)> {
        if let Ok(id) = self.id_of_token(token) {
            return Ok((self.clone(), id));
        }
        let externals: Vec<Arc<FileCtx>> = lock(&self.externals).values().cloned().collect();
        for f in externals {
            if let Ok(id) = f.id_of_token(token) {
                return Ok((f, id));
            }
        }
        self.id_of_token(token).map(|id| (self.clone(), id))
    }

    /// The object `path` leads to from group `start` in this domain, following soft links
    /// (external links are not followed: used where objects are created).
    pub fn resolve(&self, start: &str, path: &str) -> R<String> {
        match self.walk(start, path, 0)? {
            Step::Here(id) => Ok(id),
            Step::External { file, path: p } => Err(BlobError::new(
                ErrorKind::Unsupported,
                format!(
                    "{path:?} leads through an external link to {file}:{p}; objects can only \
                     be created in the domain that was opened"
                ),
            )),
        }
    }

    /// Follows `path` from group `start` in this domain, soft links included, up to the
    /// first external link.
    fn walk(&self, start: &str, path: &str, hops: usize) -> R<Step> {
        if hops > MAX_SOFT_HOPS {
            return Err(BlobError::new(
                ErrorKind::NotFound,
                format!("{path:?}: too many soft links (circular?)"),
            ));
        }
        let comps: Vec<&str> = path
            .split('/')
            .filter(|c| !c.is_empty() && *c != ".")
            .collect();
        let mut cur = if path.starts_with('/') {
            self.root.clone()
        } else {
            start.to_string()
        };
        for (i, comp) in comps.iter().enumerate() {
            if !cur.starts_with('g') {
                return Err(BlobError::new(
                    ErrorKind::NotFound,
                    format!("{path:?}: {comp:?} is under an object that is not a group"),
                ));
            }
            let link = self.link(&cur, comp)?.ok_or_else(|| {
                BlobError::new(
                    ErrorKind::NotFound,
                    format!("{path:?}: no link {comp:?} in {}", self.domain),
                )
            })?;
            let rest = comps[i + 1..].join("/");
            let beyond = |p: String| {
                if rest.is_empty() {
                    p
                } else {
                    format!("{p}/{rest}")
                }
            };
            cur = match link.target {
                Target::Hard(id) => id,
                Target::Soft(p) => match self.walk(&cur, &p, hops + 1)? {
                    Step::Here(id) => id,
                    Step::External { file, path } => {
                        return Ok(Step::External {
                            file,
                            path: beyond(path),
                        });
                    }
                },
                Target::External { file, path: p } => {
                    return Ok(Step::External {
                        file,
                        path: beyond(p),
                    });
                }
            };
        }
        Ok(Step::Here(cur))
    }
}

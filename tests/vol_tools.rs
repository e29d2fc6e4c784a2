//! HDF5's own tools through the REST VOL connector against a real HSDS: every corpus file
//! is loaded with h5pyd's `hsload` into `/home/admin/<name>`, and `h5dump`, `h5dump -H`,
//! `h5dump -p -H`, `h5ls -r` and `h5ls -r -v` of the domain must print what they print for
//! the local file, except for what HSDS itself changes. Errors (missing domain, wrong
//! password) must be clear and must not leak the password.
//!
//! # What HSDS changes, and the reference each comparison uses
//!
//! The reference is the *local* file for every corpus file. The `hsget_roundtrip` tests
//! show each rule below on the real server: the file `hsget` writes back from the domain
//! dumps exactly like the local file once the rules are applied (h5dump, h5dump -H,
//! h5ls -r), and h5pyd reads every value of the domain equal to the local one.
//!
//! 1. **Storage layout** (`-p`, `h5ls -v`). HSDS stores every dataset with a dataspace in
//!    chunks; only scalar datasets stay `H5D_CONTIGUOUS`. hsload gives a contiguous
//!    dataset one chunk of its whole shape (up to HSDS's chunk-size limits), keeps the chunk
//!    shape of chunked datasets but enlarges small 1-D chunks (its `expandChunk`: 128 -> 512
//!    for `compound.h5:/records_chunked`, 64 -> 256 for `vlen_strings.h5:/utf8_chunked`).
//!    So the expected layout is the one HSDS reports (`tests/data/hsds_check.py layouts`),
//!    and a dataset that became chunked gets HDF5's allocation time for chunked layouts
//!    (`H5D_ALLOC_TIME_INCR`; it was `LATE` for contiguous).
//! 2. **Storage sizes and addresses** (`-p`: `SIZE`, the compression ratio, `OFFSET`;
//!    `h5ls -v`: allocated bytes and utilization, `Location`, and a committed type's
//!    `shared-<fileno>:<token>`, the same token as its `Location`). HSDS has no file addresses
//!    (h5dump leaves out the `OFFSET` line of a contiguous dataset when the connector has
//!    no address to give, so those lines are dropped); its storage size is the sum of its
//!    own chunk objects, compressed by HSDS (e.g. 1447923 bytes for
//!    `chunked_gzip.h5:/temperature` against 1224040 in the file) and known only after
//!    HSDS's asynchronous scan of the domain. These values are masked.
//! 3. **Hard-link counts** (`h5ls -v`: `Links:`). HSDS keeps no reference count per object
//!    (HDF5's `rc`), so the value is masked.
//! 4. **Zero-sized maximum dimensions.** h5pyd sends an unlimited maximum dimension as `0`,
//!    so a dataset created with maxdims 0 (`contiguous.h5:/empty`, shape (0,)/(0,)) is
//!    stored with `H5S_UNLIMITED` (h5dump `( 0 ) / ( H5S_UNLIMITED )`, h5ls `{0/Inf}`).
//! 5. **Scalar variable-length ASCII attributes become UTF-8.** hsload reads the value as a
//!    Python `str` and writes it back with h5pyd's default UTF-8 string type
//!    (`vlen_strings.h5`, attribute `ascii_note`). Datasets and attribute arrays of ASCII
//!    strings keep their character set.
//! 6. **Fixed-length strings.** h5py writes them NULLPAD, and those round-trip unchanged
//!    (every corpus file). hsload turns NULLTERM and SPACEPAD strings into NULLPAD ones,
//!    shrinks a scalar attribute's string to its value's length and pads values with NULs.
//!    For a file with such strings the reference for types and values is the h5dump of the
//!    file `hsget` writes back (`fixed_strings.h5`, made by `hsds_check.py`); its storage
//!    properties still come from the local file with rules 1-3.
//! 7. **Modification times** (`h5ls -v`: `Modified:`). HSDS stamps every object with the
//!    time it was written (by hsload), while the corpus files record none
//!    (`track_times=False`); a connector may report HSDS's. The lines are dropped.
//!
//! Object references print their file's name before the object's path
//! (`GROUP "<file>/g1"`): the local path for a file, the domain through the connector.
//! `normalise` (tests/common) replaces it with `<file>` on both sides, as it does for the
//! VFD's URLs.
//!
//! External links are followed as HDF5 does for a file: relative to the linking file's
//! folder, so `links.h5:/external_link` (`contiguous.h5`, `/f8_le_1d`) shows the dataset of
//! the domain `/home/admin/contiguous.h5` (h5pyd resolves relative external links the same
//! way), with that domain's layout under rule 1.
//!
//! Not HSDS's doing, so not masked: filters (HSDS keeps shuffle and deflate with its
//! level; the one shuffle parameter h5ls shows, `OPT {4}`, is the type size HDF5 records
//! at creation, which a connector knows from the type), fill values (hsload sends only
//! non-zero ones, none in the corpus, so HSDS has none: `H5D_FILL_VALUE_DEFAULT`) and fill
//! times (HSDS keeps none; the native library reports `H5D_FILL_TIME_ALLOC` for datasets of
//! variable-length types and `H5D_FILL_TIME_IFSET` otherwise, and so must a connector).
//!
//! Why `hsget`'s file is not the reference for everything: hsget lets h5py pick new chunk
//! shapes and writes an explicit fill value 0, so its `-p` output shows neither the file nor
//! HSDS; and hsget of `vlen_strings.h5` fails (h5pyd returns variable-length ASCII values
//! as `bytearray`, which h5py refuses to write), so that file is checked with
//! `hsget --nodata` and h5pyd's values instead.

mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Per tool run; a hung connector fails the test instead of hanging it.
const TOOL_TIMEOUT: Duration = Duration::from_secs(600);
/// Extra file (not in the shared corpus) whose fixed-length strings hsload changes.
const FIXED_STRINGS: &str = "fixed_strings.h5";
/// Files whose full `hsget` fails for a known h5pyd bug, with the message it fails with.
const HSGET_FAILS: &[(&str, &str)] = &[(
    "vlen_strings.h5",
    "Can't implicitly convert non-string objects to strings",
)];
/// Lines of each side shown per differing hunk, hunks shown per comparison, and how far
/// (in lines skipped on both sides) the diff looks for the two sides to agree again.
const DIFF_LINES: usize = 12;
const MAX_HUNKS: usize = 5;
const RESYNC_WINDOW: usize = 200;

// ------------------------------------------------------------------------------------
// Loading: one domain per file, loaded once per test binary
// ------------------------------------------------------------------------------------

/// What HSDS holds for one dataset after hsload, next to the local file's layout.
#[derive(Debug, Clone)]
struct Layout {
    hsds_layout: String,
    hsds_chunks: Option<Vec<u64>>,
    local_layout: String,
    type_size: u64,
}

struct Loaded {
    name: String,
    local: PathBuf,
    domain: String,
    /// Dataset path (every hard-link path) -> layout.
    layouts: BTreeMap<String, Layout>,
}

fn hs_python(args: &[&str]) -> std::process::Output {
    run_retrying_503(|| {
        let mut c = std::process::Command::new(python());
        c.arg(repo().join("tests/data/hsds_check.py")).args(args);
        hsds().env(&mut c);
        c
    })
}

fn source_file(name: &str) -> PathBuf {
    if name == FIXED_STRINGS {
        static FILE: OnceLock<PathBuf> = OnceLock::new();
        return FILE
            .get_or_init(|| {
                let dir = std::env::temp_dir().join(format!("h5blob-vol-{}", std::process::id()));
                std::fs::create_dir_all(&dir).unwrap();
                let path = dir.join(FIXED_STRINGS);
                let out = hs_python(&["make-fixed-strings", path.to_str().unwrap()]);
                assert!(out.status.success(), "{}", text(&out.stderr));
                path
            })
            .clone();
    }
    let path = corpus_local().0.join(name);
    assert!(path.exists(), "{name} is not in the corpus");
    path
}

fn load(name: &str) -> Loaded {
    let local = source_file(name);
    let domain = format!("/home/{HS_USER}/{name}");
    hsload(&local, &domain);
    let out = hs_python(&["layouts", local.to_str().unwrap(), &domain]);
    assert!(
        out.status.success(),
        "hsds_check.py layouts {name}: {}",
        text(&out.stderr)
    );
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let layouts = json
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, v)| {
            let layout = Layout {
                hsds_layout: v["hsds_layout"].as_str().unwrap_or("none").to_string(),
                hsds_chunks: v["hsds_chunks"]
                    .as_array()
                    .map(|a| a.iter().map(|d| d.as_u64().unwrap()).collect()),
                local_layout: v["local_layout"].as_str().unwrap().to_string(),
                type_size: v["type_size"].as_u64().unwrap(),
            };
            (path.clone(), layout)
        })
        .collect();
    Loaded {
        name: name.to_string(),
        local,
        domain,
        layouts,
    }
}

/// The domain of `name`, loaded on first use (tests for different files load in parallel).
fn loaded(name: &str) -> &'static Loaded {
    static CELLS: OnceLock<Mutex<BTreeMap<String, &'static OnceLock<Loaded>>>> = OnceLock::new();
    let cell: &'static OnceLock<Loaded> = CELLS
        .get_or_init(Default::default)
        .lock()
        .unwrap()
        .entry(name.to_string())
        .or_insert_with(|| Box::leak(Box::default()));
    cell.get_or_init(|| load(name))
}

// ------------------------------------------------------------------------------------
// Running the tools
// ------------------------------------------------------------------------------------

fn h5ls_local(args: &[&str], file: &Path) -> String {
    let out = run(tool("h5ls").args(args).arg(file));
    assert!(
        out.status.success(),
        "h5ls {args:?} {}: {}",
        file.display(),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs a tool through the connector; Err is a readable failure report.
fn through_vol(name: &str, args: &[&str], domain: &str) -> Result<String, String> {
    let out = run_timeout(vol_tool(name).args(args).arg(domain), TOOL_TIMEOUT);
    if out.status.success() {
        return Ok(text(&out.stdout));
    }
    let err = text(&out.stderr);
    let shown: Vec<&str> = err.lines().take(40).collect();
    Err(format!(
        "{name} {} {domain}: {}\n{}",
        args.join(" "),
        out.status,
        shown.join("\n")
    ))
}

// ------------------------------------------------------------------------------------
// h5dump output as nested blocks
// ------------------------------------------------------------------------------------

/// One `... {` to `}` block of h5dump output.
#[derive(Debug)]
struct Block {
    /// Lines of the opening and the closing line.
    start: usize,
    end: usize,
    /// First word of the opening line: GROUP, DATASET, ATTRIBUTE, DATATYPE, STORAGE_LAYOUT...
    kind: String,
    /// The quoted name of `GROUP "x" {` and the like.
    name: Option<String>,
    parent: Option<usize>,
}

struct Ddl {
    lines: Vec<String>,
    blocks: Vec<Block>,
    /// For each line that neither opens nor closes a block: the innermost block around it.
    owner: Vec<Option<usize>>,
}

impl Ddl {
    fn parse(text: &str) -> Ddl {
        let lines: Vec<String> = text.lines().map(str::to_string).collect();
        let mut blocks: Vec<Block> = Vec::new();
        let mut owner = vec![None; lines.len()];
        let mut stack: Vec<usize> = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let t = line.trim();
            if t.starts_with('}') {
                // (normalise() dropped the file's opening line, so its `}` closes nothing.)
                if let Some(b) = stack.pop() {
                    blocks[b].end = i;
                }
            } else if t.ends_with('{') {
                let kind = t.split_whitespace().next().unwrap_or("").to_string();
                let rest = t[kind.len()..].trim();
                let name = (rest.starts_with('"') && rest.ends_with("\" {"))
                    .then(|| rest[1..rest.len() - 3].to_string());
                blocks.push(Block {
                    start: i,
                    end: usize::MAX,
                    kind,
                    name,
                    parent: stack.last().copied(),
                });
                stack.push(blocks.len() - 1);
            } else {
                owner[i] = stack.last().copied();
            }
        }
        Ddl {
            lines,
            blocks,
            owner,
        }
    }

    /// Where a GROUP or DATASET block's object lives: (the file of the nearest enclosing
    /// external link, None for this file; the object's path in that file). h5dump follows
    /// external links whose target it can open and prints the target under the link.
    fn locate(&self, mut b: usize) -> (Option<String>, String) {
        let mut names = Vec::new();
        let mut file = None;
        loop {
            let block = &self.blocks[b];
            match block.kind.as_str() {
                "GROUP" | "DATASET" => names.push(block.name.clone().unwrap_or_default()),
                "EXTERNAL_LINK" => {
                    file = self.own_lines(b).find_map(|i| {
                        let t = self.lines[i].trim();
                        t.strip_prefix("TARGETFILE \"")
                            .and_then(|f| f.strip_suffix('"'))
                            .map(str::to_string)
                    });
                    break;
                }
                _ => {}
            }
            match block.parent {
                Some(p) => b = p,
                None => break,
            }
        }
        names.reverse();
        // The outermost name is absolute ("/" for the root group, "/f8_le_1d" for a link
        // target); the rest are relative.
        let mut path = names.first().cloned().unwrap_or_default();
        for n in &names[1.min(names.len())..] {
            if !path.ends_with('/') {
                path.push('/');
            }
            path.push_str(n);
        }
        (file, path)
    }

    fn children(&self, b: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.blocks.len()).filter(move |&c| self.blocks[c].parent == Some(b))
    }

    /// Lines directly inside block b (not in a nested block).
    fn own_lines(&self, b: usize) -> impl Iterator<Item = usize> + '_ {
        let block = &self.blocks[b];
        (block.start + 1..block.end).filter(move |&i| self.owner[i] == Some(b))
    }

    fn inner(&self, b: usize) -> Vec<String> {
        let block = &self.blocks[b];
        self.lines[block.start + 1..block.end].to_vec()
    }

    /// The text with the inner lines of some blocks replaced (start line -> new lines).
    fn render(&self, replace: &BTreeMap<usize, Vec<String>>) -> String {
        let mut out = String::new();
        let mut i = 0;
        while i < self.lines.len() {
            out.push_str(&self.lines[i]);
            out.push('\n');
            if let Some(new) = replace.get(&i) {
                for l in new {
                    out.push_str(l);
                    out.push('\n');
                }
                i = self.blocks.iter().find(|b| b.start == i).unwrap().end;
                continue;
            }
            i += 1;
        }
        out
    }
}

const PROPERTY_BLOCKS: [&str; 4] = ["STORAGE_LAYOUT", "FILTERS", "FILLVALUE", "ALLOCATION_TIME"];

/// `( 0, 3 ) / ( 0, 3 )` with every maximum of 0 as H5S_UNLIMITED (rule 4).
fn unlimited_zero_maxdims(line: &str) -> String {
    let Some(slash) = line.find(" ) / ( ") else {
        return line.to_string();
    };
    let (head, tail) = line.split_at(slash + " ) / ( ".len());
    let Some(close) = tail.find(" )") else {
        return line.to_string();
    };
    let max: Vec<&str> = tail[..close]
        .split(", ")
        .map(|m| if m == "0" { "H5S_UNLIMITED" } else { m })
        .collect();
    format!("{head}{}{}", max.join(", "), &tail[close..])
}

/// Rules 4 and 5 on h5dump output of the local file (any of plain, -H, -p -H).
fn hsds_ddl(text: &str) -> String {
    let mut ddl = Ddl::parse(text);
    for b in 0..ddl.blocks.len() {
        match ddl.blocks[b].kind.as_str() {
            "DATASET" => {
                let spaces: Vec<usize> = ddl
                    .own_lines(b)
                    .filter(|&i| ddl.lines[i].trim().starts_with("DATASPACE  SIMPLE {"))
                    .collect();
                for i in spaces {
                    ddl.lines[i] = unlimited_zero_maxdims(&ddl.lines[i]);
                }
            }
            "ATTRIBUTE" => {
                let scalar = ddl
                    .own_lines(b)
                    .any(|i| ddl.lines[i].trim() == "DATASPACE  SCALAR");
                let Some(t) = ddl.children(b).find(|&c| {
                    ddl.blocks[c].kind == "DATATYPE"
                        && ddl.lines[ddl.blocks[c].start].trim() == "DATATYPE  H5T_STRING {"
                }) else {
                    continue;
                };
                let vlen = ddl
                    .own_lines(t)
                    .any(|i| ddl.lines[i].trim() == "STRSIZE H5T_VARIABLE;");
                let cset = ddl
                    .own_lines(t)
                    .find(|&i| ddl.lines[i].trim() == "CSET H5T_CSET_ASCII;");
                if let (true, true, Some(i)) = (scalar, vlen, cset) {
                    ddl.lines[i] = ddl.lines[i].replace("H5T_CSET_ASCII", "H5T_CSET_UTF8");
                }
            }
            _ => {}
        }
    }
    ddl.render(&BTreeMap::new())
}

fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// Rule 1: a dataset's property blocks (from the local `-p -H` output) as HSDS has them.
fn hsds_property_blocks(
    ddl: &Ddl,
    dataset: usize,
    layout: &Layout,
) -> BTreeMap<String, Vec<String>> {
    let path = ddl.locate(dataset).1;
    let mut out = BTreeMap::new();
    let now_chunked =
        layout.local_layout == "H5D_CONTIGUOUS" && layout.hsds_layout == "H5D_CHUNKED";
    let dims = || {
        let dims = layout.hsds_chunks.as_ref().expect("chunked without dims");
        dims.iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    for c in ddl.children(dataset) {
        let kind = ddl.blocks[c].kind.clone();
        if !PROPERTY_BLOCKS.contains(&kind.as_str()) {
            continue;
        }
        let mut inner = ddl.inner(c);
        let indent = indent_of(&inner[0]).to_string();
        match kind.as_str() {
            "STORAGE_LAYOUT" => match (layout.local_layout.as_str(), layout.hsds_layout.as_str()) {
                ("H5D_CHUNKED", "H5D_CHUNKED") => {
                    for l in inner.iter_mut() {
                        if l.trim().starts_with("CHUNKED ( ") {
                            *l = format!("{indent}CHUNKED ( {} )", dims());
                        }
                    }
                }
                ("H5D_CONTIGUOUS", "H5D_CHUNKED") => {
                    inner = vec![
                        format!("{indent}CHUNKED ( {} )", dims()),
                        format!("{indent}SIZE 0"),
                    ];
                }
                ("H5D_CONTIGUOUS", "H5D_CONTIGUOUS") => {}
                (local, hsds) => panic!("{path}: layout {local} stored as {hsds} is not handled"),
            },
            "ALLOCATION_TIME" if now_chunked => {
                inner = vec![format!("{indent}H5D_ALLOC_TIME_INCR")];
            }
            _ => {}
        }
        out.insert(kind, inner);
    }
    out
}

/// Rule 2 on `-p` output (both sides): storage sizes and compression ratios masked,
/// address lines dropped.
fn mask_props(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let (indent, t) = (indent_of(line), line.trim());
        if t.starts_with("SIZE ") {
            let ratio = if t.ends_with(":1 COMPRESSION)") {
                " (<ratio>:1 COMPRESSION)"
            } else {
                ""
            };
            out.push_str(&format!("{indent}SIZE <bytes>{ratio}"));
        } else if t.starts_with("OFFSET ") {
            continue;
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// `-p -H` output `target` with each dataset's property blocks replaced by those the
/// local file's output `local` (rules 4-5 applied) has under rule 1. Datasets shown
/// through an external link take their layout from the target file's domain.
fn hsds_props(target: &str, local: &str, l: &Loaded) -> String {
    let local = Ddl::parse(local);
    let mut by_place = BTreeMap::new();
    for b in (0..local.blocks.len()).filter(|&b| local.blocks[b].kind == "DATASET") {
        if local.children(b).next().is_none() {
            continue; // `HARDLINK "/first/path"`: printed once, under its first path
        }
        let (file, path) = local.locate(b);
        let layouts = match &file {
            None => &l.layouts,
            Some(f) => &loaded(f).layouts,
        };
        let layout = layouts
            .get(&path)
            .unwrap_or_else(|| panic!("no HSDS layout for {path} in {file:?}"));
        by_place.insert((file, path), hsds_property_blocks(&local, b, layout));
    }
    let target = Ddl::parse(target);
    let mut replace = BTreeMap::new();
    for b in (0..target.blocks.len()).filter(|&b| target.blocks[b].kind == "DATASET") {
        let Some(blocks) = by_place.get(&target.locate(b)) else {
            continue;
        };
        for c in target.children(b) {
            if let Some(inner) = blocks.get(&target.blocks[c].kind) {
                replace.insert(target.blocks[c].start, inner.clone());
            }
        }
    }
    mask_props(&target.render(&replace))
}

// ------------------------------------------------------------------------------------
// h5ls output
// ------------------------------------------------------------------------------------

/// Rule 4 on an h5ls line `/path   Dataset {0/0, 3}`: a maximum of 0 printed as Inf.
fn h5ls_unlimited_zero(line: &str) -> String {
    let Some(open) = line.find("Dataset {") else {
        return line.to_string();
    };
    let start = open + "Dataset {".len();
    let Some(len) = line[start..].find('}') else {
        return line.to_string();
    };
    let dims = &line[start..start + len];
    if dims == "SCALAR" {
        return line.to_string();
    }
    let dims: Vec<String> = dims
        .split(", ")
        .map(|d| {
            let (cur, max) = d.split_once('/').unwrap_or((d, d));
            if max == "0" {
                format!("{cur}/Inf")
            } else {
                d.to_string()
            }
        })
        .collect();
    format!(
        "{}{}{}",
        &line[..start],
        dims.join(", "),
        &line[start + len..]
    )
}

/// Rules 4 and 5 on `h5ls -r [-v]` output of the local file.
fn hsds_ls(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = String::new();
    for (i, line) in lines.iter().enumerate() {
        let mut l = h5ls_unlimited_zero(line);
        let attr_scalar = |j: usize| {
            j > 0 && {
                let prev = lines[j - 1].trim();
                prev.starts_with("Attribute: ") && prev.ends_with(" scalar")
            }
        };
        if l.trim() == "Type:      variable-length null-terminated ASCII string" && attr_scalar(i) {
            l = l.replace("ASCII", "UTF-8");
        }
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// The `Chunks:` line h5ls -v prints for a chunked dataset.
fn h5ls_chunks_line(dims: &[u64], type_size: u64) -> String {
    let bytes: u64 = dims.iter().product::<u64>() * type_size;
    let dims: Vec<String> = dims.iter().map(u64::to_string).collect();
    format!(
        "    {:<10} {{{}}} {bytes} bytes",
        "Chunks:",
        dims.join(", ")
    )
}

/// Rule 1 on `h5ls -r -v` output: each dataset's `Chunks:` line as HSDS has it. Lines of
/// datasets whose chunks HSDS kept must come out unchanged (checks the line format).
fn hsds_ls_chunks(text: &str, layouts: &BTreeMap<String, Layout>) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut current: Option<&Layout> = None;
    let mut original_chunks: Option<String> = None;
    for line in text.lines() {
        if line.starts_with('/') {
            let path = line.split_whitespace().next().unwrap();
            current = line.contains(" Dataset {").then(|| {
                layouts
                    .get(path)
                    .unwrap_or_else(|| panic!("no HSDS layout for {path}"))
            });
            original_chunks = None;
        }
        if line.starts_with("    Chunks:") {
            original_chunks = Some(line.to_string());
            continue;
        }
        if let (true, Some(layout)) = (line.starts_with("    Storage:"), current) {
            if let Some(dims) = &layout.hsds_chunks {
                let new = h5ls_chunks_line(dims, layout.type_size);
                // Where HSDS kept the file's chunk shape, h5ls's own line must come out
                // unchanged: that checks the format written here.
                if let Some(orig) = &original_chunks {
                    let same_dims = orig.split('}').next() == new.split('}').next();
                    assert!(
                        !same_dims || *orig == new,
                        "Chunks line: {orig:?} vs {new:?}"
                    );
                }
                out.push(new);
            }
        }
        out.push(line.to_string());
    }
    out.join("\n") + "\n"
}

/// Rules 2, 3 and 7 on `h5ls -r -v` output (both sides); the `Opened` line names the file.
fn mask_ls_v(text: &str) -> String {
    // A committed type used by a dataset shows as `shared-<fileno>:<token of the type>`,
    // the address in a file and the HSDS id in a domain: the same token as the type's own
    // `Location:` line.
    let shared: Vec<String> = text
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("Location:"))
        .map(|loc| format!("shared-{}", loc.trim()))
        .collect();
    let mut out = String::new();
    for line in text.lines() {
        let line = shared
            .iter()
            .fold(line.to_string(), |l, s| l.replace(s, "shared-<token>:"));
        let line = line.as_str();
        if line.starts_with("Opened ") || line.trim_start().starts_with("Modified:") {
            continue;
        }
        let t = line.trim_start();
        let masked = if t.starts_with("Location:") {
            "    Location:  <token>".to_string()
        } else if t.starts_with("Links:") {
            "    Links:     <count>".to_string()
        } else if t.starts_with("Storage:") && t.contains(" logical bytes, ") {
            let keep = line.find(" logical bytes, ").unwrap() + " logical bytes, ".len();
            format!("{}<allocated>", &line[..keep])
        } else {
            line.to_string()
        };
        out.push_str(&masked);
        out.push('\n');
    }
    out
}

// ------------------------------------------------------------------------------------
// Expected outputs
// ------------------------------------------------------------------------------------

/// A fixed-length string type that hsload changes (rule 6).
fn has_changed_fixed_strings(header: &str) -> bool {
    let lines: Vec<&str> = header.lines().map(str::trim).collect();
    lines.windows(2).any(|w| {
        w[0].starts_with("STRSIZE ")
            && !w[0].contains("H5T_VARIABLE")
            && w[1].starts_with("STRPAD ")
            && w[1] != "STRPAD H5T_STR_NULLPAD;"
    })
}

/// A file `hsget` wrote back from a domain, in its own temporary directory (tests for the
/// same domain run in parallel), removed with it.
struct HsgetFile {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

fn hsget_file(l: &Loaded, nodata: bool) -> Result<HsgetFile, String> {
    let dir = tempfile::Builder::new()
        .prefix("h5blob-hsget-")
        .tempdir()
        .unwrap();
    let path = dir.path().join(&l.name);
    let out = hsget(&l.domain, &path, nodata);
    if out.status.success() {
        Ok(HsgetFile { path, _dir: dir })
    } else {
        Err(text(&out.stderr))
    }
}

/// Files other domains' external links name (`TARGETFILE "contiguous.h5"` in links.h5),
/// if they are corpus files too.
fn external_targets(l: &Loaded) -> Vec<String> {
    let header = local_dump(&["-H"], &l.local);
    let mut targets: Vec<String> = header
        .lines()
        .filter_map(|line| line.trim().strip_prefix("TARGETFILE \""))
        .filter_map(|f| f.strip_suffix('"'))
        .filter(|f| corpus_local().0.join(f).exists())
        .map(str::to_string)
        .collect();
    targets.dedup();
    targets
}

/// The reference for types and values (module docs, rule 6): None for the local file.
fn hsget_reference(l: &Loaded) -> Option<HsgetFile> {
    let header = local_dump(&["-H"], &l.local);
    has_changed_fixed_strings(&header).then(|| {
        hsget_file(l, false)
            .unwrap_or_else(|e| panic!("{}: hsget for the reference failed: {e}", l.name))
    })
}

/// One tool run to compare: the expected output, and the mask the actual output gets.
struct Run {
    tool: &'static str,
    args: Vec<&'static str>,
    want: String,
    mask: fn(&str) -> String,
}

impl Run {
    fn new(
        tool: &'static str,
        args: &[&'static str],
        want: String,
        mask: fn(&str) -> String,
    ) -> Run {
        Run {
            tool,
            args: args.to_vec(),
            want,
            mask,
        }
    }
}

fn same(s: &str) -> String {
    s.to_string()
}

fn expected_dumps(l: &Loaded) -> Vec<Run> {
    let reference = hsget_reference(l);
    let local_props = hsds_ddl(&normalise(&local_dump(&["-p", "-H"], &l.local)));
    let (dump, header, props) = match &reference {
        None => (
            hsds_ddl(&normalise(&local_dump(&[], &l.local))),
            hsds_ddl(&normalise(&local_dump(&["-H"], &l.local))),
            hsds_props(&local_props, &local_props, l),
        ),
        Some(file) => (
            normalise(&local_dump(&[], &file.path)),
            normalise(&local_dump(&["-H"], &file.path)),
            hsds_props(
                &normalise(&local_dump(&["-p", "-H"], &file.path)),
                &local_props,
                l,
            ),
        ),
    };
    vec![
        Run::new("h5dump", &[], dump, same),
        Run::new("h5dump", &["-H"], header, same),
        Run::new("h5dump", &["-p", "-H"], props, mask_props),
    ]
}

fn expected_ls(l: &Loaded) -> Vec<Run> {
    let (ls, ls_v) = match hsget_reference(l) {
        None => (
            hsds_ls(&h5ls_local(&["-r"], &l.local)),
            hsds_ls(&h5ls_local(&["-r", "-v"], &l.local)),
        ),
        Some(file) => (
            h5ls_local(&["-r"], &file.path),
            h5ls_local(&["-r", "-v"], &file.path),
        ),
    };
    let ls_v = mask_ls_v(&hsds_ls_chunks(&ls_v, &l.layouts));
    vec![
        Run::new("h5ls", &["-r"], ls, same),
        Run::new("h5ls", &["-r", "-v"], ls_v, mask_ls_v),
    ]
}

// ------------------------------------------------------------------------------------
// Reporting
// ------------------------------------------------------------------------------------

/// None if equal, else the first few differing hunks with a little context, diff-style.
fn first_difference(expected: &str, actual: &str) -> Option<String> {
    if expected == actual {
        return None;
    }
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    let mut out = format!(
        "--- expected ({} lines)\n+++ actual ({} lines)\n",
        a.len(),
        b.len()
    );
    let (mut i, mut j, mut hunks) = (0, 0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            (i, j) = (i + 1, j + 1);
            continue;
        }
        if hunks == MAX_HUNKS {
            out.push_str("(more differences follow)\n");
            break;
        }
        hunks += 1;
        let (di, dj) = resync(&a, &b, i, j).unwrap_or((a.len() - i, b.len() - j));
        out.push_str(&format!(
            "@@ expected line {}, actual line {} @@\n",
            i + 1,
            j + 1
        ));
        for l in &a[i.saturating_sub(2)..i] {
            out.push_str(&format!("  {l}\n"));
        }
        for (sign, lines) in [('-', &a[i..i + di]), ('+', &b[j..j + dj])] {
            for l in lines.iter().take(DIFF_LINES) {
                out.push_str(&format!("{sign} {l}\n"));
            }
            if lines.len() > DIFF_LINES {
                out.push_str(&format!(
                    "{sign} ... {} more lines\n",
                    lines.len() - DIFF_LINES
                ));
            }
        }
        (i, j) = (i + di, j + dj);
    }
    Some(out)
}

/// The nearest (fewest skipped lines) point after a mismatch at (i, j) where both sides
/// agree again for a few lines, or both end.
fn resync(a: &[&str], b: &[&str], i: usize, j: usize) -> Option<(usize, usize)> {
    const AGREE: usize = 3;
    let agree_at = |x: usize, y: usize| {
        if x == a.len() && y == b.len() {
            return true;
        }
        let n = AGREE
            .min(a.len().saturating_sub(x))
            .min(b.len().saturating_sub(y));
        n > 0
            && a[x..x + n] == b[y..y + n]
            && (n == AGREE || (x + n == a.len() && y + n == b.len()))
    };
    (1..=RESYNC_WINDOW).find_map(|d| {
        (0..=d)
            .map(|di| (di, d - di))
            .find(|&(di, dj)| i + di <= a.len() && j + dj <= b.len() && agree_at(i + di, j + dj))
    })
}

fn report(what: &str, failures: Vec<String>) {
    assert!(
        failures.is_empty(),
        "{what}: {} failure(s)\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ------------------------------------------------------------------------------------
// Tests
// ------------------------------------------------------------------------------------

/// h5dump / h5ls through the connector against the expected outputs; all failures at once.
fn through_connector(name: &str, expected: fn(&Loaded) -> Vec<Run>) {
    let l = loaded(name);
    let mut failures = Vec::new();
    for run in expected(l) {
        match through_vol(run.tool, &run.args, &l.domain) {
            Err(e) => failures.push(e),
            Ok(out) => {
                let got = if run.tool == "h5dump" {
                    (run.mask)(&normalise(&out))
                } else {
                    (run.mask)(&out)
                };
                if let Some(d) = first_difference(&run.want, &got) {
                    let args = run.args.join(" ");
                    failures.push(format!("{} {args} {}:\n{d}", run.tool, l.domain));
                }
            }
        }
    }
    report(&format!("{name} through the REST VOL"), failures);
}

fn vol_h5dump(name: &str) {
    through_connector(name, expected_dumps);
}

fn vol_h5ls(name: &str) {
    through_connector(name, expected_ls);
}

/// Shows the rules on the real server, without the connector: the file hsget writes back
/// dumps like the expected output (h5dump, -H, h5ls -r), and h5pyd reads every value.
fn hsget_roundtrip(name: &str) {
    let l = loaded(name);
    let mut failures = Vec::new();
    let values = hs_python(&["values", l.local.to_str().unwrap(), &l.domain]);
    if !values.status.success() {
        failures.push(format!(
            "h5pyd values of {} differ from the file:\n{}{}",
            l.domain,
            text(&values.stdout),
            text(&values.stderr)
        ));
    }
    let known = HSGET_FAILS.iter().find(|(f, _)| *f == name);
    let (file, with_data) = match (hsget_file(l, false), known) {
        (Ok(file), None) => (file, true),
        (Ok(_), Some(_)) => {
            failures.push(format!(
                "hsget of {name} works now: remove it from HSGET_FAILS"
            ));
            (hsget_file(l, true).unwrap(), false)
        }
        (Err(e), Some((_, msg))) if e.contains(msg) => match hsget_file(l, true) {
            Ok(file) => (file, false),
            Err(e) => panic!("hsget --nodata {}: {e}", l.domain),
        },
        (Err(e), _) => panic!("hsget {}: {e}", l.domain),
    };
    // h5dump follows an external link to a file next to the linking one; HSDS holds the
    // targets as domains in the same folder, so fetch those next to the hsget file too.
    for target in external_targets(l) {
        let next_to = file.path.with_file_name(&target);
        let out = hsget(&loaded(&target).domain, &next_to, !with_data);
        assert!(
            out.status.success(),
            "hsget {target}: {}",
            text(&out.stderr)
        );
    }
    if hsget_reference(l).is_some() {
        // Rule 6: the hsget file is the reference, so show that hsload did change it.
        let (local, back) = (
            normalise(&local_dump(&["-H"], &l.local)),
            normalise(&local_dump(&["-H"], &file.path)),
        );
        let changed: Vec<(&str, &str)> = local
            .lines()
            .zip(back.lines())
            .filter(|(a, b)| a != b)
            .collect();
        assert!(
            local.lines().count() == back.lines().count()
                && !changed.is_empty()
                && changed
                    .iter()
                    .all(|(a, _)| a.trim().starts_with("STRSIZE") || a.trim().starts_with("STRPAD")),
            "{name}: expected only string sizes/padding to change: {changed:?}"
        );
    } else {
        // An hsget --nodata file has no values to compare: only its -H output.
        let runs = expected_dumps(l)
            .into_iter()
            .filter(|r| r.args == ["-H"] || (with_data && r.args.is_empty()));
        for r in runs {
            let got = normalise(&local_dump(&r.args, &file.path));
            if let Some(d) = first_difference(&r.want, &got) {
                failures.push(format!(
                    "h5dump {} of the hsget file:\n{d}",
                    r.args.join(" ")
                ));
            }
        }
        let want = &expected_ls(l)[0].want;
        if let Some(d) = first_difference(want, &h5ls_local(&["-r"], &file.path)) {
            failures.push(format!("h5ls -r of the hsget file:\n{d}"));
        }
    }
    report(&format!("{name} hsload/hsget round trip"), failures);
}

macro_rules! per_file {
    ($($module:ident => $file:literal),* $(,)?) => {
        const FILES: &[&str] = &[$($file),*];
        $(mod $module {
            #[test]
            fn hsget_roundtrip() {
                super::hsget_roundtrip($file);
            }
            #[test]
            fn vol_h5dump() {
                super::vol_h5dump($file);
            }
            #[test]
            fn vol_h5ls() {
                super::vol_h5ls($file);
            }
        })*
    };
}

per_file! {
    chunked_gzip => "chunked_gzip.h5",
    compound => "compound.h5",
    contiguous => "contiguous.h5",
    groups_attrs => "groups_attrs.h5",
    links => "links.h5",
    new_style => "new_style.h5",
    paged => "paged.h5",
    references => "references.h5",
    scattered => "scattered.h5",
    vlen_strings => "vlen_strings.h5",
    fixed_strings => "fixed_strings.h5",
}

#[test]
fn every_corpus_file_has_tests() {
    let (_, files) = corpus_local();
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy();
        assert!(
            FILES.contains(&name.as_ref()),
            "{name}: add it to per_file! in tests/vol_tools.rs"
        );
    }
}

/// Runs h5dump -H through the connector expecting failure; returns stderr.
fn failing(domain: &str, password: &str) -> String {
    let mut c = vol_tool("h5dump");
    // `=2`: h5dump prints the error stack of a failed file open only at level 2 (it then
    // goes on to try other drivers, whose own errors follow).
    c.args(["-H", "--enable-error-stack=2"])
        .arg(domain)
        .env("HS_PASSWORD", password);
    let started = std::time::Instant::now();
    let out = run_timeout(&mut c, Duration::from_secs(120));
    assert!(!out.status.success(), "{domain} unexpectedly opened");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{domain}: took {:?}",
        started.elapsed()
    );
    let err = text(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// Lines of the error output that name the domain other than h5dump's own "unable to open
/// file" line: the connector's.
fn connector_lines(err: &str, domain: &str) -> String {
    err.lines()
        .filter(|l| l.contains(domain) && !l.starts_with("h5dump error:"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn missing_domain_is_a_clear_error() {
    hsds().home();
    let domain = format!("/home/{HS_USER}/no-such-domain.h5");
    let err = failing(&domain, HS_PASSWORD);
    let ours = connector_lines(&err, &domain).to_lowercase();
    assert!(
        ours.contains("404") || ours.contains("not found"),
        "expected an error naming {domain} and 404 / not found in:\n{err}"
    );
}

#[test]
fn wrong_password_fails_without_leaking_it() {
    let l = loaded("links.h5");
    let password = "Wr0ng-Passw0rd-h5blob";
    let err = failing(&l.domain, password);
    // Neither the password nor its Basic-auth encoding may appear.
    let basic = "YWRtaW46V3IwbmctUGFzc3cwcmQtaDVibG9i"; // base64("admin:<password>")
    assert!(
        !err.contains(password) && !err.contains(basic),
        "password leaked:\n{err}"
    );
    let ours = connector_lines(&err, &l.domain).to_lowercase();
    assert!(
        ours.contains("401") || ours.contains("authentication") || ours.contains("unauthorized"),
        "expected an error naming {} and 401 / authentication in:\n{err}",
        l.domain
    );
}

/// Once HSDS has summarised a domain, `getobjs=1` at open brings every object and the
/// values of small datasets: a full h5dump then needs no request after the open, and
/// prints the same.
#[test]
fn domain_summary_serves_small_values_without_more_requests() {
    let local = source_file("groups_attrs.h5");
    let domain = format!("/home/{HS_USER}/summary_groups_attrs.h5");
    hsload(&local, &domain);
    let hs = hsds();
    let url = format!("http://localhost/?domain={domain}&getobjs=1");
    // HSDS scans a changed domain after SCAN_WAIT_TIME (60 s by default).
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let out = run(std::process::Command::new("curl")
            .args(["-s", "--unix-socket"])
            .arg(&hs.socket)
            .args(["-u", &format!("{HS_USER}:{HS_PASSWORD}"), &url]));
        if text(&out.stdout).contains("domain_objs") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "HSDS wrote no summary of {domain}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    let out = run_timeout(
        vol_tool("h5dump").env("H5BLOB_STATS", "1").arg(&domain),
        TOOL_TIMEOUT,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let want = normalise(&local_dump(&[], &local));
    if let Some(d) = first_difference(&want, &normalise(&text(&out.stdout))) {
        panic!("h5dump through the summary differs:\n{d}");
    }
    let err = text(&out.stderr);
    assert!(
        err.contains(&format!("{domain}: 0 requests")),
        "expected no request after the open, got:\n{err}"
    );
}

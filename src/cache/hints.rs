//! Reads HDF5 metadata structures as they pass through the driver, to learn the addresses
//! of what HDF5 will read next, so those can be fetched ahead, together.
//!
//! Understood: superblocks (v0-v3), v1 B-tree group nodes (`TREE`), symbol-table nodes
//! (`SNOD`), local heaps (`HEAP`), v1 and v2 object headers and their continuation blocks
//! (continuation, symbol-table and link messages). Everything is bounds-checked: bytes
//! that are not what we expect yield no hints, never an error.
//! Format reference: the HDF5 File Format Specification, version 3.0.

/// Sizes of file addresses and lengths, from the superblock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Format {
    pub offsets: usize,
    pub lengths: usize,
}

impl Default for Format {
    fn default() -> Self {
        Format {
            offsets: 8,
            lengths: 8,
        }
    }
}

/// What sits at a hinted address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An object header (v1 or v2): HDF5 reads 512 bytes of it first.
    ObjectHeader,
    /// A continuation block of an object header (v1: bare messages; v2: `OCHK`).
    Continuation { v1: bool },
    /// A v1 B-tree node of a group (children are symbol-table nodes or B-tree nodes).
    GroupBTree,
    /// A symbol-table node of a group.
    SymbolNode,
    /// A local heap header; its data segment follows as a `Bytes` hint.
    LocalHeap,
    /// Plain bytes (a heap data segment): fetched, not parsed.
    Bytes,
}

/// An address worth fetching: `len` bytes at `addr` holding a `kind`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Hint {
    pub addr: u64,
    pub len: u64,
    pub kind: Kind,
}

/// Bytes HDF5 reads first at an object header (`H5O_SPEC_READ_SIZE`).
pub(crate) const OHDR_SPECULATIVE: u64 = 512;
/// Generous sizes for nodes whose exact size depends on the B-tree `K` values.
const NODE_GUESS: u64 = 1024;
/// The undefined address.
const UNDEF: u64 = u64::MAX;

const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";

struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn new(b: &'a [u8], at: usize) -> Self {
        Cursor { b, at }
    }
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.at..self.at.checked_add(n)?)?;
        self.at += n;
        Some(s)
    }
    fn skip(&mut self, n: usize) -> Option<()> {
        self.take(n).map(|_| ())
    }
    fn u8(&mut self) -> Option<u8> {
        self.take(1).map(|s| s[0])
    }
    fn uint(&mut self, n: usize) -> Option<u64> {
        let s = self.take(n)?;
        if n > 8 {
            return None;
        }
        Some(s.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64))
    }
}

fn hint(addr: u64, len: u64, kind: Kind, eof: u64) -> Option<Hint> {
    (addr != UNDEF && addr < eof && len > 0).then(|| Hint {
        addr,
        len: len.min(eof - addr),
        kind,
    })
}

/// Finds the superblock at 0, 512, 1024, ... within `head` and returns the format and hints
/// for the root group: its object header and, for v0/v1 superblocks, its B-tree and heap.
pub fn superblock(head: &[u8], eof: u64) -> Option<(Format, u64, Vec<Hint>)> {
    let mut base = 0usize;
    while base + 8 <= head.len() {
        if &head[base..base + 8] == SIGNATURE {
            return parse_superblock(&head[base..], eof).map(|(f, h)| (f, base as u64, h));
        }
        base = if base == 0 { 512 } else { base * 2 };
    }
    None
}

fn parse_superblock(b: &[u8], eof: u64) -> Option<(Format, Vec<Hint>)> {
    let mut c = Cursor::new(b, 8);
    let version = c.u8()?;
    let mut out = Vec::new();
    match version {
        0 | 1 => {
            c.skip(4)?; // free-space, root symbol table, reserved, shared header versions
            let f = Format {
                offsets: c.u8()? as usize,
                lengths: c.u8()? as usize,
            };
            if !valid(f) {
                return None;
            }
            c.skip(1 + 2 + 2 + 4)?; // reserved, leaf K, internal K, consistency flags
            if version == 1 {
                c.skip(4)?;
            }
            c.skip(4 * f.offsets)?; // base, free space, EOF, driver info addresses
            // Root group symbol table entry.
            let _name = c.uint(f.offsets)?;
            let ohdr = c.uint(f.offsets)?;
            let cache_type = c.uint(4)?;
            c.skip(4)?;
            out.extend(hint(ohdr, OHDR_SPECULATIVE, Kind::ObjectHeader, eof));
            if cache_type == 1 {
                let btree = c.uint(f.offsets)?;
                let heap = c.uint(f.offsets)?;
                out.extend(hint(btree, NODE_GUESS, Kind::GroupBTree, eof));
                out.extend(hint(heap, 64, Kind::LocalHeap, eof));
            }
            Some((f, out))
        }
        2 | 3 => {
            let f = Format {
                offsets: c.u8()? as usize,
                lengths: c.u8()? as usize,
            };
            if !valid(f) {
                return None;
            }
            c.skip(1 + 3 * f.offsets)?; // flags, base, extension, EOF
            let root = c.uint(f.offsets)?;
            out.extend(hint(root, OHDR_SPECULATIVE, Kind::ObjectHeader, eof));
            Some((f, out))
        }
        _ => None,
    }
}

fn valid(f: Format) -> bool {
    matches!(f.offsets, 2 | 4 | 8) && matches!(f.lengths, 2 | 4 | 8)
}

/// Hints from a structure of `kind` whose bytes start at `b[0]`. `kind` is `None` for
/// bytes HDF5 read with a metadata type: recognised by signature, or as a v1 object header
/// when HDF5 said it reads an object header.
pub fn parse(b: &[u8], kind: Option<Kind>, is_ohdr_read: bool, f: Format, eof: u64) -> Vec<Hint> {
    let kind = match kind {
        Some(k) => k,
        None => match b.get(..4) {
            Some(b"SNOD") => Kind::SymbolNode,
            Some(b"TREE") => Kind::GroupBTree,
            Some(b"HEAP") => Kind::LocalHeap,
            Some(b"OHDR") => Kind::ObjectHeader,
            Some(b"OCHK") => Kind::Continuation { v1: false },
            _ if is_ohdr_read && b.first() == Some(&1) => Kind::ObjectHeader,
            _ => return Vec::new(),
        },
    };
    let mut out = Vec::new();
    let _ = match kind {
        Kind::SymbolNode => symbol_node(b, f, eof, &mut out),
        Kind::GroupBTree => group_btree(b, f, eof, &mut out),
        Kind::LocalHeap => local_heap(b, f, eof, &mut out),
        Kind::ObjectHeader if b.starts_with(b"OHDR") => ohdr_v2(b, f, eof, &mut out),
        Kind::ObjectHeader => ohdr_v1(b, f, eof, &mut out),
        Kind::Continuation { v1: true } => v1_messages(b, 0, b.len(), f, eof, &mut out),
        Kind::Continuation { v1: false } => ochk(b, f, eof, &mut out),
        Kind::Bytes => Some(()),
    };
    out
}

fn symbol_node(b: &[u8], f: Format, eof: u64, out: &mut Vec<Hint>) -> Option<()> {
    let mut c = Cursor::new(b, 4);
    if c.u8()? != 1 {
        return None;
    }
    c.skip(1)?;
    let n = c.uint(2)?;
    for _ in 0..n {
        let _name = c.uint(f.offsets)?;
        let ohdr = c.uint(f.offsets)?;
        let cache_type = c.uint(4)?;
        c.skip(4)?;
        let scratch = c.take(16)?;
        out.extend(hint(ohdr, OHDR_SPECULATIVE, Kind::ObjectHeader, eof));
        if cache_type == 1 {
            let mut s = Cursor::new(scratch, 0);
            let btree = s.uint(f.offsets)?;
            let heap = s.uint(f.offsets)?;
            out.extend(hint(btree, NODE_GUESS, Kind::GroupBTree, eof));
            out.extend(hint(heap, 64, Kind::LocalHeap, eof));
        }
    }
    Some(())
}

fn group_btree(b: &[u8], f: Format, eof: u64, out: &mut Vec<Hint>) -> Option<()> {
    let mut c = Cursor::new(b, 4);
    if c.u8()? != 0 {
        return None; // type 1: chunk index, not a group
    }
    let level = c.u8()?;
    let n = c.uint(2)?;
    c.skip(2 * f.offsets)?; // siblings
    let child_kind = if level == 0 {
        Kind::SymbolNode
    } else {
        Kind::GroupBTree
    };
    for _ in 0..n {
        c.skip(f.lengths)?; // key: heap offset of a name
        let child = c.uint(f.offsets)?;
        out.extend(hint(child, NODE_GUESS, child_kind, eof));
    }
    Some(())
}

fn local_heap(b: &[u8], f: Format, eof: u64, out: &mut Vec<Hint>) -> Option<()> {
    let mut c = Cursor::new(b, 4);
    if c.u8()? != 0 {
        return None;
    }
    c.skip(3)?;
    let size = c.uint(f.lengths)?;
    c.skip(f.lengths)?;
    let data = c.uint(f.offsets)?;
    out.extend(hint(data, size.min(1 << 20), Kind::Bytes, eof));
    Some(())
}

/// v1 object header: 16-byte prefix, then 8-byte-aligned messages.
fn ohdr_v1(b: &[u8], f: Format, eof: u64, out: &mut Vec<Hint>) -> Option<()> {
    let mut c = Cursor::new(b, 0);
    if c.u8()? != 1 {
        return None;
    }
    c.skip(1)?;
    let _nmesgs = c.uint(2)?;
    c.skip(4)?;
    let size = c.uint(4)? as usize;
    v1_messages(
        b,
        16,
        16usize.saturating_add(size).min(b.len()),
        f,
        eof,
        out,
    )
}

fn v1_messages(
    b: &[u8],
    start: usize,
    end: usize,
    f: Format,
    eof: u64,
    out: &mut Vec<Hint>,
) -> Option<()> {
    let mut c = Cursor::new(&b[..end.min(b.len())], start);
    while c.at + 8 <= end {
        let ty = c.uint(2)?;
        let size = c.uint(2)? as usize;
        c.skip(4)?;
        let data = c.take(size)?;
        message(ty, data, true, f, eof, out);
    }
    Some(())
}

/// v2 object header (`OHDR`): flags decide the optional fields and the chunk-size width.
fn ohdr_v2(b: &[u8], f: Format, eof: u64, out: &mut Vec<Hint>) -> Option<()> {
    let mut c = Cursor::new(b, 4);
    if c.u8()? != 2 {
        return None;
    }
    let flags = c.u8()?;
    if flags & 0x20 != 0 {
        c.skip(16)?;
    }
    if flags & 0x10 != 0 {
        c.skip(4)?;
    }
    let chunk = c.uint(1 << (flags & 3))? as usize;
    let end = c.at.saturating_add(chunk).min(b.len());
    v2_messages(b, c.at, end, flags & 0x04 != 0, f, eof, out)
}

fn ochk(b: &[u8], f: Format, eof: u64, out: &mut Vec<Hint>) -> Option<()> {
    // Continuation chunks do not repeat the header flags; creation-order fields are rare,
    // so parse without them and let bounds checks stop us on a mismatch.
    v2_messages(b, 4, b.len().saturating_sub(4), false, f, eof, out)
}

fn v2_messages(
    b: &[u8],
    start: usize,
    end: usize,
    crt_order: bool,
    f: Format,
    eof: u64,
    out: &mut Vec<Hint>,
) -> Option<()> {
    let mut c = Cursor::new(&b[..end], start);
    let hdr = if crt_order { 6 } else { 4 };
    while c.at + hdr <= end {
        let ty = c.u8()? as u64;
        let size = c.uint(2)? as usize;
        c.skip(hdr - 3)?;
        let data = c.take(size)?;
        message(ty, data, false, f, eof, out);
    }
    Some(())
}

fn message(ty: u64, d: &[u8], v1: bool, f: Format, eof: u64, out: &mut Vec<Hint>) {
    let mut c = Cursor::new(d, 0);
    match ty {
        // Continuation: address and length of the next block of messages.
        0x10 => {
            if let (Some(addr), Some(len)) = (c.uint(f.offsets), c.uint(f.lengths)) {
                out.extend(hint(addr, len, Kind::Continuation { v1 }, eof));
            }
        }
        // Symbol table message: the group's B-tree and local heap.
        0x11 => {
            if let (Some(btree), Some(heap)) = (c.uint(f.offsets), c.uint(f.offsets)) {
                out.extend(hint(btree, NODE_GUESS, Kind::GroupBTree, eof));
                out.extend(hint(heap, 64, Kind::LocalHeap, eof));
            }
        }
        // Link message: a hard link's target object header.
        0x06 => {
            if let Some(addr) = hard_link(&mut c, f) {
                out.extend(hint(addr, OHDR_SPECULATIVE, Kind::ObjectHeader, eof));
            }
        }
        _ => {}
    }
}

fn hard_link(c: &mut Cursor<'_>, f: Format) -> Option<u64> {
    if c.u8()? != 1 {
        return None;
    }
    let flags = c.u8()?;
    let link_type = if flags & 0x08 != 0 { c.u8()? } else { 0 };
    if flags & 0x04 != 0 {
        c.skip(8)?;
    }
    if flags & 0x10 != 0 {
        c.skip(1)?;
    }
    let name_len = c.uint(1 << (flags & 3))? as usize;
    c.skip(name_len)?;
    (link_type == 0).then(|| c.uint(f.offsets)).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: Format = Format {
        offsets: 8,
        lengths: 8,
    };

    fn le(v: u64, n: usize) -> Vec<u8> {
        v.to_le_bytes()[..n].to_vec()
    }

    #[test]
    fn symbol_node_entries_give_object_headers_and_child_groups() {
        let mut b = b"SNOD\x01\x00".to_vec();
        b.extend(le(2, 2));
        // dataset entry
        b.extend(le(8, 8));
        b.extend(le(4000, 8));
        b.extend(le(0, 4));
        b.extend(le(0, 4));
        b.extend([0u8; 16]);
        // group entry with cached B-tree and heap
        b.extend(le(16, 8));
        b.extend(le(5000, 8));
        b.extend(le(1, 4));
        b.extend(le(0, 4));
        b.extend(le(6000, 8));
        b.extend(le(7000, 8));
        let h = parse(&b, None, false, F, 1 << 20);
        let addrs: Vec<(u64, Kind)> = h.iter().map(|h| (h.addr, h.kind)).collect();
        assert_eq!(
            addrs,
            vec![
                (4000, Kind::ObjectHeader),
                (5000, Kind::ObjectHeader),
                (6000, Kind::GroupBTree),
                (7000, Kind::LocalHeap)
            ]
        );
    }

    #[test]
    fn addresses_past_eof_and_undefined_are_dropped() {
        let mut b = b"TREE\x00\x00".to_vec();
        b.extend(le(2, 2));
        b.extend(le(u64::MAX, 8));
        b.extend(le(u64::MAX, 8));
        for child in [100u64, 1 << 40] {
            b.extend(le(0, 8));
            b.extend(le(child, 8));
        }
        let h = parse(&b, None, false, F, 1000);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].kind, Kind::SymbolNode);
        assert_eq!(h[0].len, 900, "clipped at EOF");
    }

    #[test]
    fn truncated_or_garbage_input_gives_nothing() {
        for b in [
            &b"SNOD\x01\x00\xff\xff"[..],
            b"TREE",
            b"OHDR\x02\x03",
            b"\x01\x00",
            &[0u8; 64],
        ] {
            let h = parse(b, None, true, F, 1 << 30);
            assert!(h.is_empty(), "{b:?} gave {h:?}");
        }
    }

    #[test]
    fn v1_header_continuation_and_symbol_table() {
        let mut b = vec![1, 0];
        b.extend(le(2, 2));
        b.extend(le(1, 4));
        b.extend(le(2 * 24, 4));
        b.extend([0; 4]);
        for (ty, a, bb) in [(0x10u64, 9000u64, 200u64), (0x11, 9500, 9600)] {
            b.extend(le(ty, 2));
            b.extend(le(16, 2));
            b.extend([0; 4]);
            b.extend(le(a, 8));
            b.extend(le(bb, 8));
        }
        let h = parse(&b, None, true, F, 1 << 20);
        let kinds: Vec<Kind> = h.iter().map(|h| h.kind).collect();
        assert_eq!(
            kinds,
            vec![
                Kind::Continuation { v1: true },
                Kind::GroupBTree,
                Kind::LocalHeap
            ]
        );
        assert_eq!(h[0].len, 200);
        assert!(
            parse(&b, None, false, F, 1 << 20).is_empty(),
            "v1 headers only on OHDR reads"
        );
    }

    #[test]
    fn v2_header_link_messages() {
        let mut msg = vec![1u8, 0x00]; // version 1, flags: 1-byte name length, hard link
        msg.push(3);
        msg.extend(b"abc");
        msg.extend(le(12345, 8));
        let mut b = b"OHDR\x02\x00".to_vec();
        b.push((msg.len() + 4) as u8);
        b.push(0x06);
        b.extend(le(msg.len() as u64, 2));
        b.push(0);
        b.extend(&msg);
        b.extend([0; 4]); // checksum
        let h = parse(&b, None, false, F, 1 << 20);
        assert_eq!(
            h,
            vec![Hint {
                addr: 12345,
                len: OHDR_SPECULATIVE,
                kind: Kind::ObjectHeader
            }]
        );
    }

    #[test]
    fn superblock_v0_and_v2() {
        let mut b = SIGNATURE.to_vec();
        b.extend([0, 0, 0, 0, 0, 8, 8, 0]);
        b.extend(le(4, 2));
        b.extend(le(16, 2));
        b.extend(le(0, 4));
        b.extend(le(0, 8));
        b.extend(le(u64::MAX, 8));
        b.extend(le(5000, 8));
        b.extend(le(u64::MAX, 8));
        b.extend(le(0, 8));
        b.extend(le(96, 8));
        b.extend(le(1, 4));
        b.extend(le(0, 4));
        b.extend(le(136, 8));
        b.extend(le(680, 8));
        let (f, base, h) = superblock(&b, 5000).unwrap();
        assert_eq!((f, base), (F, 0));
        assert_eq!(
            h.iter().map(|h| h.addr).collect::<Vec<_>>(),
            vec![96, 136, 680]
        );

        let mut b2 = vec![0u8; 512];
        b2.extend(SIGNATURE);
        b2.extend([2, 8, 8, 0]);
        b2.extend(le(0, 8));
        b2.extend(le(u64::MAX, 8));
        b2.extend(le(9000, 8));
        b2.extend(le(48, 8));
        let (_, base, h) = superblock(&b2, 9000).unwrap();
        assert_eq!(base, 512);
        assert_eq!(h[0].addr, 48);
    }
}

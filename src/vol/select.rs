//! Dataset values over HSDS: HDF5 selections turned into as few requests as possible
//! (one box, a strided box, a bounding box with a local gather, or binary point lists),
//! large boxes split under the server's request limit and fetched in parallel.

use super::meta::{FileCtx, PARALLEL};
use super::{R, hs_err};
use crate::blob::{BlobError, ErrorKind};
use crate::h5::sys;
use crate::runtime::block_on;
use bytes::Bytes;
use futures::StreamExt;
use reqwest::Method;
use sys::hid_t;

/// A box of a dataspace: start and count per dimension (empty for scalars).
#[derive(Debug, Clone, PartialEq)]
pub struct Block {
    pub start: Vec<u64>,
    pub count: Vec<u64>,
}

impl Block {
    pub fn elements(&self) -> u64 {
        self.count.iter().product()
    }

    /// HSDS's `select` parameter, `[a:b,c:d]`.
    pub fn select(&self) -> Option<String> {
        if self.start.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .start
            .iter()
            .zip(&self.count)
            .map(|(s, c)| format!("{s}:{}", s + c))
            .collect();
        Some(format!("[{}]", parts.join(",")))
    }

    /// Splits into slabs along the first dimension with more than one index (so each
    /// slab is contiguous in row-major order and the slabs concatenate), each holding at
    /// most `max_elems` elements where possible.
    pub fn split(&self, max_elems: u64) -> Vec<Block> {
        let total = self.elements();
        let Some(axis) = self.count.iter().position(|c| *c > 1) else {
            return vec![self.clone()];
        };
        if total <= max_elems.max(1) {
            return vec![self.clone()];
        }
        let per_index: u64 = self.count[axis + 1..].iter().product();
        let step = (max_elems / per_index.max(1)).max(1);
        let mut out = Vec::new();
        let mut i = 0;
        while i < self.count[axis] {
            let n = step.min(self.count[axis] - i);
            let mut b = self.clone();
            b.start[axis] += i;
            b.count[axis] = n;
            out.push(b);
            i += n;
        }
        out
    }
}

/// How the elements of a file selection will be fetched.
#[derive(Debug, PartialEq)]
pub enum Plan {
    None,
    /// One box, in row-major order.
    Box(Block),
    /// A regular hyperslab with unit blocks: `[start:stop:step]` per dimension.
    Strided {
        start: Vec<u64>,
        stride: Vec<u64>,
        count: Vec<u64>,
    },
    /// Anything else: the selected elements' linear indices, in HDF5's iteration order.
    Elements(Vec<u64>),
}

/// Reads a selection's shape from HDF5.
pub fn plan(space: hid_t, dims: &[u64]) -> R<Plan> {
    let rank = dims.len();
    // SAFETY: plain HDF5 queries on a valid dataspace; out arrays have `rank` entries.
    unsafe {
        let n = sys::H5Sget_select_npoints(space);
        if n < 0 {
            return Err(internal("cannot count the selected elements"));
        }
        if n == 0 {
            return Ok(Plan::None);
        }
        match sys::H5Sget_select_type(space) {
            sys::H5S_SEL_ALL => {
                return Ok(Plan::Box(Block {
                    start: vec![0; rank],
                    count: dims.to_vec(),
                }));
            }
            sys::H5S_SEL_NONE => return Ok(Plan::None),
            sys::H5S_SEL_HYPERSLABS if rank > 0 && sys::H5Sis_regular_hyperslab(space) > 0 => {
                let (mut start, mut stride, mut count, mut block) =
                    (vec![0; rank], vec![0; rank], vec![0; rank], vec![0; rank]);
                if sys::H5Sget_regular_hyperslab(
                    space,
                    start.as_mut_ptr(),
                    stride.as_mut_ptr(),
                    count.as_mut_ptr(),
                    block.as_mut_ptr(),
                ) >= 0
                {
                    if (0..rank).all(|i| count[i] == 1 || stride[i] == block[i]) {
                        let count = (0..rank).map(|i| count[i] * block[i]).collect();
                        return Ok(Plan::Box(Block { start, count }));
                    }
                    if block.iter().all(|b| *b == 1) {
                        return Ok(Plan::Strided {
                            start,
                            stride,
                            count,
                        });
                    }
                }
            }
            _ => {}
        }
        Ok(Plan::Elements(linear_indices(space, n as usize)?))
    }
}

fn internal(msg: &str) -> BlobError {
    BlobError::new(ErrorKind::Internal, msg.to_string())
}

/// The selected elements' linear indices in HDF5's iteration order.
fn linear_indices(space: hid_t, n: usize) -> R<Vec<u64>> {
    const SEQS: usize = 1024;
    let mut out = Vec::with_capacity(n);
    // SAFETY: the iterator is created and closed here; the arrays hold SEQS entries.
    unsafe {
        let iter = sys::H5Ssel_iter_create(space, 1, 0);
        if iter < 0 {
            return Err(internal("cannot iterate over the selection"));
        }
        let mut off = vec![0u64; SEQS];
        let mut len = vec![0usize; SEQS];
        loop {
            let (mut nseq, mut nbytes) = (0usize, 0usize);
            if sys::H5Ssel_iter_get_seq_list(
                iter,
                SEQS,
                usize::MAX,
                &mut nseq,
                &mut nbytes,
                off.as_mut_ptr(),
                len.as_mut_ptr(),
            ) < 0
            {
                sys::H5Ssel_iter_close(iter);
                return Err(internal("cannot list the selection"));
            }
            if nseq == 0 {
                break;
            }
            for i in 0..nseq {
                out.extend(off[i]..off[i] + len[i] as u64);
            }
        }
        sys::H5Ssel_iter_close(iter);
    }
    Ok(out)
}

fn coords(mut lin: u64, dims: &[u64], out: &mut Vec<u64>) {
    let start = out.len();
    out.resize(start + dims.len(), 0);
    for i in (0..dims.len()).rev() {
        let d = dims[i].max(1);
        out[start + i] = lin % d;
        lin /= d;
    }
}

/// The smallest box holding every index.
fn bounding_box(idx: &[u64], dims: &[u64]) -> Block {
    let rank = dims.len();
    let mut lo = vec![u64::MAX; rank];
    let mut hi = vec![0; rank];
    let mut c = Vec::with_capacity(rank);
    for &i in idx {
        c.clear();
        coords(i, dims, &mut c);
        for d in 0..rank {
            lo[d] = lo[d].min(c[d]);
            hi[d] = hi[d].max(c[d]);
        }
    }
    Block {
        count: (0..rank).map(|d| hi[d] - lo[d] + 1).collect(),
        start: lo,
    }
}

/// Reads the values of a dataset selection in HSDS's binary encoding, in HDF5's
/// iteration order. `elem` is the file type's size, `None` when it is variable-length.
pub fn read(f: &FileCtx, id: &str, dims: &[u64], plan: &Plan, elem: Option<usize>) -> R<Vec<u8>> {
    let path = format!("/datasets/{id}/value");
    match plan {
        Plan::None => Ok(Vec::new()),
        Plan::Box(b) => read_box(f, &path, b, elem),
        Plan::Strided {
            start,
            stride,
            count,
        } => {
            let sel: Vec<String> = (0..start.len())
                .map(|i| {
                    let stop = start[i] + (count[i] - 1) * stride[i] + 1;
                    format!("{}:{stop}:{}", start[i], stride[i])
                })
                .collect();
            let sel = format!("[{}]", sel.join(","));
            let n: u64 = count.iter().product();
            get(f, &path, Some(&sel), elem.map(|e| e * n as usize))
        }
        Plan::Elements(idx) => {
            let bbox = bounding_box(idx, dims);
            let n = idx.len() as u64;
            if let Some(e) = elem.filter(|_| bbox.elements() <= 4 * n + 65536) {
                let data = read_box(f, &path, &bbox, Some(e))?;
                let mut out = Vec::with_capacity(idx.len() * e);
                let mut c = Vec::with_capacity(dims.len());
                for &i in idx {
                    c.clear();
                    coords(i, dims, &mut c);
                    let mut lin = 0u64;
                    for (d, cd) in c.iter().enumerate() {
                        lin = lin * bbox.count[d] + (cd - bbox.start[d]);
                    }
                    let at = lin as usize * e;
                    out.extend_from_slice(&data[at..at + e]);
                }
                Ok(out)
            } else {
                read_points(f, &path, idx, dims, elem)
            }
        }
    }
}

fn read_box(f: &FileCtx, path: &str, b: &Block, elem: Option<usize>) -> R<Vec<u8>> {
    let pieces = match elem {
        Some(e) => b.split((f.max_request / 4 / e.max(1)) as u64),
        None => vec![b.clone()],
    };
    if pieces.len() == 1 {
        let sel = b.select();
        return get(
            f,
            path,
            sel.as_deref(),
            elem.map(|e| e * b.elements() as usize),
        );
    }
    let parts: Vec<R<Vec<u8>>> = block_on(
        futures::stream::iter(pieces.iter().map(|p| async move {
            let sel = p.select();
            get_async(
                f,
                path,
                sel.as_deref(),
                elem.map(|e| e * p.elements() as usize),
            )
            .await
        }))
        .buffered(PARALLEL)
        .collect(),
    );
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(&p?);
    }
    Ok(out)
}

fn get(f: &FileCtx, path: &str, sel: Option<&str>, expected: Option<usize>) -> R<Vec<u8>> {
    block_on(get_async(f, path, sel, expected))
}

async fn get_async(
    f: &FileCtx,
    path: &str,
    sel: Option<&str>,
    expected: Option<usize>,
) -> R<Vec<u8>> {
    let mut q = f.q(&[]);
    if let Some(s) = sel {
        q.push(("select", s));
    }
    let body = match expected {
        Some(n) => f.client.get_binary(path, &q, n).await,
        None => f
            .client
            .request(Method::GET, path, &q, None, true)
            .await
            .map(|(_, b)| b),
    }
    .map_err(hs_err)?;
    Ok(body.to_vec())
}

/// Point selections: binary uint64 coordinates POSTed, values returned in the same order.
fn read_points(
    f: &FileCtx,
    path: &str,
    idx: &[u64],
    dims: &[u64],
    elem: Option<usize>,
) -> R<Vec<u8>> {
    let rank = dims.len().max(1);
    let per_batch = (f.max_request / 4 / (8 * rank)).max(1);
    let batches: Vec<&[u64]> = idx.chunks(per_batch).collect();
    let parts: Vec<R<Vec<u8>>> = block_on(
        futures::stream::iter(batches.into_iter().map(|batch| async move {
            let mut c = Vec::with_capacity(batch.len() * rank);
            for &i in batch {
                coords(i, dims, &mut c);
            }
            let body: Vec<u8> = c.iter().flat_map(|v| v.to_le_bytes()).collect();
            let (_, b) = f
                .client
                .request(
                    Method::POST,
                    path,
                    &f.q(&[]),
                    Some(crate::hsds::client::Body::Binary(Bytes::from(body))),
                    true,
                )
                .await
                .map_err(hs_err)?;
            if let Some(e) = elem.filter(|e| b.len() != e * batch.len()) {
                return Err(BlobError::new(
                    ErrorKind::Server,
                    format!(
                        "point read of {} elements from {path}: expected {} bytes, got {}",
                        batch.len(),
                        e * batch.len(),
                        b.len()
                    ),
                ));
            }
            Ok(b.to_vec())
        }))
        .buffered(PARALLEL)
        .collect(),
    );
    let mut out = Vec::new();
    for p in parts {
        out.extend_from_slice(&p?);
    }
    Ok(out)
}

/// Writes HSDS-encoded values (in iteration order) to a dataset selection. Boxes go in
/// one request (split when large); other selections as the boxes of their row runs.
pub fn write(
    f: &FileCtx,
    id: &str,
    dims: &[u64],
    plan: &Plan,
    elem: Option<usize>,
    data: &[u8],
) -> R<()> {
    let path = format!("/datasets/{id}/value");
    let blocks: Vec<Block> = match plan {
        Plan::None => return Ok(()),
        Plan::Box(b) => match elem {
            Some(e) => b.split((f.max_request / 4 / e.max(1)) as u64),
            None => vec![b.clone()],
        },
        Plan::Strided {
            start,
            stride,
            count,
        } => {
            let idx = strided_indices(start, stride, count, dims);
            runs(&idx, dims)
        }
        Plan::Elements(idx) => runs(idx, dims),
    };
    let pieces: Vec<(Block, Bytes)> = match elem {
        Some(e) => {
            let mut at = 0;
            let mut v = Vec::with_capacity(blocks.len());
            for b in blocks {
                let n = b.elements() as usize * e;
                let slice = data
                    .get(at..at + n)
                    .ok_or_else(|| internal("write buffer is shorter than the selection"))?;
                v.push((b, Bytes::copy_from_slice(slice)));
                at += n;
            }
            v
        }
        None => {
            if blocks.len() != 1 {
                // Variable-length values cannot be cut without decoding; send them one box
                // at a time by re-encoding is the caller's job.
                return Err(BlobError::new(
                    ErrorKind::Unsupported,
                    "writing variable-length values to a non-rectangular selection is not \
                     supported by the REST connector yet",
                ));
            }
            vec![(blocks[0].clone(), Bytes::copy_from_slice(data))]
        }
    };
    let results: Vec<R<()>> = block_on(
        futures::stream::iter(pieces.into_iter().map(|(b, body)| {
            let path = &path;
            async move {
                let sel = b.select();
                let mut q = f.q(&[]);
                if let Some(s) = &sel {
                    q.push(("select", s));
                }
                f.client.put_binary(path, &q, body).await.map_err(hs_err)
            }
        }))
        .buffer_unordered(PARALLEL)
        .collect(),
    );
    results.into_iter().collect()
}

fn strided_indices(start: &[u64], stride: &[u64], count: &[u64], dims: &[u64]) -> Vec<u64> {
    let rank = dims.len();
    let total: u64 = count.iter().product();
    let mut out = Vec::with_capacity(total as usize);
    let mut k = vec![0u64; rank];
    for _ in 0..total {
        let mut lin = 0;
        for d in 0..rank {
            lin = lin * dims[d] + start[d] + k[d] * stride[d];
        }
        out.push(lin);
        for d in (0..rank).rev() {
            k[d] += 1;
            if k[d] < count[d] {
                break;
            }
            k[d] = 0;
        }
    }
    out
}

/// Boxes covering linear indices in order: runs along the last dimension, merged with the
/// run of the next row when they span the same columns.
fn runs(idx: &[u64], dims: &[u64]) -> Vec<Block> {
    let rank = dims.len();
    if rank == 0 {
        return vec![Block {
            start: vec![],
            count: vec![],
        }];
    }
    let last = dims[rank - 1].max(1);
    let mut out: Vec<Block> = Vec::new();
    let mut i = 0;
    let mut c = Vec::with_capacity(rank);
    while i < idx.len() {
        let first = idx[i];
        let mut j = i + 1;
        while j < idx.len() && idx[j] == idx[j - 1] + 1 && idx[j] % last != 0 {
            j += 1;
        }
        c.clear();
        coords(first, dims, &mut c);
        let mut b = Block {
            start: c.clone(),
            count: vec![1; rank],
        };
        b.count[rank - 1] = (j - i) as u64;
        let merged = rank >= 2
            && out.last_mut().is_some_and(|p| {
                let same_cols = p.start[rank - 1] == b.start[rank - 1]
                    && p.count[rank - 1] == b.count[rank - 1];
                let next_row = p.start[rank - 2] + p.count[rank - 2] == b.start[rank - 2];
                let same_lead = p.start[..rank - 2] == b.start[..rank - 2]
                    && p.count[..rank - 2].iter().all(|x| *x == 1);
                if same_cols && next_row && same_lead {
                    p.count[rank - 2] += 1;
                    true
                } else {
                    false
                }
            });
        if !merged {
            out.push(b);
        }
        i = j;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_rows_of_a_rectangle() {
        let dims = [4, 5];
        let idx: Vec<u64> = [(1, 1), (1, 2), (2, 1), (2, 2), (3, 4)]
            .iter()
            .map(|(r, c)| r * 5 + c)
            .collect();
        let b = runs(&idx, &dims);
        assert_eq!(
            b,
            vec![
                Block {
                    start: vec![1, 1],
                    count: vec![2, 2]
                },
                Block {
                    start: vec![3, 4],
                    count: vec![1, 1]
                }
            ]
        );
    }

    #[test]
    fn split_keeps_row_major_order() {
        let b = Block {
            start: vec![0, 10],
            count: vec![10, 4],
        };
        let parts = b.split(12);
        assert_eq!(parts.len(), 4);
        assert_eq!(parts[0].count, vec![3, 4]);
        assert_eq!(parts[3].start, vec![9, 10]);
        assert_eq!(parts.iter().map(Block::elements).sum::<u64>(), 40);
        let one = Block {
            start: vec![0, 0, 5],
            count: vec![1, 1, 100],
        };
        assert_eq!(one.split(30).len(), 4);
    }

    #[test]
    fn strided_indices_follow_row_major_order() {
        let idx = strided_indices(&[1, 0], &[2, 3], &[2, 2], &[6, 6]);
        assert_eq!(idx, vec![6, 9, 18, 21]);
        assert_eq!(
            bounding_box(&idx, &[6, 6]),
            Block {
                start: vec![1, 0],
                count: vec![3, 4]
            }
        );
    }
}

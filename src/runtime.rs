//! The one async runtime of the process: every open file's requests run on it.
#![forbid(unsafe_code)]

use std::future::Future;
use std::sync::LazyLock;
use tokio::runtime::Runtime;

/// Two workers: the work is waiting on the network, and the machine's cores belong to the
/// host program.
const WORKERS: usize = 2;

static RT: LazyLock<Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .thread_name("h5blob-io")
        .enable_all()
        .build()
        .expect("cannot start the h5blob I/O runtime")
});

/// Runs `f` to completion from a thread outside the runtime (an HDF5 callback).
pub fn block_on<F: Future>(f: F) -> F::Output {
    RT.block_on(f)
}

pub fn spawn<F>(f: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    RT.spawn(f)
}

// The C example in C++: reads one dataset of an HDF5 file stored as an Azure blob through
// the Blob VFD. Handles close themselves (RAII); a failure prints HDF5's error stack and
// throws.
//
//   read_blob_cpp <url> <dataset> [name=value ...]
//
// Arguments as for the C example (examples/c/read_blob.c).
#include <h5blob.h>

#include <cstdio>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

// HDF5's error stack is printed where the failure happens: closing handles while the
// exception unwinds would clear it.
[[noreturn]] void fail(const char *what) {
    H5Eprint2(H5E_DEFAULT, stderr);
    throw std::runtime_error(what);
}

// One HDF5 identifier, closed with `close` when it goes out of scope.
class Id {
  public:
    Id(hid_t id, herr_t (*close)(hid_t), const char *what) : id_(id), close_(close) {
        if (id_ < 0) fail(what);
    }
    ~Id() { close_(id_); }
    Id(const Id &) = delete;
    Id &operator=(const Id &) = delete;
    hid_t get() const { return id_; }

  private:
    hid_t id_;
    herr_t (*close_)(hid_t);
};

void check(herr_t status, const char *what) {
    if (status < 0) fail(what);
}

}  // namespace

int main(int argc, char **argv) {
    if (argc < 3) {
        std::fprintf(stderr, "usage: %s <url> <dataset> [name=value ...]\n", argv[0]);
        return 2;
    }
    try {
        Id fapl(H5Pcreate(H5P_FILE_ACCESS), H5Pclose, "H5Pcreate");
        check(H5Pset_fapl_blob(fapl.get(), nullptr), "H5Pset_fapl_blob");
        for (int i = 3; i < argc; i++) {
            std::string kv(argv[i]);
            auto eq = kv.find('=');
            if (eq == std::string::npos) {
                std::fprintf(stderr, "%s: expected name=value\n", kv.c_str());
                return 2;
            }
            check(h5blob_fapl_set(fapl.get(), kv.substr(0, eq).c_str(), kv.substr(eq + 1).c_str()),
                  "h5blob_fapl_set");
        }
        Id file(H5Fopen(argv[1], H5F_ACC_RDONLY, fapl.get()), H5Fclose, "H5Fopen");
        Id dset(H5Dopen2(file.get(), argv[2], H5P_DEFAULT), H5Dclose, "H5Dopen2");
        Id space(H5Dget_space(dset.get()), H5Sclose, "H5Dget_space");
        hssize_t n = H5Sget_simple_extent_npoints(space.get());
        check(n < 0 ? -1 : 0, "H5Sget_simple_extent_npoints");
        std::vector<double> values(static_cast<size_t>(n));
        if (n > 0)
            check(H5Dread(dset.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()),
                  "H5Dread");
        double sum = std::accumulate(values.begin(), values.end(), 0.0);
        std::printf("%s: %lld values, sum %.17g, first", argv[2], static_cast<long long>(n), sum);
        for (size_t i = 0; i < values.size() && i < 3; i++) std::printf(" %.17g", values[i]);
        std::printf("\n");
        h5blob_stats_t stats;
        if (H5FD_blob_get_stats(file.get(), &stats) >= 0)
            std::printf("%llu requests, %llu bytes\n", static_cast<unsigned long long>(stats.requests),
                        static_cast<unsigned long long>(stats.bytes));
    } catch (const std::exception &e) {
        std::fprintf(stderr, "%s failed\n", e.what());
        return 1;
    }
    return 0;
}

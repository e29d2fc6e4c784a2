// The header as a C++11 program sees it (built with -Wall -Wextra -Wpedantic -Werror):
// declarations link, constants have the types C++ expects, calls behave as from C.
#include "h5blob.h"

#include <cstdio>
#include <cstring>
#include <string>

int main() {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    if (std::string(h5blob_version()) != H5BLOB_VERSION) {
        std::fprintf(stderr, "header %s, library %s\n", H5BLOB_VERSION, h5blob_version());
        return 1;
    }
    H5FD_blob_fapl_t fa;
    std::memset(&fa, 0, sizeof fa);
    fa.version = H5FD_BLOB_FAPL_VERSION;
    static_assert(sizeof fa.account == H5FD_BLOB_ACCOUNT_SIZE, "account size");
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_blob(fapl, &fa) < 0 || H5Pget_driver(fapl) != H5FD_BLOB) return 1;
    if (h5blob_fapl_set(fapl, "cache_size", "8M") < 0) return 1;
    if (h5blob_fapl_set(fapl, "no_such_key", "1") >= 0) return 1;
    if (H5Pset_fapl_rest_vol(fapl) < 0 || h5blob_fapl_uses_rest_vol(fapl) != 1) return 1;
    h5blob_stats_t st;
    if (h5blob_stats_total(&st) < 0 || h5blob_rest_stats_total(&st) < 0) return 1;
    H5Pclose(fapl);
    std::printf("api_header_cxx: ok\n");
    return 0;
}

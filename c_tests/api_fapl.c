/* The fapl calls and their argument checks; no server needed. */
#include "h5blob.h"
#include "check.h"

int main(void) {
    H5FD_blob_fapl_t fa, out;
    hid_t fapl, driver;
    h5blob_stats_t st;

    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    driver = H5FD_BLOB;
    CHECK(driver > 0);
    CHECK(H5FD_BLOB == driver); /* registered once */
    CHECK(h5blob_version() != NULL && strlen(h5blob_version()) > 0);

    memset(&fa, 0, sizeof fa);
    fa.version = H5FD_BLOB_FAPL_VERSION;
    strcpy(fa.account, "acct01");
    strcpy(fa.config, "cache_size=64M;page_size=64K");
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    CHECK(H5Pset_fapl_blob(fapl, &fa) >= 0);
    CHECK(H5Pget_driver(fapl) == driver);
    memset(&out, 0, sizeof out);
    CHECK(H5Pget_fapl_blob(fapl, &out) >= 0);
    CHECK(out.version == H5FD_BLOB_FAPL_VERSION && strcmp(out.account, "acct01") == 0);
    CHECK(strcmp(out.config, fa.config) == 0);

    /* A wrong version and an unknown config key are refused when set, not at open. */
    fa.version = 42;
    CHECK(H5Pset_fapl_blob(fapl, &fa) < 0);
    CHECK(stack_has("version is 42"));
    fa.version = H5FD_BLOB_FAPL_VERSION;
    strcpy(fa.config, "cache_sise=1M");
    CHECK(H5Pset_fapl_blob(fapl, &fa) < 0);
    CHECK(stack_has("cache_sise"));

    /* NULL pointers are errors, never crashes. */
    CHECK(H5Pget_fapl_blob(fapl, NULL) < 0);
    CHECK(H5FD_blob_get_stats(fapl, NULL) < 0);
    CHECK(h5blob_stats_total(NULL) < 0);
    CHECK(h5blob_stats_total(&st) >= 0);
    H5Eclear2(H5E_DEFAULT);

    /* A fapl of another driver is not ours. */
    CHECK(H5Pset_fapl_sec2(fapl) >= 0);
    CHECK(H5Pget_fapl_blob(fapl, &out) < 0);
    CHECK(stack_has("does not use the blob driver"));

    /* H5Pset_fapl_blob(fapl, NULL): settings come from the environment only. */
    CHECK(H5Pset_fapl_blob(fapl, NULL) >= 0);
    CHECK(H5Pget_driver(fapl) == driver);
    H5Pclose(fapl);
    printf("api_fapl: ok\n");
    return 0;
}

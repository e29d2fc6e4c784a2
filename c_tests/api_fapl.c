/* The fapl calls and their argument checks; no server needed. */
#define _POSIX_C_SOURCE 200809L
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

    /* The header and the library agree. */
    CHECK(strcmp(h5blob_version(), H5BLOB_VERSION) == 0);

    /* h5blob_fapl_set: settings by name, no struct; earlier settings kept, a second value
     * of a key replaces the first, struct fields used for account/endpoint/key/SAS. */
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    CHECK(h5blob_fapl_set(fapl, "account", "acct02") >= 0);
    CHECK(H5Pget_driver(fapl) == driver);
    CHECK(h5blob_fapl_set(fapl, "cache_size", "32M") >= 0);
    CHECK(h5blob_fapl_set(fapl, "page_size", "1M") >= 0);
    CHECK(h5blob_fapl_set(fapl, "cache_size", "16M") >= 0);
    CHECK(h5blob_fapl_set(fapl, "AccountKey", "a2V5") >= 0);
    memset(&out, 0, sizeof out);
    CHECK(H5Pget_fapl_blob(fapl, &out) >= 0);
    CHECK(strcmp(out.account, "acct02") == 0 && strcmp(out.account_key, "a2V5") == 0);
    if (strcmp(out.config, "page_size=1M;cache_size=16M") != 0)
        fprintf(stderr, "config: %s\n", out.config);
    CHECK(strcmp(out.config, "page_size=1M;cache_size=16M") == 0);
    /* bad names and values are refused and leave the fapl as it was */
    CHECK(h5blob_fapl_set(fapl, "cache_sise", "1M") < 0);
    CHECK(stack_has("cache_sise"));
    CHECK(h5blob_fapl_set(fapl, "cache_size", "1M;x=y") < 0);
    CHECK(stack_has("';'"));
    CHECK(h5blob_fapl_set(fapl, NULL, "1") < 0 && h5blob_fapl_set(fapl, "account", NULL) < 0);
    CHECK(stack_has("is NULL"));
    {
        char longv[300];
        memset(longv, 'k', sizeof longv - 1);
        longv[sizeof longv - 1] = '\0';
        CHECK(h5blob_fapl_set(fapl, "account_key", longv) < 0);
        CHECK(stack_has("at most 255 bytes"));
    }
    memset(&out, 0, sizeof out);
    CHECK(H5Pget_fapl_blob(fapl, &out) >= 0 && strcmp(out.config, "page_size=1M;cache_size=16M") == 0);
    CHECK(h5blob_fapl_uses_rest_vol(fapl) == 0);
    CHECK(H5Pset_fapl_rest_vol(fapl) >= 0 && h5blob_fapl_uses_rest_vol(fapl) == 1);
    CHECK(h5blob_fapl_uses_rest_vol(H5I_INVALID_HID) < 0);
    H5Eclear2(H5E_DEFAULT);
    H5Pclose(fapl);

    /* h5blob_config_set/get: process-wide settings over the environment. */
    {
        char buf[64];
        size_t len = 0;
        setenv("H5BLOB_API_TEST", "from-env", 1);
        CHECK(h5blob_config_get("H5BLOB_API_TEST", buf, sizeof buf, &len) == 1);
        CHECK(strcmp(buf, "from-env") == 0 && len == 8);
        CHECK(h5blob_config_set("H5BLOB_API_TEST", "set=here") >= 0);
        CHECK(h5blob_config_get("H5BLOB_API_TEST", buf, 5, &len) == 1);
        CHECK(strcmp(buf, "set=") == 0 && len == 8); /* cut to the buffer, full length told */
        CHECK(h5blob_config_get("H5BLOB_API_TEST", NULL, 0, &len) == 1 && len == 8);
        CHECK(h5blob_config_set("H5BLOB_API_TEST", NULL) >= 0);
        CHECK(h5blob_config_get("H5BLOB_API_TEST", buf, sizeof buf, NULL) == 1 && strcmp(buf, "from-env") == 0);
        unsetenv("H5BLOB_API_TEST");
        strcpy(buf, "untouched");
        len = 77;
        CHECK(h5blob_config_get("H5BLOB_API_TEST", buf, sizeof buf, &len) == 0);
        CHECK(strcmp(buf, "untouched") == 0 && len == 77);
        CHECK(h5blob_config_set("BAD=NAME", "x") < 0 && h5blob_config_set(NULL, "x") < 0);
        CHECK(h5blob_config_get(NULL, buf, sizeof buf, &len) < 0);
        H5Eclear2(H5E_DEFAULT);
    }
    printf("api_fapl: ok\n");
    return 0;
}

/* Reads through the Blob VFD from Azurite as a C program would: by struct and by name.
 * Needs H5BLOB_TEST_ENDPOINT and H5BLOB_TEST_KEY (set by scripts/test.sh); skipped otherwise.
 * The blob ctest/vec.h5 holds /u (chunked) and /c (contiguous): doubles 0..N-1. */
#include "h5blob.h"
#include "check.h"

#define N 1000000

static void check_values(hid_t file, const char *name) {
    double *v = (double *)malloc(N * sizeof(double));
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    size_t i;
    CHECK(v != NULL && d > 0);
    CHECK(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    for (i = 0; i < N; i++)
        CHECK(v[i] == (double)i);
    H5Dclose(d);
    free(v);
}

int main(void) {
    const char *endpoint = getenv("H5BLOB_TEST_ENDPOINT"), *key = getenv("H5BLOB_TEST_KEY");
    H5FD_blob_fapl_t fa;
    h5blob_stats_t st;
    hid_t fapl, file;
    char config[4096];

    if (!endpoint || !key) {
        printf("int_read: skipped (no H5BLOB_TEST_ENDPOINT)\n");
        return 77;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    /* 1. Settings by struct. */
    memset(&fa, 0, sizeof fa);
    fa.version = H5FD_BLOB_FAPL_VERSION;
    strcpy(fa.account, "devstoreaccount1");
    snprintf(fa.endpoint, sizeof fa.endpoint, "%s", endpoint);
    snprintf(fa.account_key, sizeof fa.account_key, "%s", key);
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    CHECK(H5Pset_fapl_blob(fapl, &fa) >= 0);
    file = H5Fopen("az://ctest/vec.h5", H5F_ACC_RDONLY, fapl);
    CHECK(file > 0);
    check_values(file, "/u");
    CHECK(H5FD_blob_get_stats(file, &st) >= 0);
    CHECK(st.requests >= 1 && st.bytes >= N * sizeof(double) && st.reads > 0);
    CHECK(H5Fclose(file) >= 0);

    /* 2. By name with a config string, as H5Pset_driver_by_name users do. */
    snprintf(config, sizeof config, "account=devstoreaccount1;account_key=%s;endpoint=%s", key, endpoint);
    CHECK(H5Pset_driver_by_name(fapl, H5FD_BLOB_NAME, config) >= 0);
    file = H5Fopen("az://ctest/vec.h5", H5F_ACC_RDONLY, fapl);
    CHECK(file > 0);
    check_values(file, "/c");
    /* Statistics of a file of another driver are refused. */
    CHECK(H5Fclose(file) >= 0);

    /* 3. Errors: a missing blob, and a write open. */
    CHECK(H5Fopen("az://ctest/missing.h5", H5F_ACC_RDONLY, fapl) < 0);
    CHECK(stack_has("blob not found"));
    CHECK(H5Fopen("az://ctest/vec.h5", H5F_ACC_RDWR, fapl) < 0);
    CHECK(stack_has("read-only"));
    CHECK(H5Fcreate("az://ctest/new.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl) < 0);
    CHECK(stack_has("read-only"));

    CHECK(h5blob_stats_total(&st) >= 0 && st.requests >= 2);
    H5Pclose(fapl);
    printf("int_read: ok\n");
    return 0;
}

/* Reads one dataset of an HDF5 file stored as an Azure blob, through the Blob VFD, and
 * prints its size, sum and first values with the requests it took.
 *
 *   read_blob <url> <dataset> [name=value ...]
 *
 * <url>: https://<account>.blob.core.windows.net/<container>/<path>, az://<container>/<path>
 * (account from the settings) or an Azurite URL. Each name=value is a Blob VFD setting
 * given with h5blob_fapl_set (account, account_key, sas_token, endpoint, cache_size, ...);
 * anything not given comes from the environment (AZURE_STORAGE_ACCOUNT_NAME,
 * AZURE_STORAGE_KEY, AZURE_STORAGE_CONNECTION_STRING, ...). Exit status 0 on success; on
 * failure HDF5's error stack says why. */
#include <h5blob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    hid_t fapl = H5I_INVALID_HID, file = H5I_INVALID_HID, dset = H5I_INVALID_HID, space = H5I_INVALID_HID;
    hssize_t n;
    double *values = NULL, sum = 0;
    h5blob_stats_t stats;
    int i, status = 1;

    if (argc < 3) {
        fprintf(stderr, "usage: %s <url> <dataset> [name=value ...]\n", argv[0]);
        return 2;
    }
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_blob(fapl, NULL) < 0)
        goto done;
    for (i = 3; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq) {
            fprintf(stderr, "%s: expected name=value\n", argv[i]);
            goto done;
        }
        *eq = '\0';
        if (h5blob_fapl_set(fapl, argv[i], eq + 1) < 0)
            goto done;
    }
    if ((file = H5Fopen(argv[1], H5F_ACC_RDONLY, fapl)) < 0)
        goto done;
    if ((dset = H5Dopen2(file, argv[2], H5P_DEFAULT)) < 0 || (space = H5Dget_space(dset)) < 0)
        goto done;
    if ((n = H5Sget_simple_extent_npoints(space)) < 0)
        goto done;
    if (n > 0 && !(values = malloc((size_t)n * sizeof *values))) {
        fprintf(stderr, "out of memory for %lld values\n", (long long)n);
        goto done;
    }
    if (n > 0 && H5Dread(dset, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values) < 0)
        goto done;
    for (i = 0; i < n; i++)
        sum += values[i];
    printf("%s: %lld values, sum %.17g, first", argv[2], (long long)n, sum);
    for (i = 0; i < n && i < 3; i++)
        printf(" %.17g", values[i]);
    printf("\n");
    if (H5FD_blob_get_stats(file, &stats) >= 0)
        printf("%llu requests, %llu bytes\n", (unsigned long long)stats.requests,
               (unsigned long long)stats.bytes);
    status = 0;
done:
    if (status)
        H5Eprint2(H5E_DEFAULT, stderr);
    free(values);
    if (space >= 0) H5Sclose(space);
    if (dset >= 0) H5Dclose(dset);
    if (file >= 0) H5Fclose(file);
    if (fapl >= 0) H5Pclose(fapl);
    return status;
}

/* Minimal assertion helpers for the C tests: print where and why, exit non-zero. */
#ifndef H5BLOB_CHECK_H
#define H5BLOB_CHECK_H
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                    \
    do {                                                                               \
        if (!(cond)) {                                                                 \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
            H5Eprint2(H5E_DEFAULT, stderr);                                            \
            exit(1);                                                                   \
        }                                                                              \
    } while (0)

/* Collects the descriptions on the current error stack. */
static herr_t collect_(unsigned n, const H5E_error2_t *e, void *data) {
    char *buf = (char *)data;
    (void)n;
    if (e->desc && strlen(buf) + strlen(e->desc) + 2 < 8192) {
        strcat(buf, e->desc);
        strcat(buf, "\n");
    }
    return 0;
}

/* Whether the current error stack mentions `needle`; clears the stack. */
static int stack_has(const char *needle) {
    static char buf[8192];
    int found;
    buf[0] = '\0';
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, collect_, buf);
    found = strstr(buf, needle) != NULL;
    if (!found)
        fprintf(stderr, "error stack lacks \"%s\":\n%s", needle, buf);
    H5Eclear2(H5E_DEFAULT);
    return found;
}
#endif

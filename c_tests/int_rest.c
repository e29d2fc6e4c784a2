/* REST VOL against a real HSDS (scripts/test.sh starts one; H5BLOB_TEST_HS_ENDPOINT names
 * it): creates every kind of object through the connector with the vol-rest API names,
 * reopens the domain read-only and checks every value, then checks errors and deletion.
 * Exits 77 (skipped) without a server. */
#define _POSIX_C_SOURCE 200809L
#include "check.h"
#include "h5blob.h"
#include <unistd.h>

typedef struct {
    int a;
    double b;
    char s[8];
} rec_t;

typedef struct {
    int id;
    rec_t inner;
} outer_t;

static herr_t count_link(hid_t g, const char *name, const H5L_info2_t *info, void *data) {
    char **names = (char **)data;
    (void)g;
    (void)info;
    while (*names)
        names++;
    *names = strdup(name);
    return 0;
}

static herr_t count_obj(hid_t o, const char *name, const H5O_info2_t *info, void *data) {
    (void)o;
    (void)name;
    (void)info;
    (*(int *)data)++;
    return 0;
}

static herr_t count_attr(hid_t o, const char *name, const H5A_info_t *info, void *data) {
    (void)o;
    (void)name;
    (void)info;
    (*(int *)data)++;
    return 0;
}

static hid_t rec_type(void) {
    hid_t s8 = H5Tcopy(H5T_C_S1);
    hid_t t = H5Tcreate(H5T_COMPOUND, sizeof(rec_t));
    H5Tset_size(s8, 8);
    H5Tinsert(t, "a", HOFFSET(rec_t, a), H5T_NATIVE_INT);
    H5Tinsert(t, "b", HOFFSET(rec_t, b), H5T_NATIVE_DOUBLE);
    H5Tinsert(t, "s", HOFFSET(rec_t, s), s8);
    H5Tclose(s8);
    return t;
}

static void write_file(const char *domain, hid_t fapl) {
    hid_t f, g, lcpl, sp, dcpl, d, t, a, fs, ms, s;
    int i, j, data[10][20], fill = -1;
    hsize_t dims[2] = {10, 20}, chunk[2] = {5, 10}, one = 1, five = 5, maxd[2] = {H5S_UNLIMITED, 4};
    hsize_t ext[2] = {3, 4};
    double be[5] = {1.5, -2.25, 3.0, 1e300, -0.0}, attr_d[3] = {0.5, 1.5, 2.5};
    const char *words[3] = {"alpha", "βeta", ""};
    rec_t recs[2] = {{1, 2.5, "one"}, {-7, -0.125, "seven"}};
    outer_t outer[1];
    int arr[2][3] = {{1, 2, 3}, {4, 5, 6}};
    hsize_t adims[1] = {3};
    enum { RED, GREEN = 5, BLUE = 9 } colours[3] = {BLUE, RED, GREEN};
    int ev;
    hvl_t seq[2];
    int seq0[1] = {42}, seq1[3] = {7, 8, 9};
    unsigned char opq[2][4] = {{1, 2, 3, 4}, {0xde, 0xad, 0xbe, 0xef}};
    int ext_data[3][4];

    f = H5Fcreate(domain, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    CHECK(f >= 0);

    /* groups, with intermediate creation */
    g = H5Gcreate2(f, "g1", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(g >= 0);
    lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    CHECK(H5Gclose(H5Gcreate2(g, "x/y/z", lcpl, H5P_DEFAULT, H5P_DEFAULT)) >= 0);
    H5Pclose(lcpl);

    /* chunked, compressed int dataset with a fill value */
    for (i = 0; i < 10; i++)
        for (j = 0; j < 20; j++)
            data[i][j] = i * 100 + j;
    sp = H5Screate_simple(2, dims, NULL);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    H5Pset_deflate(dcpl, 6);
    H5Pset_fill_value(dcpl, H5T_NATIVE_INT, &fill);
    d = H5Dcreate2(g, "ints", H5T_STD_I32LE, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d >= 0);
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    /* overwrite a 2x3 block through a hyperslab selection */
    {
        hsize_t start[2] = {4, 5}, cnt[2] = {2, 3}, mdim = 6;
        int patch[6] = {-1, -2, -3, -4, -5, -6};
        fs = H5Scopy(sp);
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, NULL, cnt, NULL);
        ms = H5Screate_simple(1, &mdim, NULL);
        CHECK(H5Dwrite(d, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, patch) >= 0);
        H5Sclose(ms);
        H5Sclose(fs);
    }
    /* and two single points */
    {
        hsize_t pts[2][2] = {{0, 0}, {9, 19}}, two = 2;
        int vals[2] = {5000, 6000};
        fs = H5Scopy(sp);
        H5Sselect_elements(fs, H5S_SELECT_SET, 2, &pts[0][0]);
        ms = H5Screate_simple(1, &two, NULL);
        CHECK(H5Dwrite(d, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, vals) >= 0);
        H5Sclose(ms);
        H5Sclose(fs);
    }
    /* attributes on the dataset */
    s = H5Screate(H5S_SCALAR);
    a = H5Acreate2(d, "scale", H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(a >= 0);
    i = 17;
    CHECK(H5Awrite(a, H5T_NATIVE_INT, &i) >= 0);
    H5Aclose(a);
    H5Sclose(s);
    s = H5Screate_simple(1, adims, NULL);
    a = H5Acreate2(d, "doubles", H5T_IEEE_F64BE, s, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(H5Awrite(a, H5T_NATIVE_DOUBLE, attr_d) >= 0);
    H5Aclose(a);
    t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    a = H5Acreate2(d, "words", t, s, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(H5Awrite(a, t, words) >= 0);
    H5Aclose(a);
    a = H5Acreate2(d, "to_rename", H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(H5Awrite(a, H5T_NATIVE_INT, arr[1]) >= 0);
    H5Aclose(a);
    CHECK(H5Arename(d, "to_rename", "renamed") >= 0);
    a = H5Acreate2(d, "doomed", H5T_NATIVE_INT, s, H5P_DEFAULT, H5P_DEFAULT);
    H5Aclose(a);
    CHECK(H5Adelete(d, "doomed") >= 0);
    CHECK(H5Aexists(d, "doomed") == 0);
    H5Sclose(s);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(sp);

    /* big-endian doubles, vlen strings, fixed strings */
    sp = H5Screate_simple(1, &five, NULL);
    d = H5Dcreate2(f, "be", H5T_IEEE_F64BE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, be) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    sp = H5Screate_simple(1, adims, NULL);
    d = H5Dcreate2(f, "vstr", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, words) >= 0);
    H5Dclose(d);
    H5Tclose(t);

    /* enum */
    t = H5Tenum_create(H5T_NATIVE_INT);
    ev = RED;
    H5Tenum_insert(t, "RED", &ev);
    ev = GREEN;
    H5Tenum_insert(t, "GREEN", &ev);
    ev = BLUE;
    H5Tenum_insert(t, "BLUE", &ev);
    d = H5Dcreate2(f, "colours", t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, colours) >= 0);
    H5Dclose(d);
    H5Tclose(t);
    H5Sclose(sp);

    /* compound, nested compound, array, opaque, vlen sequence */
    s = H5Screate_simple(1, (hsize_t[]){2}, NULL);
    t = rec_type();
    d = H5Dcreate2(f, "records", t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, recs) >= 0);
    H5Dclose(d);
    {
        hid_t o = H5Tcreate(H5T_COMPOUND, sizeof(outer_t));
        H5Tinsert(o, "id", HOFFSET(outer_t, id), H5T_NATIVE_INT);
        H5Tinsert(o, "inner", HOFFSET(outer_t, inner), t);
        outer[0].id = 99;
        outer[0].inner = recs[1];
        hid_t sc = H5Screate(H5S_SCALAR);
        d = H5Dcreate2(f, "nested", o, sc, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Sclose(sc);
        CHECK(d >= 0);
        CHECK(H5Dwrite(d, o, H5S_ALL, H5S_ALL, H5P_DEFAULT, outer) >= 0);
        H5Dclose(d);
        H5Tclose(o);
    }
    /* committed datatype, used by a dataset */
    CHECK(H5Tcommit2(f, "rec_t", t, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) >= 0);
    d = H5Dcreate2(f, "records_named", t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(d >= 0);
    CHECK(H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, recs) >= 0);
    H5Dclose(d);
    H5Tclose(t);
    {
        hsize_t ad[2] = {2, 3};
        hid_t at = H5Tarray_create2(H5T_NATIVE_INT, 2, ad);
        hid_t sc = H5Screate(H5S_SCALAR);
        d = H5Dcreate2(f, "array", at, sc, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(H5Dwrite(d, at, H5S_ALL, H5S_ALL, H5P_DEFAULT, arr) >= 0);
        H5Dclose(d);
        H5Tclose(at);
        at = H5Tcreate(H5T_OPAQUE, 4);
        H5Tset_tag(at, "bytes4");
        d = H5Dcreate2(f, "opaque", at, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(H5Dwrite(d, at, H5S_ALL, H5S_ALL, H5P_DEFAULT, opq) >= 0);
        H5Dclose(d);
        H5Tclose(at);
        at = H5Tvlen_create(H5T_NATIVE_INT);
        seq[0].len = 1;
        seq[0].p = seq0;
        seq[1].len = 3;
        seq[1].p = seq1;
        d = H5Dcreate2(f, "ragged", at, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(H5Dwrite(d, at, H5S_ALL, H5S_ALL, H5P_DEFAULT, seq) >= 0);
        H5Dclose(d);
        H5Tclose(at);
        H5Sclose(sc);
    }
    H5Sclose(s);

    /* extendible dataset: created empty, extended, written */
    sp = H5Screate_simple(2, (hsize_t[]){0, 4}, maxd);
    dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, (hsize_t[]){2, 4});
    d = H5Dcreate2(f, "growing", H5T_NATIVE_INT, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    CHECK(d >= 0);
    CHECK(H5Dset_extent(d, ext) >= 0);
    for (i = 0; i < 3; i++)
        for (j = 0; j < 4; j++)
            ext_data[i][j] = i * 10 + j;
    CHECK(H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ext_data) >= 0);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(sp);

    /* links */
    CHECK(H5Lcreate_soft("/g1/ints", f, "soft_ints", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    CHECK(H5Lcreate_hard(f, "/g1/ints", f, "hard_ints", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    CHECK(H5Lcreate_external("/home/admin/other.h5", "/data", f, "ext", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    CHECK(H5Lcreate_soft("/nowhere", f, "dangling", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    CHECK(H5Lcreate_soft("/g1", f, "doomed_link", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    CHECK(H5Ldelete(f, "doomed_link", H5P_DEFAULT) >= 0);
    /* attribute on the root group */
    s = H5Screate(H5S_SCALAR);
    a = H5Acreate2(f, "title", H5T_NATIVE_DOUBLE, s, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(H5Awrite(a, H5T_NATIVE_DOUBLE, &be[0]) >= 0);
    H5Aclose(a);
    H5Sclose(s);
    (void)one;
    H5Gclose(g);
    CHECK(H5Fclose(f) >= 0);
}

static void check_file(const char *domain, hid_t fapl) {
    hid_t f, d, a, t, fs, ms;
    int i, j, data[10][20], v, n;
    double be[5], attr_d[3];
    char *words[3];
    rec_t recs[2];
    outer_t outer[1];
    int arr[2][3];
    int colours[3];
    hvl_t seq[2];
    unsigned char opq[2][4];
    int ext_data[3][4];
    char *names[32] = {0};
    H5O_info2_t oi1, oi2;
    char buf[256];

    f = H5Fopen(domain, H5F_ACC_RDONLY, fapl);
    CHECK(f >= 0);

    d = H5Dopen2(f, "/g1/ints", H5P_DEFAULT);
    CHECK(d >= 0);
    CHECK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    for (i = 0; i < 10; i++)
        for (j = 0; j < 20; j++) {
            int want = i * 100 + j;
            if (i >= 4 && i < 6 && j >= 5 && j < 8)
                want = -((i - 4) * 3 + (j - 5) + 1);
            if (i == 0 && j == 0)
                want = 5000;
            if (i == 9 && j == 19)
                want = 6000;
            CHECK(data[i][j] == want);
        }
    /* strided hyperslab read into a 1-D buffer */
    {
        hsize_t start[2] = {1, 2}, stride[2] = {3, 5}, cnt[2] = {3, 3}, m = 9;
        int got[9];
        fs = H5Dget_space(d);
        H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, stride, cnt, NULL);
        ms = H5Screate_simple(1, &m, NULL);
        CHECK(H5Dread(d, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, got) >= 0);
        for (i = 0; i < 3; i++)
            for (j = 0; j < 3; j++)
                CHECK(got[i * 3 + j] == data[1 + 3 * i][2 + 5 * j]);
        /* irregular: union of two blocks, memory selection a hyperslab of a bigger buffer */
        {
            hsize_t s2[2] = {7, 15}, c2[2] = {2, 2}, mbig = 20, mstart = 3, mcount = 9 + 4;
            int big[20];
            memset(big, 0, sizeof big);
            H5Sselect_hyperslab(fs, H5S_SELECT_OR, s2, NULL, c2, NULL);
            n = (int)H5Sget_select_npoints(fs);
            CHECK(n == 13);
            H5Sclose(ms);
            ms = H5Screate_simple(1, &mbig, NULL);
            H5Sselect_hyperslab(ms, H5S_SELECT_SET, &mstart, NULL, &mcount, NULL);
            CHECK(H5Dread(d, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, big) >= 0);
            CHECK(big[0] == 0 && big[1] == 0 && big[2] == 0 && big[16] == 0);
            CHECK(big[3] == data[1][2] && big[4] == data[1][7]);
            /* iteration order is row-major over the union of both blocks */
            CHECK(big[11] == data[7][12] && big[12] == data[7][15] && big[13] == data[7][16]);
            CHECK(big[14] == data[8][15] && big[15] == data[8][16]);
        }
        H5Sclose(ms);
        H5Sclose(fs);
    }
    /* point selection read */
    {
        hsize_t pts[3][2] = {{9, 0}, {0, 19}, {5, 5}}, three = 3;
        int got[3];
        fs = H5Dget_space(d);
        H5Sselect_elements(fs, H5S_SELECT_SET, 3, &pts[0][0]);
        ms = H5Screate_simple(1, &three, NULL);
        CHECK(H5Dread(d, H5T_NATIVE_INT, ms, fs, H5P_DEFAULT, got) >= 0);
        CHECK(got[0] == 900 && got[1] == 19 && got[2] == -4);
        H5Sclose(ms);
        H5Sclose(fs);
    }
    /* creation properties survive */
    {
        hid_t dcpl = H5Dget_create_plist(d);
        hsize_t ch[2];
        int fv = 0;
        CHECK(H5Pget_layout(dcpl) == H5D_CHUNKED);
        CHECK(H5Pget_chunk(dcpl, 2, ch) == 2 && ch[0] == 5 && ch[1] == 10);
        CHECK(H5Pget_nfilters(dcpl) == 1);
        CHECK(H5Pget_fill_value(dcpl, H5T_NATIVE_INT, &fv) >= 0 && fv == -1);
        H5Pclose(dcpl);
    }
    /* attributes */
    CHECK(H5Aexists(d, "renamed") > 0 && H5Aexists(d, "to_rename") == 0);
    a = H5Aopen(d, "scale", H5P_DEFAULT);
    CHECK(H5Aread(a, H5T_NATIVE_INT, &v) >= 0 && v == 17);
    H5Aclose(a);
    a = H5Aopen_by_name(f, "g1/ints", "doubles", H5P_DEFAULT, H5P_DEFAULT);
    CHECK(H5Aread(a, H5T_NATIVE_DOUBLE, attr_d) >= 0);
    CHECK(attr_d[0] == 0.5 && attr_d[2] == 2.5);
    H5Aclose(a);
    a = H5Aopen_by_idx(d, ".", H5_INDEX_NAME, H5_ITER_INC, 3, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(a >= 0);
    CHECK(H5Aget_name(a, sizeof buf, buf) > 0 && strcmp(buf, "words") == 0);
    t = H5Aget_type(a);
    CHECK(H5Tis_variable_str(t) > 0);
    CHECK(H5Aread(a, t, words) >= 0);
    CHECK(strcmp(words[0], "alpha") == 0 && strcmp(words[1], "βeta") == 0 && words[2][0] == 0);
    {
        hid_t s = H5Aget_space(a);
        H5Treclaim(t, s, H5P_DEFAULT, words);
        H5Sclose(s);
    }
    H5Tclose(t);
    H5Aclose(a);
    n = 0;
    CHECK(H5Aiterate2(d, H5_INDEX_NAME, H5_ITER_INC, NULL, count_attr, &n) >= 0 && n == 4);
    H5Dclose(d);

    d = H5Dopen2(f, "be", H5P_DEFAULT);
    CHECK(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, be) >= 0);
    CHECK(be[0] == 1.5 && be[1] == -2.25 && be[3] == 1e300);
    t = H5Dget_type(d);
    CHECK(H5Tget_order(t) == H5T_ORDER_BE);
    H5Tclose(t);
    H5Dclose(d);

    d = H5Dopen2(f, "vstr", H5P_DEFAULT);
    t = H5Dget_type(d);
    CHECK(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, words) >= 0);
    CHECK(strcmp(words[1], "βeta") == 0);
    {
        hid_t s = H5Dget_space(d);
        H5Treclaim(t, s, H5P_DEFAULT, words);
        H5Sclose(s);
    }
    H5Tclose(t);
    H5Dclose(d);

    d = H5Dopen2(f, "colours", H5P_DEFAULT);
    CHECK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, colours) >= 0);
    CHECK(colours[0] == 9 && colours[1] == 0 && colours[2] == 5);
    t = H5Dget_type(d);
    CHECK(H5Tget_class(t) == H5T_ENUM && H5Tget_nmembers(t) == 3);
    H5Tclose(t);
    H5Dclose(d);

    t = rec_type();
    d = H5Dopen2(f, "records", H5P_DEFAULT);
    CHECK(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, recs) >= 0);
    CHECK(recs[0].a == 1 && recs[0].b == 2.5 && strcmp(recs[0].s, "one") == 0);
    CHECK(recs[1].a == -7 && strcmp(recs[1].s, "seven") == 0);
    H5Dclose(d);
    memset(recs, 0, sizeof recs);
    d = H5Dopen2(f, "records_named", H5P_DEFAULT);
    CHECK(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, recs) >= 0);
    CHECK(recs[1].b == -0.125);
    H5Dclose(d);
    {
        hid_t o = H5Tcreate(H5T_COMPOUND, sizeof(outer_t));
        H5Tinsert(o, "id", HOFFSET(outer_t, id), H5T_NATIVE_INT);
        H5Tinsert(o, "inner", HOFFSET(outer_t, inner), t);
        d = H5Dopen2(f, "nested", H5P_DEFAULT);
        CHECK(H5Dread(d, o, H5S_ALL, H5S_ALL, H5P_DEFAULT, outer) >= 0);
        CHECK(outer[0].id == 99 && outer[0].inner.a == -7 && strcmp(outer[0].inner.s, "seven") == 0);
        H5Dclose(d);
        H5Tclose(o);
    }
    H5Tclose(t);
    t = H5Topen2(f, "rec_t", H5P_DEFAULT);
    CHECK(t >= 0 && H5Tcommitted(t) > 0 && H5Tget_nmembers(t) == 3);
    H5Tclose(t);

    d = H5Dopen2(f, "array", H5P_DEFAULT);
    t = H5Dget_type(d);
    CHECK(H5Tget_class(t) == H5T_ARRAY);
    CHECK(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, arr) >= 0);
    CHECK(arr[0][0] == 1 && arr[1][2] == 6);
    H5Tclose(t);
    H5Dclose(d);

    d = H5Dopen2(f, "opaque", H5P_DEFAULT);
    t = H5Dget_type(d);
    CHECK(H5Tget_class(t) == H5T_OPAQUE && H5Tget_size(t) == 4);
    CHECK(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, opq) >= 0);
    CHECK(opq[1][0] == 0xde && opq[1][3] == 0xef);
    H5Tclose(t);
    H5Dclose(d);

    d = H5Dopen2(f, "ragged", H5P_DEFAULT);
    t = H5Tvlen_create(H5T_NATIVE_INT);
    CHECK(H5Dread(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, seq) >= 0);
    CHECK(seq[0].len == 1 && ((int *)seq[0].p)[0] == 42);
    CHECK(seq[1].len == 3 && ((int *)seq[1].p)[2] == 9);
    {
        hid_t s = H5Dget_space(d);
        H5Treclaim(t, s, H5P_DEFAULT, seq);
        H5Sclose(s);
    }
    H5Tclose(t);
    H5Dclose(d);

    d = H5Dopen2(f, "growing", H5P_DEFAULT);
    {
        hid_t s = H5Dget_space(d);
        hsize_t dd[2], mm[2];
        H5Sget_simple_extent_dims(s, dd, mm);
        CHECK(dd[0] == 3 && dd[1] == 4 && mm[0] == H5S_UNLIMITED && mm[1] == 4);
        H5Sclose(s);
    }
    CHECK(H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ext_data) >= 0);
    CHECK(ext_data[2][3] == 23);
    H5Dclose(d);

    /* links */
    CHECK(H5Lexists(f, "soft_ints", H5P_DEFAULT) > 0);
    CHECK(H5Lexists(f, "doomed_link", H5P_DEFAULT) == 0);
    CHECK(H5Lget_val(f, "soft_ints", buf, sizeof buf, H5P_DEFAULT) >= 0 && strcmp(buf, "/g1/ints") == 0);
    {
        H5L_info2_t li;
        const char *file = NULL, *path = NULL;
        unsigned flags;
        CHECK(H5Lget_info2(f, "ext", &li, H5P_DEFAULT) >= 0 && li.type == H5L_TYPE_EXTERNAL);
        CHECK(H5Lget_val(f, "ext", buf, sizeof buf, H5P_DEFAULT) >= 0);
        CHECK(H5Lunpack_elink_val(buf, li.u.val_size, &flags, &file, &path) >= 0);
        CHECK(strcmp(file, "/home/admin/other.h5") == 0 && strcmp(path, "/data") == 0);
    }
    d = H5Dopen2(f, "soft_ints", H5P_DEFAULT);
    CHECK(d >= 0);
    H5Dclose(d);
    CHECK(H5Oget_info_by_name3(f, "hard_ints", &oi1, H5O_INFO_BASIC, H5P_DEFAULT) >= 0);
    CHECK(H5Oget_info_by_name3(f, "g1/ints", &oi2, H5O_INFO_BASIC | H5O_INFO_NUM_ATTRS, H5P_DEFAULT) >= 0);
    CHECK(oi1.type == H5O_TYPE_DATASET && oi2.num_attrs == 4 && oi1.rc == 2);
    {
        int cmp = 1;
        hid_t o;
        CHECK(H5Otoken_cmp(f, &oi1.token, &oi2.token, &cmp) >= 0 && cmp == 0);
        o = H5Oopen_by_token(f, oi1.token);
        CHECK(o >= 0 && H5Iget_type(o) == H5I_DATASET);
        H5Oclose(o);
    }
    CHECK(H5Literate2(f, H5_INDEX_NAME, H5_ITER_INC, NULL, count_link, names) >= 0);
    /* root links in name order */
    {
        const char *want[] = {"array", "be", "colours", "dangling", "ext", "g1", "growing", "hard_ints",
                              "nested", "opaque", "ragged", "rec_t", "records", "records_named",
                              "soft_ints", "vstr", NULL};
        for (i = 0; want[i]; i++) {
            CHECK(names[i] != NULL);
            if (strcmp(names[i], want[i]) != 0)
                fprintf(stderr, "link %d: %s, expected %s\n", i, names[i], want[i]);
            CHECK(strcmp(names[i], want[i]) == 0);
        }
        CHECK(names[i] == NULL);
        for (i = 0; names[i]; i++)
            free(names[i]);
    }
    n = 0;
    CHECK(H5Ovisit3(f, H5_INDEX_NAME, H5_ITER_INC, count_obj, &n, H5O_INFO_BASIC) >= 0);
    /* root, g1, x, y, z, ints (once), array, be, colours, growing, nested, opaque,
     * ragged, rec_t, records, records_named, vstr */
    CHECK(n == 17);
    {
        H5G_info_t gi;
        CHECK(H5Gget_info_by_name(f, "g1", &gi, H5P_DEFAULT) >= 0 && gi.nlinks == 2);
    }
    a = H5Aopen(f, "title", H5P_DEFAULT);
    CHECK(H5Aread(a, H5T_NATIVE_DOUBLE, &be[4]) >= 0 && be[4] == 1.5);
    H5Aclose(a);

    /* read-only: writes fail cleanly */
    H5E_BEGIN_TRY {
        CHECK(H5Gcreate2(f, "nope", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) < 0);
    }
    H5E_END_TRY
    CHECK(H5Fclose(f) >= 0);
}

/* Object references: written as H5R_ref_t through the connector (whole and through a
 * hyperslab), read back from a read-only open, named, opened and checked; old-style
 * memory types and references into another domain fail with a clear error. */
static void check_references(const char *domain, const char *other, hid_t fapl) {
    hid_t f, f2, g, d, t, sp, s, a, fs, ms;
    H5R_ref_t refs[4], got[4], one, foreign;
    hsize_t four = 4, start = 3, cnt = 1;
    int ints[3] = {7, 8, 9}, back[3] = {0, 0, 0};
    const char *names[4] = {"/g", "/g/d", "/t", "/"};
    H5O_type_t types[4] = {H5O_TYPE_GROUP, H5O_TYPE_DATASET, H5O_TYPE_NAMED_DATATYPE, H5O_TYPE_GROUP};
    char buf[256];
    int i;

    f = H5Fcreate(domain, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    CHECK(f >= 0);
    g = H5Gcreate2(f, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    s = H5Screate_simple(1, (hsize_t[]){3}, NULL);
    d = H5Dcreate2(g, "d", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(d >= 0 && H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, ints) >= 0);
    H5Sclose(s);
    t = H5Tcopy(H5T_NATIVE_DOUBLE);
    CHECK(H5Tcommit2(f, "t", t, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT) >= 0);
    memset(refs, 0, sizeof refs); /* refs[3] stays null for now */
    CHECK(H5Rcreate_object(f, "g", H5P_DEFAULT, &refs[0]) >= 0);
    CHECK(H5Rcreate_object(g, "d", H5P_DEFAULT, &refs[1]) >= 0);
    CHECK(H5Rcreate_object(t, ".", H5P_DEFAULT, &refs[2]) >= 0);
    sp = H5Screate_simple(1, &four, NULL);
    H5Dclose(d);
    d = H5Dcreate2(f, "refs", H5T_STD_REF, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(d >= 0);
    CHECK(H5Dwrite(d, H5T_STD_REF, H5S_ALL, H5S_ALL, H5P_DEFAULT, refs) >= 0);
    /* element 3 through a hyperslab: the root group */
    CHECK(H5Rcreate_object(f, "/", H5P_DEFAULT, &one) >= 0);
    fs = H5Scopy(sp);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &cnt, NULL);
    ms = H5Screate_simple(1, &cnt, NULL);
    CHECK(H5Dwrite(d, H5T_STD_REF, ms, fs, H5P_DEFAULT, &one) >= 0);
    H5Sclose(ms);
    H5Sclose(fs);
    /* old-style references are native file addresses: refused by name */
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    CHECK(H5Dwrite(d, H5T_STD_REF_OBJ, H5S_ALL, H5S_ALL, H5P_DEFAULT, refs) < 0);
    CHECK(stack_has("H5T_STD_REF"));
    /* a reference into another domain cannot be stored */
    f2 = H5Fcreate(other, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    CHECK(f2 >= 0 && H5Rcreate_object(f2, "/", H5P_DEFAULT, &foreign) >= 0);
    fs = H5Scopy(sp);
    H5Sselect_hyperslab(fs, H5S_SELECT_SET, &start, NULL, &cnt, NULL);
    ms = H5Screate_simple(1, &cnt, NULL);
    CHECK(H5Dwrite(d, H5T_STD_REF, ms, fs, H5P_DEFAULT, &foreign) < 0);
    CHECK(stack_has("outside the domain"));
    H5Sclose(ms);
    H5Sclose(fs);
    H5Rdestroy(&foreign);
    CHECK(H5Fclose(f2) >= 0);
    /* a scalar reference attribute */
    s = H5Screate(H5S_SCALAR);
    a = H5Acreate2(f, "ref_attr", H5T_STD_REF, s, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(a >= 0 && H5Awrite(a, H5T_STD_REF, &refs[1]) >= 0);
    H5Aclose(a);
    H5Sclose(s);
    for (i = 0; i < 3; i++)
        CHECK(H5Rdestroy(&refs[i]) >= 0);
    CHECK(H5Rdestroy(&one) >= 0);
    H5Dclose(d);
    H5Sclose(sp);
    H5Tclose(t);
    H5Gclose(g);
    CHECK(H5Fclose(f) >= 0);

    f = H5Fopen(domain, H5F_ACC_RDONLY, fapl);
    CHECK(f >= 0);
    d = H5Dopen2(f, "refs", H5P_DEFAULT);
    t = H5Dget_type(d);
    CHECK(H5Tget_class(t) == H5T_REFERENCE);
    H5Tclose(t);
    CHECK(H5Dread(d, H5T_STD_REF, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
    H5Dclose(d);
    CHECK(H5Fclose(f) >= 0); /* the references keep what they need */
    for (i = 0; i < 4; i++) {
        H5O_type_t ot;
        CHECK(H5Rget_type(&got[i]) == H5R_OBJECT2);
        CHECK(H5Rget_obj_type3(&got[i], H5P_DEFAULT, &ot) >= 0 && ot == types[i]);
        CHECK(H5Rget_obj_name(&got[i], H5P_DEFAULT, buf, sizeof buf) > 0);
        if (strcmp(buf, names[i]) != 0)
            fprintf(stderr, "reference %d names %s, expected %s\n", i, buf, names[i]);
        CHECK(strcmp(buf, names[i]) == 0);
        CHECK(H5Rget_file_name(&got[i], buf, sizeof buf) > 0 && strcmp(buf, domain) == 0);
    }
    d = H5Ropen_object(&got[1], H5P_DEFAULT, H5P_DEFAULT);
    CHECK(d >= 0 && H5Dread(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, back) >= 0);
    CHECK(back[0] == 7 && back[2] == 9);
    H5Dclose(d);
    for (i = 0; i < 4; i++)
        CHECK(H5Rdestroy(&got[i]) >= 0);

    f = H5Fopen(domain, H5F_ACC_RDONLY, fapl);
    a = H5Aopen(f, "ref_attr", H5P_DEFAULT);
    CHECK(a >= 0 && H5Aread(a, H5T_STD_REF, &one) >= 0);
    CHECK(H5Rget_obj_name(&one, H5P_DEFAULT, buf, sizeof buf) > 0 && strcmp(buf, "/g/d") == 0);
    CHECK(H5Rdestroy(&one) >= 0);
    CHECK(H5Aread(a, H5T_STD_REF_OBJ, &one) < 0);
    CHECK(stack_has("H5T_STD_REF"));
    H5Aclose(a);
    CHECK(H5Fclose(f) >= 0);
    H5Eset_auto2(H5E_DEFAULT, (H5E_auto2_t)H5Eprint2, stderr);
    CHECK(H5Fdelete(domain, fapl) >= 0);
    CHECK(H5Fdelete(other, fapl) >= 0);
}

int main(void) {
    const char *endpoint = getenv("H5BLOB_TEST_HS_ENDPOINT");
    char domain[128], refs_domain[128], other_domain[128];
    hid_t fapl, f;

    if (!endpoint || !*endpoint)
        return 77;
    setenv("HS_ENDPOINT", endpoint, 1);
    setenv("HS_USERNAME", "admin", 1);
    setenv("HS_PASSWORD", "admin", 1);
    snprintf(domain, sizeof domain, "/home/admin/ctest_%ld.h5", (long)getpid());
    snprintf(refs_domain, sizeof refs_domain, "/home/admin/ctest_refs_%ld.h5", (long)getpid());
    snprintf(other_domain, sizeof other_domain, "/home/admin/ctest_other_%ld.h5", (long)getpid());

    CHECK(H5rest_init() >= 0);
    CHECK(H5rest_init() >= 0); /* harmless twice */
    fapl = H5Pcreate(H5P_FILE_ACCESS);
    CHECK(H5Pset_fapl_rest_vol(fapl) >= 0);

    write_file(domain, fapl);
    check_file(domain, fapl);
    check_references(refs_domain, other_domain, fapl);

    /* a missing domain: a clear error, no crash */
    H5E_BEGIN_TRY { f = H5Fopen("/home/admin/no_such_domain.h5", H5F_ACC_RDONLY, fapl); }
    H5E_END_TRY
    CHECK(f < 0);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    CHECK(H5Fopen("/home/admin/no_such_domain.h5", H5F_ACC_RDONLY, fapl) < 0);
    CHECK(stack_has("404"));

    /* deletion */
    CHECK(H5Fdelete(domain, fapl) >= 0);
    H5E_BEGIN_TRY { f = H5Fopen(domain, H5F_ACC_RDONLY, fapl); }
    H5E_END_TRY
    CHECK(f < 0);

    H5Pclose(fapl);
    CHECK(H5rest_term() >= 0);
    CHECK(H5rest_term() >= 0);
    printf("int_rest: ok\n");
    return 0;
}

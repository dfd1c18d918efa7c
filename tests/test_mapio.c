/*
 * Map-level I/O: mmf_read / mmf_write / mmf_flush (API.md "Map-level I/O"):
 * bounds, access, zero-length rules, coherence with views and the file,
 * concurrent use from several threads, and transfers that cross the
 * internal 1 GiB window boundary.
 */
#include "test.h"

#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

static uint64_t pg(void)
{
    return (uint64_t)mmf_page_size();
}

/* ---- arguments ---------------------------------------------------------- */

TEST(mapio_null_args)
{
    const char *p = t_path("f");
    mmf_file *f = t_file_map(p, 100, MMF_ACCESS_READ_WRITE);
    unsigned char buf[4] = {1, 2, 3, 4};

    CHECK_RC(mmf_read(NULL, 0, buf, 4), MMF_EINVAL);
    CHECK_RC(mmf_read(NULL, 0, buf, 0), MMF_EINVAL);
    CHECK_RC(mmf_write(NULL, 0, buf, 4), MMF_EINVAL);
    CHECK_RC(mmf_write(NULL, 0, buf, 0), MMF_EINVAL);
    CHECK_RC(mmf_flush(NULL, 0, 0, MMF_FLUSH_SYNC), MMF_EINVAL);
    CHECK_RC(mmf_read(f, 0, NULL, 1), MMF_EINVAL);
    CHECK_RC(mmf_write(f, 0, NULL, 1), MMF_EINVAL);
    CHECK_OK(mmf_read(f, 0, NULL, 0));
    CHECK_OK(mmf_write(f, 0, NULL, 0));
    CHECK_OK(mmf_read(f, 100, NULL, 0));
    CHECK_OK(mmf_write(f, 100, NULL, 0));
    CHECK_OK(mmf_close(f));
    CHECK(t_file_is_pattern(p, 0, 100));
}

static void check_bounds(mmf_file *f, int writable)
{
    uint64_t cap = mmf_capacity(f);
    const struct {
        uint64_t off;
        size_t n;
    } bad[] = {
        {cap + 1, 0},         {cap + 1, 1},        {cap, 1},
        {0, (size_t)cap + 1}, {1, (size_t)cap},    {cap - 10, 11},
        {1, SIZE_MAX},        {cap, SIZE_MAX},     {UINT64_MAX, 0},
        {UINT64_MAX, 1},      {UINT64_MAX - 4, 8}, {(uint64_t)1 << 63, 1},
    };
    unsigned char *buf = malloc((size_t)cap + 1);
    unsigned char *before = malloc((size_t)cap);

    CHECK(buf != NULL && before != NULL);
    CHECK_OK(mmf_read(f, 0, before, (size_t)cap));
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(buf, 0xEE, (size_t)cap + 1);
        CHECK_RC(mmf_read(f, bad[i].off, buf, bad[i].n), MMF_ERANGE);
        CHECK(t_all_bytes(buf, 0xEE, (size_t)cap + 1));
        CHECK_RC(mmf_write(f, bad[i].off, buf, bad[i].n), MMF_ERANGE);
        memset(buf, 0, (size_t)cap);
        CHECK_OK(mmf_read(f, 0, buf, (size_t)cap));
        CHECK_MEM(buf, before, (size_t)cap);
    }
    /* The limits. */
    CHECK_OK(mmf_read(f, 0, buf, (size_t)cap));
    CHECK_OK(mmf_read(f, cap - 1, buf, 1));
    CHECK_OK(mmf_read(f, cap, buf, 0));
    if (writable) {
        CHECK_OK(mmf_write(f, cap - 1, before + cap - 1, 1));
        CHECK_OK(mmf_write(f, cap, buf, 0));
        CHECK_OK(mmf_write(f, 0, before, (size_t)cap));
    }
    free(buf);
    free(before);
}

TEST(mapio_bounds_file)
{
    const char *p = t_path("f");
    uint64_t cap = 2 * pg() + 5;
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ_WRITE);
    mmf_file *r;

    check_bounds(f, 1);
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_file_size(p), cap);
    CHECK(t_file_is_pattern(p, 0, (size_t)cap));
    CHECK_OK(mmf_create_from_file(p, MMF_MODE_OPEN, NULL, 0, MMF_ACCESS_READ, 0,
                                  &r));
    check_bounds(r, 0);
    CHECK_OK(mmf_close(r));
}

TEST(mapio_bounds_anon)
{
    mmf_file *f = t_anon_map(pg() + 3, MMF_ACCESS_READ_WRITE);

    check_bounds(f, 1);
    CHECK_OK(mmf_close(f));
}

/* ---- access ------------------------------------------------------------- */

TEST(mapio_access_read_only_maps)
{
    const int accs[] = {MMF_ACCESS_READ, MMF_ACCESS_READ_EXECUTE,
                        MMF_ACCESS_COPY_ON_WRITE};

    for (size_t i = 0; i < sizeof accs / sizeof *accs; i++) {
        char name[16];
        const char *p;
        mmf_file *f;
        unsigned char buf[64], src[64];

        snprintf(name, sizeof name, "f%zu", i);
        p = t_path(name);
        f = t_file_map(p, 3 * pg(), accs[i]);
        memset(src, 0x55, sizeof src);
        CHECK_RC(mmf_write(f, 0, src, sizeof src), MMF_EACCES);
        CHECK_RC(mmf_write(f, pg() - 1, src, 2), MMF_EACCES);
        CHECK_RC(mmf_write(f, 0, src, 0), MMF_EACCES);
        CHECK_RC(mmf_write(f, 3 * pg(), src, 0), MMF_EACCES);
        /* Bounds come first. */
        CHECK_RC(mmf_write(f, 3 * pg(), src, 1), MMF_ERANGE);
        CHECK_RC(mmf_write(f, 3 * pg() + 1, src, 0), MMF_ERANGE);
        /* Reads work. */
        CHECK_OK(mmf_read(f, pg() - 10, buf, sizeof buf));
        CHECK(t_is_pattern(buf, pg() - 10, sizeof buf));
        CHECK_OK(mmf_read(f, 0, buf, 0));
        CHECK_OK(mmf_flush(f, 0, 0, MMF_FLUSH_SYNC));
        CHECK_OK(mmf_close(f));
        CHECK(t_file_is_pattern(p, 0, (size_t)(3 * pg())));
    }
}

TEST(mapio_access_anon)
{
    mmf_file *r = t_anon_map(pg(), MMF_ACCESS_READ);
    mmf_file *c = t_anon_map(pg(), MMF_ACCESS_COPY_ON_WRITE);
    mmf_file *w = t_anon_map(pg(), MMF_ACCESS_READ_WRITE_EXECUTE);
    unsigned char buf[16];

    memset(buf, 0xEE, sizeof buf);
    CHECK_RC(mmf_write(r, 0, buf, 16), MMF_EACCES);
    CHECK_RC(mmf_write(c, 0, buf, 16), MMF_EACCES);
    CHECK_RC(mmf_write(c, 0, buf, 0), MMF_EACCES);
    CHECK_OK(mmf_read(r, 0, buf, 16));
    CHECK(t_all_bytes(buf, 0, 16));
    memset(buf, 0xEE, sizeof buf);
    CHECK_OK(mmf_read(c, pg() - 16, buf, 16));
    CHECK(t_all_bytes(buf, 0, 16));
    CHECK_OK(mmf_write(w, 5, "rwx", 3));
    CHECK_OK(mmf_read(w, 4, buf, 5));
    CHECK_MEM(buf, "\0rwx\0", 5);
    CHECK_OK(mmf_close(r));
    CHECK_OK(mmf_close(c));
    CHECK_OK(mmf_close(w));
}

TEST(mapio_cow_map_reads_object)
{
    /* mmf_read of a COPY_ON_WRITE map reads the file, never a COW view's
     * private pages, before and after mmf_read has set up its windows. */
    const char *p = t_path("f");
    uint64_t cap = 2 * pg();
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_COPY_ON_WRITE);
    mmf_view *c = t_open_view(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE);
    unsigned char buf[32];

    CHECK_OK(mmf_view_write(c, 0, "private", 7));
    CHECK_OK(mmf_read(f, 0, buf, sizeof buf));
    CHECK(t_is_pattern(buf, 0, sizeof buf));
    CHECK_OK(mmf_view_write(c, pg(), "private", 7));
    CHECK_OK(mmf_read(f, pg(), buf, sizeof buf));
    CHECK(t_is_pattern(buf, pg(), sizeof buf));
    CHECK_RC(mmf_write(f, 0, "x", 1), MMF_EACCES);
    CHECK_OK(mmf_view_read(c, 0, buf, 7));
    CHECK_MEM(buf, "private", 7);
    CHECK_OK(mmf_view_close(c));
    CHECK_OK(mmf_close(f));
    CHECK(t_file_is_pattern(p, 0, (size_t)cap));
    CHECK_EQ(t_file_size(p), cap);
}

TEST(mapio_rw_map_ignores_cow_view)
{
    const char *p = t_path("f");
    mmf_file *f = t_file_map(p, pg(), MMF_ACCESS_READ_WRITE);
    mmf_view *c = t_open_view(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE);
    unsigned char buf[8];

    CHECK_OK(mmf_view_write(c, 8, "cowbytes", 8));
    CHECK_OK(mmf_read(f, 8, buf, 8));
    CHECK(t_is_pattern(buf, 8, 8));
    CHECK_OK(mmf_view_close(c));
    CHECK_OK(mmf_close(f));
    CHECK(t_file_is_pattern(p, 0, (size_t)pg()));
}

/* ---- data paths --------------------------------------------------------- */

TEST(mapio_roundtrip_file)
{
    const char *p = t_path("f");
    uint64_t cap = 4 * pg() + 12345;
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ_WRITE);
    mmf_view *before = t_open_view(f, pg() - 3, 2 * pg(), MMF_ACCESS_READ);
    unsigned char *all = malloc((size_t)cap);
    unsigned char buf[256], src[256];
    const uint64_t offs[] = {0, 1, pg() - 1, pg() + 100, 12345, cap - 256};
    mmf_view *after;

    CHECK(all != NULL);
    CHECK_OK(mmf_read(f, 0, all, (size_t)cap));
    CHECK(t_is_pattern(all, 0, (size_t)cap));
    for (size_t i = 0; i < sizeof offs / sizeof *offs; i++) {
        for (size_t k = 0; k < sizeof src; k++)
            src[k] = (unsigned char)(k * 5 + i * 17 + 1);
        CHECK_OK(mmf_write(f, offs[i], src, sizeof src));
        memcpy(all + offs[i], src, sizeof src);
        memset(buf, 0, sizeof buf);
        CHECK_OK(mmf_read(f, offs[i], buf, sizeof buf));
        CHECK_MEM(buf, src, sizeof src);
    }
    /* A view opened before, and one opened after, see the writes. */
    CHECK_MEM(mmf_view_data(before), all + pg() - 3, (size_t)(2 * pg()));
    after = t_open_view(f, 0, 0, MMF_ACCESS_READ);
    CHECK_MEM(mmf_view_data(after), all, (size_t)cap);
    /* A view's writes are seen by mmf_read. */
    {
        mmf_view *w = t_open_view(f, 3 * pg() + 1, 10, MMF_ACCESS_WRITE);
        CHECK_OK(mmf_view_write(w, 0, "from view!", 10));
        memcpy(all + 3 * pg() + 1, "from view!", 10);
        CHECK_OK(mmf_read(f, 3 * pg(), buf, 12));
        CHECK_MEM(buf, all + 3 * pg(), 12);
        CHECK_OK(mmf_view_close(w));
    }
    CHECK_OK(mmf_flush(f, 0, 0, MMF_FLUSH_SYNC));
    {
        unsigned char *disk = malloc((size_t)cap);
        CHECK(disk != NULL);
        t_pread(p, 0, disk, (size_t)cap);
        CHECK_MEM(disk, all, (size_t)cap);
        free(disk);
    }
    CHECK_OK(mmf_view_close(before));
    CHECK_OK(mmf_view_close(after));
    CHECK_OK(mmf_close(f));
    free(all);
}

TEST(mapio_write_reaches_file_after_close)
{
    const char *p = t_path("f");
    int fds;
    mmf_file *f;
    unsigned char buf[6];

    t_make_file(p, 3 * pg(), -1);
    fds = t_fd_count();
    CHECK_OK(mmf_create_from_file(p, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_OK(mmf_write(f, 2 * pg() - 3, "closed", 6));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_fd_count(), fds);
    t_pread(p, 2 * pg() - 3, buf, 6);
    CHECK_MEM(buf, "closed", 6);
}

TEST(mapio_roundtrip_anon)
{
    uint64_t cap = 3 * pg() + 1;
    mmf_file *f = t_anon_map(cap, MMF_ACCESS_READ_WRITE);
    mmf_view *v = t_open_view(f, 1, 0, MMF_ACCESS_READ_WRITE);
    unsigned char buf[64];

    CHECK_OK(mmf_read(f, 0, buf, sizeof buf));
    CHECK(t_all_bytes(buf, 0, sizeof buf));
    CHECK_OK(mmf_write(f, cap - 5, "tail!", 5));
    CHECK_MEM((unsigned char *)mmf_view_data(v) + cap - 6, "tail!", 5);
    CHECK_OK(mmf_view_write(v, pg() - 1, "mid", 3));
    CHECK_OK(mmf_read(f, pg(), buf, 3));
    CHECK_MEM(buf, "mid", 3);
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
}

TEST(mapio_zero_length)
{
    const char *p = t_path("f");
    uint64_t cap = 100;
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ_WRITE);
    mmf_file *r = t_anon_map(cap, MMF_ACCESS_READ);
    unsigned char b = 0x33;

    CHECK_OK(mmf_read(f, 0, &b, 0));
    CHECK_OK(mmf_read(f, 50, &b, 0));
    CHECK_OK(mmf_read(f, cap, &b, 0));
    CHECK_RC(mmf_read(f, cap + 1, &b, 0), MMF_ERANGE);
    CHECK_OK(mmf_write(f, 0, &b, 0));
    CHECK_OK(mmf_write(f, cap, &b, 0));
    CHECK_RC(mmf_write(f, cap + 1, &b, 0), MMF_ERANGE);
    CHECK_EQ(b, 0x33);
    CHECK_OK(mmf_read(r, cap, &b, 0));
    CHECK_RC(mmf_write(r, cap, &b, 0), MMF_EACCES);
    CHECK_RC(mmf_write(r, cap + 1, &b, 0), MMF_ERANGE);
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_close(r));
    CHECK(t_file_is_pattern(p, 0, (size_t)cap));
}

/* ---- flush -------------------------------------------------------------- */

static void check_flush_args(mmf_file *f)
{
    uint64_t cap = mmf_capacity(f);
    const unsigned bad_flags[] = {3, 4, 0x10, 0x11, ~0u};
    const struct {
        uint64_t off, len;
    } bad[] = {
        {cap + 1, 0}, {cap, 1},        {0, cap + 1},    {cap - 1, 2},
        {1, cap},     {1, UINT64_MAX}, {UINT64_MAX, 0}, {UINT64_MAX, 1},
    };

    for (size_t i = 0; i < sizeof bad_flags / sizeof *bad_flags; i++) {
        CHECK_RC(mmf_flush(f, 0, 0, bad_flags[i]), MMF_EINVAL);
        CHECK_RC(mmf_flush(f, 1, 3, bad_flags[i]), MMF_EINVAL);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        for (unsigned fl = 0; fl < 3; fl++)
            CHECK_RC(mmf_flush(f, bad[i].off, bad[i].len, fl), MMF_ERANGE);
    for (unsigned fl = 0; fl < 3; fl++) {
        CHECK_OK(mmf_flush(f, 0, 0, fl));
        CHECK_OK(mmf_flush(f, 1, 3, fl));
        CHECK_OK(mmf_flush(f, pg() + 17, 0, fl));
        CHECK_OK(mmf_flush(f, pg() + 17, 5, fl));
        CHECK_OK(mmf_flush(f, cap - 1, 1, fl));
        CHECK_OK(mmf_flush(f, cap, 0, fl));
        CHECK_OK(mmf_flush(f, 0, cap, fl));
    }
}

TEST(mapio_flush)
{
    const char *p = t_path("f");
    uint64_t cap = 3 * pg() + 50;
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ_WRITE);
    mmf_file *a = t_anon_map(cap, MMF_ACCESS_READ_WRITE);
    unsigned char buf[8];
    const char *q = t_path("r");
    mmf_file *r, *c;

    check_flush_args(f);
    check_flush_args(a);
    /* Written data reaches the file after an unaligned flush. */
    CHECK_OK(mmf_write(f, 1, "abc", 3));
    CHECK_OK(mmf_flush(f, 1, 3, MMF_FLUSH_SYNC));
    t_pread(p, 0, buf, 5);
    CHECK_EQ(buf[0], t_pattern(-1, 0));
    CHECK_MEM(buf + 1, "abc", 3);
    CHECK_EQ(buf[4], t_pattern(-1, 4));
    CHECK_OK(mmf_write(f, pg() + 17, "defgh", 5));
    CHECK_OK(mmf_flush(f, pg() + 17, 5, MMF_FLUSH_DURABLE));
    t_pread(p, pg() + 17, buf, 5);
    CHECK_MEM(buf, "defgh", 5);
    CHECK_OK(mmf_write(f, cap - 3, "end", 3));
    CHECK_OK(mmf_flush(f, cap - 3, 0, MMF_FLUSH_ASYNC));
    CHECK_OK(mmf_flush(f, 0, 0, MMF_FLUSH_SYNC));
    t_pread(p, cap - 3, buf, 3);
    CHECK_MEM(buf, "end", 3);
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_close(a));
    CHECK_EQ(t_file_size(p), cap);

    /* Read-only and copy-on-write maps flush fine and write nothing. */
    t_make_file(q, cap, -1);
    CHECK_OK(mmf_create_from_file(q, MMF_MODE_OPEN, NULL, 0, MMF_ACCESS_READ, 0,
                                  &r));
    CHECK_OK(mmf_create_from_file(q, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_COPY_ON_WRITE, 0, &c));
    check_flush_args(r);
    check_flush_args(c);
    CHECK_OK(mmf_close(r));
    CHECK_OK(mmf_close(c));
    CHECK(t_file_is_pattern(q, 0, (size_t)cap));
}

/* ---- threads ------------------------------------------------------------ */

#define NTHREADS 4
#define RANGE (256 * 1024)

struct worker {
    mmf_file *f;
    pthread_barrier_t *start;
    uint64_t base;
    unsigned char *shadow; /* what the range should hold */
    int id;
    int err; /* 0, or the iteration * 10 + kind of the first failure */
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    unsigned char *buf = malloc(8192), *back = malloc(8192);

    pthread_barrier_wait(w->start);
    if (buf == NULL || back == NULL) {
        w->err = -1;
        goto out;
    }
    for (int it = 0; it < 400; it++) {
        size_t n = 1 + (size_t)((it * 997 + w->id * 131) % 8192);
        uint64_t rel =
            ((uint64_t)it * 7919 + (uint64_t)w->id * 104729) % (RANGE - n + 1);
        int rc;

        for (size_t i = 0; i < n; i++)
            buf[i] = (unsigned char)(w->id * 61 + it * 7 + i);
        rc = mmf_write(w->f, w->base + rel, buf, n);
        if (rc != MMF_OK) {
            w->err = it * 10 + 1;
            goto out;
        }
        memcpy(w->shadow + rel, buf, n);
        memset(back, 0, n);
        rc = mmf_read(w->f, w->base + rel, back, n);
        if (rc != MMF_OK) {
            w->err = it * 10 + 2;
            goto out;
        }
        if (memcmp(back, buf, n) != 0) {
            w->err = it * 10 + 3;
            goto out;
        }
        /* Now and then re-read a whole stretch of the own range. */
        if (it % 50 == 0) {
            size_t k = 8192;
            uint64_t at = (uint64_t)it * 331 % (RANGE - k);
            if (mmf_read(w->f, w->base + at, back, k) != MMF_OK ||
                memcmp(back, w->shadow + at, k) != 0) {
                w->err = it * 10 + 4;
                goto out;
            }
        }
    }
out:
    free(buf);
    free(back);
    return NULL;
}

/* Runs the workers on f, whose bytes start as `init` (pattern or 0), and
 * checks the whole map, then the file when `path` is given. */
static void run_workers(mmf_file *f, int init, const char *path)
{
    struct worker w[NTHREADS];
    pthread_t th[NTHREADS];
    pthread_barrier_t start;
    unsigned char *all = malloc((size_t)NTHREADS * RANGE);

    CHECK(all != NULL);
    CHECK(pthread_barrier_init(&start, NULL, NTHREADS) == 0);
    for (int i = 0; i < NTHREADS; i++) {
        w[i].f = f;
        w[i].start = &start;
        w[i].base = (uint64_t)i * RANGE;
        w[i].shadow = all + (size_t)i * RANGE;
        w[i].id = i;
        w[i].err = 0;
        for (size_t k = 0; k < RANGE; k++)
            w[i].shadow[k] = t_pattern(init, w[i].base + k);
    }
    for (int i = 0; i < NTHREADS; i++)
        CHECK(pthread_create(&th[i], NULL, worker_main, &w[i]) == 0);
    for (int i = 0; i < NTHREADS; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    pthread_barrier_destroy(&start);
    for (int i = 0; i < NTHREADS; i++)
        if (w[i].err != 0)
            t_fail(__FILE__, __LINE__, "thread %d failed: %d", i, w[i].err);
    {
        unsigned char *got = malloc((size_t)NTHREADS * RANGE);
        CHECK(got != NULL);
        CHECK_OK(mmf_read(f, 0, got, (size_t)NTHREADS * RANGE));
        CHECK_MEM(got, all, (size_t)NTHREADS * RANGE);
        if (path != NULL) {
            CHECK_OK(mmf_flush(f, 0, 0, MMF_FLUSH_SYNC));
            memset(got, 0, (size_t)NTHREADS * RANGE);
            t_pread(path, 0, got, (size_t)NTHREADS * RANGE);
            CHECK_MEM(got, all, (size_t)NTHREADS * RANGE);
        }
        free(got);
    }
    free(all);
}

TEST(mapio_threads_file)
{
    const char *p = t_path("f");
    mmf_file *f =
        t_file_map(p, (uint64_t)NTHREADS * RANGE, MMF_ACCESS_READ_WRITE);

    run_workers(f, -1, p);
    CHECK_OK(mmf_close(f));
}

TEST(mapio_threads_anon)
{
    mmf_file *f = t_anon_map((uint64_t)NTHREADS * RANGE, MMF_ACCESS_READ_WRITE);

    run_workers(f, 0, NULL);
    CHECK_OK(mmf_close(f));
}

/* ---- the 1 GiB window boundary ------------------------------------------ */

TEST(mapio_window_boundary)
{
    const char *p = t_path("big");
    const uint64_t G = (uint64_t)1 << 30, cap = G + 65536;
    unsigned char pre[8192], src[8192], buf[8192 + 2];
    mmf_file *f;
    mmf_view *v;
    int fd;

    /* A sparse file of 1 GiB + 64 KiB; bytes [G-4096, G+4096) preset. */
    fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);
    CHECK(fd >= 0);
    if (ftruncate(fd, (off_t)cap) != 0) {
        close(fd);
        SKIP("cannot make a sparse file of 1 GiB here");
    }
    close(fd);
    for (size_t i = 0; i < sizeof pre; i++)
        pre[i] = (unsigned char)(i * 11 + 7);
    t_pwrite(p, G - 4096, pre, sizeof pre);

    CHECK_OK(mmf_create_from_file(p, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(mmf_capacity(f), cap);

    /* A read across the boundary sees what pwrite put there. */
    memset(buf, 0xEE, sizeof buf);
    CHECK_OK(mmf_read(f, G - 4096, buf, sizeof pre));
    CHECK_MEM(buf, pre, sizeof pre);
    CHECK_EQ(buf[sizeof pre], 0xEE);
    /* And one that starts before the preset bytes (zeros of the hole). */
    CHECK_OK(mmf_read(f, G - 4096 - 100, buf, 200));
    CHECK(t_all_bytes(buf, 0, 100));
    CHECK_MEM(buf + 100, pre, 100);

    /* An 8 KiB write straddling 2^30 at an odd offset. */
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(i * 3 + 101);
    CHECK_OK(mmf_write(f, G - 5001, src, sizeof src));
    memset(buf, 0, sizeof buf);
    CHECK_OK(mmf_read(f, G - 5002, buf, sizeof src + 2));
    CHECK_EQ(buf[0], 0);
    CHECK_MEM(buf + 1, src, sizeof src);
    CHECK_EQ(buf[sizeof src + 1], pre[G - 5001 + sizeof src - (G - 4096)]);
    CHECK_OK(mmf_flush(f, G - 5001, sizeof src, MMF_FLUSH_SYNC));
    t_pread(p, G - 5002, buf, sizeof src + 2);
    CHECK_EQ(buf[0], 0);
    CHECK_MEM(buf + 1, src, sizeof src);
    CHECK_EQ(buf[sizeof src + 1], pre[G - 5001 + sizeof src - (G - 4096)]);

    /* A view over the boundary agrees. */
    v = t_open_view(f, G - 10, 20, MMF_ACCESS_READ);
    CHECK_MEM(mmf_view_data(v), src + (G - 10 - (G - 5001)), 20);
    CHECK_OK(mmf_view_close(v));

    /* The very end of the map, in the second window. */
    CHECK_OK(mmf_write(f, cap - 4, "last", 4));
    CHECK_OK(mmf_read(f, cap - 8, buf, 8));
    CHECK_MEM(buf, "\0\0\0\0last", 8);
    CHECK_RC(mmf_read(f, cap - 8, buf, 9), MMF_ERANGE);
    CHECK_RC(mmf_write(f, cap - 3, "last", 4), MMF_ERANGE);
    CHECK_OK(mmf_flush(f, cap - 4, 0, MMF_FLUSH_SYNC));
    t_pread(p, cap - 4, buf, 4);
    CHECK_MEM(buf, "last", 4);
    /* And the very start, in the first. */
    CHECK_OK(mmf_write(f, 0, "first", 5));
    CHECK_OK(mmf_read(f, 0, buf, 5));
    CHECK_MEM(buf, "first", 5);
    CHECK_OK(mmf_close(f));
    t_pread(p, 0, buf, 5);
    CHECK_MEM(buf, "first", 5);
    CHECK_EQ(t_file_size(p), cap);
}

/* Large writes to a file map go through the descriptor: they must be seen
 * at once by views opened before, land in the file at the right offset,
 * and on a file that shrank fail with MMF_EIO without growing it back. */
TEST(mapio_large_write_coherent)
{
    const char *path = t_path("large-write.bin");
    const size_t n = (size_t)3 << 20;
    unsigned char *buf = malloc(n), *back = malloc(n);
    mmf_file *f = t_file_map(path, 8 << 20, MMF_ACCESS_READ_WRITE);
    mmf_view *v = t_open_view(f, 4096, 0, MMF_ACCESS_READ);
    const unsigned char *d = mmf_view_data(v);

    CHECK(buf != NULL && back != NULL);
    for (size_t i = 0; i < n; i++)
        buf[i] = (unsigned char)(i * 31 + 7);
    CHECK_OK(mmf_write(f, 12345, buf, n));
    CHECK_MEM(d + 12345 - 4096, buf, n);
    CHECK_OK(mmf_read(f, 12345, back, n));
    CHECK_MEM(back, buf, n);
    t_pread(path, 12345, back, n);
    CHECK_MEM(back, buf, n);
    /* Neighbours untouched. */
    CHECK(t_is_pattern(d + 12344 - 4096, 12344, 1));
    CHECK(t_is_pattern(d + 12345 + n - 4096, 12345 + n, 1));

#ifndef _WIN32
    /* The file shrinks under the map: no write, no growth. (Windows does
     * not let a mapped file shrink.) */
    t_set_size(path, 1 << 20);
    CHECK_RC(mmf_write(f, 2 << 20, buf, n), MMF_EIO);
    CHECK_EQ(t_file_size(path), 1 << 20);
#endif
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    free(buf);
    free(back);
}

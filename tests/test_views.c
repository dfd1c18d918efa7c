/*
 * Views: argument checks, the map -> view access matrix, pointer offsets,
 * empty views, typed accessors, mmf_view_read / mmf_view_write, coherence,
 * lifetime after mmf_close, copy-on-write, flush and advice (API.md "Views").
 */
#include "test.h"

#ifndef _WIN32
#include <sys/wait.h>
#include <unistd.h>
#endif

static int sentinel_obj;
#define SENTINEL_VIEW ((mmf_view *)(void *)&sentinel_obj)

static uint64_t pg(void)
{
    return (uint64_t)mmf_page_size();
}

/* ---- argument errors ---------------------------------------------------- */

TEST(view_open_null_args)
{
    const char *p = t_path("f");
    mmf_file *f = t_file_map(p, 4096, MMF_ACCESS_READ_WRITE);
    mmf_view *v = SENTINEL_VIEW;

    CHECK_RC(mmf_view_open(NULL, 0, 0, MMF_ACCESS_READ, &v), MMF_EINVAL);
    CHECK(v == NULL);
    CHECK_RC(mmf_view_open(f, 0, 0, MMF_ACCESS_READ, NULL), MMF_EINVAL);
    CHECK_RC(mmf_view_open(NULL, 0, 0, MMF_ACCESS_READ, NULL), MMF_EINVAL);
    CHECK_OK(mmf_close(f));
    CHECK(t_file_is_pattern(p, 0, 4096));
}

TEST(view_open_bad_access)
{
    mmf_file *f = t_file_map(t_path("f"), 4096, MMF_ACCESS_READ_WRITE);
    mmf_file *a = t_anon_map(4096, MMF_ACCESS_READ_WRITE_EXECUTE);
    const int bad[] = {-1, 6, 7, 100, -1000};

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        mmf_view *v = SENTINEL_VIEW;
        CHECK_RC(mmf_view_open(f, 0, 0, bad[i], &v), MMF_EINVAL);
        CHECK(v == NULL);
        v = SENTINEL_VIEW;
        CHECK_RC(mmf_view_open(a, 0, 0, bad[i], &v), MMF_EINVAL);
        CHECK(v == NULL);
        v = SENTINEL_VIEW;
        CHECK_RC(mmf_view_open(f, 0, 16, bad[i], &v), MMF_EINVAL);
        CHECK(v == NULL);
    }
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_close(a));
}

static void check_view_ranges(mmf_file *f)
{
    uint64_t cap = mmf_capacity(f);
    struct {
        uint64_t off, size;
    } bad[] = {
        {cap + 1, 0},
        {cap + 1, 1},
        {cap, 1},
        {0, cap + 1},
        {1, cap},
        {cap - 1, 2},
        {1, UINT64_MAX},
        {cap, UINT64_MAX},
        {UINT64_MAX, 0},
        {UINT64_MAX, 1},
        {UINT64_MAX, UINT64_MAX},
        {(uint64_t)1 << 63, 0},
    };
    mmf_view *v;

    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = SENTINEL_VIEW;
        CHECK_RC(mmf_view_open(f, bad[i].off, bad[i].size,
                               MMF_ACCESS_READ_WRITE, &v),
                 MMF_ERANGE);
        CHECK(v == NULL);
        v = SENTINEL_VIEW;
        CHECK_RC(mmf_view_open(f, bad[i].off, bad[i].size, MMF_ACCESS_READ, &v),
                 MMF_ERANGE);
        CHECK(v == NULL);
    }
    /* The limits themselves are fine. */
    v = t_open_view(f, 0, cap, MMF_ACCESS_READ);
    CHECK_EQ(mmf_view_size(v), cap);
    CHECK_OK(mmf_view_close(v));
    v = t_open_view(f, cap - 1, 1, MMF_ACCESS_READ);
    CHECK_EQ(mmf_view_size(v), 1);
    CHECK_EQ(mmf_view_offset(v), cap - 1);
    CHECK_OK(mmf_view_close(v));
    v = t_open_view(f, cap - 1, 0, MMF_ACCESS_READ);
    CHECK_EQ(mmf_view_size(v), 1);
    CHECK_OK(mmf_view_close(v));
}

TEST(view_open_range_file)
{
    const char *p = t_path("f");
    uint64_t cap = 3 * pg() + 100;
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ_WRITE);

    check_view_ranges(f);
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_file_size(p), cap);
}

TEST(view_open_range_anon)
{
    mmf_file *f = t_anon_map(2 * pg() + 1, MMF_ACCESS_READ_WRITE);

    check_view_ranges(f);
    CHECK_OK(mmf_close(f));
}

TEST(view_open_range_before_access)
{
    /* Bounds are argument checks: they come before the access check. */
    mmf_file *f = t_file_map(t_path("f"), 4096, MMF_ACCESS_READ);
    mmf_view *v = SENTINEL_VIEW;

    CHECK_RC(mmf_view_open(f, 4097, 0, MMF_ACCESS_READ_WRITE, &v), MMF_ERANGE);
    CHECK(v == NULL);
    v = SENTINEL_VIEW;
    CHECK_RC(mmf_view_open(f, 1, UINT64_MAX, MMF_ACCESS_WRITE, &v), MMF_ERANGE);
    CHECK(v == NULL);
    v = SENTINEL_VIEW;
    CHECK_RC(mmf_view_open(f, 0, 0, MMF_ACCESS_READ_WRITE, &v), MMF_EACCES);
    CHECK(v == NULL);
    CHECK_OK(mmf_close(f));
}

/* ---- the access matrix -------------------------------------------------- */

/* allowed[map][view], from API.md; the WRITE map row cannot be made here. */
static const int allowed[6][6] = {
    /* RW */ {1, 1, 1, 1, 0, 0},
    /* R */ {0, 1, 0, 1, 0, 0},
    /* W */ {0, 0, 1, 0, 0, 0},
    /* COW */ {0, 1, 0, 1, 0, 0},
    /* RX */ {0, 1, 0, 1, 1, 0},
    /* RWX */ {1, 1, 1, 1, 1, 1},
};

static int can_write(int a)
{
    return a == MMF_ACCESS_READ_WRITE || a == MMF_ACCESS_WRITE ||
           a == MMF_ACCESS_COPY_ON_WRITE || a == MMF_ACCESS_READ_WRITE_EXECUTE;
}

/* Tries every view access on f; `first` is the map's byte 0. */
static void check_matrix_row(mmf_file *f, int ma, unsigned char first)
{
    for (int va = 0; va < 6; va++) {
        mmf_view *v = SENTINEL_VIEW;
        int rc = mmf_view_open(f, 0, 0, va, &v);

        if (!allowed[ma][va]) {
            if (rc != MMF_EACCES)
                t_fail(__FILE__, __LINE__,
                       "map access %d, view access %d: %s, want MMF_EACCES", ma,
                       va, mmf_errname(rc));
            CHECK(v == NULL);
            continue;
        }
        if (rc != MMF_OK)
            t_fail(__FILE__, __LINE__,
                   "map access %d, view access %d: %s, want MMF_OK", ma, va,
                   mmf_errname(rc));
        CHECK(v != NULL);
        CHECK_EQ(mmf_view_access(v), va);
        CHECK_EQ(mmf_view_size(v), mmf_capacity(f));
        CHECK_EQ(mmf_view_offset(v), 0);
        CHECK(mmf_view_data(v) != NULL);
        /* The OS mapping is readable for every access, WRITE included. */
        CHECK_EQ(((unsigned char *)mmf_view_data(v))[0], first);
        if (va != MMF_ACCESS_WRITE) {
            unsigned char b = 0;
            CHECK_OK(mmf_view_read(v, 0, &b, 1));
            CHECK_EQ(b, first);
        } else {
            unsigned char b = 0x77;
            CHECK_RC(mmf_view_read(v, 0, &b, 1), MMF_EACCES);
            CHECK_EQ(b, 0x77);
        }
        if (can_write(va)) {
            unsigned char b = (unsigned char)(0xA0 + va);
            CHECK_OK(mmf_view_write(v, 1, &b, 1));
            CHECK_EQ(((unsigned char *)mmf_view_data(v))[1], 0xA0 + va);
        } else {
            unsigned char b = 0xEE;
            CHECK_RC(mmf_view_write(v, 1, &b, 1), MMF_EACCES);
        }
        CHECK_OK(mmf_view_close(v));
    }
}

TEST(view_access_matrix_file)
{
    const int maps[] = {MMF_ACCESS_READ_WRITE, MMF_ACCESS_READ,
                        MMF_ACCESS_COPY_ON_WRITE, MMF_ACCESS_READ_EXECUTE,
                        MMF_ACCESS_READ_WRITE_EXECUTE};

    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++) {
        char name[32];
        const char *p;
        mmf_file *f;

        snprintf(name, sizeof name, "m%d", maps[i]);
        p = t_path(name);
        f = t_file_map(p, 2 * pg(), maps[i]);
        CHECK_EQ(mmf_access_of(f), maps[i]);
        check_matrix_row(f, maps[i], t_pattern(-1, 0));
        CHECK_OK(mmf_close(f));
        CHECK_EQ(t_file_size(p), 2 * pg());
        /* Byte 0 was never written; byte 1 only by shared writable views. */
        CHECK(t_file_is_pattern(p, 0, 1));
        CHECK(t_file_is_pattern(p, 2, 2 * pg() - 2));
        if (maps[i] != MMF_ACCESS_READ_WRITE &&
            maps[i] != MMF_ACCESS_READ_WRITE_EXECUTE)
            CHECK(t_file_is_pattern(p, 1, 1));
    }
}

TEST(view_access_matrix_anon)
{
    const int maps[] = {MMF_ACCESS_READ_WRITE, MMF_ACCESS_READ,
                        MMF_ACCESS_COPY_ON_WRITE, MMF_ACCESS_READ_EXECUTE,
                        MMF_ACCESS_READ_WRITE_EXECUTE};

    for (size_t i = 0; i < sizeof maps / sizeof *maps; i++) {
        mmf_file *f = t_anon_map(2 * pg(), maps[i]);
        CHECK_EQ(mmf_access_of(f), maps[i]);
        check_matrix_row(f, maps[i], 0);
        CHECK_OK(mmf_close(f));
    }
}

/* ---- pointer offsets ---------------------------------------------------- */

/*
 * The offsets the pointer-offset tests open views at, and a capacity past
 * them all. Where the allocation granularity is larger than a page
 * (Windows: 64 KiB), offsets around it too.
 */
static size_t view_offsets(uint64_t offs[10], uint64_t *cap)
{
    const uint64_t base[] = {0, 1, pg() - 1, pg(), pg() + 1, 12345};
    size_t n = 0;

    for (size_t i = 0; i < sizeof base / sizeof *base; i++)
        offs[n++] = base[i];
    *cap = 4 * pg() + 12345 + 1000;
#ifdef _WIN32
    {
        uint64_t gran = mmf_allocation_granularity();

        offs[n++] = gran - 1;
        offs[n++] = gran;
        offs[n++] = gran + 1;
        offs[n++] = gran + pg() + 1;
        *cap = 2 * gran + 12345 + 1000;
    }
#endif
    return n;
}

TEST(view_pointer_offsets_file)
{
    const char *p = t_path("f");
    uint64_t offs[10], cap;
    size_t noffs = view_offsets(offs, &cap);
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ_WRITE);
    size_t gran = mmf_allocation_granularity();

    CHECK(gran >= mmf_page_size());
    CHECK_EQ(gran % mmf_page_size(), 0);
    for (size_t i = 0; i < noffs; i++) {
        uint64_t off = offs[i];
        const int accs[] = {MMF_ACCESS_READ, MMF_ACCESS_READ_WRITE,
                            MMF_ACCESS_COPY_ON_WRITE};
        for (size_t a = 0; a < 3; a++) {
            mmf_view *v = t_open_view(f, off, 0, accs[a]);
            const unsigned char *d = mmf_view_data(v);
            size_t po = mmf_view_pointer_offset(v);

            CHECK(d != NULL);
            CHECK_EQ(mmf_view_size(v), cap - off);
            CHECK_EQ(mmf_view_offset(v), off);
            CHECK_EQ(po, off % gran);
            CHECK_EQ(((uintptr_t)d - po) % mmf_page_size(), 0);
#ifdef _WIN32
            /* MapViewOfFile maps from a multiple of the granularity. */
            CHECK_EQ(((uintptr_t)d - po) % gran, 0);
#endif
            CHECK_EQ(d[0], t_pattern(-1, off));
            CHECK_EQ(d[cap - off - 1], t_pattern(-1, cap - 1));
            CHECK(t_is_pattern(d, off, (size_t)(cap - off)));
            CHECK_OK(mmf_view_close(v));

            v = t_open_view(f, off, 100, accs[a]);
            d = mmf_view_data(v);
            CHECK_EQ(mmf_view_size(v), 100);
            CHECK_EQ(mmf_view_offset(v), off);
            CHECK_EQ(mmf_view_pointer_offset(v), off % gran);
            CHECK(t_is_pattern(d, off, 100));
            CHECK_OK(mmf_view_close(v));
        }
    }
    CHECK_OK(mmf_close(f));
}

TEST(view_pointer_offsets_anon)
{
    uint64_t offs[10], cap;
    size_t noffs = view_offsets(offs, &cap);
    mmf_file *f = t_anon_map(cap, MMF_ACCESS_READ_WRITE);
    size_t gran = mmf_allocation_granularity();
    mmf_view *all = t_open_view(f, 0, 0, MMF_ACCESS_READ_WRITE);
    unsigned char *w = mmf_view_data(all);

    for (uint64_t i = 0; i < cap; i++)
        w[i] = t_pattern(-1, i);
    for (size_t i = 0; i < noffs; i++) {
        uint64_t off = offs[i];
        mmf_view *v = t_open_view(f, off, 0, MMF_ACCESS_READ);
        const unsigned char *d = mmf_view_data(v);

        CHECK_EQ(mmf_view_size(v), cap - off);
        CHECK_EQ(mmf_view_offset(v), off);
        CHECK_EQ(mmf_view_pointer_offset(v), off % gran);
        CHECK_EQ(((uintptr_t)d - mmf_view_pointer_offset(v)) % mmf_page_size(),
                 0);
#ifdef _WIN32
        CHECK_EQ(((uintptr_t)d - mmf_view_pointer_offset(v)) % gran, 0);
#endif
        CHECK_EQ(d[0], t_pattern(-1, off));
        CHECK(t_is_pattern(d, off, (size_t)(cap - off)));
        CHECK_OK(mmf_view_close(v));
    }
    CHECK_OK(mmf_view_close(all));
    CHECK_OK(mmf_close(f));
}

/* ---- the empty view ----------------------------------------------------- */

static void check_empty_view(mmf_file *f)
{
    uint64_t cap = mmf_capacity(f);
    mmf_view *v = t_open_view(f, cap, 0, MMF_ACCESS_READ_WRITE);
    unsigned char buf[4] = {9, 9, 9, 9};
    uint8_t u8 = 0x42;

    CHECK(mmf_view_data(v) == NULL);
    CHECK_EQ(mmf_view_size(v), 0);
    CHECK_EQ(mmf_view_offset(v), cap);
    CHECK_EQ(mmf_view_pointer_offset(v), cap % mmf_allocation_granularity());
    CHECK_EQ(mmf_view_access(v), MMF_ACCESS_READ_WRITE);
    CHECK_OK(mmf_view_read(v, 0, buf, 0));
    CHECK_OK(mmf_view_write(v, 0, buf, 0));
    CHECK_OK(mmf_view_read(v, 0, NULL, 0));
    CHECK_OK(mmf_view_write(v, 0, NULL, 0));
    CHECK_RC(mmf_view_read(v, 1, buf, 0), MMF_ERANGE);
    CHECK_RC(mmf_view_write(v, 1, buf, 0), MMF_ERANGE);
    CHECK_RC(mmf_view_read(v, 0, buf, 1), MMF_ERANGE);
    CHECK_RC(mmf_view_write(v, 0, buf, 1), MMF_ERANGE);
    CHECK(t_all_bytes(buf, 9, 4));
    CHECK_RC(mmf_view_read_u8(v, 0, &u8), MMF_ERANGE);
    CHECK_EQ(u8, 0x42);
    CHECK_RC(mmf_view_write_u8(v, 0, 1), MMF_ERANGE);
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_SYNC));
    CHECK_RC(mmf_view_flush(v, 1, 0, MMF_FLUSH_SYNC), MMF_ERANGE);
    CHECK_RC(mmf_view_flush(v, 0, 1, MMF_FLUSH_SYNC), MMF_ERANGE);
    CHECK_OK(mmf_view_advise(v, 0, 0, MMF_ADVICE_WILLNEED));
    CHECK_OK(mmf_view_advise(v, 0, 0, MMF_ADVICE_POPULATE));
    CHECK_RC(mmf_view_advise(v, 1, 0, MMF_ADVICE_NORMAL), MMF_ERANGE);
    CHECK_OK(mmf_view_close(v));

    /* An empty READ view: 0-byte writes are still denied. */
    v = t_open_view(f, cap, 0, MMF_ACCESS_READ);
    CHECK(mmf_view_data(v) == NULL);
    CHECK_OK(mmf_view_read(v, 0, buf, 0));
    CHECK_RC(mmf_view_write(v, 0, buf, 0), MMF_EACCES);
    CHECK_RC(mmf_view_write(v, 1, buf, 0), MMF_ERANGE);
    CHECK_OK(mmf_view_close(v));

    /* An empty WRITE view: 0-byte reads are denied. */
    if (mmf_access_of(f) == MMF_ACCESS_READ_WRITE) {
        v = t_open_view(f, cap, 0, MMF_ACCESS_WRITE);
        CHECK(mmf_view_data(v) == NULL);
        CHECK_RC(mmf_view_read(v, 0, buf, 0), MMF_EACCES);
        CHECK_OK(mmf_view_write(v, 0, buf, 0));
        CHECK_OK(mmf_view_close(v));
    }
}

TEST(view_empty_at_end_file)
{
    const char *p = t_path("f");
    uint64_t cap = pg() + 17;
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ_WRITE);

    check_empty_view(f);
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_file_size(p), cap);
    CHECK(t_file_is_pattern(p, 0, (size_t)cap));
}

TEST(view_empty_at_end_anon)
{
    mmf_file *f = t_anon_map(pg() + 17, MMF_ACCESS_READ_WRITE);

    check_empty_view(f);
    CHECK_OK(mmf_close(f));
}

/* ---- typed accessors ---------------------------------------------------- */

/*
 * For one type: round trips at pos 0, unaligned positions and the last
 * position that fits, compared with the raw bytes; positions straddling or
 * past the end → MMF_ERANGE with nothing written and *out untouched; and a
 * read of raw bytes compared with memcpy.
 */
#define TYPED_CASE(sfx, type, value)                                           \
    do {                                                                       \
        const type in_ = (value);                                              \
        const uint64_t last_ = size - sizeof(type);                            \
        const uint64_t good_[] = {0, 1, 2, 3, 5, 7, last_ - 1, last_};         \
        const uint64_t bad_[] = {                                              \
            last_ + 1,  size - 1 + (sizeof(type) == 1),                        \
            size,       size + 1,                                              \
            UINT64_MAX, UINT64_MAX - sizeof(type) + 1 + (sizeof(type) > 1)};   \
        type out_, raw_;                                                       \
        for (size_t i_ = 0; i_ < sizeof good_ / sizeof *good_; i_++) {         \
            uint64_t p_ = good_[i_];                                           \
            memset(d, 0xA5, (size_t)size);                                     \
            CHECK_OK(mmf_view_write_##sfx(v, p_, in_));                        \
            CHECK_MEM(d + p_, &in_, sizeof(type));                             \
            CHECK(t_all_bytes(d, 0xA5, (size_t)p_));                           \
            CHECK(t_all_bytes(d + p_ + sizeof(type), 0xA5,                     \
                              (size_t)(size - p_ - sizeof(type))));            \
            memset(&out_, 0x5A, sizeof out_);                                  \
            CHECK_OK(mmf_view_read_##sfx(v, p_, &out_));                       \
            CHECK_MEM(&out_, &in_, sizeof(type));                              \
        }                                                                      \
        memset(d, 0xA5, (size_t)size);                                         \
        for (size_t i_ = 0; i_ < sizeof bad_ / sizeof *bad_; i_++) {           \
            CHECK_RC(mmf_view_write_##sfx(v, bad_[i_], in_), MMF_ERANGE);      \
            CHECK(t_all_bytes(d, 0xA5, (size_t)size));                         \
            memset(&out_, 0x5A, sizeof out_);                                  \
            CHECK_RC(mmf_view_read_##sfx(v, bad_[i_], &out_), MMF_ERANGE);     \
            CHECK(t_all_bytes(&out_, 0x5A, sizeof out_));                      \
        }                                                                      \
        for (uint64_t i_ = 0; i_ < size; i_++)                                 \
            d[i_] = (unsigned char)(i_ * 37 + 11);                             \
        for (uint64_t p_ = 0; p_ <= last_; p_++) {                             \
            memcpy(&raw_, d + p_, sizeof raw_);                                \
            CHECK_OK(mmf_view_read_##sfx(v, p_, &out_));                       \
            CHECK_MEM(&out_, &raw_, sizeof(type));                             \
        }                                                                      \
    } while (0)

static void check_typed(mmf_view *v)
{
    unsigned char *d = mmf_view_data(v);
    uint64_t size = mmf_view_size(v);

    CHECK(size >= 16);
    TYPED_CASE(u8, uint8_t, 0xC3);
    TYPED_CASE(u16, uint16_t, 0xBEEF);
    TYPED_CASE(u32, uint32_t, 0xDEADBEEFu);
    TYPED_CASE(u64, uint64_t, UINT64_C(0x0123456789ABCDEF));
    TYPED_CASE(i8, int8_t, -100);
    TYPED_CASE(i16, int16_t, -12345);
    TYPED_CASE(i32, int32_t, -123456789);
    TYPED_CASE(i64, int64_t, INT64_MIN + 12345);
    TYPED_CASE(f32, float, -3.14159f);
    TYPED_CASE(f64, double, 2.718281828459045);
}

TEST(view_typed_file)
{
    const char *p = t_path("f");
    mmf_file *f = t_file_map(p, 2 * pg(), MMF_ACCESS_READ_WRITE);
    /* An unaligned view of 40 bytes that straddles a page boundary. */
    mmf_view *v = t_open_view(f, pg() - 13, 40, MMF_ACCESS_READ_WRITE);
    uint32_t x = 0x11223344u, y = 0;
    unsigned char raw[4];

    check_typed(v);
    /* Native byte order, in the file too. */
    CHECK_OK(mmf_view_write_u32(v, 9, x));
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_SYNC));
    t_pread(p, pg() - 13 + 9, raw, 4);
    memcpy(&y, raw, 4);
    CHECK_EQ(y, x);
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    /* Nothing outside the view changed. */
    CHECK(t_file_is_pattern(p, 0, (size_t)pg() - 13));
    CHECK(t_file_is_pattern(p, pg() + 27, (size_t)pg() - 27));
}

TEST(view_typed_anon_and_cow)
{
    mmf_file *f = t_anon_map(pg(), MMF_ACCESS_READ_WRITE);
    mmf_view *v = t_open_view(f, 3, 64, MMF_ACCESS_READ_WRITE);
    mmf_view *c;
    const char *p = t_path("f");
    mmf_file *g;

    check_typed(v);
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));

    /* A copy-on-write view takes typed writes privately. */
    g = t_file_map(p, pg(), MMF_ACCESS_READ);
    c = t_open_view(g, 1, 100, MMF_ACCESS_COPY_ON_WRITE);
    check_typed(c);
    CHECK_OK(mmf_view_close(c));
    CHECK_OK(mmf_close(g));
    CHECK(t_file_is_pattern(p, 0, (size_t)pg()));
}

/* Access and argument checks of one typed pair: r is a READ view, rx a
 * READ_EXECUTE view, w a WRITE view, all of `size` bytes over one map. */
#define TYPED_ACCESS(sfx, type)                                                \
    do {                                                                       \
        type x_;                                                               \
        memset(&x_, 0x5A, sizeof x_);                                          \
        CHECK_RC(mmf_view_write_##sfx(r, 0, (type)1), MMF_EACCES);             \
        CHECK_RC(mmf_view_write_##sfx(rx, 0, (type)1), MMF_EACCES);            \
        CHECK_RC(mmf_view_write_##sfx(r, size, (type)1), MMF_ERANGE);          \
        CHECK_RC(mmf_view_write_##sfx(rx, size - sizeof(type) + 1, (type)1),   \
                 MMF_ERANGE);                                                  \
        CHECK_RC(mmf_view_read_##sfx(w, 0, &x_), MMF_EACCES);                  \
        CHECK_RC(mmf_view_read_##sfx(w, size, &x_), MMF_ERANGE);               \
        CHECK(t_all_bytes(&x_, 0x5A, sizeof x_));                              \
        CHECK(t_all_bytes(mmf_view_data(r), 0, (size_t)size));                 \
        CHECK_RC(mmf_view_read_##sfx(NULL, 0, &x_), MMF_EINVAL);               \
        CHECK_RC(mmf_view_read_##sfx(r, 0, NULL), MMF_EINVAL);                 \
        CHECK_RC(mmf_view_read_##sfx(NULL, UINT64_MAX, NULL), MMF_EINVAL);     \
        CHECK_RC(mmf_view_write_##sfx(NULL, 0, (type)1), MMF_EINVAL);          \
        CHECK_OK(mmf_view_write_##sfx(w, 8, (type)1));                         \
        CHECK_OK(mmf_view_read_##sfx(r, 8, &x_));                              \
        CHECK(x_ == (type)1);                                                  \
        CHECK_OK(mmf_view_read_##sfx(rx, 8, &x_));                             \
        CHECK(x_ == (type)1);                                                  \
        memset(mmf_view_data(w), 0, (size_t)size);                             \
    } while (0)

TEST(view_typed_access)
{
    const char *p = t_path("f");
    mmf_file *f;
    mmf_view *r, *rx, *w;
    uint64_t size = 32;

    t_make_file(p, pg(), 0);
    CHECK_OK(mmf_create_from_file(p, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE_EXECUTE, 0, &f));
    r = t_open_view(f, 5, size, MMF_ACCESS_READ);
    rx = t_open_view(f, 5, size, MMF_ACCESS_READ_EXECUTE);
    w = t_open_view(f, 5, size, MMF_ACCESS_WRITE);
    TYPED_ACCESS(u8, uint8_t);
    TYPED_ACCESS(u16, uint16_t);
    TYPED_ACCESS(u32, uint32_t);
    TYPED_ACCESS(u64, uint64_t);
    TYPED_ACCESS(i8, int8_t);
    TYPED_ACCESS(i16, int16_t);
    TYPED_ACCESS(i32, int32_t);
    TYPED_ACCESS(i64, int64_t);
    TYPED_ACCESS(f32, float);
    TYPED_ACCESS(f64, double);
    CHECK_OK(mmf_view_close(r));
    CHECK_OK(mmf_view_close(rx));
    CHECK_OK(mmf_view_close(w));
    CHECK_OK(mmf_close(f));
}

struct rec {
    uint32_t a;
    uint16_t b;
    char c[5];
    double d;
};

TEST(view_struct_macros)
{
    mmf_file *f = t_file_map(t_path("f"), pg(), MMF_ACCESS_READ_WRITE);
    mmf_view *v =
        t_open_view(f, 7, 3 * sizeof(struct rec), MMF_ACCESS_READ_WRITE);
    mmf_view *r = t_open_view(f, 7, 3 * sizeof(struct rec), MMF_ACCESS_READ);
    uint64_t size = mmf_view_size(v);
    struct rec in, out;
    unsigned char before[3 * sizeof(struct rec)];

    memset(&in, 0, sizeof in);
    in.a = 0xCAFEBABEu;
    in.b = 0x1234;
    memcpy(in.c, "abcd", 5);
    in.d = -0.125;
    /* Unaligned, and the last position that fits. */
    CHECK_OK(MMF_VIEW_WRITE(v, 1, &in));
    CHECK_MEM((unsigned char *)mmf_view_data(v) + 1, &in, sizeof in);
    memset(&out, 0xEE, sizeof out);
    CHECK_OK(MMF_VIEW_READ(r, 1, &out));
    CHECK_MEM(&out, &in, sizeof in);
    CHECK_OK(MMF_VIEW_WRITE(v, size - sizeof in, &in));
    memset(&out, 0xEE, sizeof out);
    CHECK_OK(MMF_VIEW_READ(v, size - sizeof in, &out));
    CHECK_MEM(&out, &in, sizeof in);
    /* One byte too far: nothing copied either way. */
    memcpy(before, mmf_view_data(v), sizeof before);
    CHECK_RC(MMF_VIEW_WRITE(v, size - sizeof in + 1, &in), MMF_ERANGE);
    CHECK_MEM(mmf_view_data(v), before, sizeof before);
    memset(&out, 0xEE, sizeof out);
    CHECK_RC(MMF_VIEW_READ(v, size - sizeof in + 1, &out), MMF_ERANGE);
    CHECK(t_all_bytes(&out, 0xEE, sizeof out));
    /* Access. */
    CHECK_RC(MMF_VIEW_WRITE(r, 0, &in), MMF_EACCES);
    CHECK_MEM(mmf_view_data(v), before, sizeof before);
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_view_close(r));
    CHECK_OK(mmf_close(f));
}

/* ---- mmf_view_read / mmf_view_write ------------------------------------- */

TEST(view_read_write_bounds)
{
    const char *p = t_path("f");
    mmf_file *f = t_file_map(p, pg(), MMF_ACCESS_READ_WRITE);
    const uint64_t off = 5, size = 100;
    mmf_view *v = t_open_view(f, off, size, MMF_ACCESS_READ_WRITE);
    unsigned char buf[128], src[128];
    const struct {
        uint64_t pos;
        size_t n;
    } bad[] = {
        {0, 101},        {1, 100},      {99, 2},         {100, 1},
        {101, 0},        {101, 1},      {200, 0},        {UINT64_MAX, 0},
        {UINT64_MAX, 1}, {1, SIZE_MAX}, {100, SIZE_MAX}, {UINT64_MAX - 10, 20},
    };

    memset(src, 0x3C, sizeof src);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        memset(buf, 0xEE, sizeof buf);
        CHECK_RC(mmf_view_read(v, bad[i].pos, buf, bad[i].n), MMF_ERANGE);
        CHECK(t_all_bytes(buf, 0xEE, sizeof buf));
        CHECK_RC(mmf_view_write(v, bad[i].pos, src, bad[i].n), MMF_ERANGE);
        CHECK(t_is_pattern(mmf_view_data(v), off, (size_t)size));
    }
    /* In range. */
    memset(buf, 0xEE, sizeof buf);
    CHECK_OK(mmf_view_read(v, 0, buf, 100));
    CHECK(t_is_pattern(buf, off, 100));
    CHECK(t_all_bytes(buf + 100, 0xEE, sizeof buf - 100));
    memset(buf, 0xEE, sizeof buf);
    CHECK_OK(mmf_view_read(v, 99, buf, 1));
    CHECK_EQ(buf[0], t_pattern(-1, off + 99));
    CHECK_EQ(buf[1], 0xEE);
    /* n == 0: OK up to and including pos == size, NULL buffer allowed. */
    CHECK_OK(mmf_view_read(v, 0, buf, 0));
    CHECK_OK(mmf_view_read(v, 100, buf, 0));
    CHECK_OK(mmf_view_write(v, 100, src, 0));
    CHECK_OK(mmf_view_read(v, 50, NULL, 0));
    CHECK_OK(mmf_view_write(v, 50, NULL, 0));
    /* NULL buffers with n > 0, NULL view. */
    CHECK_RC(mmf_view_read(v, 0, NULL, 1), MMF_EINVAL);
    CHECK_RC(mmf_view_write(v, 0, NULL, 1), MMF_EINVAL);
    CHECK_RC(mmf_view_read(NULL, 0, buf, 1), MMF_EINVAL);
    CHECK_RC(mmf_view_write(NULL, 0, src, 1), MMF_EINVAL);
    CHECK_RC(mmf_view_read(NULL, 0, buf, 0), MMF_EINVAL);
    CHECK(t_is_pattern(mmf_view_data(v), off, (size_t)size));
    /* A write at the end of the view lands exactly there. */
    CHECK_OK(mmf_view_write(v, 97, src, 3));
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_SYNC));
    t_pread(p, off + 96, buf, 5);
    CHECK_EQ(buf[0], t_pattern(-1, off + 96));
    CHECK(t_all_bytes(buf + 1, 0x3C, 3));
    CHECK_EQ(buf[4], t_pattern(-1, off + 100));
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    CHECK(t_file_is_pattern(p, 0, off + 97));
    CHECK(t_file_is_pattern(p, off + 100, (size_t)(pg() - off - 100)));
}

TEST(view_read_write_access)
{
    const char *p = t_path("f");
    mmf_file *f;
    mmf_view *r, *rx, *w;
    unsigned char buf[16], src[16];

    t_make_file(p, pg(), -1);
    CHECK_OK(mmf_create_from_file(p, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE_EXECUTE, 0, &f));
    r = t_open_view(f, 1, 64, MMF_ACCESS_READ);
    rx = t_open_view(f, 1, 64, MMF_ACCESS_READ_EXECUTE);
    w = t_open_view(f, 1, 64, MMF_ACCESS_WRITE);
    memset(src, 0x44, sizeof src);

    /* Writes on READ / READ_EXECUTE views, reads on WRITE views. */
    CHECK_RC(mmf_view_write(r, 0, src, 16), MMF_EACCES);
    CHECK_RC(mmf_view_write(rx, 0, src, 16), MMF_EACCES);
    CHECK_RC(mmf_view_write(r, 0, src, 0), MMF_EACCES);
    CHECK_RC(mmf_view_write(rx, 64, src, 0), MMF_EACCES);
    memset(buf, 0xEE, sizeof buf);
    CHECK_RC(mmf_view_read(w, 0, buf, 16), MMF_EACCES);
    CHECK_RC(mmf_view_read(w, 64, buf, 0), MMF_EACCES);
    CHECK(t_all_bytes(buf, 0xEE, sizeof buf));
    /* Bounds come first. */
    CHECK_RC(mmf_view_write(r, 60, src, 5), MMF_ERANGE);
    CHECK_RC(mmf_view_write(rx, 65, src, 0), MMF_ERANGE);
    CHECK_RC(mmf_view_read(w, 49, buf, 16), MMF_ERANGE);
    CHECK_RC(mmf_view_read(w, 65, buf, 0), MMF_ERANGE);
    CHECK(t_all_bytes(buf, 0xEE, sizeof buf));
    CHECK(t_file_is_pattern(p, 0, (size_t)pg()));
    /* The allowed directions work and are coherent. */
    CHECK_OK(mmf_view_write(w, 48, src, 16));
    CHECK_OK(mmf_view_read(r, 48, buf, 16));
    CHECK(t_all_bytes(buf, 0x44, 16));
    memset(buf, 0, sizeof buf);
    CHECK_OK(mmf_view_read(rx, 48, buf, 16));
    CHECK(t_all_bytes(buf, 0x44, 16));
    CHECK_OK(mmf_view_close(r));
    CHECK_OK(mmf_view_close(rx));
    CHECK_OK(mmf_view_close(w));
    CHECK_OK(mmf_close(f));
    t_pread(p, 49, buf, 16);
    CHECK(t_all_bytes(buf, 0x44, 16));
}

/* ---- coherence ---------------------------------------------------------- */

static void check_two_views(mmf_file *f)
{
    uint64_t cap = mmf_capacity(f);
    mmf_view *a = t_open_view(f, 0, 0, MMF_ACCESS_READ_WRITE);
    mmf_view *b = t_open_view(f, pg() + 7, 2 * pg(), MMF_ACCESS_READ_WRITE);
    mmf_view *c = t_open_view(f, 2 * pg() + 1, 0, MMF_ACCESS_READ);
    unsigned char *da = mmf_view_data(a), *db = mmf_view_data(b);
    const unsigned char *dc = mmf_view_data(c);
    unsigned char buf[8];

    CHECK_EQ(cap, 4 * pg());
    /* A write through a is seen through b and c at once. */
    da[pg() + 7 + 10] = 0x5B;
    CHECK_EQ(db[10], 0x5B);
    da[2 * pg() + 1] = 0x6C;
    CHECK_EQ(db[pg() - 6], 0x6C);
    CHECK_EQ(dc[0], 0x6C);
    /* And the other way round, through the checked calls. */
    CHECK_OK(mmf_view_write(b, 0, "\x01\x02\x03\x04", 4));
    CHECK_EQ(da[pg() + 7], 1);
    CHECK_EQ(da[pg() + 10], 4);
    CHECK_OK(mmf_view_write_u32(b, 2 * pg() - 4, 0xA1B2C3D4u));
    CHECK_OK(mmf_view_read(a, 3 * pg() + 3, buf, 4));
    {
        uint32_t x;
        memcpy(&x, buf, 4);
        CHECK_EQ(x, 0xA1B2C3D4u);
        CHECK_OK(mmf_view_read_u32(c, pg() + 2, &x));
        CHECK_EQ(x, 0xA1B2C3D4u);
    }
    /* mmf_read sees the views' writes too. */
    CHECK_OK(mmf_read(f, pg() + 7, buf, 4));
    CHECK_MEM(buf, "\x01\x02\x03\x04", 4);
    CHECK_OK(mmf_view_close(a));
    CHECK_OK(mmf_view_close(b));
    CHECK_OK(mmf_view_close(c));
}

TEST(view_coherence_two_views_file)
{
    const char *p = t_path("f");
    mmf_file *f = t_file_map(p, 4 * pg(), MMF_ACCESS_READ_WRITE);
    unsigned char buf[4];

    check_two_views(f);
    CHECK_OK(mmf_close(f));
    t_pread(p, pg() + 7, buf, 4);
    CHECK_MEM(buf, "\x01\x02\x03\x04", 4);
}

TEST(view_coherence_two_views_anon)
{
    mmf_file *f = t_anon_map(4 * pg(), MMF_ACCESS_READ_WRITE);

    check_two_views(f);
    CHECK_OK(mmf_close(f));
}

/* The bytes the child writes, and the parent's checks of them. */
static unsigned char child_byte(size_t i)
{
    return (unsigned char)(i * 13 + 5);
}

static void check_child_wrote(mmf_file *f, mmf_view *v, mmf_view *r)
{
    size_t n = (size_t)mmf_capacity(f);
    unsigned char *d = mmf_view_data(v);
    unsigned char *buf = malloc(n);

    CHECK(buf != NULL);
    for (size_t i = 0; i < n; i++)
        if (d[i] != child_byte(i))
            t_fail(__FILE__, __LINE__, "byte %zu: %u", i, d[i]);
    memset(buf, 0, n);
    CHECK_OK(mmf_view_read(r, 0, buf, n - 3));
    for (size_t i = 0; i < n - 3; i++)
        CHECK_EQ(buf[i], child_byte(i + 3));
    memset(buf, 0, n);
    CHECK_OK(mmf_read(f, 0, buf, n));
    CHECK_MEM(buf, d, n);
    free(buf);
}

#ifndef _WIN32
/* Child writes through a view made before fork; parent reads after. */
static void check_fork(mmf_file *f)
{
    size_t n = (size_t)mmf_capacity(f);
    mmf_view *v = t_open_view(f, 0, 0, MMF_ACCESS_READ_WRITE);
    mmf_view *r = t_open_view(f, 3, 0, MMF_ACCESS_READ);
    unsigned char *d = mmf_view_data(v);
    unsigned char *buf = malloc(n);
    pid_t pid;
    int rc;

    CHECK(buf != NULL);
    memset(d, 0x11, 64);
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The child sees what the parent wrote before the fork. */
        if (!t_all_bytes(d, 0x11, 64))
            _exit(2);
        for (size_t i = 0; i < n; i++)
            buf[i] = child_byte(i);
        rc = mmf_view_write(v, 0, buf, n);
        free(buf);
        _exit(rc == MMF_OK ? 0 : 3);
    }
    free(buf);
    CHECK_EQ(t_wait(pid), 0);
    check_child_wrote(f, v, r);
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_view_close(r));
}
#else
/*
 * Windows has no fork: the child inherits the map's handle (section or
 * file), maps it with mmf_create_from_handle and writes through a view of
 * its own. Args: the handle's value.
 */
HELPER(view_child_writer)
{
    mmf_file *f = NULL;
    mmf_view *v = NULL;
    unsigned char *buf;
    size_t n;
    int rc;

    if (argc != 1)
        return 2;
    if (mmf_create_from_handle((mmf_handle)strtoll(argv[0], NULL, 10), NULL, 0,
                               MMF_ACCESS_READ_WRITE, 0, &f) != MMF_OK ||
        mmf_view_open(f, 0, 0, MMF_ACCESS_READ_WRITE, &v) != MMF_OK)
        return 4;
    /* The child sees what the parent wrote before it started. */
    if (!t_all_bytes(mmf_view_data(v), 0x11, 64))
        return 2;
    n = (size_t)mmf_capacity(f);
    buf = malloc(n);
    if (buf == NULL)
        return 5;
    for (size_t i = 0; i < n; i++)
        buf[i] = child_byte(i);
    rc = mmf_view_write(v, 0, buf, n);
    free(buf);
    if (mmf_view_close(v) != MMF_OK || mmf_close(f) != MMF_OK)
        return 6;
    return rc == MMF_OK ? 0 : 3;
}

/* Child writes through the map's inherited handle; parent reads after. */
static void check_fork(mmf_file *f)
{
    mmf_view *v = t_open_view(f, 0, 0, MMF_ACCESS_READ_WRITE);
    mmf_view *r = t_open_view(f, 3, 0, MMF_ACCESS_READ);
    char arg[32];
    const char *args[] = {arg, NULL};

    memset(mmf_view_data(v), 0x11, 64);
    snprintf(arg, sizeof arg, "%lld", (long long)mmf_handle_of(f));
    CHECK_OK(mmf_set_inheritable(f, 1));
    CHECK_EQ(t_wait(t_spawn("view_child_writer", args)), 0);
    CHECK_OK(mmf_set_inheritable(f, 0));
    check_child_wrote(f, v, r);
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_view_close(r));
}
#endif

TEST(view_coherence_fork_anon)
{
    mmf_file *f = t_anon_map(3 * pg() + 5, MMF_ACCESS_READ_WRITE);

    check_fork(f);
    CHECK_OK(mmf_close(f));
}

TEST(view_coherence_fork_file)
{
    const char *p = t_path("f");
    uint64_t cap = 3 * pg() + 5;
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ_WRITE);
    unsigned char b;

    check_fork(f);
    CHECK_OK(mmf_close(f));
    t_pread(p, cap - 1, &b, 1);
    CHECK_EQ(b, child_byte((size_t)cap - 1));
}

/* ---- views outlive mmf_close -------------------------------------------- */

TEST(view_survives_map_close_file)
{
    const char *p = t_path("f");
    int fds;
    mmf_file *f;
    mmf_view *a, *b;
    unsigned char buf[32];

    t_make_file(p, 2 * pg(), -1);
    fds = t_fd_count();
    CHECK_OK(mmf_create_from_file(p, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    a = t_open_view(f, 0, 0, MMF_ACCESS_READ_WRITE);
    b = t_open_view(f, pg() - 3, 100, MMF_ACCESS_READ);
    /* Use mmf_read once so that the map has internal windows to drop. */
    CHECK_OK(mmf_read(f, 0, buf, 4));
    CHECK(t_is_pattern(buf, 0, 4));
    CHECK_OK(mmf_close(f));

    CHECK(t_is_pattern(mmf_view_data(a), 0, (size_t)(2 * pg())));
    CHECK_OK(mmf_view_write(a, pg(), "survivor", 8));
    memset(buf, 0, sizeof buf);
    CHECK_OK(mmf_view_read(b, 3, buf, 8));
    CHECK_MEM(buf, "survivor", 8);
    CHECK_OK(mmf_view_write_u16(a, 0, 0x7172));
    CHECK_OK(mmf_view_flush(a, 0, 0, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_view_flush(a, pg(), 8, MMF_FLUSH_DURABLE));
    CHECK_OK(mmf_view_flush(b, 0, 0, MMF_FLUSH_ASYNC));
    CHECK_OK(mmf_view_advise(a, 0, 0, MMF_ADVICE_POPULATE));
    t_pread(p, pg(), buf, 8);
    CHECK_MEM(buf, "survivor", 8);
    CHECK_OK(mmf_view_close(b));
    CHECK_OK(mmf_view_close(a));
    CHECK_EQ(t_fd_count(), fds);
}

TEST(view_survives_map_close_anon)
{
    int fds = t_fd_count();
    mmf_file *f = t_anon_map(2 * pg(), MMF_ACCESS_READ_WRITE);
    mmf_view *a = t_open_view(f, 0, 0, MMF_ACCESS_READ_WRITE);
    mmf_view *b = t_open_view(f, 1, 0, MMF_ACCESS_READ);
    unsigned char buf[8];

    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_view_write(a, 2 * pg() - 8, "12345678", 8));
    CHECK_OK(mmf_view_read(b, 2 * pg() - 9, buf, 8));
    CHECK_MEM(buf, "12345678", 8);
    CHECK_OK(mmf_view_flush(a, 0, 0, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_view_flush(b, 0, 0, MMF_FLUSH_DURABLE));
    CHECK_OK(mmf_view_close(a));
    /* The last view still works after the other one closed. */
    CHECK_OK(mmf_view_read(b, 2 * pg() - 9, buf, 8));
    CHECK_MEM(buf, "12345678", 8);
    CHECK_OK(mmf_view_close(b));
    CHECK_EQ(t_fd_count(), fds);
}

/* ---- copy-on-write ------------------------------------------------------ */

TEST(view_cow_private_file)
{
    const char *p = t_path("f");
    uint64_t cap = 3 * pg();
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ_WRITE);
    mmf_view *s = t_open_view(f, 0, 0, MMF_ACCESS_READ_WRITE);
    mmf_view *c1 = t_open_view(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE);
    mmf_view *c2 = t_open_view(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE);
    mmf_view *c3 = t_open_view(f, pg() + 5, 100, MMF_ACCESS_COPY_ON_WRITE);
    static const char msg[] = "private bytes";
    unsigned char buf[64];
    uint32_t x = 0;

    CHECK_EQ(mmf_view_access(c1), MMF_ACCESS_COPY_ON_WRITE);
    CHECK_OK(mmf_view_write(c1, 10, msg, sizeof msg));
    CHECK_OK(mmf_view_write_u32(c1, pg() + 5, 0xFEEDFACEu));
    /* Its own reads see its writes. */
    CHECK_OK(mmf_view_read(c1, 10, buf, sizeof msg));
    CHECK_MEM(buf, msg, sizeof msg);
    CHECK_OK(mmf_view_read_u32(c1, pg() + 5, &x));
    CHECK_EQ(x, 0xFEEDFACEu);
    /* No one else does: shared view, other COW views, mmf_read, the file. */
    CHECK(t_is_pattern(mmf_view_data(s), 0, (size_t)cap));
    CHECK(t_is_pattern(mmf_view_data(c2), 0, (size_t)cap));
    CHECK(t_is_pattern(mmf_view_data(c3), pg() + 5, 100));
    CHECK_OK(mmf_read(f, 0, buf, sizeof buf));
    CHECK(t_is_pattern(buf, 0, sizeof buf));
    CHECK(t_file_is_pattern(p, 0, (size_t)cap));
    /* c3's own private write is not seen by c1. */
    CHECK_OK(mmf_view_write(c3, 50, "c3", 2));
    CHECK_EQ(((unsigned char *)mmf_view_data(c1))[pg() + 55],
             t_pattern(-1, pg() + 55));
    CHECK_EQ(((unsigned char *)mmf_view_data(s))[pg() + 55],
             t_pattern(-1, pg() + 55));
    /* Flushing a COW view succeeds and writes nothing. */
    CHECK_OK(mmf_view_flush(c1, 0, 0, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_view_flush(c1, 10, 3, MMF_FLUSH_ASYNC));
    CHECK_OK(mmf_view_flush(c1, 0, 0, MMF_FLUSH_DURABLE));
    CHECK_OK(mmf_view_flush(c3, 0, 0, MMF_FLUSH_DURABLE));
    CHECK(t_file_is_pattern(p, 0, (size_t)cap));
    /* A page the COW view wrote never changes again. */
    CHECK_OK(mmf_view_write(s, 100, "shared", 6));
    CHECK(t_is_pattern((unsigned char *)mmf_view_data(c1) + 100, 100, 6));
    CHECK_OK(mmf_view_read(c1, 10, buf, sizeof msg));
    CHECK_MEM(buf, msg, sizeof msg);
    CHECK_OK(mmf_view_close(c1));
    CHECK_OK(mmf_view_close(c2));
    CHECK_OK(mmf_view_close(c3));
    CHECK_OK(mmf_view_close(s));
    CHECK_OK(mmf_close(f));
    t_pread(p, 100, buf, 6);
    CHECK_MEM(buf, "shared", 6);
    CHECK(t_file_is_pattern(p, 0, 100));
    CHECK(t_file_is_pattern(p, 106, (size_t)cap - 106));
}

TEST(view_cow_map_file)
{
    /* A map created COPY_ON_WRITE: views are READ or COW; the file never
     * changes, not even its length. */
    const char *p = t_path("f");
    uint64_t cap = 2 * pg() + 3;
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_COPY_ON_WRITE);
    mmf_view *c = t_open_view(f, 1, 0, MMF_ACCESS_COPY_ON_WRITE);
    mmf_view *r = t_open_view(f, 0, 0, MMF_ACCESS_READ);
    unsigned char buf[16];

    memset(mmf_view_data(c), 0xFF, (size_t)cap - 1);
    CHECK(t_all_bytes(mmf_view_data(c), 0xFF, (size_t)cap - 1));
    CHECK(t_is_pattern(mmf_view_data(r), 0, (size_t)cap));
    CHECK_OK(mmf_read(f, cap - 16, buf, 16));
    CHECK(t_is_pattern(buf, cap - 16, 16));
    CHECK_OK(mmf_view_flush(c, 0, 0, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_view_flush(c, 0, 0, MMF_FLUSH_DURABLE));
    CHECK_OK(mmf_view_close(c));
    CHECK_OK(mmf_view_close(r));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_file_size(p), cap);
    CHECK(t_file_is_pattern(p, 0, (size_t)cap));
}

TEST(view_cow_anon)
{
    /* A non-persisted map created COPY_ON_WRITE stays all zero for everyone
     * but the view that wrote. */
    uint64_t cap = 2 * pg();
    mmf_file *f = t_anon_map(cap, MMF_ACCESS_COPY_ON_WRITE);
    mmf_view *c1 = t_open_view(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE);
    mmf_view *c2 = t_open_view(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE);
    mmf_view *r = t_open_view(f, 0, 0, MMF_ACCESS_READ);
    unsigned char buf[64];
    mmf_view *c3;

    CHECK(t_all_bytes(mmf_view_data(c1), 0, (size_t)cap));
    memset(mmf_view_data(c1), 0xFF, (size_t)cap);
    CHECK_OK(mmf_view_write(c2, 0, "two", 3));
    CHECK(t_all_bytes(mmf_view_data(c1), 0xFF, (size_t)cap));
    CHECK(t_all_bytes((unsigned char *)mmf_view_data(c2) + 3, 0,
                      (size_t)cap - 3));
    CHECK(t_all_bytes(mmf_view_data(r), 0, (size_t)cap));
    CHECK_OK(mmf_read(f, 0, buf, sizeof buf));
    CHECK(t_all_bytes(buf, 0, sizeof buf));
    c3 = t_open_view(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE);
    CHECK(t_all_bytes(mmf_view_data(c3), 0, (size_t)cap));
    CHECK_OK(mmf_view_flush(c1, 0, 0, MMF_FLUSH_SYNC));
    CHECK(t_all_bytes(mmf_view_data(r), 0, (size_t)cap));
    CHECK_OK(mmf_view_close(c1));
    CHECK_OK(mmf_view_close(c2));
    CHECK_OK(mmf_view_close(c3));
    CHECK_OK(mmf_view_close(r));
    CHECK_OK(mmf_close(f));
}

TEST(view_cow_on_shared_anon)
{
    uint64_t cap = 2 * pg();
    mmf_file *f = t_anon_map(cap, MMF_ACCESS_READ_WRITE);
    mmf_view *s = t_open_view(f, 0, 0, MMF_ACCESS_READ_WRITE);
    mmf_view *c = t_open_view(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE);
    unsigned char buf[8];

    CHECK_OK(mmf_view_write(c, 0, "cowcow", 6));
    CHECK(t_all_bytes(mmf_view_data(s), 0, (size_t)cap));
    CHECK_OK(mmf_read(f, 0, buf, 6));
    CHECK(t_all_bytes(buf, 0, 6));
    /* Written pages of the COW view do not follow later shared writes. */
    CHECK_OK(mmf_view_write(s, 0, "SHARED!!", 8));
    CHECK_OK(mmf_view_read(c, 0, buf, 8));
    CHECK_MEM(buf, "cowcow\0\0", 8);
    CHECK_OK(mmf_view_close(c));
    CHECK_OK(mmf_view_close(s));
    CHECK_OK(mmf_close(f));
}

/* ---- flush -------------------------------------------------------------- */

static void check_flush_args(mmf_view *v)
{
    uint64_t size = mmf_view_size(v);
    const unsigned bad_flags[] = {3, 4, 0x10, 0x11, 0x100, ~0u};
    const struct {
        uint64_t pos, len;
    } bad[] = {
        {size + 1, 0},   {size, 1},        {0, size + 1},
        {size - 1, 2},   {1, UINT64_MAX},  {UINT64_MAX, 0},
        {UINT64_MAX, 1}, {size + 4096, 0}, {1, size},
    };

    for (size_t i = 0; i < sizeof bad_flags / sizeof *bad_flags; i++) {
        CHECK_RC(mmf_view_flush(v, 0, 0, bad_flags[i]), MMF_EINVAL);
        CHECK_RC(mmf_view_flush(v, 1, 3, bad_flags[i]), MMF_EINVAL);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        for (unsigned fl = 0; fl < 3; fl++)
            CHECK_RC(mmf_view_flush(v, bad[i].pos, bad[i].len, fl), MMF_ERANGE);
    for (unsigned fl = 0; fl < 3; fl++) {
        CHECK_OK(mmf_view_flush(v, 0, 0, fl));
        CHECK_OK(mmf_view_flush(v, 1, 3, fl));
        CHECK_OK(mmf_view_flush(v, pg() + 17, 0, fl));
        CHECK_OK(mmf_view_flush(v, pg() + 17, 5, fl));
        CHECK_OK(mmf_view_flush(v, size - 1, 1, fl));
        CHECK_OK(mmf_view_flush(v, size, 0, fl));
        CHECK_OK(mmf_view_flush(v, 0, size, fl));
    }
    CHECK_RC(mmf_view_flush(NULL, 0, 0, MMF_FLUSH_SYNC), MMF_EINVAL);
}

TEST(view_flush_file)
{
    const char *p = t_path("f");
    uint64_t cap = 3 * pg() + 100;
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ_WRITE);
    mmf_view *v = t_open_view(f, 0, 0, MMF_ACCESS_READ_WRITE);
    mmf_view *u = t_open_view(f, pg() + 17, 200, MMF_ACCESS_READ_WRITE);
    mmf_view *r = t_open_view(f, 0, 0, MMF_ACCESS_READ);
    unsigned char buf[16];

    check_flush_args(v);
    check_flush_args(r);
    /* Data flushed from unaligned ranges reaches the file. */
    CHECK_OK(mmf_view_write(v, 1, "abc", 3));
    CHECK_OK(mmf_view_flush(v, 1, 3, MMF_FLUSH_SYNC));
    t_pread(p, 0, buf, 5);
    CHECK_EQ(buf[0], t_pattern(-1, 0));
    CHECK_MEM(buf + 1, "abc", 3);
    CHECK_EQ(buf[4], t_pattern(-1, 4));
    CHECK_OK(mmf_view_write(v, pg() + 17, "xyz", 3));
    CHECK_OK(mmf_view_flush(v, pg() + 17, 3, MMF_FLUSH_DURABLE));
    t_pread(p, pg() + 17, buf, 3);
    CHECK_MEM(buf, "xyz", 3);
    CHECK_OK(mmf_view_write(u, 199, "!", 1));
    CHECK_OK(mmf_view_flush(u, 0, 0, MMF_FLUSH_ASYNC));
    CHECK_OK(mmf_view_flush(u, 199, 1, MMF_FLUSH_SYNC));
    t_pread(p, pg() + 17 + 199, buf, 1);
    CHECK_EQ(buf[0], '!');
    CHECK_RC(mmf_view_flush(u, 200, 1, MMF_FLUSH_SYNC), MMF_ERANGE);
    CHECK_RC(mmf_view_flush(u, 201, 0, MMF_FLUSH_SYNC), MMF_ERANGE);
    CHECK_OK(mmf_view_write(v, cap - 2, "yz", 2));
    CHECK_OK(mmf_view_flush(v, cap - 2, 0, MMF_FLUSH_SYNC));
    t_pread(p, cap - 2, buf, 2);
    CHECK_MEM(buf, "yz", 2);
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_view_close(u));
    CHECK_OK(mmf_view_close(r));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_file_size(p), cap);
}

TEST(view_flush_cow_and_anon)
{
    const char *p = t_path("f");
    uint64_t cap = 3 * pg();
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ_WRITE);
    mmf_view *c = t_open_view(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE);
    mmf_file *a = t_anon_map(cap, MMF_ACCESS_READ_WRITE);
    mmf_view *s = t_open_view(a, 0, 0, MMF_ACCESS_READ_WRITE);
    mmf_view *ac = t_open_view(a, 0, 0, MMF_ACCESS_COPY_ON_WRITE);

    memset(mmf_view_data(c), 0x99, (size_t)cap);
    check_flush_args(c);
    CHECK(t_file_is_pattern(p, 0, (size_t)cap));
    memset(mmf_view_data(s), 0x42, (size_t)cap);
    check_flush_args(s);
    check_flush_args(ac);
    CHECK(t_all_bytes(mmf_view_data(s), 0x42, (size_t)cap));
    CHECK_OK(mmf_view_close(c));
    CHECK_OK(mmf_view_close(s));
    CHECK_OK(mmf_view_close(ac));
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_close(a));
    CHECK(t_file_is_pattern(p, 0, (size_t)cap));
}

/* ---- advice ------------------------------------------------------------- */

static void check_advice_args(mmf_view *v)
{
    uint64_t size = mmf_view_size(v);
    const int bad_advice[] = {6, 7, -1, 100, -100};

    for (int adv = MMF_ADVICE_NORMAL; adv <= MMF_ADVICE_POPULATE; adv++) {
        CHECK_OK(mmf_view_advise(v, 0, 0, adv));
        CHECK_OK(mmf_view_advise(v, 1, 3, adv));
        CHECK_OK(mmf_view_advise(v, pg() + 17, 100, adv));
        CHECK_OK(mmf_view_advise(v, size - 1, 0, adv));
        CHECK_OK(mmf_view_advise(v, size, 0, adv));
        CHECK_OK(mmf_view_advise(v, 0, size, adv));
        CHECK_RC(mmf_view_advise(v, size + 1, 0, adv), MMF_ERANGE);
        CHECK_RC(mmf_view_advise(v, 0, size + 1, adv), MMF_ERANGE);
        CHECK_RC(mmf_view_advise(v, size - 1, 2, adv), MMF_ERANGE);
        CHECK_RC(mmf_view_advise(v, 1, UINT64_MAX, adv), MMF_ERANGE);
        CHECK_RC(mmf_view_advise(v, UINT64_MAX, 1, adv), MMF_ERANGE);
    }
    for (size_t i = 0; i < sizeof bad_advice / sizeof *bad_advice; i++) {
        CHECK_RC(mmf_view_advise(v, 0, 0, bad_advice[i]), MMF_EINVAL);
        CHECK_RC(mmf_view_advise(v, 1, 3, bad_advice[i]), MMF_EINVAL);
    }
    CHECK_RC(mmf_view_advise(NULL, 0, 0, MMF_ADVICE_NORMAL), MMF_EINVAL);
}

TEST(view_advise_file)
{
    const char *p = t_path("f");
    uint64_t cap = 4 * pg() + 33;
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ_WRITE);
    mmf_view *v = t_open_view(f, 0, 0, MMF_ACCESS_READ_WRITE);
    mmf_view *r = t_open_view(f, 0, 0, MMF_ACCESS_READ);
    mmf_view *u = t_open_view(f, 5, 2 * pg() + 200, MMF_ACCESS_READ);
    mmf_view *c = t_open_view(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE);
    mmf_view *w = t_open_view(f, 1, 0, MMF_ACCESS_WRITE);

    check_advice_args(v);
    check_advice_args(r);
    check_advice_args(u);
    check_advice_args(c);
    check_advice_args(w);
    CHECK_OK(mmf_view_close(w));
    /* Advice never changes the data. */
    CHECK(t_is_pattern(mmf_view_data(v), 0, (size_t)cap));
    CHECK(t_is_pattern(mmf_view_data(r), 0, (size_t)cap));
    CHECK(t_is_pattern(mmf_view_data(c), 0, (size_t)cap));

    /* DONTNEED on a shared view keeps what was written through it. */
    memset((unsigned char *)mmf_view_data(v) + pg(), 0x7E, (size_t)pg());
    CHECK_OK(mmf_view_advise(v, 0, 0, MMF_ADVICE_DONTNEED));
    CHECK(t_all_bytes((unsigned char *)mmf_view_data(v) + pg(), 0x7E,
                      (size_t)pg()));
    CHECK(t_is_pattern(mmf_view_data(v), 0, (size_t)pg()));

    /* DONTNEED on a COW view keeps its private writes. */
    memset((unsigned char *)mmf_view_data(c) + 2 * pg(), 0x3D, (size_t)pg());
    CHECK_OK(mmf_view_advise(c, 0, 0, MMF_ADVICE_DONTNEED));
    CHECK_OK(mmf_view_advise(c, 2 * pg(), pg(), MMF_ADVICE_DONTNEED));
    CHECK(t_all_bytes((unsigned char *)mmf_view_data(c) + 2 * pg(), 0x3D,
                      (size_t)pg()));
    CHECK(t_file_is_pattern(p, 2 * pg(), (size_t)pg()));

    /* POPULATE on writable and read-only views. */
    CHECK_OK(mmf_view_advise(v, 0, 0, MMF_ADVICE_POPULATE));
    CHECK_OK(mmf_view_advise(r, 0, 0, MMF_ADVICE_POPULATE));
    CHECK_OK(mmf_view_advise(c, 0, 0, MMF_ADVICE_POPULATE));
    CHECK(t_all_bytes((unsigned char *)mmf_view_data(c) + 2 * pg(), 0x3D,
                      (size_t)pg()));
    CHECK(t_all_bytes((unsigned char *)mmf_view_data(r) + pg(), 0x7E,
                      (size_t)pg()));
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_view_close(r));
    CHECK_OK(mmf_view_close(u));
    CHECK_OK(mmf_view_close(c));
    CHECK_OK(mmf_close(f));
    CHECK(t_file_is_pattern(p, 0, (size_t)pg()));
    CHECK(t_file_is_pattern(p, 2 * pg(), (size_t)(cap - 2 * pg())));
}

TEST(view_advise_anon)
{
    uint64_t cap = 4 * pg();
    mmf_file *f = t_anon_map(cap, MMF_ACCESS_READ_WRITE);
    mmf_view *v = t_open_view(f, 0, 0, MMF_ACCESS_READ_WRITE);
    mmf_view *r = t_open_view(f, 3, 0, MMF_ACCESS_READ);
    mmf_view *c = t_open_view(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE);

    memset(mmf_view_data(v), 0x21, (size_t)cap);
    memset(mmf_view_data(c), 0x43, (size_t)cap);
    check_advice_args(v);
    check_advice_args(r);
    check_advice_args(c);
    CHECK(t_all_bytes(mmf_view_data(v), 0x21, (size_t)cap));
    CHECK(t_all_bytes(mmf_view_data(r), 0x21, (size_t)cap - 3));
    CHECK(t_all_bytes(mmf_view_data(c), 0x43, (size_t)cap));
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_view_close(r));
    CHECK_OK(mmf_view_close(c));
    CHECK_OK(mmf_close(f));
}

TEST(view_flush_advise_exec)
{
    const char *p = t_path("f");
    uint64_t cap = 3 * pg() + 9;
    mmf_file *f;
    mmf_view *rx, *rwx, *w;

    t_make_file(p, cap, -1);
    CHECK_OK(mmf_create_from_file(p, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE_EXECUTE, 0, &f));
    rx = t_open_view(f, 0, 0, MMF_ACCESS_READ_EXECUTE);
    rwx = t_open_view(f, 2, 0, MMF_ACCESS_READ_WRITE_EXECUTE);
    w = t_open_view(f, 0, 0, MMF_ACCESS_WRITE);
    check_flush_args(rx);
    check_flush_args(rwx);
    check_flush_args(w);
    check_advice_args(rx);
    check_advice_args(rwx);
    check_advice_args(w);
    CHECK(t_is_pattern(mmf_view_data(rx), 0, (size_t)cap));
    CHECK_OK(mmf_view_write(rwx, 0, "rwx", 3));
    CHECK_OK(mmf_view_flush(rwx, 0, 3, MMF_FLUSH_SYNC));
    CHECK_MEM((unsigned char *)mmf_view_data(rx) + 2, "rwx", 3);
    CHECK_OK(mmf_view_close(rx));
    CHECK_OK(mmf_view_close(rwx));
    CHECK_OK(mmf_view_close(w));
    CHECK_OK(mmf_close(f));
    {
        unsigned char buf[3];
        t_pread(p, 2, buf, 3);
        CHECK_MEM(buf, "rwx", 3);
    }
}

TEST(view_errors_last_os_error)
{
    /* Argument errors involve no OS call: mmf_last_os_error() becomes 0
     * even after an earlier OS failure; successes leave it. */
    mmf_file *f = t_anon_map(pg(), MMF_ACCESS_READ);
    mmf_file *g = NULL;
    mmf_view *v = NULL;

    CHECK_RC(mmf_create_from_file(t_path("missing"), MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ, 0, &g),
             MMF_ENOENT);
    CHECK(mmf_last_os_error() != 0);
    CHECK_RC(mmf_view_open(f, 0, 0, 6, &v), MMF_EINVAL);
    CHECK_EQ(mmf_last_os_error(), 0);
    CHECK_RC(mmf_create_from_file(t_path("missing"), MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ, 0, &g),
             MMF_ENOENT);
    CHECK_RC(mmf_view_open(f, pg() + 1, 0, MMF_ACCESS_READ, &v), MMF_ERANGE);
    CHECK_EQ(mmf_last_os_error(), 0);
    CHECK_RC(mmf_create_from_file(t_path("missing"), MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ, 0, &g),
             MMF_ENOENT);
    CHECK_RC(mmf_view_open(f, 0, 0, MMF_ACCESS_READ_WRITE, &v), MMF_EACCES);
    CHECK_EQ(mmf_last_os_error(), 0);
    v = t_open_view(f, 0, 0, MMF_ACCESS_READ);
    CHECK_RC(mmf_view_write(v, 0, "x", 1), MMF_EACCES);
    CHECK_EQ(mmf_last_os_error(), 0);
    CHECK_RC(mmf_view_flush(v, 0, 0, 3), MMF_EINVAL);
    CHECK_EQ(mmf_last_os_error(), 0);
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
}

/* ---- NULL ---------------------------------------------------------------- */

TEST(view_null_getters)
{
    unsigned char b = 0;
    uint64_t u = 7;

    CHECK_OK(mmf_view_close(NULL));
    CHECK(mmf_view_data(NULL) == NULL);
    CHECK_EQ(mmf_view_size(NULL), 0);
    CHECK_EQ(mmf_view_offset(NULL), 0);
    CHECK_EQ(mmf_view_pointer_offset(NULL), 0);
    CHECK_RC(mmf_view_access(NULL), MMF_EINVAL);
    CHECK_RC(mmf_view_flush(NULL, 0, 0, MMF_FLUSH_SYNC), MMF_EINVAL);
    CHECK_RC(mmf_view_advise(NULL, 0, 0, MMF_ADVICE_NORMAL), MMF_EINVAL);
    CHECK_RC(mmf_view_read(NULL, 0, &b, 1), MMF_EINVAL);
    CHECK_RC(mmf_view_write(NULL, 0, &b, 1), MMF_EINVAL);
    CHECK_RC(mmf_view_read_u64(NULL, 0, &u), MMF_EINVAL);
    CHECK_EQ(u, 7);
    CHECK_RC(mmf_view_write_u64(NULL, 0, u), MMF_EINVAL);
}

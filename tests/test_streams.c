/*
 * Streams: .NET stream conformance for mmf_stream (API.md "Streams"):
 * position and length, short reads, all-or-nothing writes, access, seek,
 * the stream's own view, flush, unaligned offsets and lifetime.
 */
#include "test.h"

static int sentinel_obj;
#define SENTINEL_STREAM ((mmf_stream *)(void *)&sentinel_obj)

static uint64_t pg(void)
{
    return (uint64_t)mmf_page_size();
}

static mmf_stream *open_stream(mmf_file *f, uint64_t off, uint64_t size,
                               int access)
{
    mmf_stream *s = NULL;

    CHECK_OK(mmf_stream_open(f, off, size, access, &s));
    CHECK(s != NULL);
    return s;
}

/* ---- opening ------------------------------------------------------------ */

TEST(stream_open_args)
{
    const char *p = t_path("f");
    uint64_t cap = 1000;
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ);
    mmf_stream *s;

    s = SENTINEL_STREAM;
    CHECK_RC(mmf_stream_open(NULL, 0, 0, MMF_ACCESS_READ, &s), MMF_EINVAL);
    CHECK(s == NULL);
    CHECK_RC(mmf_stream_open(f, 0, 0, MMF_ACCESS_READ, NULL), MMF_EINVAL);
    s = SENTINEL_STREAM;
    CHECK_RC(mmf_stream_open(f, 0, 0, -1, &s), MMF_EINVAL);
    CHECK(s == NULL);
    s = SENTINEL_STREAM;
    CHECK_RC(mmf_stream_open(f, 0, 0, 6, &s), MMF_EINVAL);
    CHECK(s == NULL);
    s = SENTINEL_STREAM;
    CHECK_RC(mmf_stream_open(f, cap + 1, 0, MMF_ACCESS_READ, &s), MMF_ERANGE);
    CHECK(s == NULL);
    s = SENTINEL_STREAM;
    CHECK_RC(mmf_stream_open(f, 0, cap + 1, MMF_ACCESS_READ, &s), MMF_ERANGE);
    CHECK(s == NULL);
    s = SENTINEL_STREAM;
    CHECK_RC(mmf_stream_open(f, 1, UINT64_MAX, MMF_ACCESS_READ, &s),
             MMF_ERANGE);
    CHECK(s == NULL);
    s = SENTINEL_STREAM;
    CHECK_RC(mmf_stream_open(f, cap, 1, MMF_ACCESS_READ, &s), MMF_ERANGE);
    CHECK(s == NULL);
    /* Access as for views: a READ map allows READ and COPY_ON_WRITE. */
    s = SENTINEL_STREAM;
    CHECK_RC(mmf_stream_open(f, 0, 0, MMF_ACCESS_READ_WRITE, &s), MMF_EACCES);
    CHECK(s == NULL);
    s = SENTINEL_STREAM;
    CHECK_RC(mmf_stream_open(f, 0, 0, MMF_ACCESS_WRITE, &s), MMF_EACCES);
    CHECK(s == NULL);
    s = SENTINEL_STREAM;
    CHECK_RC(mmf_stream_open(f, 0, 0, MMF_ACCESS_READ_EXECUTE, &s), MMF_EACCES);
    CHECK(s == NULL);
    s = open_stream(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE);
    CHECK_OK(mmf_stream_close(s));
    s = open_stream(f, 0, 0, MMF_ACCESS_READ);
    CHECK_OK(mmf_stream_close(s));
    CHECK_OK(mmf_close(f));
    CHECK(t_file_is_pattern(p, 0, (size_t)cap));
}

TEST(stream_initial_state)
{
    uint64_t cap = 3 * pg() + 7;
    mmf_file *f = t_file_map(t_path("f"), cap, MMF_ACCESS_READ_WRITE);
    mmf_stream *s = open_stream(f, 0, 0, MMF_ACCESS_READ_WRITE);
    mmf_stream *t = open_stream(f, 100, 200, MMF_ACCESS_READ);
    mmf_stream *e = open_stream(f, cap, 0, MMF_ACCESS_READ_WRITE);

    CHECK_EQ(mmf_stream_tell(s), 0);
    CHECK_EQ(mmf_stream_length(s), cap);
    CHECK_EQ(mmf_stream_tell(t), 0);
    CHECK_EQ(mmf_stream_length(t), 200);
    CHECK_EQ(mmf_stream_tell(e), 0);
    CHECK_EQ(mmf_stream_length(e), 0);
    CHECK_OK(mmf_stream_close(s));
    CHECK_OK(mmf_stream_close(t));
    CHECK_OK(mmf_stream_close(e));
    CHECK_OK(mmf_close(f));
}

TEST(stream_null)
{
    unsigned char buf[4];
    size_t nread = 123;
    uint64_t np = 55;

    CHECK_OK(mmf_stream_close(NULL));
    CHECK_EQ(mmf_stream_tell(NULL), 0);
    CHECK_EQ(mmf_stream_length(NULL), 0);
    CHECK(mmf_stream_view(NULL) == NULL);
    CHECK_RC(mmf_stream_read(NULL, buf, 4, &nread), MMF_EINVAL);
    CHECK_EQ(nread, 0);
    CHECK_RC(mmf_stream_read(NULL, buf, 4, NULL), MMF_EINVAL);
    CHECK_RC(mmf_stream_write(NULL, buf, 4), MMF_EINVAL);
    CHECK_RC(mmf_stream_write(NULL, buf, 0), MMF_EINVAL);
    CHECK_RC(mmf_stream_seek(NULL, 0, MMF_SEEK_SET, &np), MMF_EINVAL);
    CHECK_EQ(np, 55);
    CHECK_RC(mmf_stream_flush(NULL, MMF_FLUSH_SYNC), MMF_EINVAL);
}

/* ---- reading ------------------------------------------------------------ */

TEST(stream_read_sequence)
{
    mmf_file *f = t_file_map(t_path("f"), 1000, MMF_ACCESS_READ);
    mmf_stream *s = open_stream(f, 100, 250, MMF_ACCESS_READ);
    unsigned char buf[128];
    size_t nread;

    memset(buf, 0xEE, sizeof buf);
    nread = 999;
    CHECK_OK(mmf_stream_read(s, buf, 100, &nread));
    CHECK_EQ(nread, 100);
    CHECK(t_is_pattern(buf, 100, 100));
    CHECK(t_all_bytes(buf + 100, 0xEE, sizeof buf - 100));
    CHECK_EQ(mmf_stream_tell(s), 100);

    nread = 999;
    CHECK_OK(mmf_stream_read(s, buf, 100, &nread));
    CHECK_EQ(nread, 100);
    CHECK(t_is_pattern(buf, 200, 100));
    CHECK_EQ(mmf_stream_tell(s), 200);

    /* Short read at the end; the rest of the buffer is untouched. */
    memset(buf, 0xEE, sizeof buf);
    nread = 999;
    CHECK_OK(mmf_stream_read(s, buf, 100, &nread));
    CHECK_EQ(nread, 50);
    CHECK(t_is_pattern(buf, 300, 50));
    CHECK(t_all_bytes(buf + 50, 0xEE, sizeof buf - 50));
    CHECK_EQ(mmf_stream_tell(s), 250);

    /* At the end: 0, not an error. */
    memset(buf, 0xEE, sizeof buf);
    nread = 999;
    CHECK_OK(mmf_stream_read(s, buf, 100, &nread));
    CHECK_EQ(nread, 0);
    CHECK(t_all_bytes(buf, 0xEE, sizeof buf));
    CHECK_EQ(mmf_stream_tell(s), 250);
    nread = 999;
    CHECK_OK(mmf_stream_read(s, buf, 1, &nread));
    CHECK_EQ(nread, 0);
    CHECK_OK(mmf_stream_read(s, buf, 1, NULL));
    CHECK_EQ(mmf_stream_tell(s), 250);

    /* nread may be NULL. */
    CHECK_OK(mmf_stream_seek(s, 10, MMF_SEEK_SET, NULL));
    memset(buf, 0xEE, sizeof buf);
    CHECK_OK(mmf_stream_read(s, buf, 10, NULL));
    CHECK(t_is_pattern(buf, 110, 10));
    CHECK_EQ(buf[10], 0xEE);
    CHECK_EQ(mmf_stream_tell(s), 20);

    /* n == 0: nothing read, position kept; NULL buffer allowed. */
    nread = 999;
    CHECK_OK(mmf_stream_read(s, buf, 0, &nread));
    CHECK_EQ(nread, 0);
    nread = 999;
    CHECK_OK(mmf_stream_read(s, NULL, 0, &nread));
    CHECK_EQ(nread, 0);
    CHECK_EQ(mmf_stream_tell(s), 20);
    /* NULL buffer with n > 0: EINVAL, *nread still written. */
    nread = 999;
    CHECK_RC(mmf_stream_read(s, NULL, 5, &nread), MMF_EINVAL);
    CHECK_EQ(nread, 0);
    CHECK_EQ(mmf_stream_tell(s), 20);

    /* Past the end: reads give 0. */
    CHECK_OK(mmf_stream_seek(s, 1000, MMF_SEEK_SET, NULL));
    nread = 999;
    CHECK_OK(mmf_stream_read(s, buf, 10, &nread));
    CHECK_EQ(nread, 0);
    CHECK_EQ(mmf_stream_tell(s), 1000);
    CHECK_OK(mmf_stream_close(s));
    CHECK_OK(mmf_close(f));
}

TEST(stream_read_whole_in_pieces)
{
    uint64_t cap = 3 * pg() + 11;
    mmf_file *f = t_file_map(t_path("f"), cap, MMF_ACCESS_READ_WRITE);
    mmf_stream *s = open_stream(f, 0, 0, MMF_ACCESS_READ);
    unsigned char *all = malloc((size_t)cap + 64);
    uint64_t got = 0;
    size_t step = 1, nread;

    CHECK(all != NULL);
    for (;;) {
        CHECK_OK(mmf_stream_read(s, all + got, step, &nread));
        if (nread == 0)
            break;
        CHECK(nread == step || got + nread == cap);
        got += nread;
        CHECK_EQ(mmf_stream_tell(s), got);
        step = step * 3 + 1;
    }
    CHECK_EQ(got, cap);
    CHECK(t_is_pattern(all, 0, (size_t)cap));
    free(all);
    CHECK_OK(mmf_stream_close(s));
    CHECK_OK(mmf_close(f));
}

/* ---- writing ------------------------------------------------------------ */

TEST(stream_write_all_or_nothing)
{
    const char *p = t_path("f");
    mmf_file *f = t_file_map(p, 1000, MMF_ACCESS_READ_WRITE);
    mmf_stream *s = open_stream(f, 10, 100, MMF_ACCESS_READ_WRITE);
    unsigned char src[128], buf[128];
    const unsigned char *d = mmf_view_data(mmf_stream_view(s));

    memset(src, 0x5C, sizeof src);
    CHECK_OK(mmf_stream_write(s, src, 60));
    CHECK_EQ(mmf_stream_tell(s), 60);
    /* 50 more do not fit in 40: nothing written, position kept. */
    CHECK_RC(mmf_stream_write(s, src, 50), MMF_ERANGE);
    CHECK_EQ(mmf_stream_tell(s), 60);
    CHECK(t_is_pattern(d + 60, 70, 40));
    CHECK_RC(mmf_stream_write(s, src, 41), MMF_ERANGE);
    CHECK_RC(mmf_stream_write(s, src, SIZE_MAX), MMF_ERANGE);
    CHECK_EQ(mmf_stream_tell(s), 60);
    CHECK(t_is_pattern(d + 60, 70, 40));
    /* Exactly to the end. */
    memset(src, 0x6D, sizeof src);
    CHECK_OK(mmf_stream_write(s, src, 40));
    CHECK_EQ(mmf_stream_tell(s), 100);
    CHECK_RC(mmf_stream_write(s, src, 1), MMF_ERANGE);
    CHECK_EQ(mmf_stream_tell(s), 100);
    /* 0 bytes: fine at the end, and past it; NULL buffer allowed. */
    CHECK_OK(mmf_stream_write(s, src, 0));
    CHECK_OK(mmf_stream_write(s, NULL, 0));
    CHECK_EQ(mmf_stream_tell(s), 100);
    CHECK_OK(mmf_stream_seek(s, 500, MMF_SEEK_SET, NULL));
    CHECK_OK(mmf_stream_write(s, src, 0));
    CHECK_EQ(mmf_stream_tell(s), 500);
    CHECK_RC(mmf_stream_write(s, src, 1), MMF_ERANGE);
    CHECK_EQ(mmf_stream_tell(s), 500);
    CHECK_OK(mmf_stream_seek(s, 0, MMF_SEEK_SET, NULL));
    CHECK_RC(mmf_stream_write(s, NULL, 1), MMF_EINVAL);
    CHECK_EQ(mmf_stream_tell(s), 0);
    CHECK_OK(mmf_stream_flush(s, MMF_FLUSH_SYNC));

    t_pread(p, 0, buf, 120);
    CHECK(t_is_pattern(buf, 0, 10));
    CHECK(t_all_bytes(buf + 10, 0x5C, 60));
    CHECK(t_all_bytes(buf + 70, 0x6D, 40));
    CHECK(t_is_pattern(buf + 110, 110, 10));
    CHECK_OK(mmf_stream_close(s));
    CHECK_OK(mmf_close(f));
    CHECK(t_file_is_pattern(p, 110, 890));
}

TEST(stream_write_then_read_back)
{
    mmf_file *f = t_file_map(t_path("f"), 4 * pg(), MMF_ACCESS_READ_WRITE);
    mmf_stream *w = open_stream(f, pg() - 1, 2 * pg(), MMF_ACCESS_WRITE);
    mmf_stream *r = open_stream(f, pg() - 1, 2 * pg(), MMF_ACCESS_READ);
    unsigned char chunk[100], buf[100];
    uint64_t pos = 0;
    size_t nread;

    while (pos + sizeof chunk <= 2 * pg()) {
        for (size_t i = 0; i < sizeof chunk; i++)
            chunk[i] = (unsigned char)(pos + i * 3);
        CHECK_OK(mmf_stream_write(w, chunk, sizeof chunk));
        pos += sizeof chunk;
        CHECK_EQ(mmf_stream_tell(w), pos);
    }
    CHECK_RC(mmf_stream_write(w, chunk, sizeof chunk), MMF_ERANGE);
    CHECK_EQ(mmf_stream_tell(w), pos);
    for (uint64_t q = 0; q < pos; q += sizeof chunk) {
        CHECK_OK(mmf_stream_read(r, buf, sizeof buf, &nread));
        CHECK_EQ(nread, sizeof buf);
        for (size_t i = 0; i < sizeof chunk; i++)
            chunk[i] = (unsigned char)(q + i * 3);
        CHECK_MEM(buf, chunk, sizeof buf);
    }
    /* The tail the writer did not reach still holds the file's bytes. */
    CHECK_OK(mmf_stream_read(r, buf, sizeof buf, &nread));
    CHECK_EQ(nread, 2 * pg() - pos);
    CHECK(t_is_pattern(buf, pg() - 1 + pos, nread));
    CHECK_OK(mmf_stream_close(w));
    CHECK_OK(mmf_stream_close(r));
    CHECK_OK(mmf_close(f));
}

/* ---- access ------------------------------------------------------------- */

TEST(stream_access)
{
    const char *p = t_path("f");
    mmf_file *f;
    mmf_stream *r, *rx, *w, *c;
    unsigned char buf[16], src[16];
    size_t nread;

    t_make_file(p, pg(), -1);
    CHECK_OK(mmf_create_from_file(p, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE_EXECUTE, 0, &f));
    r = open_stream(f, 3, 10, MMF_ACCESS_READ);
    rx = open_stream(f, 3, 10, MMF_ACCESS_READ_EXECUTE);
    w = open_stream(f, 3, 10, MMF_ACCESS_WRITE);
    c = open_stream(f, 3, 10, MMF_ACCESS_COPY_ON_WRITE);
    memset(src, 0x71, sizeof src);

    /* No write access: EACCES, also for 0 bytes and past the end. */
    CHECK_RC(mmf_stream_write(r, src, 5), MMF_EACCES);
    CHECK_RC(mmf_stream_write(r, src, 0), MMF_EACCES);
    CHECK_RC(mmf_stream_write(rx, src, 5), MMF_EACCES);
    CHECK_RC(mmf_stream_write(rx, src, 0), MMF_EACCES);
    CHECK_OK(mmf_stream_seek(r, 50, MMF_SEEK_SET, NULL));
    CHECK_RC(mmf_stream_write(r, src, 0), MMF_EACCES);
    CHECK_OK(mmf_stream_seek(r, 0, MMF_SEEK_SET, NULL));
    CHECK_EQ(mmf_stream_tell(r), 0);
    CHECK_EQ(mmf_stream_tell(rx), 0);
    /* Bounds come before access. */
    CHECK_RC(mmf_stream_write(r, src, 11), MMF_ERANGE);
    CHECK_RC(mmf_stream_write(rx, src, 11), MMF_ERANGE);
    CHECK(t_file_is_pattern(p, 0, (size_t)pg()));

    /* No read access: EACCES, *nread 0, position and buffer unchanged. */
    memset(buf, 0xEE, sizeof buf);
    nread = 999;
    CHECK_RC(mmf_stream_read(w, buf, 5, &nread), MMF_EACCES);
    CHECK_EQ(nread, 0);
    nread = 999;
    CHECK_RC(mmf_stream_read(w, buf, 0, &nread), MMF_EACCES);
    CHECK_EQ(nread, 0);
    CHECK(t_all_bytes(buf, 0xEE, sizeof buf));
    CHECK_EQ(mmf_stream_tell(w), 0);

    /* The WRITE stream writes; READ streams read it. */
    CHECK_OK(mmf_stream_write(w, src, 10));
    CHECK_EQ(mmf_stream_tell(w), 10);
    CHECK_OK(mmf_stream_read(r, buf, 16, &nread));
    CHECK_EQ(nread, 10);
    CHECK(t_all_bytes(buf, 0x71, 10));
    CHECK_OK(mmf_stream_read(rx, buf, 16, &nread));
    CHECK_EQ(nread, 10);

    /* The COW stream writes privately. */
    memset(src, 0x2B, sizeof src);
    CHECK_OK(mmf_stream_write(c, src, 4));
    CHECK_OK(mmf_stream_seek(c, 0, MMF_SEEK_SET, NULL));
    CHECK_OK(mmf_stream_read(c, buf, 16, &nread));
    CHECK_EQ(nread, 10);
    CHECK(t_all_bytes(buf, 0x2B, 4));
    CHECK_OK(mmf_stream_flush(c, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_stream_close(r));
    CHECK_OK(mmf_stream_close(rx));
    CHECK_OK(mmf_stream_close(w));
    CHECK_OK(mmf_stream_close(c));
    CHECK_OK(mmf_close(f));
    t_pread(p, 3, buf, 10);
    CHECK(t_all_bytes(buf, 0x71, 10));
    CHECK(t_file_is_pattern(p, 0, 3));
    CHECK(t_file_is_pattern(p, 13, (size_t)pg() - 13));
}

/* ---- seek --------------------------------------------------------------- */

TEST(stream_seek)
{
    mmf_file *f = t_file_map(t_path("f"), 1000, MMF_ACCESS_READ_WRITE);
    mmf_stream *s = open_stream(f, 50, 300, MMF_ACCESS_READ_WRITE);
    uint64_t np;
    unsigned char b;
    size_t nread;

#define SEEK_OK(off, whence, want)                                             \
    do {                                                                       \
        np = 0xDEAD;                                                           \
        CHECK_OK(mmf_stream_seek(s, (off), (whence), &np));                    \
        CHECK_EQ(np, (want));                                                  \
        CHECK_EQ(mmf_stream_tell(s), (want));                                  \
    } while (0)
#define SEEK_BAD(off, whence, code)                                            \
    do {                                                                       \
        uint64_t before_ = mmf_stream_tell(s);                                 \
        np = 0xDEAD;                                                           \
        CHECK_RC(mmf_stream_seek(s, (off), (whence), &np), (code));            \
        CHECK_EQ(np, 0xDEAD);                                                  \
        CHECK_EQ(mmf_stream_tell(s), before_);                                 \
    } while (0)

    SEEK_OK(0, MMF_SEEK_SET, 0);
    SEEK_OK(10, MMF_SEEK_SET, 10);
    SEEK_OK(5, MMF_SEEK_CUR, 15);
    SEEK_OK(-3, MMF_SEEK_CUR, 12);
    SEEK_OK(0, MMF_SEEK_CUR, 12);
    SEEK_OK(-12, MMF_SEEK_CUR, 0);
    SEEK_BAD(-1, MMF_SEEK_CUR, MMF_ERANGE);
    SEEK_BAD(-1, MMF_SEEK_SET, MMF_ERANGE);
    SEEK_OK(0, MMF_SEEK_END, 300);
    SEEK_OK(-1, MMF_SEEK_END, 299);
    SEEK_OK(-300, MMF_SEEK_END, 0);
    SEEK_OK(123, MMF_SEEK_SET, 123);
    SEEK_BAD(-301, MMF_SEEK_END, MMF_ERANGE);
    SEEK_BAD(-124, MMF_SEEK_CUR, MMF_ERANGE);
    SEEK_OK(-123, MMF_SEEK_CUR, 0);
    SEEK_OK(123, MMF_SEEK_SET, 123);
    SEEK_BAD(INT64_MIN, MMF_SEEK_SET, MMF_ERANGE);
    SEEK_BAD(INT64_MIN, MMF_SEEK_CUR, MMF_ERANGE);
    SEEK_BAD(INT64_MIN, MMF_SEEK_END, MMF_ERANGE);
    SEEK_BAD(INT64_MIN + 1, MMF_SEEK_END, MMF_ERANGE);
    SEEK_BAD(0, 3, MMF_EINVAL);
    SEEK_BAD(0, -1, MMF_EINVAL);
    SEEK_BAD(-1, 3, MMF_EINVAL);
    SEEK_BAD(10, 100, MMF_EINVAL);
    CHECK_EQ(mmf_stream_tell(s), 123);

    /* Reading after a seek starts there. */
    CHECK_OK(mmf_stream_read(s, &b, 1, &nread));
    CHECK_EQ(nread, 1);
    CHECK_EQ(b, t_pattern(-1, 50 + 123));
    SEEK_OK(-1, MMF_SEEK_END, 299);
    CHECK_OK(mmf_stream_read(s, &b, 1, &nread));
    CHECK_EQ(nread, 1);
    CHECK_EQ(b, t_pattern(-1, 50 + 299));

    /* Past the end is allowed: reads 0, writes of n > 0 ERANGE. */
    SEEK_OK(50, MMF_SEEK_END, 350);
    SEEK_OK(7, MMF_SEEK_CUR, 357);
    nread = 999;
    CHECK_OK(mmf_stream_read(s, &b, 1, &nread));
    CHECK_EQ(nread, 0);
    CHECK_RC(mmf_stream_write(s, &b, 1), MMF_ERANGE);
    CHECK_OK(mmf_stream_write(s, &b, 0));
    CHECK_EQ(mmf_stream_tell(s), 357);
    SEEK_OK(INT64_MAX, MMF_SEEK_SET, (uint64_t)INT64_MAX);
    nread = 999;
    CHECK_OK(mmf_stream_read(s, &b, 1, &nread));
    CHECK_EQ(nread, 0);
    CHECK_RC(mmf_stream_write(s, &b, 1), MMF_ERANGE);
    CHECK_OK(mmf_stream_write(s, &b, 0));
    CHECK_EQ(mmf_stream_tell(s), (uint64_t)INT64_MAX);
    /* Back from past the end, relative to the current position. */
    SEEK_OK(-INT64_MAX, MMF_SEEK_CUR, 0);
    SEEK_OK(400, MMF_SEEK_SET, 400);
    SEEK_OK(-101, MMF_SEEK_CUR, 299);

    /* newpos may be NULL. */
    CHECK_OK(mmf_stream_seek(s, 42, MMF_SEEK_SET, NULL));
    CHECK_EQ(mmf_stream_tell(s), 42);
    CHECK_RC(mmf_stream_seek(s, -43, MMF_SEEK_CUR, NULL), MMF_ERANGE);
    CHECK_EQ(mmf_stream_tell(s), 42);
    CHECK_RC(mmf_stream_seek(s, 0, 3, NULL), MMF_EINVAL);
    CHECK_EQ(mmf_stream_tell(s), 42);
#undef SEEK_OK
#undef SEEK_BAD
    CHECK_OK(mmf_stream_close(s));
    CHECK_OK(mmf_close(f));
}

TEST(stream_seek_empty)
{
    uint64_t cap = 100;
    mmf_file *f = t_file_map(t_path("f"), cap, MMF_ACCESS_READ_WRITE);
    mmf_stream *s = open_stream(f, cap, 0, MMF_ACCESS_READ_WRITE);
    uint64_t np = 99;
    unsigned char b = 1;
    size_t nread = 5;

    CHECK_EQ(mmf_stream_length(s), 0);
    CHECK(mmf_view_data(mmf_stream_view(s)) == NULL);
    CHECK_OK(mmf_stream_seek(s, 0, MMF_SEEK_END, &np));
    CHECK_EQ(np, 0);
    CHECK_RC(mmf_stream_seek(s, -1, MMF_SEEK_END, &np), MMF_ERANGE);
    CHECK_EQ(np, 0);
    CHECK_OK(mmf_stream_read(s, &b, 1, &nread));
    CHECK_EQ(nread, 0);
    CHECK_OK(mmf_stream_write(s, &b, 0));
    CHECK_RC(mmf_stream_write(s, &b, 1), MMF_ERANGE);
    CHECK_OK(mmf_stream_flush(s, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_stream_close(s));
    CHECK_OK(mmf_close(f));
}

/* ---- the stream's view -------------------------------------------------- */

TEST(stream_view)
{
    const char *p = t_path("f");
    mmf_file *f = t_file_map(p, 2 * pg(), MMF_ACCESS_READ_WRITE);
    mmf_stream *s = open_stream(f, 77, 500, MMF_ACCESS_READ_WRITE);
    mmf_view *v = mmf_stream_view(s);
    unsigned char buf[8];
    size_t nread;

    CHECK(v != NULL);
    CHECK(mmf_stream_view(s) == v);
    CHECK_EQ(mmf_view_size(v), 500);
    CHECK_EQ(mmf_view_offset(v), 77);
    CHECK_EQ(mmf_view_access(v), MMF_ACCESS_READ_WRITE);
    CHECK_EQ(mmf_view_pointer_offset(v), 77 % mmf_allocation_granularity());
    CHECK(t_is_pattern(mmf_view_data(v), 77, 500));
    /* The stream owns it. */
    CHECK_RC(mmf_view_close(v), MMF_EINVAL);
    CHECK_RC(mmf_view_close(v), MMF_EINVAL);
    /* Still usable, both ways. */
    CHECK_OK(mmf_view_write(v, 0, "viewdata", 8));
    CHECK_OK(mmf_stream_read(s, buf, 8, &nread));
    CHECK_EQ(nread, 8);
    CHECK_MEM(buf, "viewdata", 8);
    CHECK_OK(mmf_stream_write(s, "STREAM", 6));
    CHECK_MEM((unsigned char *)mmf_view_data(v) + 8, "STREAM", 6);
    CHECK_OK(mmf_view_read(v, 8, buf, 6));
    CHECK_MEM(buf, "STREAM", 6);
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_SYNC));
    t_pread(p, 77, buf, 8);
    CHECK_MEM(buf, "viewdata", 8);
    CHECK_OK(mmf_stream_close(s));
    CHECK_OK(mmf_close(f));
}

/* ---- flush -------------------------------------------------------------- */

TEST(stream_flush)
{
    const char *p = t_path("f");
    uint64_t cap = 3 * pg();
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ_WRITE);
    mmf_stream *s = open_stream(f, pg() + 17, 100, MMF_ACCESS_READ_WRITE);
    mmf_stream *c = open_stream(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE);
    mmf_stream *r = open_stream(f, 1, 0, MMF_ACCESS_READ);
    mmf_file *a;
    mmf_stream *as;
    unsigned char buf[8];

    CHECK_OK(mmf_stream_write(s, "flushed!", 8));
    CHECK_OK(mmf_stream_flush(s, MMF_FLUSH_SYNC));
    t_pread(p, pg() + 17, buf, 8);
    CHECK_MEM(buf, "flushed!", 8);
    CHECK_OK(mmf_stream_write(s, "again", 5));
    CHECK_OK(mmf_stream_flush(s, MMF_FLUSH_ASYNC));
    CHECK_OK(mmf_stream_flush(s, MMF_FLUSH_DURABLE));
    t_pread(p, pg() + 25, buf, 5);
    CHECK_MEM(buf, "again", 5);
    CHECK_RC(mmf_stream_flush(s, 3), MMF_EINVAL);
    CHECK_RC(mmf_stream_flush(s, 0x10), MMF_EINVAL);
    /* Flushing does not move the cursor. */
    CHECK_EQ(mmf_stream_tell(s), 13);
    /* COW: OK, nothing written. */
    CHECK_OK(mmf_stream_write(c, "cowcowcow", 9));
    CHECK_OK(mmf_stream_flush(c, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_stream_flush(c, MMF_FLUSH_DURABLE));
    CHECK(t_file_is_pattern(p, 0, 9));
    CHECK_OK(mmf_stream_flush(r, MMF_FLUSH_SYNC));
    CHECK_RC(mmf_stream_flush(r, 7), MMF_EINVAL);
    /* A non-persisted map. */
    CHECK_OK(mmf_create_new(NULL, pg(), MMF_ACCESS_READ_WRITE, 0, &a));
    as = open_stream(a, 0, 0, MMF_ACCESS_READ_WRITE);
    CHECK_OK(mmf_stream_write(as, "anon", 4));
    CHECK_OK(mmf_stream_flush(as, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_stream_flush(as, MMF_FLUSH_ASYNC));
    CHECK_OK(mmf_stream_flush(as, MMF_FLUSH_DURABLE));
    CHECK_RC(mmf_stream_flush(as, 3), MMF_EINVAL);
    CHECK_OK(mmf_stream_close(as));
    CHECK_OK(mmf_close(a));
    CHECK_OK(mmf_stream_close(s));
    CHECK_OK(mmf_stream_close(c));
    CHECK_OK(mmf_stream_close(r));
    CHECK_OK(mmf_close(f));
    CHECK(t_file_is_pattern(p, 0, (size_t)pg() + 17));
}

/* ---- unaligned offsets -------------------------------------------------- */

TEST(stream_unaligned_offsets)
{
    const char *p = t_path("f");
    uint64_t cap = 4 * pg() + 20000;
    mmf_file *f = t_file_map(p, cap, MMF_ACCESS_READ_WRITE);
    const uint64_t offs[] = {1, pg() - 1, pg() + 1, 12345, 3 * pg() - 7};
    unsigned char buf[1000], src[1000];

    for (size_t i = 0; i < sizeof offs / sizeof *offs; i++) {
        uint64_t off = offs[i];
        mmf_stream *s = open_stream(f, off, 1000, MMF_ACCESS_READ_WRITE);
        size_t nread;

        CHECK_EQ(mmf_stream_length(s), 1000);
        CHECK_OK(mmf_stream_read(s, buf, sizeof buf, &nread));
        CHECK_EQ(nread, 1000);
        CHECK(t_is_pattern(buf, off, 1000));
        CHECK_OK(mmf_stream_read(s, buf, sizeof buf, &nread));
        CHECK_EQ(nread, 0);
        CHECK_OK(mmf_stream_close(s));

        /* Write a marker over the first 10 bytes, check the file. */
        s = open_stream(f, off, 10, MMF_ACCESS_WRITE);
        for (size_t k = 0; k < 10; k++)
            src[k] = (unsigned char)(0xF0 + i);
        CHECK_OK(mmf_stream_write(s, src, 10));
        CHECK_RC(mmf_stream_write(s, src, 1), MMF_ERANGE);
        CHECK_OK(mmf_stream_flush(s, MMF_FLUSH_SYNC));
        CHECK_OK(mmf_stream_close(s));
        t_pread(p, off - 1, buf, 12);
        CHECK_EQ(buf[0], t_pattern(-1, off - 1));
        CHECK(t_all_bytes(buf + 1, 0xF0 + (int)i, 10));
        CHECK_EQ(buf[11], t_pattern(-1, off + 10));
        /* Put the file's bytes back (the offsets overlap). */
        for (size_t k = 0; k < 10; k++)
            src[k] = t_pattern(-1, off + k);
        t_pwrite(p, off, src, 10);
    }
    CHECK_OK(mmf_close(f));
}

/* ---- lifetime ----------------------------------------------------------- */

TEST(stream_after_map_close)
{
    const char *p = t_path("f");
    int fds;
    mmf_file *f;
    mmf_stream *s, *r;
    unsigned char buf[16];
    size_t nread;
    uint64_t np;

    t_make_file(p, 2 * pg(), -1);
    fds = t_fd_count();
    CHECK_OK(mmf_create_from_file(p, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    s = open_stream(f, pg() - 2, 16, MMF_ACCESS_READ_WRITE);
    r = open_stream(f, pg() - 2, 16, MMF_ACCESS_READ);
    CHECK_OK(mmf_close(f));

    CHECK_OK(mmf_stream_read(s, buf, 16, &nread));
    CHECK_EQ(nread, 16);
    CHECK(t_is_pattern(buf, pg() - 2, 16));
    CHECK_OK(mmf_stream_seek(s, -16, MMF_SEEK_CUR, &np));
    CHECK_EQ(np, 0);
    CHECK_OK(mmf_stream_write(s, "after close!", 12));
    CHECK_OK(mmf_stream_flush(s, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_stream_read(r, buf, 16, &nread));
    CHECK_EQ(nread, 16);
    CHECK_MEM(buf, "after close!", 12);
    CHECK_OK(mmf_stream_close(s));
    CHECK_OK(mmf_stream_close(r));
    CHECK_EQ(t_fd_count(), fds);
    t_pread(p, pg() - 2, buf, 12);
    CHECK_MEM(buf, "after close!", 12);
}

TEST(stream_anon)
{
    int fds = t_fd_count();
    mmf_file *f;
    mmf_stream *s, *t;
    unsigned char buf[64];
    size_t nread;

    CHECK_OK(mmf_create_new(NULL, 2 * pg(), MMF_ACCESS_READ_WRITE, 0, &f));
    s = open_stream(f, pg() - 5, 10, MMF_ACCESS_READ_WRITE);
    t = open_stream(f, 0, 0, MMF_ACCESS_READ);
    CHECK_OK(mmf_close(f));
    memset(buf, 0xEE, sizeof buf);
    CHECK_OK(mmf_stream_read(s, buf, sizeof buf, &nread));
    CHECK_EQ(nread, 10);
    CHECK(t_all_bytes(buf, 0, 10));
    CHECK(t_all_bytes(buf + 10, 0xEE, sizeof buf - 10));
    CHECK_OK(mmf_stream_seek(s, 0, MMF_SEEK_SET, NULL));
    CHECK_OK(mmf_stream_write(s, "0123456789", 10));
    CHECK_RC(mmf_stream_write(s, "x", 1), MMF_ERANGE);
    CHECK_OK(mmf_stream_seek(t, (int64_t)pg() - 5, MMF_SEEK_SET, NULL));
    CHECK_OK(mmf_stream_read(t, buf, 10, &nread));
    CHECK_EQ(nread, 10);
    CHECK_MEM(buf, "0123456789", 10);
    CHECK_OK(mmf_stream_close(s));
    CHECK_OK(mmf_stream_close(t));
    CHECK_EQ(t_fd_count(), fds);
}

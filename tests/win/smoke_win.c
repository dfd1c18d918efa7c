/*
 * Smoke test of the Windows backend, run under wine by CTest: persisted,
 * anonymous and named maps, the named mutex, map-level I/O across a 1 GiB
 * window, error codes of bad arguments, and two child processes (a handle
 * inherited through CreateProcess, a mutex owner killed with
 * TerminateProcess). Prints "N passed, N failed"; exits non-zero on any
 * failure.
 *
 *     smoke_win                  run everything
 *     smoke_win child-inherit H  (internal) map handle H, answer
 *     smoke_win child-hold NAME  (internal) lock mutex NAME, then wait
 */
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <mmf.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int passed, failed;

static void check(int ok, int line, const char *what)
{
    if (ok) {
        passed++;
    } else {
        failed++;
        printf("FAIL line %d: %s\n", line, what);
    }
}

#define CHECK(c) check((c) != 0, __LINE__, #c)

/* A return code, compared exactly and printed by name. */
#define CHECK_RC(expr, want)                                                   \
    do {                                                                       \
        int got_ = (expr), want_ = (want);                                     \
        if (got_ == want_) {                                                   \
            passed++;                                                          \
        } else {                                                               \
            failed++;                                                          \
            printf("FAIL line %d: %s\n  returned %s (%d), want %s (%d); "      \
                   "os error %d\n",                                            \
                   __LINE__, #expr, mmf_errname(got_), got_,                   \
                   mmf_errname(want_), want_, mmf_last_os_error());            \
        }                                                                      \
    } while (0)

#define CHECK_OK(expr) CHECK_RC(expr, MMF_OK)

#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        uint64_t a_ = (uint64_t)(a), b_ = (uint64_t)(b);                       \
        if (a_ == b_) {                                                        \
            passed++;                                                          \
        } else {                                                               \
            failed++;                                                          \
            printf("FAIL line %d: %s == %s\n  got %" PRIu64 ", want %" PRIu64  \
                   "\n",                                                       \
                   __LINE__, #a, #b, a_, b_);                                  \
        }                                                                      \
    } while (0)

static char tmpdir[MAX_PATH];
static char self_path[MAX_PATH];

/* A file name in the temporary directory, unique to this process. */
static void temp_path(char *out, size_t n, const char *tag)
{
    snprintf(out, n, "%smmf-smoke-%lu-%s.dat", tmpdir,
             (unsigned long)GetCurrentProcessId(), tag);
}

/* A map or mutex name unique to this process. */
static void obj_name(char *out, size_t n, const char *prefix, const char *tag)
{
    snprintf(out, n, "%smmf-smoke-%lu-%s", prefix,
             (unsigned long)GetCurrentProcessId(), tag);
}

static uint64_t file_size(const char *path)
{
    WIN32_FILE_ATTRIBUTE_DATA a;

    if (!GetFileAttributesExA(path, GetFileExInfoStandard, &a))
        return UINT64_MAX;
    return (uint64_t)a.nFileSizeHigh << 32 | a.nFileSizeLow;
}

/* Starts this program with `args`; handles are inherited when `inherit`. */
static HANDLE spawn(const char *args, int inherit)
{
    char cmd[2 * MAX_PATH];
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;

    snprintf(cmd, sizeof cmd, "\"%s\" %s", self_path, args);
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    if (!CreateProcessA(NULL, cmd, NULL, NULL, inherit ? TRUE : FALSE, 0, NULL,
                        NULL, &si, &pi))
        return NULL;
    CloseHandle(pi.hThread);
    return pi.hProcess;
}

static DWORD wait_exit(HANDLE p)
{
    DWORD code = 0xdead;

    if (WaitForSingleObject(p, 60000) == WAIT_OBJECT_0)
        GetExitCodeProcess(p, &code);
    CloseHandle(p);
    return code;
}

/* ---- persisted maps ---- */

static void test_persisted(void)
{
    char path[MAX_PATH], missing[MAX_PATH];
    mmf_file *f = NULL, *g = NULL;
    mmf_view *v = NULL, *c = NULL;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    uint64_t u64;
    int8_t i8;
    int16_t i16;
    int32_t i32;
    int64_t i64;
    float f32;
    double f64;
    unsigned char buf[64];

    temp_path(path, sizeof path, "persisted");
    temp_path(missing, sizeof missing, "missing");
    DeleteFileA(path);

    /* Create, 100000 bytes (not a multiple of a page). */
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, 100000,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK(f != NULL);
    if (f == NULL)
        return;
    CHECK_EQ(mmf_created(f), 1);
    CHECK_EQ(mmf_capacity(f), 100000);
    CHECK_EQ(file_size(path), 100000);
    CHECK(mmf_handle_of(f) != MMF_INVALID_HANDLE);
    CHECK_RC(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, 100000,
                                  MMF_ACCESS_READ_WRITE, 0, &g),
             MMF_EEXIST);
    CHECK(g == NULL);

    /* A view at an unaligned offset past the first 64 KiB. */
    CHECK_OK(mmf_view_open(f, 70001, 20000, MMF_ACCESS_READ_WRITE, &v));
    CHECK_EQ(mmf_view_size(v), 20000);
    CHECK_EQ(mmf_view_offset(v), 70001);
    CHECK_EQ(mmf_view_pointer_offset(v), 70001 % 65536);
    CHECK_OK(mmf_view_write_u8(v, 1, 0xab));
    CHECK_OK(mmf_view_write_u16(v, 3, 0xbeef));
    CHECK_OK(mmf_view_write_u32(v, 7, 0xdeadbeefu));
    CHECK_OK(mmf_view_write_u64(v, 13, UINT64_C(0x0123456789abcdef)));
    CHECK_OK(mmf_view_write_i8(v, 29, -5));
    CHECK_OK(mmf_view_write_i16(v, 31, -1234));
    CHECK_OK(mmf_view_write_i32(v, 35, -123456789));
    CHECK_OK(mmf_view_write_i64(v, 41, -INT64_C(1234567890123)));
    CHECK_OK(mmf_view_write_f32(v, 51, 1.5f));
    CHECK_OK(mmf_view_write_f64(v, 57, -2.25));
    CHECK_RC(mmf_view_write_u64(v, 19995, 1), MMF_ERANGE);
    CHECK_RC(mmf_view_write_u8(v, 20000, 1), MMF_ERANGE);
    CHECK_OK(mmf_view_write_u8(v, 19999, 0x7e));
    CHECK_OK(mmf_view_read_u8(v, 1, &u8));
    CHECK_EQ(u8, 0xab);
    CHECK_OK(mmf_view_read_u16(v, 3, &u16));
    CHECK_EQ(u16, 0xbeef);
    CHECK_OK(mmf_view_read_u32(v, 7, &u32));
    CHECK_EQ(u32, 0xdeadbeefu);
    CHECK_OK(mmf_view_read_u64(v, 13, &u64));
    CHECK_EQ(u64, UINT64_C(0x0123456789abcdef));
    CHECK_OK(mmf_view_read_i8(v, 29, &i8));
    CHECK(i8 == -5);
    CHECK_OK(mmf_view_read_i16(v, 31, &i16));
    CHECK(i16 == -1234);
    CHECK_OK(mmf_view_read_i32(v, 35, &i32));
    CHECK(i32 == -123456789);
    CHECK_OK(mmf_view_read_i64(v, 41, &i64));
    CHECK(i64 == -INT64_C(1234567890123));
    CHECK_OK(mmf_view_read_f32(v, 51, &f32));
    CHECK(f32 == 1.5f);
    CHECK_OK(mmf_view_read_f64(v, 57, &f64));
    CHECK(f64 == -2.25);
    CHECK_OK(mmf_view_write(v, 100, "persisted bytes", 15));
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_view_flush(v, 3, 10, MMF_FLUSH_ASYNC));
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_DURABLE));
    CHECK_RC(mmf_view_flush(v, 0, 20001, MMF_FLUSH_SYNC), MMF_ERANGE);
    CHECK_RC(mmf_view_flush(v, 0, 0, 3), MMF_EINVAL);
    CHECK_OK(mmf_flush(f, 0, 0, MMF_FLUSH_DURABLE));
    CHECK_OK(mmf_view_advise(v, 0, 0, MMF_ADVICE_POPULATE));
    CHECK_OK(mmf_view_advise(v, 0, 0, MMF_ADVICE_WILLNEED));

    /* Copy-on-write: private to the view. */
    CHECK_OK(mmf_view_open(f, 70001, 20000, MMF_ACCESS_COPY_ON_WRITE, &c));
    CHECK_OK(mmf_view_read_u8(c, 1, &u8));
    CHECK_EQ(u8, 0xab);
    CHECK_OK(mmf_view_write_u8(c, 1, 0x11));
    CHECK_OK(mmf_view_read_u8(v, 1, &u8));
    CHECK_EQ(u8, 0xab);
    CHECK_OK(mmf_view_flush(c, 0, 0, MMF_FLUSH_DURABLE));
    CHECK_OK(mmf_view_close(c));

    /* The view outlives its map's handle. */
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_view_read_u32(v, 7, &u32));
    CHECK_EQ(u32, 0xdeadbeefu);
    CHECK_OK(mmf_view_close(v));

    /* Reopen read-only: the bytes are in the file. */
    CHECK_RC(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 200000,
                                  MMF_ACCESS_READ, 0, &f),
             MMF_EINVAL);
    CHECK_RC(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 4096,
                                  MMF_ACCESS_READ_WRITE, 0, &f),
             MMF_ERANGE);
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0, MMF_ACCESS_READ,
                                  0, &f));
    if (f != NULL) {
        CHECK_EQ(mmf_created(f), 0);
        CHECK_EQ(mmf_capacity(f), 100000);
        CHECK_OK(mmf_read(f, 70001 + 100, buf, 15));
        CHECK(memcmp(buf, "persisted bytes", 15) == 0);
        CHECK_OK(mmf_read(f, 70001 + 13, &u64, sizeof u64));
        CHECK_EQ(u64, UINT64_C(0x0123456789abcdef));
        CHECK_RC(mmf_write(f, 0, "x", 1), MMF_EACCES);
        CHECK_RC(mmf_view_open(f, 0, 0, MMF_ACCESS_READ_WRITE, &v), MMF_EACCES);
        CHECK_OK(mmf_view_open(f, 0, 0, MMF_ACCESS_READ, &v));
        CHECK_RC(mmf_view_write_u8(v, 0, 1), MMF_EACCES);
        CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_DURABLE));
        CHECK_OK(mmf_view_close(v));
        CHECK_OK(mmf_close(f));
    }

    /* Growth: the file becomes exactly the capacity. */
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN_OR_CREATE, NULL, 300001,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(file_size(path), 300001);
    if (f != NULL) {
        CHECK_EQ(mmf_created(f), 0);
        CHECK_OK(mmf_write(f, 300000, "z", 1));
        CHECK_OK(mmf_read(f, 70001 + 100, buf, 15));
        CHECK(memcmp(buf, "persisted bytes", 15) == 0);
        /* Windows refuses to truncate a mapped file. */
        CHECK_RC(mmf_create_from_file(path, MMF_MODE_CREATE, NULL, 4096,
                                      MMF_ACCESS_READ_WRITE, 0, &g),
                 MMF_EBUSY);
        CHECK_OK(mmf_close(f));
    }
    /* MMF_MODE_CREATE truncates, then grows. */
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE, NULL, 5000,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(file_size(path), 5000);
    if (f != NULL) {
        CHECK_OK(mmf_read(f, 100, buf, 4));
        CHECK(memcmp(buf, "\0\0\0\0", 4) == 0);
        CHECK_OK(mmf_close(f));
    }

    /* Opening rules. */
    CHECK_RC(mmf_create_from_file(missing, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ, 0, &f),
             MMF_ENOENT);
    CHECK_EQ(mmf_last_os_error(), ERROR_FILE_NOT_FOUND);
    CHECK_RC(mmf_create_from_file(missing, MMF_MODE_OPEN_OR_CREATE, NULL, 0,
                                  MMF_ACCESS_READ, 0, &f),
             MMF_EINVAL);
    CHECK_EQ(file_size(missing), UINT64_MAX);
    CHECK_RC(mmf_create_from_file(tmpdir, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ, 0, &f),
             MMF_ENOTSUP);
    CHECK_RC(mmf_create_from_file("bad\xff\xfeutf8", MMF_MODE_CREATE_NEW, NULL,
                                  10, MMF_ACCESS_READ_WRITE, 0, &f),
             MMF_EINVAL);
    /* A failed creation leaves no file. */
    CHECK_RC(mmf_create_from_file(missing, MMF_MODE_CREATE_NEW, NULL,
                                  UINT64_C(1) << 62, MMF_ACCESS_READ_WRITE, 0,
                                  &f),
             MMF_ERANGE);
    CHECK_EQ(file_size(missing), UINT64_MAX);

    /* A persisted map's permissions are its file's. */
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    if (f != NULL) {
        unsigned mode = 0;
        CHECK_OK(mmf_get_permissions(f, &mode));
        CHECK(mode & 0600);
        CHECK_OK(mmf_set_permissions(f, 0644));
        CHECK_RC(mmf_set_permissions(f, 0604), MMF_ENOTSUP);
        CHECK_OK(mmf_close(f));
    }

    /* From a handle: ours is duplicated, the caller's stays. */
    {
        HANDLE h =
            CreateFileA(path, GENERIC_READ,
                        FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                        NULL, OPEN_EXISTING, 0, NULL);
        CHECK(h != INVALID_HANDLE_VALUE);
        CHECK_RC(mmf_create_from_handle((mmf_handle)h, NULL, 0,
                                        MMF_ACCESS_READ_WRITE, 0, &f),
                 MMF_EACCES);
        CHECK_OK(mmf_create_from_handle((mmf_handle)h, NULL, 0, MMF_ACCESS_READ,
                                        0, &f));
        CHECK_EQ(mmf_capacity(f), 5000);
        CHECK(mmf_handle_of(f) != (mmf_handle)h);
        CHECK_EQ(mmf_created(f), 0);
        CHECK_OK(mmf_close(f));
        CloseHandle(h);
    }
    CHECK(DeleteFileA(path));
}

/* ---- anonymous maps ---- */

static void test_anonymous(void)
{
    mmf_file *f = NULL, *g = NULL;
    mmf_view *a = NULL, *b = NULL;
    uint32_t u32;
    unsigned mode = 0;
    DWORD hflags = 0;

    CHECK_OK(mmf_create_new(NULL, 10000, MMF_ACCESS_READ_WRITE, 0, &f));
    if (f == NULL)
        return;
    CHECK_EQ(mmf_capacity(f), 10000);
    CHECK_EQ(mmf_created(f), 1);
    CHECK(mmf_name(f) == NULL);
    CHECK_OK(mmf_view_open(f, 0, 0, MMF_ACCESS_READ_WRITE, &a));
    CHECK_EQ(mmf_view_size(a), 10000);
    CHECK_OK(mmf_view_open(f, 9000, 1000, MMF_ACCESS_READ, &b));
    CHECK_OK(mmf_view_read_u32(a, 9996, &u32));
    CHECK_EQ(u32, 0);
    CHECK_OK(mmf_view_write_u32(a, 9996, 0xfeedfaceu));
    CHECK_OK(mmf_view_read_u32(b, 996, &u32));
    CHECK_EQ(u32, 0xfeedfaceu);
    CHECK_OK(mmf_view_flush(a, 0, 0, MMF_FLUSH_DURABLE));
    CHECK_OK(mmf_get_permissions(f, &mode));
    CHECK_EQ(mode, 0600);

    /* The section handle gives the exact capacity back. */
    CHECK_OK(mmf_create_from_handle(mmf_handle_of(f), NULL, 0,
                                    MMF_ACCESS_READ_WRITE, 0, &g));
    if (g != NULL) {
        CHECK_EQ(mmf_capacity(g), 10000);
        CHECK_EQ(mmf_created(g), 0);
        CHECK_OK(mmf_read(g, 9996, &u32, 4));
        CHECK_EQ(u32, 0xfeedfaceu);
        CHECK_OK(mmf_close(g));
    }
    CHECK_RC(mmf_create_from_handle(mmf_handle_of(f), NULL, 12345,
                                    MMF_ACCESS_READ_WRITE, 0, &g),
             MMF_ERANGE);
    CHECK_OK(mmf_set_inheritable(f, 1));
    CHECK(GetHandleInformation((HANDLE)mmf_handle_of(f), &hflags) &&
          (hflags & HANDLE_FLAG_INHERIT));
    CHECK_OK(mmf_set_inheritable(f, 0));
    CHECK(GetHandleInformation((HANDLE)mmf_handle_of(f), &hflags) &&
          !(hflags & HANDLE_FLAG_INHERIT));
    CHECK_OK(mmf_view_close(a));
    CHECK_OK(mmf_view_close(b));
    CHECK_OK(mmf_close(f));

    /* Delay-allocated: each view commits its own range. */
    CHECK_OK(mmf_create_new(NULL, UINT64_C(1) << 32, MMF_ACCESS_READ_WRITE,
                            MMF_OPT_DELAY_ALLOCATE, &f));
    if (f != NULL) {
        CHECK_OK(mmf_view_open(f, UINT64_C(3) << 30, 1 << 20,
                               MMF_ACCESS_READ_WRITE, &a));
        CHECK_OK(mmf_view_write_u32(a, 12345, 77));
        CHECK_OK(mmf_view_open(f, (UINT64_C(3) << 30) + 8192, 1 << 16,
                               MMF_ACCESS_READ, &b));
        CHECK_OK(mmf_view_read_u32(b, 12345 - 8192, &u32));
        CHECK_EQ(u32, 77);
        CHECK_OK(mmf_view_close(a));
        CHECK_OK(mmf_view_close(b));
        CHECK_OK(mmf_close(f));
    }

    /* Execute access. */
    CHECK_OK(mmf_create_new(NULL, 4096, MMF_ACCESS_READ_WRITE_EXECUTE, 0, &f));
    if (f != NULL) {
        CHECK_OK(mmf_view_open(f, 0, 0, MMF_ACCESS_READ_EXECUTE, &a));
        CHECK_OK(mmf_view_close(a));
        CHECK_OK(mmf_close(f));
    }
}

/* ---- named maps ---- */

/* mmf_list's callback: counts the entries named ctx->name, remembering
 * the last one's kind and capacity. */
struct list_probe {
    const char *name;
    int seen, kind;
    uint64_t capacity;
};

static int list_probe_fn(const mmf_info *info, void *ctx)
{
    struct list_probe *p = ctx;

    if (strcmp(info->name, p->name) == 0) {
        p->seen++;
        p->kind = info->kind;
        p->capacity = info->capacity;
    }
    return 0;
}

static void test_named(void)
{
    char n[128], bare[128], n2[128], nf[128], path[MAX_PATH];
    mmf_file *f = NULL, *g = NULL, *h = NULL;
    mmf_view *v = NULL, *w = NULL;
    mmf_info info;
    unsigned mode = 0;
    uint32_t u32;
    char buf[16];

    obj_name(n, sizeof n, "Local\\", "map");
    obj_name(bare, sizeof bare, "", "map");
    CHECK_OK(mmf_create_new(n, 12345, MMF_ACCESS_READ_WRITE, 0, &f));
    if (f == NULL)
        return;
    CHECK_EQ(mmf_created(f), 1);
    CHECK(strcmp(mmf_name(f), n) == 0);
    CHECK_RC(mmf_create_new(n, 12345, MMF_ACCESS_READ_WRITE, 0, &g),
             MMF_EEXIST);
    CHECK_RC(mmf_create_new(bare, 100, MMF_ACCESS_READ_WRITE, 0, &g),
             MMF_EEXIST);

    /* Opened by name: exact capacity, the same bytes. */
    CHECK_OK(mmf_open_existing(bare, MMF_ACCESS_READ_WRITE, 0, &g));
    if (g != NULL) {
        CHECK_EQ(mmf_capacity(g), 12345);
        CHECK_EQ(mmf_created(g), 0);
        CHECK_OK(mmf_write(f, 12341, "abcd", 4));
        CHECK_OK(mmf_read(g, 12341, buf, 4));
        CHECK(memcmp(buf, "abcd", 4) == 0);
        CHECK_RC(mmf_view_open(g, 65536 + 3, 0, MMF_ACCESS_READ_WRITE, &v),
                 MMF_ERANGE);
        CHECK_OK(mmf_view_open(g, 4097, 0, MMF_ACCESS_READ_WRITE, &v));
        if (v != NULL) {
            CHECK_EQ(mmf_view_size(v), 12345 - 4097);
            CHECK_OK(mmf_view_write_u32(v, 100, 0x5a5a5a5au));
            CHECK_OK(mmf_read(f, 4197, &u32, 4));
            CHECK_EQ(u32, 0x5a5a5a5au);
            CHECK_OK(mmf_view_close(v));
        }
        CHECK_OK(mmf_close(g));
    }
    CHECK_OK(mmf_create_or_open(n, 99, MMF_ACCESS_READ, 0, &g));
    if (g != NULL) {
        CHECK_EQ(mmf_created(g), 0);
        CHECK_EQ(mmf_capacity(g), 12345);
        CHECK_RC(mmf_write(g, 0, "x", 1), MMF_EACCES);
        CHECK_OK(mmf_close(g));
    }
    /* More access than it was created with. */
    CHECK_RC(mmf_open_existing(n, MMF_ACCESS_READ_EXECUTE, 0, &g), MMF_EACCES);
    CHECK_OK(mmf_open_existing(n, MMF_ACCESS_WRITE, 0, &g));
    CHECK_OK(mmf_close(g));

    /* Inspection and permissions. */
    CHECK_OK(mmf_stat(n, MMF_KIND_MAP, &info));
    CHECK_EQ(info.kind, MMF_KIND_MAP);
    CHECK_EQ(info.capacity, 12345);
    CHECK_EQ(info.mode, 0600);
    CHECK(strcmp(info.name, bare) == 0);
    CHECK_RC(mmf_list(NULL, NULL), MMF_EINVAL);
    {
        /* The object directory lists it, once, as a libmmf map. */
        struct list_probe probe = {bare, 0, 0, 0};
        CHECK_OK(mmf_list(list_probe_fn, &probe));
        CHECK_EQ(probe.seen, 1);
        CHECK_EQ(probe.kind, MMF_KIND_MAP);
        CHECK_EQ(probe.capacity, 12345);
    }
    CHECK_OK(mmf_get_permissions(f, &mode));
    CHECK_EQ(mode, 0600);
    CHECK_OK(mmf_set_permissions(f, 0644));
    CHECK_OK(mmf_get_permissions(f, &mode));
    CHECK_EQ(mode, 0644);
    CHECK_OK(mmf_set_permissions(f, 0660));
    CHECK_OK(mmf_get_permissions(f, &mode));
    CHECK_EQ(mode, 0660);
    CHECK_RC(mmf_set_permissions(f, 0640), MMF_ENOTSUP);
    CHECK_RC(mmf_set_permissions(f, 01600), MMF_EINVAL);
    CHECK_OK(mmf_set_permissions(f, 0600));

    /* Windows specifics. */
    CHECK_RC(mmf_unlink(n), MMF_ENOTSUP);
    CHECK_RC(mmf_unlink("a/b"), MMF_EINVAL);
    obj_name(n2, sizeof n2, "", "kept");
    CHECK_RC(
        mmf_create_new(n2, 10, MMF_ACCESS_READ_WRITE, MMF_OPT_KEEP_NAME, &g),
        MMF_ENOTSUP);

    /* A view keeps the name alive after every handle closed. */
    CHECK_OK(mmf_view_open(f, 0, 0, MMF_ACCESS_READ, &w));
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_open_existing(n, MMF_ACCESS_READ, 0, &g));
    CHECK_OK(mmf_close(g));
    CHECK_OK(mmf_view_close(w));
    CHECK_RC(mmf_open_existing(n, MMF_ACCESS_READ, 0, &g), MMF_ENOENT);
    CHECK_RC(mmf_stat(n, MMF_KIND_MAP, &info), MMF_ENOENT);
    /* Gone: a new one is fresh and zeroed. */
    CHECK_OK(mmf_create_or_open(n, 100, MMF_ACCESS_READ_WRITE, 0, &g));
    if (g != NULL) {
        CHECK_EQ(mmf_created(g), 1);
        CHECK_EQ(mmf_capacity(g), 100);
        CHECK_OK(mmf_read(g, 0, &u32, 4));
        CHECK_EQ(u32, 0);
        CHECK_OK(mmf_close(g));
    }

    /* A section another program made: opened, its page-rounded size. */
    {
        HANDLE s;
        wchar_t wn[128];
        obj_name(n2, sizeof n2, "", "foreign");
        MultiByteToWideChar(CP_UTF8, 0, n2, -1, wn, 128);
        s = CreateFileMappingW(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                               5000, wn);
        CHECK(s != NULL);
        CHECK_RC(mmf_create_new(n2, 5000, MMF_ACCESS_READ_WRITE, 0, &g),
                 MMF_EEXIST);
        CHECK_OK(mmf_open_existing(n2, MMF_ACCESS_READ_WRITE, 0, &g));
        if (g != NULL) {
            CHECK_EQ(mmf_capacity(g), 8192);
            CHECK_OK(mmf_close(g));
        }
        CHECK_OK(mmf_stat(n2, MMF_KIND_MAP, &info));
        CHECK_EQ(info.kind, MMF_KIND_FOREIGN);
        CloseHandle(s);
    }

    /* A named persisted map. */
    temp_path(path, sizeof path, "named");
    DeleteFileA(path);
    obj_name(nf, sizeof nf, "", "file");
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, nf, 50000,
                                  MMF_ACCESS_READ_WRITE, 0, &f));
    if (f == NULL)
        return;
    CHECK_RC(mmf_create_from_file(path, MMF_MODE_OPEN, nf, 0,
                                  MMF_ACCESS_READ_WRITE, 0, &g),
             MMF_EEXIST);
    CHECK_RC(mmf_create_new(nf, 10, MMF_ACCESS_READ_WRITE, 0, &g), MMF_EEXIST);
    CHECK_OK(mmf_open_existing(nf, MMF_ACCESS_READ_WRITE, 0, &g));
    if (g != NULL) {
        CHECK_EQ(mmf_capacity(g), 50000);
        CHECK_OK(mmf_write(g, 49990, "persisted", 9));
        CHECK_OK(mmf_read(f, 49990, buf, 9));
        CHECK(memcmp(buf, "persisted", 9) == 0);
        CHECK_OK(mmf_flush(g, 0, 0, MMF_FLUSH_DURABLE));
        CHECK_OK(mmf_view_open(g, 49000, 1000, MMF_ACCESS_READ, &v));
        CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_DURABLE));
        CHECK_OK(mmf_view_close(v));
        CHECK_OK(mmf_close(g));
    }
    CHECK_OK(mmf_stat(nf, MMF_KIND_MAP, &info));
    CHECK_EQ(info.kind, MMF_KIND_FILE_MAP);
    CHECK_EQ(info.capacity, 50000);
    CHECK(strstr(info.path, "named.dat") != NULL);
    CHECK_OK(mmf_create_or_open(nf, 1, MMF_ACCESS_READ, 0, &h));
    if (h != NULL) {
        CHECK_EQ(mmf_created(h), 0);
        CHECK_EQ(mmf_capacity(h), 50000);
        CHECK_OK(mmf_close(h));
    }
    CHECK_OK(mmf_close(f));
    CHECK_RC(mmf_open_existing(nf, MMF_ACCESS_READ, 0, &g), MMF_ENOENT);
    CHECK_EQ(file_size(path), 50000);
    CHECK(DeleteFileA(path));
}

/* ---- more named cases ---- */

static void test_named_more(void)
{
    char n[128], path[MAX_PATH];
    mmf_file *f = NULL, *g = NULL;
    mmf_view *v = NULL, *w = NULL;
    uint32_t u32 = 0;
    DWORD hflags = 0;
    HANDLE h;

    /* Global\ is a namespace of its own; Local\X is X. */
    obj_name(n, sizeof n, "Global\\", "global");
    CHECK_OK(mmf_create_new(n, 3000, MMF_ACCESS_READ_WRITE, 0, &f));
    if (f != NULL) {
        CHECK_OK(
            mmf_open_existing(n, MMF_ACCESS_READ, MMF_OPT_INHERITABLE, &g));
        if (g != NULL) {
            CHECK_EQ(mmf_capacity(g), 3000);
            CHECK(GetHandleInformation((HANDLE)mmf_handle_of(g), &hflags) &&
                  (hflags & HANDLE_FLAG_INHERIT));
            CHECK_OK(mmf_close(g));
        }
        obj_name(n, sizeof n, "", "global");
        CHECK_RC(mmf_open_existing(n, MMF_ACCESS_READ, 0, &g), MMF_ENOENT);
        CHECK_OK(mmf_close(f));
    }

    /* Execute maps: their owner may open them for execution. */
    obj_name(n, sizeof n, "", "exec");
    CHECK_OK(mmf_create_new(n, 4096, MMF_ACCESS_READ_EXECUTE, 0, &f));
    if (f != NULL) {
        CHECK_OK(mmf_open_existing(n, MMF_ACCESS_READ_EXECUTE, 0, &g));
        CHECK_OK(mmf_close(g));
        CHECK_RC(mmf_open_existing(n, MMF_ACCESS_READ_WRITE, 0, &g),
                 MMF_EACCES);
        CHECK_OK(mmf_close(f));
    }

    /* Delay-allocated named map, seen through a second handle. */
    obj_name(n, sizeof n, "", "delay");
    CHECK_OK(mmf_create_new(n, UINT64_C(1) << 31, MMF_ACCESS_READ_WRITE,
                            MMF_OPT_DELAY_ALLOCATE, &f));
    if (f != NULL) {
        CHECK_OK(mmf_open_existing(n, MMF_ACCESS_READ, 0, &g));
        CHECK_EQ(mmf_capacity(g), UINT64_C(1) << 31);
        CHECK_OK(
            mmf_view_open(g, UINT64_C(1) << 30, 65536, MMF_ACCESS_READ, &v));
        CHECK_OK(mmf_view_open(f, UINT64_C(1) << 30, 65536,
                               MMF_ACCESS_READ_WRITE, &w));
        CHECK_OK(mmf_view_write_u32(w, 40000, 99));
        CHECK_OK(mmf_view_read_u32(v, 40000, &u32));
        CHECK_EQ(u32, 99);
        CHECK_OK(mmf_view_close(v));
        CHECK_OK(mmf_view_close(w));
        CHECK_OK(mmf_close(g));
        CHECK_OK(mmf_close(f));
    }

    /* A copy-on-write anonymous map stays zero for everyone. */
    CHECK_OK(mmf_create_new(NULL, 5000, MMF_ACCESS_COPY_ON_WRITE, 0, &f));
    if (f != NULL) {
        CHECK_OK(mmf_view_open(f, 0, 0, MMF_ACCESS_COPY_ON_WRITE, &v));
        CHECK_OK(mmf_view_write_u32(v, 4996, 5));
        CHECK_OK(mmf_read(f, 4996, &u32, 4));
        CHECK_EQ(u32, 0);
        CHECK_RC(mmf_write(f, 0, "x", 1), MMF_EACCES);
        CHECK_OK(mmf_view_close(v));
        CHECK_OK(mmf_close(f));
    }

    /* A named persisted map made from a handle; a write-only handle. */
    temp_path(path, sizeof path, "fromhandle");
    h = CreateFileA(path, GENERIC_READ | GENERIC_WRITE,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    NULL, CREATE_ALWAYS, 0, NULL);
    CHECK(h != INVALID_HANDLE_VALUE);
    obj_name(n, sizeof n, "Local\\", "fromhandle");
    CHECK_OK(mmf_create_from_handle((mmf_handle)h, n, 20000,
                                    MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(file_size(path), 20000);
    if (f != NULL) {
        CHECK_OK(mmf_write(f, 19996, "tail", 4));
        CHECK_OK(mmf_open_existing(n, MMF_ACCESS_READ, 0, &g));
        if (g != NULL) {
            char b[4];
            CHECK_EQ(mmf_capacity(g), 20000);
            CHECK_OK(mmf_read(g, 19996, b, 4));
            CHECK(memcmp(b, "tail", 4) == 0);
            CHECK_OK(mmf_close(g));
        }
        CHECK_OK(mmf_close(f));
    }
    CloseHandle(h);
    h = CreateFileA(path, GENERIC_WRITE,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    NULL, OPEN_EXISTING, 0, NULL);
    CHECK_RC(
        mmf_create_from_handle((mmf_handle)h, NULL, 0, MMF_ACCESS_READ, 0, &f),
        MMF_EACCES);
    CloseHandle(h);
    CHECK(DeleteFileA(path));
}

/* ---- the named mutex ---- */

static mmf_mutex *shared_mutex;
static volatile int thread_rc, thread_rc2;

static DWORD WINAPI try_from_thread(LPVOID arg)
{
    (void)arg;
    thread_rc = mmf_mutex_trylock(shared_mutex);
    thread_rc2 = mmf_mutex_timedlock(shared_mutex, 50);
    return 0;
}

static DWORD WINAPI unlock_from_thread(LPVOID arg)
{
    (void)arg;
    thread_rc = mmf_mutex_unlock(shared_mutex);
    return 0;
}

static DWORD WINAPI lock_and_exit(LPVOID arg)
{
    (void)arg;
    thread_rc = mmf_mutex_lock(shared_mutex);
    return 0; /* exits holding it */
}

static void run_thread(LPTHREAD_START_ROUTINE fn)
{
    HANDLE t = CreateThread(NULL, 0, fn, NULL, 0, NULL);

    CHECK(t != NULL);
    if (t != NULL) {
        WaitForSingleObject(t, INFINITE);
        CloseHandle(t);
    }
}

static void test_mutex(void)
{
    char n[128];
    mmf_mutex *m = NULL, *m2 = NULL;
    mmf_file *f = NULL;
    mmf_info info;
    unsigned mode = 0;

    obj_name(n, sizeof n, "", "mutex");
    CHECK_RC(mmf_mutex_open_existing(n, &m), MMF_ENOENT);
    CHECK_OK(mmf_mutex_create(n, 0, 0, &m));
    if (m == NULL)
        return;
    shared_mutex = m;
    CHECK_EQ(mmf_mutex_created(m), 1);
    CHECK(strcmp(mmf_mutex_name(m), n) == 0);
    CHECK_OK(mmf_mutex_get_permissions(m, &mode));
    CHECK_EQ(mode, 0600);
    CHECK_OK(mmf_stat(n, MMF_KIND_MUTEX, &info));
    CHECK_EQ(info.kind, MMF_KIND_MUTEX);
    /* Maps and mutexes have separate namespaces. */
    CHECK_OK(mmf_create_new(n, 100, MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_OK(mmf_close(f));

    /* Recursive; held elsewhere → EBUSY / ETIMEDOUT. */
    CHECK_OK(mmf_mutex_lock(m));
    CHECK_OK(mmf_mutex_lock(m));
    CHECK_OK(mmf_mutex_trylock(m));
    CHECK_OK(mmf_mutex_timedlock(m, 0));
    run_thread(try_from_thread);
    CHECK_RC(thread_rc, MMF_EBUSY);
    CHECK_RC(thread_rc2, MMF_ETIMEDOUT);
    /* Unlock by a thread that does not own it. */
    run_thread(unlock_from_thread);
    CHECK_RC(thread_rc, MMF_EPERM);
    /* A second handle is the same mutex: locking through it recurses. */
    CHECK_OK(mmf_mutex_create(n, 1, 0, &m2));
    if (m2 != NULL) {
        CHECK_EQ(mmf_mutex_created(m2), 0);
        CHECK_OK(mmf_mutex_lock(m2));
        CHECK_OK(mmf_mutex_unlock(m2));
        CHECK_OK(mmf_mutex_close(m2));
    }
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_RC(mmf_mutex_unlock(m), MMF_EPERM);

    /* A thread that exits holding it: the next locker owns it, told so. */
    run_thread(lock_and_exit);
    CHECK_OK(thread_rc);
    CHECK_RC(mmf_mutex_lock(m), MMF_EOWNERDEAD);
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_OK(mmf_mutex_lock(m));
    CHECK_OK(mmf_mutex_unlock(m));

    /* Permissions. */
    CHECK_OK(mmf_mutex_set_permissions(m, 0666));
    CHECK_OK(mmf_mutex_get_permissions(m, &mode));
    CHECK_EQ(mode, 0666);
    CHECK_RC(mmf_mutex_set_permissions(m, 0604), MMF_ENOTSUP);
    CHECK_OK(mmf_mutex_close(m));
    CHECK_RC(mmf_mutex_open_existing(n, &m), MMF_ENOENT);

    /* Unnamed, initially owned. */
    CHECK_OK(mmf_mutex_create(NULL, 1, 0, &m));
    if (m != NULL) {
        shared_mutex = m;
        CHECK(mmf_mutex_name(m) == NULL);
        run_thread(try_from_thread);
        CHECK_RC(thread_rc, MMF_EBUSY);
        CHECK_OK(mmf_mutex_unlock(m));
        CHECK_OK(mmf_mutex_close(m));
    }
}

/* ---- map-level I/O across a 1 GiB window ---- */

static void test_window_boundary(void)
{
    char path[MAX_PATH];
    const uint64_t gib = UINT64_C(1) << 30;
    unsigned char out[8192], in[8192];
    mmf_file *f = NULL;
    mmf_view *v = NULL;

    temp_path(path, sizeof path, "sparse");
    DeleteFileA(path);
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL,
                                  gib + (1 << 20), MMF_ACCESS_READ_WRITE,
                                  MMF_OPT_DELAY_ALLOCATE, &f));
    if (f == NULL)
        return;
    for (size_t i = 0; i < sizeof out; i++)
        out[i] = (unsigned char)(i * 7 + 3);
    CHECK_OK(mmf_write(f, gib - 4096, out, sizeof out));
    memset(in, 0, sizeof in);
    CHECK_OK(mmf_read(f, gib - 4096, in, sizeof in));
    CHECK(memcmp(in, out, sizeof in) == 0);
    CHECK_OK(mmf_view_open(f, gib - 5000, 10000, MMF_ACCESS_READ, &v));
    if (v != NULL) {
        CHECK_OK(mmf_view_read(v, 904, in, sizeof in));
        CHECK(memcmp(in, out, sizeof in) == 0);
        CHECK_OK(mmf_view_close(v));
    }
    CHECK_RC(mmf_read(f, gib + (1 << 20) - 10, in, 11), MMF_ERANGE);
    CHECK_OK(mmf_read(f, gib + (1 << 20) - 10, in, 10));
    CHECK_OK(mmf_flush(f, gib - 4096, 8192, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_close(f));
    CHECK(DeleteFileA(path));
}

/* ---- bad arguments ---- */

static void test_bad_arguments(void)
{
    mmf_file *f = (mmf_file *)&f, *g = NULL;
    mmf_view *v = NULL;
    mmf_mutex *m = (mmf_mutex *)&m;
    char longname[300];
    unsigned mode;
    static const char *bad_names[] = {
        "",     "a/b",         "a\\b",      "Local\\",          "Global\\",
        ".",    "..",          "Local\\..", "Local\\Global\\x", "tab\there",
        "\x7f", "caf\xc3\xa9",
    };

    CHECK_EQ(mmf_allocation_granularity(), 65536);
    CHECK_EQ(mmf_page_size(), 4096);
    CHECK_EQ(mmf_version(), MMF_VERSION_NUMBER);
    CHECK(strcmp(mmf_errname(MMF_EOWNERDEAD), "MMF_EOWNERDEAD") == 0);

    CHECK_RC(mmf_create_new(NULL, 0, MMF_ACCESS_READ_WRITE, 0, &f), MMF_EINVAL);
    CHECK(f == NULL);
    CHECK_EQ(mmf_last_os_error(), 0);
    CHECK_RC(mmf_create_new(NULL, 10, MMF_ACCESS_WRITE, 0, &f), MMF_EINVAL);
    CHECK_RC(mmf_create_new(NULL, 10, 6, 0, &f), MMF_EINVAL);
    CHECK_RC(mmf_create_new(NULL, 10, -1, 0, &f), MMF_EINVAL);
    CHECK_RC(mmf_create_new(NULL, 10, MMF_ACCESS_READ_WRITE, 1u << 7, &f),
             MMF_EINVAL);
    CHECK_RC(
        mmf_create_new(NULL, 10, MMF_ACCESS_READ_WRITE, MMF_OPT_KEEP_NAME, &f),
        MMF_EINVAL);
    CHECK_RC(
        mmf_create_new(NULL, UINT64_C(1) << 63, MMF_ACCESS_READ_WRITE, 0, &f),
        MMF_ERANGE);
    CHECK_RC(mmf_create_new(NULL, 10, MMF_ACCESS_READ_WRITE, 0, NULL),
             MMF_EINVAL);
    CHECK_RC(mmf_create_or_open(NULL, 10, MMF_ACCESS_READ_WRITE, 0, &f),
             MMF_EINVAL);
    CHECK_RC(mmf_create_or_open("x", 0, MMF_ACCESS_READ_WRITE, 0, &f),
             MMF_EINVAL);
    CHECK_RC(mmf_open_existing("x", 6, 0, &f), MMF_EINVAL);
    CHECK_RC(mmf_open_existing(NULL, MMF_ACCESS_READ, 0, &f), MMF_EINVAL);
    for (size_t i = 0; i < sizeof bad_names / sizeof *bad_names; i++) {
        CHECK_RC(mmf_create_new(bad_names[i], 10, MMF_ACCESS_READ_WRITE, 0, &f),
                 MMF_EINVAL);
        CHECK_RC(mmf_mutex_create(bad_names[i], 0, 0, &m), MMF_EINVAL);
        CHECK_RC(mmf_unlink(bad_names[i]), MMF_EINVAL);
    }
    memset(longname, 'n', 251);
    longname[251] = '\0';
    CHECK_RC(mmf_create_new(longname, 10, MMF_ACCESS_READ_WRITE, 0, &f),
             MMF_EINVAL);
    /* 250 bytes is fine, for maps and for mutexes (whose kernel name is
     * longer). */
    longname[250] = '\0';
    CHECK_OK(mmf_create_new(longname, 10, MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_mutex_create(longname, 0, 0, &m));
    CHECK_OK(mmf_mutex_close(m));

    CHECK_RC(mmf_create_from_file(NULL, MMF_MODE_OPEN, NULL, 0, MMF_ACCESS_READ,
                                  0, &f),
             MMF_EINVAL);
    CHECK_RC(mmf_create_from_file("", MMF_MODE_OPEN, NULL, 0, MMF_ACCESS_READ,
                                  0, &f),
             MMF_EINVAL);
    CHECK_RC(mmf_create_from_file("x", 5, NULL, 0, MMF_ACCESS_READ, 0, &f),
             MMF_EINVAL);
    CHECK_RC(mmf_create_from_file("x", MMF_MODE_CREATE_NEW, NULL, 10,
                                  MMF_ACCESS_READ, 0, &f),
             MMF_EINVAL);
    CHECK_RC(mmf_create_from_file("x", MMF_MODE_CREATE, NULL, 0,
                                  MMF_ACCESS_READ_WRITE, 0, &f),
             MMF_EINVAL);
    CHECK_RC(mmf_create_from_file("x", MMF_MODE_OPEN, NULL, 0, MMF_ACCESS_WRITE,
                                  0, &f),
             MMF_EINVAL);
    CHECK_RC(
        mmf_create_from_file("x", MMF_MODE_OPEN, "", 0, MMF_ACCESS_READ, 0, &f),
        MMF_EINVAL);
    CHECK_RC(mmf_create_from_handle(MMF_INVALID_HANDLE, NULL, 0,
                                    MMF_ACCESS_READ, 0, &f),
             MMF_EINVAL);
    CHECK_RC(mmf_create_from_handle((mmf_handle)0x12344, NULL, 0,
                                    MMF_ACCESS_READ, 0, &f),
             MMF_EINVAL);
    {
        /* A valid handle that is neither a file nor a section. */
        HANDLE ev = CreateEventW(NULL, FALSE, FALSE, NULL);
        CHECK_RC(mmf_create_from_handle((mmf_handle)ev, NULL, 0,
                                        MMF_ACCESS_READ, 0, &f),
                 MMF_ENOTSUP);
        CloseHandle(ev);
    }

    /* Views, I/O and getters on bad input. */
    CHECK_OK(mmf_create_new(NULL, 1000, MMF_ACCESS_READ, 0, &g));
    CHECK_RC(mmf_view_open(g, 1001, 0, MMF_ACCESS_READ, &v), MMF_ERANGE);
    CHECK_RC(mmf_view_open(g, 10, 991, MMF_ACCESS_READ, &v), MMF_ERANGE);
    CHECK_RC(mmf_view_open(g, 0, 0, MMF_ACCESS_READ_WRITE, &v), MMF_EACCES);
    CHECK_RC(mmf_view_open(g, 0, 0, 9, &v), MMF_EINVAL);
    CHECK_RC(mmf_view_open(NULL, 0, 0, MMF_ACCESS_READ, &v), MMF_EINVAL);
    CHECK_OK(mmf_view_open(g, 1000, 0, MMF_ACCESS_READ, &v));
    CHECK(mmf_view_data(v) == NULL);
    CHECK_OK(mmf_view_close(v));
    CHECK_RC(mmf_read(g, 999, &mode, 2), MMF_ERANGE);
    CHECK_RC(mmf_read(g, 0, NULL, 2), MMF_EINVAL);
    CHECK_RC(mmf_write(g, 0, "x", 1), MMF_EACCES);
    CHECK_RC(mmf_flush(g, 0, 0, 7), MMF_EINVAL);
    CHECK_RC(mmf_set_permissions(g, 01000), MMF_EINVAL);
    CHECK_RC(mmf_get_permissions(g, NULL), MMF_EINVAL);
    CHECK_OK(mmf_close(g));
    CHECK_OK(mmf_close(NULL));
    CHECK_OK(mmf_view_close(NULL));
    CHECK_OK(mmf_mutex_close(NULL));
    CHECK_EQ(mmf_capacity(NULL), 0);
    CHECK(mmf_handle_of(NULL) == MMF_INVALID_HANDLE);
    CHECK_RC(mmf_access_of(NULL), MMF_EINVAL);
    CHECK_RC(mmf_mutex_lock(NULL), MMF_EINVAL);
    CHECK_RC(mmf_mutex_unlock(NULL), MMF_EINVAL);
    CHECK_RC(mmf_stat("x", 2, NULL), MMF_EINVAL);
    CHECK_RC(mmf_mutex_create("x", 0, 4, &m), MMF_EINVAL);
    CHECK(m == NULL);
}

/* ---- child processes ---- */

static void test_processes(void)
{
    char n[128], args[256];
    mmf_file *f = NULL;
    mmf_mutex *m = NULL;
    HANDLE p;
    uint32_t answer = 0;

    /* An anonymous map inherited by a child that maps it by handle. */
    CHECK_OK(mmf_create_new(NULL, 7777, MMF_ACCESS_READ_WRITE,
                            MMF_OPT_INHERITABLE, &f));
    if (f != NULL) {
        CHECK_OK(mmf_write(f, 7000, "ping", 4));
        snprintf(args, sizeof args, "child-inherit %lld",
                 (long long)mmf_handle_of(f));
        p = spawn(args, 1);
        CHECK(p != NULL);
        if (p != NULL)
            CHECK_EQ(wait_exit(p), 0);
        CHECK_OK(mmf_read(f, 7772, &answer, 4));
        CHECK_EQ(answer, 7777);
        CHECK_OK(mmf_close(f));
    }

    /* A child killed holding the named mutex. */
    obj_name(n, sizeof n, "", "held");
    CHECK_OK(mmf_create_new(n, 16, MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_OK(mmf_mutex_create(n, 0, 0, &m));
    if (f != NULL && m != NULL) {
        unsigned char ready = 0;
        snprintf(args, sizeof args, "child-hold %s", n);
        p = spawn(args, 0);
        CHECK(p != NULL);
        for (int i = 0; p != NULL && i < 3000 && ready == 0; i++) {
            Sleep(10);
            (void)mmf_read(f, 0, &ready, 1);
        }
        CHECK_EQ(ready, 1);
        CHECK_RC(mmf_mutex_trylock(m), MMF_EBUSY);
        if (p != NULL) {
            TerminateProcess(p, 9);
            CHECK_EQ(wait_exit(p), 9);
        }
        CHECK_RC(mmf_mutex_lock(m), MMF_EOWNERDEAD);
        CHECK_OK(mmf_mutex_unlock(m));
    }
    CHECK_OK(mmf_mutex_close(m));
    CHECK_OK(mmf_close(f));
}

static int child_inherit(const char *arg)
{
    mmf_file *f = NULL;
    char buf[4];
    uint32_t cap;

    if (mmf_create_from_handle((mmf_handle)_strtoi64(arg, NULL, 10), NULL, 0,
                               MMF_ACCESS_READ_WRITE, 0, &f) != MMF_OK)
        return 1;
    cap = (uint32_t)mmf_capacity(f);
    if (mmf_read(f, 7000, buf, 4) != MMF_OK || memcmp(buf, "ping", 4) != 0 ||
        mmf_write(f, 7772, &cap, 4) != MMF_OK)
        return 2;
    mmf_close(f);
    return 0;
}

static int child_hold(const char *name)
{
    mmf_file *f = NULL;
    mmf_mutex *m = NULL;
    unsigned char one = 1;

    if (mmf_open_existing(name, MMF_ACCESS_READ_WRITE, 0, &f) != MMF_OK ||
        mmf_mutex_open_existing(name, &m) != MMF_OK ||
        mmf_mutex_lock(m) != MMF_OK || mmf_write(f, 0, &one, 1) != MMF_OK)
        return 1;
    Sleep(60000); /* until killed */
    return 3;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    GetModuleFileNameA(NULL, self_path, sizeof self_path);
    if (argc == 3 && strcmp(argv[1], "child-inherit") == 0)
        return child_inherit(argv[2]);
    if (argc == 3 && strcmp(argv[1], "child-hold") == 0)
        return child_hold(argv[2]);
    GetTempPathA(sizeof tmpdir, tmpdir);

    test_bad_arguments();
    test_persisted();
    test_anonymous();
    test_named();
    test_named_more();
    test_mutex();
    test_window_boundary();
    test_processes();

    printf("%d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}

/*
 * Error paths and faults: injected system-call failures (each must give the
 * documented code and leave no trace), EINTR retries, a real full disk on a
 * small tmpfs, and the SIGBUS guard for files that shrink under a view.
 *
 * On Windows the injected failures are those of the Win32 calls that do
 * the same jobs (win/fault_win.h), with their GetLastError() codes, and
 * the fault tables also run over named maps. There is no EINTR and no
 * tmpfs, and a file cannot shrink under a mapping (tests/win/run_fault.sh
 * truncates one from the host under wine). What else runs there: an open
 * the OS refuses, the vectored exception handler of the fault guard (an
 * in-page error in a view poisons it; exceptions that are not the
 * library's reach the program's own handlers or end the process) and
 * POPULATE.
 */
#include "test.h"

#include <errno.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <fcntl.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define HAVE_VALGRIND_H 1
#endif
#endif

#define KiB (UINT64_C(1) << 10)
#define MiB (UINT64_C(1) << 20)
#define RW MMF_ACCESS_READ_WRITE

/* Constructors must overwrite this with NULL when they fail. */
static char not_null;
#define BOGUS ((void *)&not_null)

static uint64_t pg(void)
{
    return (uint64_t)mmf_page_size();
}

/* Checks a failing call's code and the errno it recorded. */
#define CHECK_FAIL(expr, want, err)                                            \
    do {                                                                       \
        CHECK_RC(expr, want);                                                  \
        CHECK_EQ(mmf_last_os_error(), (err));                                  \
    } while (0)

#ifndef _WIN32
/* Shrinks (or grows) the file through a descriptor of its own, as another
 * process would. */
static void set_file_size(const char *path, uint64_t size)
{
    int fd = open(path, O_RDWR);

    if (fd < 0 || ftruncate(fd, (off_t)size) != 0)
        t_fail(__FILE__, __LINE__, "ftruncate %s: %s", path, strerror(errno));
    close(fd);
}
#endif

/* Checks that the first n bytes of the file still follow pattern -1. */
static void check_pattern(const char *path, uint64_t n)
{
    unsigned char buf[4096];

    for (uint64_t off = 0; off < n; off += sizeof buf) {
        size_t k = n - off < sizeof buf ? (size_t)(n - off) : sizeof buf;
        t_pread(path, off, buf, k);
        for (size_t i = 0; i < k; i++)
            if (buf[i] != t_pattern(-1, off + i))
                t_fail(__FILE__, __LINE__, "%s: byte %" PRIu64 " changed", path,
                       off + i);
    }
}

#ifndef _WIN32
static int64_t file_blocks_bytes(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_blocks * 512 : -1;
}

/* fork() for tests whose child may die: no core files (nor valgrind's
 * vgcore files) from the deaths the test provokes. The test's directory
 * is made first, so that the parent owns and removes it. */
static pid_t fork_child(void)
{
    struct rlimit no_core = {0, 0};
    pid_t pid;

    (void)t_dir(); /* made (and later removed) by the parent, not a child */
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        t_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    if (pid == 0)
        (void)setrlimit(RLIMIT_CORE, &no_core);
    return pid;
}

static int under_valgrind(void)
{
    const char *e = getenv("MMF_UNDER_VALGRIND");

    if (e != NULL && *e != '\0' && strcmp(e, "0") != 0)
        return 1;
#ifdef HAVE_VALGRIND_H
    if (RUNNING_ON_VALGRIND)
        return 1;
#endif
    return 0;
}

/*
 * The guard lets the faulting access run again once a zero page is mapped
 * in. Valgrind can only do that with precise exceptions: by default
 * (--vex-iropt-register-updates=unwindregs-at-mem-access) the guest
 * registers are not all up to date at a memory access, so the access
 * restarts with stale registers (seen here: wrong addresses, SIGSEGV, bytes
 * copied to the wrong place). With allregs-at-mem-access it works. Valgrind
 * leaves VALGRIND_OPTS visible to the program, so that is where the option
 * is looked for.
 */
static int resume_unreliable(void)
{
    const char *opts = getenv("VALGRIND_OPTS");

    if (!under_valgrind())
        return 0;
    return opts == NULL ||
           (strstr(opts, "register-updates=allregs-at-mem-access") == NULL &&
            strstr(opts, "precise-memory-exns=yes") == NULL);
}

static void skip_if_resume_unreliable(void)
{
    if (resume_unreliable())
        SKIP("valgrind resumes a faulting access with stale registers unless "
             "VALGRIND_OPTS=--vex-iropt-register-updates="
             "allregs-at-mem-access");
}
#endif

/* ======================================================================
 * 1. Injected faults: right code, no trace, no leaked descriptor.
 * ====================================================================== */

/* Why the tests that need what Windows lacks are skipped there. */
#define NO_EINTR                                                               \
    "EINTR retries of POSIX calls (injected): Windows calls are not "          \
    "interrupted by signals"
#define NO_TRUNCATE_MAPPED                                                     \
    "shrinks a file under its mapping, which Windows refuses "                 \
    "(ERROR_USER_MAPPED_FILE); tests/win/run_fault.sh truncates one from "     \
    "the host under wine"

/*
 * The calls the tests fail and the codes they fail with: an errno from a
 * system call on POSIX (posix/fault_posix.h), a GetLastError() code from
 * the Win32 call that does the same job on Windows (win/fault_win.h).
 */
#ifdef _WIN32
#define OP_MAP MMF__FAULT_MAP_VIEW       /* MapViewOfFile(Ex) */
#define OP_EXTEND MMF__FAULT_SET_EOF     /* SetFileInformationByHandle: EOF */
#define OP_FLUSH MMF__FAULT_FLUSH_VIEW   /* FlushViewOfFile */
#define OP_SYNC MMF__FAULT_FLUSH_FILE    /* FlushFileBuffers */
#define OP_DUP MMF__FAULT_DUPLICATE      /* DuplicateHandle */
#define OP_CHMOD MMF__FAULT_SET_SECURITY /* SetSecurityInfo */
#define E_NOMEM ERROR_NOT_ENOUGH_MEMORY
#define E_NOFILE ERROR_NO_SYSTEM_RESOURCES
#define E_FBIG ERROR_FILE_TOO_LARGE
#define E_IO ERROR_IO_DEVICE
#define E_DATA ERROR_CRC
#define E_PERM ERROR_ACCESS_DENIED
#else
#define OP_MAP MMF__FAULT_MMAP
#define OP_EXTEND MMF__FAULT_FTRUNCATE
#define OP_FLUSH MMF__FAULT_MSYNC
#define OP_SYNC MMF__FAULT_FSYNC
#define OP_DUP MMF__FAULT_DUP
#define OP_CHMOD MMF__FAULT_FCHMOD
#define E_NOMEM ENOMEM
#define E_NOFILE EMFILE
#define E_FBIG EFBIG
#define E_IO EIO
#define E_DATA EIO
#define E_PERM EPERM
#endif

/* The calls that give a file its storage, as a full disk fails them. */
static const struct grow_fault {
    int op, err;
    int calls;    /* calls of op a create that fails there makes */
    int truncate; /* calls of op made first by MMF_MODE_CREATE's truncation */
} grow_faults[] = {
#ifdef _WIN32
    /* The reservation (FileAllocationInfo), undone by a second call; and
     * the growth itself (FileEndOfFileInfo), all there is where storage
     * cannot be reserved (wine). */
    {MMF__FAULT_SET_ALLOCATION, ERROR_DISK_FULL, 2, 0},
    {MMF__FAULT_SET_EOF, ERROR_DISK_FULL, 1, 1},
#else
    {MMF__FAULT_FALLOCATE, ENOSPC, 1, 0},
#endif
};
#define N_GROW_FAULTS (sizeof grow_faults / sizeof grow_faults[0])

/* Maps `path` (1 MiB, `mode`) while `gf` fails once after `skip` calls:
 * MMF_ENOSPC with its code, and no map. */
static void create_out_of_space(const char *path, int mode,
                                const struct grow_fault *gf, int skip)
{
    mmf_file *f = BOGUS;

    mmf__fault_clear();
    mmf__fault_set(gf->op, gf->err, skip, 1);
    CHECK_FAIL(mmf_create_from_file(path, mode, NULL, MiB, RW, 0, &f),
               MMF_ENOSPC, gf->err);
    CHECK(f == NULL);
}

TEST(fault_enospc_fallocate_new_file)
{
    static const int modes[] = {MMF_MODE_CREATE_NEW, MMF_MODE_CREATE,
                                MMF_MODE_OPEN_OR_CREATE};
    const char *path = t_path("new.bin");

    for (size_t g = 0; g < N_GROW_FAULTS; g++) {
        const struct grow_fault *gf = &grow_faults[g];

        for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
            int fds = t_fd_count();
            mmf_file *f = NULL;

            create_out_of_space(path, modes[i], gf, 0);
            CHECK_EQ(mmf__fault_calls(gf->op), gf->calls);
            CHECK(!t_exists(path));
            CHECK_EQ(t_fd_count(), fds);

            /* The same call without the fault works. */
            mmf__fault_clear();
            CHECK_OK(
                mmf_create_from_file(path, modes[i], NULL, MiB, RW, 0, &f));
            CHECK_EQ(mmf_created(f), 1);
            CHECK_EQ(t_file_size(path), MiB);
            CHECK_OK(mmf_close(f));
            CHECK_EQ(t_fd_count(), fds);
            CHECK_EQ(remove(path), 0);
        }
    }
}

TEST(fault_enospc_fallocate_existing_file)
{
    static const int modes[] = {MMF_MODE_OPEN, MMF_MODE_OPEN_OR_CREATE};
    const char *path = t_path("old.bin");
    const uint64_t old = 5000; /* not a multiple of the page size */

    for (size_t g = 0; g < N_GROW_FAULTS; g++) {
        const struct grow_fault *gf = &grow_faults[g];

        t_make_file(path, old, -1);
        for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
            int fds = t_fd_count();

            create_out_of_space(path, modes[i], gf, 0);
            CHECK_EQ(t_file_size(path), old);
            check_pattern(path, old);
            CHECK_EQ(t_fd_count(), fds);
        }

        /* MMF_MODE_CREATE on an existing file: the one documented
         * exception, the file stays truncated. */
        {
            int fds = t_fd_count();

            create_out_of_space(path, MMF_MODE_CREATE, gf, gf->truncate);
            CHECK(t_exists(path));
            CHECK_EQ(t_file_size(path), 0);
            CHECK_EQ(t_fd_count(), fds);
        }
    }
}

/* An anonymous map whose storage cannot be committed: `op` fails with
 * `err` as it is created; delay-allocated, `view_op` fails `view_count`
 * times as a writable view commits its range. */
static void enospc_anonymous(int op, int err, int view_op, int view_count)
{
    int fds = t_fd_count();
    mmf_file *f = BOGUS;
    mmf_view *v = BOGUS;

    mmf__fault_set(op, err, 0, 1);
    CHECK_FAIL(mmf_create_new(NULL, MiB, RW, 0, &f), MMF_ENOSPC, err);
    CHECK(f == NULL);
    CHECK_EQ(mmf__fault_calls(op), 1);
    CHECK_EQ(t_fd_count(), fds);

    /* Delay-allocated: each writable view commits its range as it opens. */
    mmf__fault_clear();
    CHECK_OK(mmf_create_new(NULL, MiB, RW, MMF_OPT_DELAY_ALLOCATE, &f));
    mmf__fault_set(view_op, err, 0, view_count);
    CHECK_FAIL(mmf_view_open(f, 0, 0, RW, &v), MMF_ENOSPC, err);
    CHECK(v == NULL);
    mmf__fault_clear();
    CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
    CHECK_OK(mmf_view_write_u32(v, MiB - 4, 0x01020304u));
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_fd_count(), fds);
}

TEST(fault_enospc_fallocate_anonymous)
{
#ifdef _WIN32
    /* A pagefile-backed section is committed as it is created. A shortage
     * lasts: a view's commit is tried again through a writable view. */
    enospc_anonymous(MMF__FAULT_CREATE_MAPPING, ERROR_COMMITMENT_LIMIT,
                     MMF__FAULT_COMMIT, -1);
#else
    enospc_anonymous(MMF__FAULT_FALLOCATE, ENOSPC, MMF__FAULT_FALLOCATE, 1);
#endif
}

/*
 * The mapping a create makes fails for lack of memory: `file_op`, each of
 * the first `file_calls` calls in turn, for a file; `OP_MAP` for an
 * anonymous map.
 */
static void enomem_create(int file_op, int file_calls)
{
    const char *path = t_path("probe.bin");
    const char *old = t_path("old.bin");
    int fds = t_fd_count();
    mmf_file *f = BOGUS;

    t_make_file(old, 3000, -1);
    for (int k = 0; k < file_calls; k++) {
        /* Mapping a file the call creates. */
        mmf__fault_clear();
        mmf__fault_set(file_op, E_NOMEM, k, 1);
        f = BOGUS;
        CHECK_FAIL(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, MiB,
                                        RW, 0, &f),
                   MMF_ENOMEM, E_NOMEM);
        CHECK(f == NULL);
        CHECK_EQ(mmf__fault_calls(file_op), k + 1);
        CHECK(!t_exists(path));
        CHECK_EQ(t_fd_count(), fds);

        /* Of an existing file that would have grown. */
        mmf__fault_clear();
        mmf__fault_set(file_op, E_NOMEM, k, 1);
        f = BOGUS;
        CHECK_FAIL(
            mmf_create_from_file(old, MMF_MODE_OPEN, NULL, MiB, RW, 0, &f),
            MMF_ENOMEM, E_NOMEM);
        CHECK(f == NULL);
        CHECK_EQ(t_file_size(old), 3000);
        check_pattern(old, 3000);
        CHECK_EQ(t_fd_count(), fds);
    }

    /* Of an anonymous map: where it maps at creation (the library probes
     * execute access there), the failure is MMF_ENOMEM and leaves nothing;
     * where it does not, the call is unaffected. */
    for (int acc = RW; acc <= MMF_ACCESS_READ_WRITE_EXECUTE; acc++) {
        int rc;

        if (acc == MMF_ACCESS_WRITE)
            continue;
        mmf__fault_clear();
        mmf__fault_set(OP_MAP, E_NOMEM, 0, 1);
        f = BOGUS;
        rc = mmf_create_new(NULL, MiB, acc, 0, &f);
        if (mmf__fault_calls(OP_MAP) > 0) {
            CHECK_RC(rc, MMF_ENOMEM);
            CHECK_EQ(mmf_last_os_error(), E_NOMEM);
            CHECK(f == NULL);
        } else {
            CHECK_OK(rc);
            CHECK_OK(mmf_close(f));
        }
        CHECK_EQ(t_fd_count(), fds);
    }

    /* All three work once the fault is gone. */
    mmf__fault_clear();
    CHECK_OK(
        mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, MiB, RW, 0, &f));
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_create_from_file(old, MMF_MODE_OPEN, NULL, MiB, RW, 0, &f));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_file_size(old), MiB);
    CHECK_OK(mmf_create_new(NULL, MiB, RW, 0, &f));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_fd_count(), fds);
}

TEST(fault_enomem_mmap_create)
{
#ifdef _WIN32
    /* A file is not mapped as it is created: its sections are made, one to
     * probe the access and the map's own (after growth). */
    enomem_create(MMF__FAULT_CREATE_MAPPING, 2);
#else
    enomem_create(MMF__FAULT_MMAP, 1);
#endif
}

TEST(fault_enomem_mmap_view_open)
{
    const char *path = t_path("view.bin");
    int fds = t_fd_count();
    mmf_file *f = NULL;
    mmf_view *v = BOGUS;
    mmf_stream *s = BOGUS;
    uint64_t got = 0;

    CHECK_OK(
        mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, MiB, RW, 0, &f));
    mmf__fault_set(OP_MAP, E_NOMEM, 0, 1);
    CHECK_FAIL(mmf_view_open(f, 100, 5000, RW, &v), MMF_ENOMEM, E_NOMEM);
    CHECK(v == NULL);
    mmf__fault_set(OP_MAP, E_NOMEM, 0, 1);
    CHECK_FAIL(mmf_stream_open(f, 0, 0, MMF_ACCESS_READ, &s), MMF_ENOMEM,
               E_NOMEM);
    CHECK(s == NULL);

    /* The map is still usable. */
    mmf__fault_clear();
    CHECK_OK(mmf_view_open(f, 100, 5000, RW, &v));
    CHECK_OK(mmf_view_write_u64(v, 8, UINT64_C(0x1122334455667788)));
    CHECK_OK(mmf_view_read_u64(v, 8, &got));
    CHECK_EQ(got, UINT64_C(0x1122334455667788));
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    /* A failed view kept no reference: the map's descriptor is gone. */
    CHECK_EQ(t_fd_count(), fds);
}

TEST(fault_enomem_mmap_map_io)
{
    const char *path = t_path("io.bin");
    unsigned char buf[64], want[64];
    mmf_file *f = NULL;
    int fds = t_fd_count();

    t_make_file(path, 3 * pg(), -1);
    for (size_t i = 0; i < sizeof want; i++)
        want[i] = t_pattern(-1, 100 + i);

    /* mmf_read: the first window cannot be mapped, the next call can. */
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0, RW, 0, &f));
    mmf__fault_set(OP_MAP, E_NOMEM, 0, 1);
    CHECK_FAIL(mmf_read(f, 100, buf, sizeof buf), MMF_ENOMEM, E_NOMEM);
    CHECK_OK(mmf_read(f, 100, buf, sizeof buf));
    CHECK_MEM(buf, want, sizeof buf);
    CHECK_OK(mmf_close(f));

    /* mmf_write likewise, and nothing was written by the failed call. */
    mmf__fault_clear();
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0, RW, 0, &f));
    mmf__fault_set(OP_MAP, E_NOMEM, 0, 1);
    memset(buf, 0xee, sizeof buf);
    CHECK_FAIL(mmf_write(f, 100, buf, sizeof buf), MMF_ENOMEM, E_NOMEM);
    check_pattern(path, 3 * pg());
    CHECK_OK(mmf_write(f, 100, buf, sizeof buf));
    CHECK_OK(mmf_close(f));
    t_pread(path, 100, want, sizeof want);
    CHECK_MEM(buf, want, sizeof buf);
    CHECK_EQ(t_fd_count(), fds);
}

#ifdef _WIN32
/*
 * Windows: an open the OS refuses. The read-only attribute denies opening
 * a file for writing: MMF_EACCES with ERROR_ACCESS_DENIED, the file
 * untouched (MMF_MODE_CREATE included, which truncates only once the file
 * is open), no handle leaked; reading is still allowed. Where the
 * attribute denies nothing (wine run as root: it becomes Unix mode bits,
 * which root bypasses), CreateFileW's refusal is injected instead.
 */
static void eacces_open_windows(void)
{
    static const int modes[] = {MMF_MODE_OPEN, MMF_MODE_OPEN_OR_CREATE,
                                MMF_MODE_CREATE};
    const char *path = t_path("denied.bin");
    const char *fresh = t_path("fresh.bin");
    int fds, inject = 0;
    mmf_file *f = BOGUS;
    HANDLE h;

    t_make_file(path, 8192, -1);
    CHECK(SetFileAttributesA(path, FILE_ATTRIBUTE_READONLY));
    h = CreateFileA(path, GENERIC_WRITE,
                    FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                    NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h != INVALID_HANDLE_VALUE) {
        CloseHandle(h);
        printf("the read-only attribute denies nothing here (wine as root): "
               "the refusal is injected\n");
        inject = 1;
    }
    fds = t_fd_count();
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        /* Every open: the backend tries again without execute rights. */
        if (inject)
            mmf__fault_set(MMF__FAULT_CREATE_FILE, ERROR_ACCESS_DENIED, 0, -1);
        f = BOGUS;
        CHECK_FAIL(mmf_create_from_file(path, modes[i], NULL, 8192, RW, 0, &f),
                   MMF_EACCES, ERROR_ACCESS_DENIED);
        CHECK(f == NULL);
        f = BOGUS;
        CHECK_FAIL(mmf_create_from_file(path, modes[i], NULL, MiB, RW,
                                        MMF_OPT_DELAY_ALLOCATE, &f),
                   MMF_EACCES, ERROR_ACCESS_DENIED);
        CHECK(f == NULL);
        CHECK_EQ(t_file_size(path), 8192);
        check_pattern(path, 8192);
        CHECK_EQ(t_fd_count(), fds);
    }
    if (inject) {
        /* A file the call would have created is not there either. */
        f = BOGUS;
        CHECK_FAIL(mmf_create_from_file(fresh, MMF_MODE_CREATE_NEW, NULL, MiB,
                                        RW, 0, &f),
                   MMF_EACCES, ERROR_ACCESS_DENIED);
        CHECK(f == NULL);
        CHECK(!t_exists(fresh));
        mmf__fault_clear();
    }
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0, MMF_ACCESS_READ,
                                  0, &f));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_fd_count(), fds);
    CHECK(SetFileAttributesA(path, FILE_ATTRIBUTE_NORMAL));
}
#endif

TEST(fault_eacces_open)
{
#ifdef _WIN32
    eacces_open_windows();
#else
    const char *path = t_path("denied.bin");
    const char *fresh = t_path("fresh.bin");
    int fds = t_fd_count();
    mmf_file *f = BOGUS;

    t_make_file(path, 8192, -1);
    mmf__fault_set(MMF__FAULT_OPEN, EACCES, 0, 1);
    CHECK_FAIL(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0, RW, 0, &f),
               MMF_EACCES, EACCES);
    CHECK(f == NULL);
    CHECK_EQ(t_file_size(path), 8192);

    mmf__fault_set(MMF__FAULT_OPEN, EACCES, 0, 1);
    f = BOGUS;
    CHECK_FAIL(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                    MMF_ACCESS_READ, 0, &f),
               MMF_EACCES, EACCES);
    CHECK(f == NULL);

    mmf__fault_set(MMF__FAULT_OPEN, EACCES, 0, 1);
    f = BOGUS;
    CHECK_FAIL(
        mmf_create_from_file(fresh, MMF_MODE_CREATE_NEW, NULL, MiB, RW, 0, &f),
        MMF_EACCES, EACCES);
    CHECK(f == NULL);
    CHECK(!t_exists(fresh));
    CHECK_EQ(t_fd_count(), fds);
#endif
}

TEST(fault_efbig_ftruncate_delay_allocate)
{
    const char *path = t_path("big.bin");
    const char *fresh = t_path("fresh.bin");
    int fds = t_fd_count();
    mmf_file *f = BOGUS;

    t_make_file(path, 4096, -1);
    mmf__fault_set(OP_EXTEND, E_FBIG, 0, 1);
    CHECK_FAIL(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, MiB, RW,
                                    MMF_OPT_DELAY_ALLOCATE, &f),
               MMF_ERANGE, E_FBIG);
    CHECK(f == NULL);
    CHECK_EQ(t_file_size(path), 4096);
    check_pattern(path, 4096);
    CHECK_EQ(t_fd_count(), fds);

    mmf__fault_clear();
    mmf__fault_set(OP_EXTEND, E_FBIG, 0, 1);
    f = BOGUS;
    CHECK_FAIL(mmf_create_from_file(fresh, MMF_MODE_CREATE_NEW, NULL, MiB, RW,
                                    MMF_OPT_DELAY_ALLOCATE, &f),
               MMF_ERANGE, E_FBIG);
    CHECK(f == NULL);
    CHECK(!t_exists(fresh));
    CHECK_EQ(t_fd_count(), fds);

    /* Without the fault the delay-allocated growth is sparse and exact. */
    mmf__fault_clear();
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, MiB + 1, RW,
                                  MMF_OPT_DELAY_ALLOCATE, &f));
    CHECK_EQ(mmf_capacity(f), MiB + 1);
    CHECK_EQ(t_file_size(path), MiB + 1);
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_fd_count(), fds);
}

/*
 * The object behind an anonymous map cannot be sized (`size_op` fails with
 * `size_err`: MMF_ENOSPC), or not even made (`object_op` fails with
 * `object_err`, out of descriptors or handles: MMF_ENOMEM).
 */
static void enospc_anonymous_object(int size_op, int size_err, int object_op,
                                    int object_err)
{
    static const unsigned flags[] = {0, MMF_OPT_DELAY_ALLOCATE};
    int fds = t_fd_count();

    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
        mmf_file *f = BOGUS;

        mmf__fault_clear();
        mmf__fault_set(size_op, size_err, 0, 1);
        CHECK_FAIL(mmf_create_new(NULL, MiB, RW, flags[i], &f), MMF_ENOSPC,
                   size_err);
        CHECK(f == NULL);
        CHECK_EQ(mmf__fault_calls(size_op), 1);
        CHECK_EQ(t_fd_count(), fds);
    }

    {
        mmf_file *f = BOGUS;

        mmf__fault_clear();
        mmf__fault_set(object_op, object_err, 0, 1);
        CHECK_FAIL(mmf_create_new(NULL, MiB, RW, 0, &f), MMF_ENOMEM,
                   object_err);
        CHECK(f == NULL);
        CHECK_EQ(t_fd_count(), fds);
    }
}

TEST(fault_enospc_memfd_ftruncate)
{
#ifdef _WIN32
    int fds = t_fd_count();
    mmf_file *f = BOGUS;

    /* The section is sized as it is made: CreateFileMappingW. */
    enospc_anonymous_object(MMF__FAULT_CREATE_MAPPING, ERROR_COMMITMENT_LIMIT,
                            MMF__FAULT_CREATE_MAPPING,
                            ERROR_NO_SYSTEM_RESOURCES);

    /* A delay-allocated section commits its trailer page at once. */
    mmf__fault_clear();
    mmf__fault_set(MMF__FAULT_COMMIT, ERROR_COMMITMENT_LIMIT, 0, 1);
    CHECK_FAIL(mmf_create_new(NULL, MiB, RW, MMF_OPT_DELAY_ALLOCATE, &f),
               MMF_ENOSPC, ERROR_COMMITMENT_LIMIT);
    CHECK(f == NULL);
    CHECK_EQ(mmf__fault_calls(MMF__FAULT_COMMIT), 1);
    CHECK_EQ(t_fd_count(), fds);
#else
    /* memfd_create itself out of descriptors: MMF_ENOMEM. */
    enospc_anonymous_object(MMF__FAULT_FTRUNCATE, ENOSPC, MMF__FAULT_MEMFD,
                            EMFILE);
#endif
}

TEST(fault_eio_msync_flush)
{
    const char *path = t_path("msync.bin");
    static const unsigned kinds[] = {MMF_FLUSH_SYNC, MMF_FLUSH_DURABLE};
    mmf_file *f = NULL;
    mmf_view *v = NULL;
    mmf_stream *s = NULL;
    unsigned char got[5];

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, 64 * KiB, RW,
                                  0, &f));
    CHECK_OK(mmf_view_open(f, 4096, 0, RW, &v));
    CHECK_OK(mmf_stream_open(f, 0, 0, RW, &s));
    CHECK_OK(mmf_view_write(v, 10, "hello", 5));
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        mmf__fault_clear();
        mmf__fault_set(OP_FLUSH, E_IO, 0, 1);
        CHECK_FAIL(mmf_view_flush(v, 0, 0, kinds[i]), MMF_EIO, E_IO);
        CHECK_EQ(mmf__fault_calls(OP_FLUSH), 1);
        mmf__fault_set(OP_FLUSH, E_IO, 0, 1);
        CHECK_FAIL(mmf_stream_flush(s, kinds[i]), MMF_EIO, E_IO);
    }
    mmf__fault_clear();
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_SYNC));
    CHECK_OK(mmf_stream_flush(s, MMF_FLUSH_DURABLE));
    t_pread(path, 4096 + 10, got, 5);
    CHECK_MEM(got, "hello", 5);
    CHECK_OK(mmf_stream_close(s));
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
}

TEST(fault_eio_fsync_durable)
{
    const char *path = t_path("fsync.bin");
    mmf_file *f = NULL;
    mmf_view *v = NULL;
    mmf_stream *s = NULL;
    unsigned char got[5];

    CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, 64 * KiB, RW,
                                  0, &f));
    CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
    CHECK_OK(mmf_stream_open(f, 0, 0, RW, &s));
    CHECK_OK(mmf_view_write(v, 20000, "world", 5));

    mmf__fault_set(OP_SYNC, E_DATA, 0, 1);
    CHECK_FAIL(mmf_view_flush(v, 0, 0, MMF_FLUSH_DURABLE), MMF_EIO, E_DATA);
    mmf__fault_set(OP_SYNC, E_DATA, 0, 1);
    CHECK_FAIL(mmf_flush(f, 0, 0, MMF_FLUSH_DURABLE), MMF_EIO, E_DATA);
    mmf__fault_set(OP_SYNC, E_DATA, 0, 1);
    CHECK_FAIL(mmf_stream_flush(s, MMF_FLUSH_DURABLE), MMF_EIO, E_DATA);

#ifndef _WIN32
    /* This map created the file, so DURABLE also syncs its directory: a
     * failure there (the second fsync) is reported too, and retried by the
     * next DURABLE flush. (Windows flushes no directory.) */
    mmf__fault_clear();
    mmf__fault_set(MMF__FAULT_FSYNC, EIO, 1, 1);
    CHECK_FAIL(mmf_view_flush(v, 0, 0, MMF_FLUSH_DURABLE), MMF_EIO, EIO);
    CHECK_EQ(mmf__fault_calls(MMF__FAULT_FSYNC), 2);
#endif

    mmf__fault_clear();
    CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_DURABLE));
    CHECK_OK(mmf_flush(f, 0, 0, MMF_FLUSH_DURABLE));
    t_pread(path, 20000, got, 5);
    CHECK_MEM(got, "world", 5);
    CHECK_OK(mmf_stream_close(s));
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
}

/* mmf_create_from_handle keeps a duplicate of the caller's handle: out of
 * descriptors (handles), MMF_ENOMEM, and the caller's handle still works. */
TEST(fault_enomem_dup_handle)
{
    const char *path = t_path("dup.bin");
    mmf_file *f = BOGUS;
    mmf_handle h;
    uint32_t x = 0;
    int fds;

    t_make_file(path, 8192, -1);
    h = t_open_handle(path, 1);
    fds = t_fd_count();
    mmf__fault_set(OP_DUP, E_NOFILE, 0, 1);
    CHECK_FAIL(mmf_create_from_handle(h, NULL, 0, RW, 0, &f), MMF_ENOMEM,
               E_NOFILE);
    CHECK(f == NULL);
    CHECK_EQ(mmf__fault_calls(OP_DUP), 1);
    CHECK_EQ(t_fd_count(), fds);

    mmf__fault_clear();
    CHECK_OK(mmf_create_from_handle(h, NULL, 0, RW, 0, &f));
    CHECK_EQ(mmf_capacity(f), 8192);
    CHECK_OK(mmf_read(f, 8188, &x, sizeof x));
    CHECK(t_is_pattern(&x, 8188, sizeof x));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_fd_count(), fds);
    t_close_handle(h);
}

/* A change of permissions the OS refuses (another user's object, on
 * either platform): MMF_EPERM, and the mode stays. */
TEST(fault_eperm_set_permissions)
{
    char name[64];
    const char *names[] = {NULL, name};

    snprintf(name, sizeof name, "mmf-fault-perm-%d", t_self_pid());
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        mmf_file *f = NULL;
        unsigned mode = 0;

        mmf__fault_clear();
        CHECK_OK(mmf_create_new(names[i], MiB, RW, 0, &f));
        mmf__fault_clear();
        mmf__fault_set(OP_CHMOD, E_PERM, 0, 1);
        CHECK_FAIL(mmf_set_permissions(f, 0644), MMF_EPERM, E_PERM);
        CHECK_EQ(mmf__fault_calls(OP_CHMOD), 1);
        mmf__fault_clear();
        CHECK_OK(mmf_get_permissions(f, &mode));
        CHECK_EQ(mode, 0600);
        CHECK_OK(mmf_set_permissions(f, 0644));
        CHECK_OK(mmf_get_permissions(f, &mode));
        CHECK_EQ(mode, 0644);
        CHECK_OK(mmf_close(f));
    }
}

#ifndef _WIN32
/* ---- EINTR is retried, once or many times ---- */

static const int eintr_counts[] = {1, 2, 7};
#define N_EINTR (sizeof eintr_counts / sizeof eintr_counts[0])

static void arm_eintr(int op, int n)
{
    mmf__fault_clear();
    mmf__fault_set(op, EINTR, 0, n);
}

TEST(fault_eintr_open)
{
    for (size_t i = 0; i < N_EINTR; i++) {
        const char *path = t_path(i == 0 ? "a" : i == 1 ? "b" : "c");
        int n = eintr_counts[i];
        mmf_file *f = NULL;
        uint32_t x = 0;

        arm_eintr(MMF__FAULT_OPEN, n);
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, 8192, RW,
                                      0, &f));
        CHECK_EQ(mmf__fault_calls(MMF__FAULT_OPEN), n + 1);
        CHECK_EQ(mmf_created(f), 1);
        CHECK_EQ(mmf_capacity(f), 8192);
        CHECK_EQ(t_file_size(path), 8192);
        CHECK_OK(mmf_write(f, 8188, "abcd", 4));
        CHECK_OK(mmf_close(f));

        arm_eintr(MMF__FAULT_OPEN, n);
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0,
                                      MMF_ACCESS_READ, 0, &f));
        CHECK_EQ(mmf__fault_calls(MMF__FAULT_OPEN), n + 1);
        CHECK_EQ(mmf_created(f), 0);
        CHECK_OK(mmf_read(f, 8188, &x, 4));
        CHECK_MEM(&x, "abcd", 4);
        CHECK_OK(mmf_close(f));
    }
}

TEST(fault_eintr_fallocate)
{
    for (size_t i = 0; i < N_EINTR; i++) {
        const char *path = t_path(i == 0 ? "a" : i == 1 ? "b" : "c");
        int n = eintr_counts[i];
        mmf_file *f = NULL;
        mmf_view *v = NULL;

        arm_eintr(MMF__FAULT_FALLOCATE, n);
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, MiB, RW,
                                      0, &f));
        CHECK_EQ(mmf__fault_calls(MMF__FAULT_FALLOCATE), n + 1);
        CHECK_EQ(t_file_size(path), MiB);
        /* The storage was reserved (the retried fallocate did run). */
        CHECK(file_blocks_bytes(path) >= (int64_t)MiB);
        CHECK_OK(mmf_close(f));

        arm_eintr(MMF__FAULT_FALLOCATE, n);
        CHECK_OK(mmf_create_new(NULL, MiB, RW, 0, &f));
        CHECK_EQ(mmf__fault_calls(MMF__FAULT_FALLOCATE), n + 1);
        CHECK_EQ(mmf_capacity(f), MiB);
        CHECK_OK(mmf_close(f));

        /* The commit of a delay-allocated map's view. */
        mmf__fault_clear();
        CHECK_OK(mmf_create_new(NULL, MiB, RW, MMF_OPT_DELAY_ALLOCATE, &f));
        arm_eintr(MMF__FAULT_FALLOCATE, n);
        CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
        CHECK_EQ(mmf__fault_calls(MMF__FAULT_FALLOCATE), n + 1);
        CHECK_OK(mmf_view_write_u8(v, MiB - 1, 0x5a));
        CHECK_OK(mmf_view_close(v));
        CHECK_OK(mmf_close(f));
    }
}

TEST(fault_eintr_ftruncate)
{
    for (size_t i = 0; i < N_EINTR; i++) {
        const char *path = t_path(i == 0 ? "a" : i == 1 ? "b" : "c");
        int n = eintr_counts[i];
        mmf_file *f = NULL;

        arm_eintr(MMF__FAULT_FTRUNCATE, n);
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, MiB + 3,
                                      RW, MMF_OPT_DELAY_ALLOCATE, &f));
        CHECK_EQ(mmf__fault_calls(MMF__FAULT_FTRUNCATE), n + 1);
        CHECK_EQ(t_file_size(path), MiB + 3);
        CHECK_EQ(mmf_capacity(f), MiB + 3);
        CHECK_OK(mmf_write(f, MiB, "xyz", 3));
        CHECK_OK(mmf_close(f));

        arm_eintr(MMF__FAULT_FTRUNCATE, n);
        CHECK_OK(mmf_create_new(NULL, 3 * pg() + 1, RW, 0, &f));
        CHECK_EQ(mmf__fault_calls(MMF__FAULT_FTRUNCATE), n + 1);
        CHECK_EQ(mmf_capacity(f), 3 * pg() + 1);
        CHECK_OK(mmf_write(f, 3 * pg(), "q", 1));
        CHECK_OK(mmf_close(f));
    }
}

TEST(fault_eintr_fsync)
{
    for (size_t i = 0; i < N_EINTR; i++) {
        const char *path = t_path(i == 0 ? "a" : i == 1 ? "b" : "c");
        int n = eintr_counts[i];
        mmf_file *f = NULL;
        mmf_view *v = NULL;
        char got[6];

        mmf__fault_clear();
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, 64 * KiB,
                                      RW, 0, &f));
        CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
        CHECK_OK(mmf_view_write(v, 30000, "durab", 6));
        arm_eintr(MMF__FAULT_FSYNC, n);
        CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_DURABLE));
        CHECK(mmf__fault_calls(MMF__FAULT_FSYNC) >= n + 1);
        t_pread(path, 30000, got, 6);
        CHECK_MEM(got, "durab", 6);
        arm_eintr(MMF__FAULT_FSYNC, n);
        CHECK_OK(mmf_flush(f, 0, 0, MMF_FLUSH_DURABLE));
        CHECK(mmf__fault_calls(MMF__FAULT_FSYNC) >= n + 1);
        CHECK_OK(mmf_view_close(v));
        CHECK_OK(mmf_close(f));
    }
}

TEST(fault_eintr_sync_range)
{
    for (size_t i = 0; i < N_EINTR; i++) {
        const char *path = t_path(i == 0 ? "a" : i == 1 ? "b" : "c");
        int n = eintr_counts[i];
        mmf_file *f = NULL;
        mmf_view *v = NULL;
        char got[4];

        mmf__fault_clear();
        CHECK_OK(mmf_create_from_file(path, MMF_MODE_CREATE_NEW, NULL, 64 * KiB,
                                      RW, 0, &f));
        CHECK_OK(mmf_write(f, 5000, "sync", 4));
        arm_eintr(MMF__FAULT_SYNC_RANGE, n);
        CHECK_OK(mmf_flush(f, 0, 0, MMF_FLUSH_SYNC));
        CHECK_EQ(mmf__fault_calls(MMF__FAULT_SYNC_RANGE), n + 1);
        t_pread(path, 5000, got, 4);
        CHECK_MEM(got, "sync", 4);

        CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
        arm_eintr(MMF__FAULT_SYNC_RANGE, n);
        CHECK_OK(mmf_view_flush(v, 0, 0, MMF_FLUSH_ASYNC));
        CHECK_EQ(mmf__fault_calls(MMF__FAULT_SYNC_RANGE), n + 1);
        arm_eintr(MMF__FAULT_SYNC_RANGE, n);
        CHECK_OK(mmf_flush(f, 0, 0, MMF_FLUSH_ASYNC));
        CHECK_EQ(mmf__fault_calls(MMF__FAULT_SYNC_RANGE), n + 1);
        CHECK_OK(mmf_view_close(v));
        CHECK_OK(mmf_close(f));
    }
}

TEST(fault_eintr_madvise)
{
    for (size_t i = 0; i < N_EINTR; i++) {
        int n = eintr_counts[i];
        mmf_file *f = NULL;
        mmf_view *v = NULL;
        uint32_t x = 1;

        mmf__fault_clear();
        CHECK_OK(mmf_create_new(NULL, MiB, RW, MMF_OPT_DELAY_ALLOCATE, &f));
        CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
        arm_eintr(MMF__FAULT_MADVISE, n);
        CHECK_OK(mmf_view_advise(v, 0, 0, MMF_ADVICE_POPULATE));
        CHECK_EQ(mmf__fault_calls(MMF__FAULT_MADVISE), n + 1);
        arm_eintr(MMF__FAULT_MADVISE, n);
        CHECK_OK(mmf_view_advise(v, 123, 4096, MMF_ADVICE_WILLNEED));
        CHECK_EQ(mmf__fault_calls(MMF__FAULT_MADVISE), n + 1);
        CHECK_OK(mmf_view_read_u32(v, 4096, &x));
        CHECK_EQ(x, 0);
        CHECK_OK(mmf_view_close(v));
        CHECK_OK(mmf_close(f));
    }
}

#endif
NOT_ON_WINDOWS(fault_eintr_open, NO_EINTR)
NOT_ON_WINDOWS(fault_eintr_fallocate, NO_EINTR)
NOT_ON_WINDOWS(fault_eintr_ftruncate, NO_EINTR)
NOT_ON_WINDOWS(fault_eintr_fsync, NO_EINTR)
NOT_ON_WINDOWS(fault_eintr_sync_range, NO_EINTR)
NOT_ON_WINDOWS(fault_eintr_madvise, NO_EINTR)

/* ---- every call of a whole sequence, failed in turn ---- */

/* What a sequence reports: the first failure, and what it had done. */
struct seq_result {
    int rc;       /* MMF_OK or the first failing call's code */
    int os_error; /* mmf_last_os_error() right after that call */
    int created;  /* the create call succeeded */
};

/* A sequence over the file `path` (if it takes one), with the map named
 * `name` (NULL: unnamed). */
typedef struct seq_result (*seq_fn)(const char *path, const char *name);

static void seq_fail(struct seq_result *r, int rc)
{
    r->rc = rc;
    r->os_error = mmf_last_os_error();
}

/* create (CREATE_NEW, READ_WRITE, 1 MiB) + view + write + DURABLE + close */
static struct seq_result seq_file(const char *path, const char *name)
{
    struct seq_result r = {MMF_OK, 0, 0};
    mmf_file *f = BOGUS;
    mmf_view *v = NULL;
    int rc;

    rc = mmf_create_from_file(path, MMF_MODE_CREATE_NEW, name, MiB, RW, 0, &f);
    if (rc != MMF_OK) {
        seq_fail(&r, rc);
        CHECK(f == NULL);
        return r;
    }
    r.created = 1;
    v = BOGUS;
    rc = mmf_view_open(f, 0, 0, RW, &v);
    if (rc != MMF_OK) {
        seq_fail(&r, rc);
        CHECK(v == NULL);
    } else if ((rc = mmf_view_write(v, MiB - 5, "tail!", 5)) != MMF_OK ||
               (rc = mmf_view_flush(v, 0, 0, MMF_FLUSH_DURABLE)) != MMF_OK) {
        seq_fail(&r, rc);
    }
    if (v != NULL)
        CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    return r;
}

/* The same over a non-persisted map (anonymous unless named). */
static struct seq_result seq_anon(const char *unused, const char *name)
{
    struct seq_result r = {MMF_OK, 0, 0};
    mmf_file *f = BOGUS;
    mmf_view *v = NULL;
    uint64_t x = 0;
    int rc;

    (void)unused;
    rc = mmf_create_new(name, MiB, RW, 0, &f);
    if (rc != MMF_OK) {
        seq_fail(&r, rc);
        CHECK(f == NULL);
        return r;
    }
    r.created = 1;
    v = BOGUS;
    rc = mmf_view_open(f, 0, 0, RW, &v);
    if (rc != MMF_OK) {
        seq_fail(&r, rc);
        CHECK(v == NULL);
    } else if ((rc = mmf_view_write_u64(v, 8, 42)) != MMF_OK ||
               (rc = mmf_view_flush(v, 0, 0, MMF_FLUSH_DURABLE)) != MMF_OK ||
               (rc = mmf_view_read_u64(v, 8, &x)) != MMF_OK) {
        seq_fail(&r, rc);
    } else {
        CHECK_EQ(x, 42);
    }
    if (v != NULL)
        CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    return r;
}

#ifdef _WIN32
static const char *const op_names[MMF__FAULT_COUNT] = {
    "CreateFileW",
    "CreateFileMappingW",
    "MapViewOfFile",
    "SetFileInformationByHandle(allocation)",
    "SetFileInformationByHandle(end of file)",
    "FlushViewOfFile",
    "FlushFileBuffers",
    "VirtualAlloc(commit)",
    "DuplicateHandle",
    "SetSecurityInfo"};
static const int table_errs[] = {ERROR_DISK_FULL, ERROR_IO_DEVICE,
                                 ERROR_NOT_ENOUGH_MEMORY};

static const char *err_text(int err)
{
    static char buf[32];

    snprintf(buf, sizeof buf, "error %d", err);
    return buf;
}
#else
static const char *const op_names[MMF__FAULT_COUNT] = {
    "open",  "fstat",      "fallocate", "ftruncate", "mmap",   "msync",
    "fsync", "sync_range", "madvise",   "memfd",     "fchmod", "dup"};
static const int table_errs[] = {ENOSPC, EIO, ENOMEM};

static const char *err_text(int err)
{
    return strerror(err);
}
#endif

/* Runs `seq` with call k of `op` failing with `err`: the failure must be
 * reported with its code and leave nothing behind (no file, no change of
 * size, no descriptor or handle, no name). */
static void check_case(seq_fn seq, const char *path, const char *name,
                       int persisted, int op, int k, int err)
{
    int fds = t_fd_count();
    struct seq_result r;
    mmf_info info;

    mmf__fault_clear();
    mmf__fault_set(op, err, k, 1);
    r = seq(path, name);
    if (mmf__fault_calls(op) <= k)
        t_fail(__FILE__, __LINE__, "%s call %d not reached", op_names[op], k);
    if (r.rc >= 0)
        t_fail(__FILE__, __LINE__, "%s call %d failing with %s went unreported",
               op_names[op], k, err_text(err));
    if (strcmp(mmf_errname(r.rc), "MMF_EUNKNOWN") == 0)
        t_fail(__FILE__, __LINE__, "unknown code %d", r.rc);
    if (r.os_error != err)
        t_fail(__FILE__, __LINE__, "%s call %d (%s): %s, last_os_error %d",
               op_names[op], k, err_text(err), mmf_errname(r.rc), r.os_error);
    if (persisted && !r.created && t_exists(path))
        t_fail(__FILE__, __LINE__, "%s call %d (%s): %s, file left behind",
               op_names[op], k, err_text(err), mmf_errname(r.rc));
    if (persisted && r.created && t_file_size(path) != (int64_t)MiB)
        t_fail(__FILE__, __LINE__, "file size changed");
    if (t_fd_count() != fds)
        t_fail(__FILE__, __LINE__, "%s call %d (%s): descriptor leaked",
               op_names[op], k, err_text(err));
    if (name != NULL && mmf_stat(name, MMF_KIND_MAP, &info) != MMF_ENOENT)
        t_fail(__FILE__, __LINE__, "%s call %d (%s): %s, name left behind",
               op_names[op], k, err_text(err), mmf_errname(r.rc));
}

static void run_fault_table(seq_fn seq, const char *path, const char *name,
                            int persisted)
{
    int clean[MMF__FAULT_COUNT];
    int fds, cases = 0;
    struct seq_result r;
    mmf_info info;

    /* Windows: the first named object of a process opens the session's
     * object directory, which stays open; a look at the name does it
     * before the handles are counted. */
    if (name != NULL)
        CHECK_RC(mmf_stat(name, MMF_KIND_MAP, &info), MMF_ENOENT);
    fds = t_fd_count();

    /* A clean run, counting the calls of each kind. */
    mmf__fault_clear();
    r = seq(path, name);
    CHECK_RC(r.rc, MMF_OK);
    for (int op = 0; op < MMF__FAULT_COUNT; op++)
        clean[op] = mmf__fault_calls(op);
    if (persisted) {
        char got[5];
        t_pread(path, MiB - 5, got, 5);
        CHECK_MEM(got, "tail!", 5);
        CHECK_EQ(remove(path), 0);
    }
    CHECK_EQ(t_fd_count(), fds);

    for (int op = 0; op < MMF__FAULT_COUNT; op++) {
        for (int k = 0; k < clean[op]; k++) {
            for (size_t e = 0; e < sizeof table_errs / sizeof table_errs[0];
                 e++) {
#ifdef _WIN32
                /* No fork: each case runs here, announced first so that
                 * a crash tells which call caused it. */
                printf("%s call %d: %s\n", op_names[op], k,
                       err_text(table_errs[e]));
                fflush(stdout);
                check_case(seq, path, name, persisted, op, k, table_errs[e]);
#else
                pid_t pid = fork_child();
                int st;

                if (pid == 0) {
                    /* In a child, so that a crash is reported with the
                     * call that caused it. The descriptors are counted
                     * there: under valgrind a child does not have all of
                     * its parent's (valgrind's own vgdb FIFO). */
                    check_case(seq, path, name, persisted, op, k,
                               table_errs[e]);
                    fflush(NULL);
                    _exit(0);
                }
                st = t_wait(pid);
                if (st != 0)
                    t_fail(__FILE__, __LINE__,
                           "%s call %d failing with %s: child status %d",
                           op_names[op], k, err_text(table_errs[e]), st);
#endif
                if (persisted)
                    (void)remove(path);
                cases++;
            }
        }
    }
    printf("%d injected failures, all reported\n", cases);
    CHECK(cases > 0);
}

#ifdef _WIN32
/* A name of this process's own for the named sequences. */
static const char *seq_name(void)
{
    static char name[64];

    snprintf(name, sizeof name, "mmf-fault-seq-%d", t_self_pid());
    return name;
}
#endif

TEST(fault_table_file_sequence)
{
    run_fault_table(seq_file, t_path("seq.bin"), NULL, 1);
#ifdef _WIN32
    /* Named: publishing the name is part of the sequence. */
    run_fault_table(seq_file, t_path("seq.bin"), seq_name(), 1);
#endif
}

TEST(fault_table_anon_sequence)
{
    run_fault_table(seq_anon, NULL, NULL, 0);
#ifdef _WIN32
    run_fault_table(seq_anon, NULL, seq_name(), 0);
#endif
}

/* ======================================================================
 * 2. A disk that is really full: a 1 MiB tmpfs.
 * ====================================================================== */

#ifndef _WIN32
static void disk_full_checks(const char *mnt)
{
    char big[4096], small[4096], other[4096], sparse[4096];
    int fds = t_fd_count();
    mmf_file *f = BOGUS, *g = NULL;
    mmf_view *v = NULL;
    int rc;

    snprintf(big, sizeof big, "%s/big.bin", mnt);
    snprintf(small, sizeof small, "%s/small.bin", mnt);
    snprintf(other, sizeof other, "%s/other.bin", mnt);
    snprintf(sparse, sizeof sparse, "%s/sparse.bin", mnt);

    /* 4 MiB on a 1 MiB file system. */
    CHECK_FAIL(mmf_create_from_file(big, MMF_MODE_CREATE_NEW, NULL, 4 * MiB, RW,
                                    0, &f),
               MMF_ENOSPC, ENOSPC);
    CHECK(f == NULL);
    CHECK(!t_exists(big));
    CHECK_EQ(t_fd_count(), fds);

    /* 256 KiB fits, and its storage is really there. */
    CHECK_OK(mmf_create_from_file(small, MMF_MODE_CREATE_NEW, NULL, 256 * KiB,
                                  RW, 0, &f));
    CHECK_EQ(t_file_size(small), 256 * KiB);
    CHECK(file_blocks_bytes(small) >= (int64_t)(256 * KiB));
    CHECK_OK(mmf_write(f, 256 * KiB - 4, "end!", 4));
    CHECK_OK(mmf_flush(f, 0, 0, MMF_FLUSH_DURABLE));

    /* Growing an existing file past the free space: its size stays. */
    t_make_file(other, 4096, -1);
    CHECK_FAIL(
        mmf_create_from_file(other, MMF_MODE_OPEN, NULL, 2 * MiB, RW, 0, &g),
        MMF_ENOSPC, ENOSPC);
    CHECK(g == NULL);
    CHECK_EQ(t_file_size(other), 4096);
    check_pattern(other, 4096);

    /* Delay-allocated, the map can be made; POPULATE then reports that the
     * pages cannot be had, and a guarded write there fails, neither of
     * them with a crash. */
    CHECK_OK(mmf_create_from_file(sparse, MMF_MODE_CREATE_NEW, NULL, 4 * MiB,
                                  RW, MMF_OPT_DELAY_ALLOCATE, &g));
    CHECK_OK(mmf_view_open(g, 0, 0, RW, &v));
    rc = mmf_view_advise(v, 0, 0, MMF_ADVICE_POPULATE);
    if (rc != MMF_EIO && rc != MMF_ENOSPC)
        t_fail(__FILE__, __LINE__, "POPULATE on a full tmpfs: %s",
               mmf_errname(rc));
    if (!resume_unreliable()) {
        rc = mmf_view_write(v, 4 * MiB - 8, "12345678", 8);
        if (rc != MMF_EIO && rc != MMF_ENOSPC)
            t_fail(__FILE__, __LINE__, "write to a full tmpfs: %s",
                   mmf_errname(rc));
    }
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(g));
    CHECK_EQ(unlink(sparse), 0);
    CHECK_EQ(unlink(other), 0);

    /* The first map is intact. */
    {
        char got[4];
        CHECK_OK(mmf_read(f, 256 * KiB - 4, got, 4));
        CHECK_MEM(got, "end!", 4);
    }
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_fd_count(), fds);
}

TEST(fault_disk_full_tmpfs)
{
    const char *mnt = t_path("tmpfs");
    pid_t pid;
    int st;

    if (mkdir(mnt, 0700) != 0)
        t_fail(__FILE__, __LINE__, "mkdir %s: %s", mnt, strerror(errno));
    pid = fork_child();
    if (pid == 0) {
        /* A private mount namespace: the mount vanishes with this child,
         * whatever happens to it. Fall back to the shared one (the parent
         * detaches the mount) where namespaces are not allowed. */
        if (unshare(CLONE_NEWNS) == 0)
            (void)mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL);
        if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m") !=
            0) {
            printf("cannot mount a tmpfs at %s: %s (needs root or "
                   "CAP_SYS_ADMIN)\n",
                   mnt, strerror(errno));
            fflush(NULL);
            _exit(77);
        }
        disk_full_checks(mnt);
        (void)umount2(mnt, MNT_DETACH);
        fflush(NULL);
        _exit(0);
    }
    st = t_wait(pid);
    (void)umount2(mnt, MNT_DETACH); /* only if the child could not unshare */
    if (st == 77)
        SKIP("no permission to mount a 1 MiB tmpfs for the disk-full test");
    CHECK_EQ(st, 0);
}
#endif
NOT_ON_WINDOWS(fault_disk_full_tmpfs,
               "mounts a 1 MiB tmpfs in a Linux mount namespace (a really "
               "full disk); Windows has no equivalent for a test to make")

/* ======================================================================
 * 3. The SIGBUS guard: a file that shrinks under its views.
 * ====================================================================== */

/* A 3-page file (pattern -1) mapped READ_WRITE. */
static mmf_file *map_three_pages(const char *path)
{
    mmf_file *f = NULL;

    t_make_file(path, 3 * pg(), -1);
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0, RW, 0, &f));
    CHECK_EQ(mmf_capacity(f), 3 * pg());
    return f;
}

#ifdef _WIN32
/*
 * What Windows raises when the storage behind a view fails (a network file
 * gone, a disk pulled; the counterpart of SIGBUS for a file that shrank):
 * EXCEPTION_IN_PAGE_ERROR at the address touched, with the access kind,
 * the address and the NTSTATUS as its parameters. A file cannot shrink
 * under a mapping there, so the test raises the record the memory manager
 * would; the guard's vectored handler cannot tell the difference, and
 * RaiseException returns once the handler resumes.
 */
static void raise_in_page_error(const volatile void *addr, int write)
{
    ULONG_PTR info[3];

    info[0] = write ? 1 : 0;
    info[1] = (ULONG_PTR)addr;
    info[2] = 0xC000009C; /* STATUS_DEVICE_DATA_ERROR */
    RaiseException(EXCEPTION_IN_PAGE_ERROR, 0, 3, info);
}

/*
 * The top-level filter of tests that provoke exceptions: one that reaches
 * it fails the test. (Left to wine, an unhandled exception starts its
 * debugger, and the process then sometimes exits with status 0.)
 */
static LONG WINAPI fail_on_exception(EXCEPTION_POINTERS *ep)
{
    EXCEPTION_RECORD *r = ep->ExceptionRecord;

    t_fail(__FILE__, __LINE__, "unhandled exception 0x%lx, address %p",
           (unsigned long)r->ExceptionCode,
           r->NumberParameters >= 2 ? (void *)r->ExceptionInformation[1]
                                    : r->ExceptionAddress);
}

static int poisoned(const mmf_view *v)
{
    return ((const mmf_view_head *)(const void *)v)->poisoned;
}

/* An in-page error in a view poisons it, as a shrink does on POSIX; the
 * whole view then reads zeros (Windows cannot unmap part of a view), other
 * views and the file are untouched. */
static void view_guard_windows(void)
{
    const char *path = t_path("shrink.bin");
    int fds = t_fd_count();
    mmf_file *f = map_three_pages(path);
    mmf_view *v = NULL, *other = NULL;
    const uint64_t P = pg();
    unsigned char buf[16];
    volatile unsigned char *raw;
    uint32_t x = 0xdeadbeefu;
    uint8_t b = 0x77;

    (void)SetUnhandledExceptionFilter(fail_on_exception);
    CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
    CHECK_OK(mmf_view_open(f, 0, 0, MMF_ACCESS_READ, &other));
    raw = mmf_view_data(v);
    CHECK_OK(mmf_view_read(v, 2 * P + 10, buf, sizeof buf));
    CHECK_EQ(buf[0], t_pattern(-1, 2 * P + 10));
    CHECK_EQ(raw[P], t_pattern(-1, P));
    CHECK_EQ(raw[0], t_pattern(-1, 0));
    CHECK_EQ(poisoned(v), 0);

    raise_in_page_error(raw + 2 * P + 10, 0);
    CHECK(poisoned(v));
    CHECK_EQ(poisoned(other), 0);

    CHECK_RC(mmf_view_read(v, 2 * P + 10, buf, sizeof buf), MMF_EIO);
    CHECK_RC(mmf_view_read_u32(v, 2 * P + 100, &x), MMF_EIO);
    CHECK_EQ(x, 0xdeadbeefu);
    CHECK_RC(mmf_view_read(v, 0, buf, sizeof buf), MMF_EIO);
    CHECK_RC(mmf_view_read_u8(v, 0, &b), MMF_EIO);
    CHECK_EQ(b, 0x77);
    CHECK_RC(mmf_view_read_u32(v, 4, &x), MMF_EIO);
    CHECK_EQ(x, 0xdeadbeefu);
    /* Raw pointer reads give zeros, no crash: the whole view. */
    CHECK_EQ(raw[2 * P + 7], 0);
    CHECK_EQ(raw[P + 3], 0);
    CHECK_EQ(raw[3 * P - 1], 0);
    CHECK_EQ(raw[5], 0);
    /* Writes fail, and so does a flush: the view maps no file now. */
    CHECK_RC(mmf_view_write(v, 0, "x", 1), MMF_EIO);
    CHECK_RC(mmf_view_write(v, 2 * P, "x", 1), MMF_EIO);
    CHECK_RC(mmf_view_write_u16(v, 8, 0x1234), MMF_EIO);
    CHECK_RC(mmf_view_flush(v, 0, 0, MMF_FLUSH_SYNC), MMF_EIO);
    /* A raw write lands in the zero memory, not in the file. */
    raw[P + 1] = 9;
    CHECK_EQ(raw[P + 1], 9);
    /* A second error in the same view: still poisoned, still resumed. */
    raise_in_page_error(raw + 8, 1);
    CHECK(poisoned(v));
    CHECK_RC(mmf_view_read(v, 0, buf, 1), MMF_EIO);

    /* Argument errors still come first. */
    CHECK_RC(mmf_view_read(v, 3 * P + 1, buf, 0), MMF_ERANGE);
    CHECK_RC(mmf_view_read(v, 3 * P - 2, buf, 4), MMF_ERANGE);
    CHECK_RC(mmf_view_read(v, 0, NULL, 4), MMF_EINVAL);
    CHECK_RC(mmf_view_read(NULL, 0, buf, 4), MMF_EINVAL);
    CHECK_RC(mmf_view_write(v, 3 * P, "ab", 2), MMF_ERANGE);
    CHECK_RC(mmf_view_write(v, 0, NULL, 2), MMF_EINVAL);
    CHECK_RC(mmf_view_read_u32(v, 3 * P - 2, &x), MMF_ERANGE);
    CHECK_RC(mmf_view_read_u32(v, 0, NULL), MMF_EINVAL);
    CHECK_RC(mmf_view_write_u64(v, 3 * P - 7, 1), MMF_ERANGE);
    CHECK_RC(mmf_view_write_u64(NULL, 0, 1), MMF_EINVAL);

    /* The other view, map-level I/O and a view opened fresh still see
     * the file. */
    CHECK(t_is_pattern(mmf_view_data(other), 0, (size_t)(3 * P)));
    CHECK_OK(mmf_view_read(other, 2 * P + 10, buf, sizeof buf));
    CHECK(t_is_pattern(buf, 2 * P + 10, sizeof buf));
    CHECK_OK(mmf_read(f, P + 3, buf, sizeof buf));
    CHECK(t_is_pattern(buf, P + 3, sizeof buf));
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
    CHECK_EQ(poisoned(v), 0);
    CHECK_OK(mmf_view_read(v, 2 * P + 10, buf, sizeof buf));
    CHECK(t_is_pattern(buf, 2 * P + 10, sizeof buf));

    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_view_close(other));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_fd_count(), fds);
    CHECK_EQ(t_file_size(path), 3 * P);
    check_pattern(path, 3 * P);
}
#endif

TEST(fault_sigbus_view_guard)
{
#ifdef _WIN32
    view_guard_windows();
#else
    const char *path = t_path("shrink.bin");
    mmf_file *f = map_three_pages(path);
    mmf_view *v = NULL;
    const uint64_t P = pg();
    unsigned char buf[16];
    volatile unsigned char *raw;
    uint32_t x = 0xdeadbeefu;
    uint8_t b = 0x77;

    skip_if_resume_unreliable();

    CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
    raw = mmf_view_data(v);
    /* Touch every page first, so that they are mapped when the file
     * shrinks. */
    CHECK_OK(mmf_view_read(v, 2 * P + 10, buf, sizeof buf));
    CHECK_EQ(buf[0], t_pattern(-1, 2 * P + 10));
    CHECK_EQ(raw[P], t_pattern(-1, P));
    CHECK_EQ(raw[0], t_pattern(-1, 0));

    set_file_size(path, P);

    CHECK_RC(mmf_view_read(v, 2 * P + 10, buf, sizeof buf), MMF_EIO);
    CHECK_RC(mmf_view_read_u32(v, 2 * P + 100, &x), MMF_EIO);
    CHECK_EQ(x, 0xdeadbeefu);
    /* Poisoned: even the page still backed. */
    CHECK_RC(mmf_view_read(v, 0, buf, sizeof buf), MMF_EIO);
    CHECK_RC(mmf_view_read_u8(v, 0, &b), MMF_EIO);
    CHECK_EQ(b, 0x77);
    CHECK_RC(mmf_view_read_u32(v, 4, &x), MMF_EIO);
    CHECK_EQ(x, 0xdeadbeefu);
    /* Raw pointer reads of the vanished pages give zeros, no crash. */
    CHECK_EQ(raw[2 * P + 7], 0);
    CHECK_EQ(raw[P + 3], 0);
    CHECK_EQ(raw[3 * P - 1], 0);
    /* ... while the page still backed keeps its bytes. */
    CHECK_EQ(raw[5], t_pattern(-1, 5));
    /* Writes fail too. */
    CHECK_RC(mmf_view_write(v, 0, "x", 1), MMF_EIO);
    CHECK_RC(mmf_view_write(v, 2 * P, "x", 1), MMF_EIO);
    CHECK_RC(mmf_view_write_u16(v, 8, 0x1234), MMF_EIO);
    CHECK(((const mmf_view_head *)(const void *)v)->poisoned);

    /* Argument errors still come first. */
    CHECK_RC(mmf_view_read(v, 3 * P + 1, buf, 0), MMF_ERANGE);
    CHECK_RC(mmf_view_read(v, 3 * P - 2, buf, 4), MMF_ERANGE);
    CHECK_RC(mmf_view_read(v, 0, NULL, 4), MMF_EINVAL);
    CHECK_RC(mmf_view_read(NULL, 0, buf, 4), MMF_EINVAL);
    CHECK_RC(mmf_view_write(v, 3 * P, "ab", 2), MMF_ERANGE);
    CHECK_RC(mmf_view_write(v, 0, NULL, 2), MMF_EINVAL);
    CHECK_RC(mmf_view_read_u32(v, 3 * P - 2, &x), MMF_ERANGE);
    CHECK_RC(mmf_view_read_u32(v, 0, NULL), MMF_EINVAL);
    CHECK_RC(mmf_view_write_u64(v, 3 * P - 7, 1), MMF_ERANGE);
    CHECK_RC(mmf_view_write_u64(NULL, 0, 1), MMF_EINVAL);

    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_file_size(path), P);
    check_pattern(path, P);
#endif
}

#ifndef _WIN32
/* Each guarded call, as the very first access after the shrink, meets the
 * fault itself (rather than a view already poisoned). */
TEST(fault_sigbus_first_access)
{
    const char *path = t_path("first.bin");
    mmf_file *f = map_three_pages(path);
    const uint64_t P = pg();
    mmf_view *v = NULL;
    unsigned char buf[8];
    uint32_t x = 0xdeadbeefu;
    volatile uint32_t sink;
    double d = 1.5;
    int rc;

    skip_if_resume_unreliable();

    set_file_size(path, P);

    /* The value read is used whatever the result (the usual pattern). */
    CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
    rc = mmf_view_read_u32(v, P + 2, &x);
    sink = x;
    CHECK_RC(rc, MMF_EIO);
    CHECK_EQ(sink, 0xdeadbeefu);
    CHECK_RC(mmf_view_read_u32(v, 0, &x), MMF_EIO);
    CHECK_OK(mmf_view_close(v));

    CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
    CHECK_RC(mmf_view_write_f64(v, 2 * P + 8, 2.5), MMF_EIO);
    CHECK_RC(mmf_view_read_f64(v, 0, &d), MMF_EIO);
    CHECK_EQ(d == 1.5, 1);
    CHECK_OK(mmf_view_close(v));

    CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
    CHECK_RC(mmf_view_write(v, 2 * P + 1, "abc", 3), MMF_EIO);
    CHECK_RC(mmf_view_write(v, 0, "abc", 3), MMF_EIO);
    CHECK_OK(mmf_view_close(v));

    /* A read straddling the end of the file. */
    CHECK_OK(mmf_view_open(f, 0, 0, MMF_ACCESS_READ, &v));
    CHECK_RC(mmf_view_read(v, P - 4, buf, sizeof buf), MMF_EIO);
    CHECK_OK(mmf_view_close(v));

    /* A raw access poisons the view as well. */
    CHECK_OK(mmf_view_open(f, P / 2, 0, RW, &v));
    {
        volatile unsigned char *raw = mmf_view_data(v);
        CHECK_EQ(raw[P], 0);
        raw[P + 1] = 9; /* lands in the zero page, not in the file */
        CHECK_EQ(raw[P + 1], 9);
    }
    CHECK(((const mmf_view_head *)(const void *)v)->poisoned);
    CHECK_RC(mmf_view_read(v, 0, buf, 1), MMF_EIO);
    CHECK_OK(mmf_view_close(v));

    /* A view opened fresh over the backed page alone is fine. */
    CHECK_OK(mmf_view_open(f, 0, P, MMF_ACCESS_READ, &v));
    CHECK_OK(mmf_view_read(v, 0, buf, sizeof buf));
    CHECK_EQ(buf[3], t_pattern(-1, 3));
    CHECK_OK(mmf_view_close(v));

    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_file_size(path), P);
    check_pattern(path, P);
}

/*
 * A typed read whose value the caller never looks at (it only asks whether
 * the bytes can be read) must still touch them: MMF_EIO, not MMF_OK, for
 * bytes the file no longer has.
 */
TEST(fault_sigbus_typed_read_unused_value)
{
    const char *path = t_path("typed.bin");
    mmf_file *f = map_three_pages(path);
    const uint64_t P = pg();
    mmf_view *v = NULL;
    uint32_t x = 0xdeadbeefu;
    uint8_t b = 0x77;
    double d = 1.5;

    skip_if_resume_unreliable();

    set_file_size(path, P);

    CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
    CHECK_RC(mmf_view_read_u32(v, P + 2, &x), MMF_EIO);
    CHECK_EQ(x, 0xdeadbeefu);
    CHECK_OK(mmf_view_close(v));

    CHECK_OK(mmf_view_open(f, 0, 0, MMF_ACCESS_READ, &v));
    CHECK_RC(mmf_view_read_u8(v, 2 * P, &b), MMF_EIO);
    CHECK_EQ(b, 0x77);
    CHECK_OK(mmf_view_close(v));

    CHECK_OK(mmf_view_open(f, 0, 0, MMF_ACCESS_READ, &v));
    CHECK_RC(mmf_view_read_f64(v, 3 * P - 8, &d), MMF_EIO);
    CHECK_EQ(d == 1.5, 1);
    CHECK_OK(mmf_view_close(v));

    CHECK_OK(mmf_close(f));
}

TEST(fault_sigbus_stream)
{
    const char *path = t_path("stream.bin");
    mmf_file *f = map_three_pages(path);
    const uint64_t P = pg();
    mmf_stream *s = NULL, *w = NULL;
    unsigned char buf[32];
    size_t nread = 99;
    uint64_t pos = 0;

    skip_if_resume_unreliable();

    CHECK_OK(mmf_stream_open(f, 0, 0, RW, &s));
    CHECK_OK(mmf_stream_open(f, 0, 0, RW, &w));
    set_file_size(path, P);

    /* The backed page reads, until the stream meets the fault. */
    CHECK_OK(mmf_stream_read(s, buf, 16, &nread));
    CHECK_EQ(nread, 16);
    CHECK_EQ(buf[15], t_pattern(-1, 15));
    CHECK_OK(mmf_stream_seek(s, (int64_t)(2 * P), MMF_SEEK_SET, &pos));
    CHECK_EQ(pos, 2 * P);
    nread = 99;
    CHECK_RC(mmf_stream_read(s, buf, sizeof buf, &nread), MMF_EIO);
    CHECK_EQ(nread, 0);
    CHECK_OK(mmf_stream_seek(s, 0, MMF_SEEK_SET, NULL));
    nread = 99;
    CHECK_RC(mmf_stream_read(s, buf, 4, &nread), MMF_EIO);
    CHECK_EQ(nread, 0);
    CHECK_RC(mmf_stream_write(s, "z", 1), MMF_EIO);

    /* Writes meet it too. */
    CHECK_OK(mmf_stream_seek(w, (int64_t)P + 1, MMF_SEEK_SET, NULL));
    CHECK_RC(mmf_stream_write(w, "abcd", 4), MMF_EIO);

    CHECK_OK(mmf_stream_close(s));
    CHECK_OK(mmf_stream_close(w));
    CHECK_OK(mmf_close(f));
    CHECK_EQ(t_file_size(path), P);
}

TEST(fault_sigbus_map_io)
{
    const char *path = t_path("mapio.bin");
    mmf_file *f = map_three_pages(path);
    const uint64_t P = pg();
    unsigned char buf[64], want[64];

    skip_if_resume_unreliable();

    for (size_t i = 0; i < sizeof want; i++)
        want[i] = t_pattern(-1, 40 + i);
    /* The window exists before the shrink. */
    CHECK_OK(mmf_read(f, 40, buf, sizeof buf));
    CHECK_MEM(buf, want, sizeof buf);

    set_file_size(path, P);

    CHECK_RC(mmf_read(f, 2 * P, buf, sizeof buf), MMF_EIO);
    /* The window that met the fault is replaced: page 0 reads. */
    memset(buf, 0, sizeof buf);
    CHECK_OK(mmf_read(f, 40, buf, sizeof buf));
    CHECK_MEM(buf, want, sizeof buf);
    /* Again, through the replacement window, and straddling the end. */
    CHECK_RC(mmf_read(f, P + 5, buf, 8), MMF_EIO);
    CHECK_RC(mmf_read(f, P - 8, buf, 16), MMF_EIO);
    memset(buf, 0, sizeof buf);
    CHECK_OK(mmf_read(f, 40, buf, sizeof buf));
    CHECK_MEM(buf, want, sizeof buf);
    /* Writes: the vanished page fails, the backed one reaches the file. */
    CHECK_RC(mmf_write(f, 2 * P + 1, "gone", 4), MMF_EIO);
    CHECK_OK(mmf_write(f, 100, "kept", 4));
    CHECK_OK(mmf_flush(f, 0, 0, MMF_FLUSH_SYNC));
    t_pread(path, 100, buf, 4);
    CHECK_MEM(buf, "kept", 4);
    CHECK_EQ(t_file_size(path), P);
    CHECK_OK(mmf_close(f));
}

TEST(fault_sigbus_populate_shrunk)
{
    const char *path = t_path("populate.bin");
    mmf_file *f = map_three_pages(path);
    mmf_view *v = NULL;
    int rc;

    set_file_size(path, pg());
    CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
    rc = mmf_view_advise(v, 0, 0, MMF_ADVICE_POPULATE);
    if (rc != MMF_EIO && rc != MMF_ENOSPC)
        t_fail(__FILE__, __LINE__, "POPULATE past the end of file: %s",
               mmf_errname(rc));
    CHECK_OK(mmf_view_advise(v, 0, pg(), MMF_ADVICE_POPULATE));
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
}
#endif
NOT_ON_WINDOWS(fault_sigbus_first_access, NO_TRUNCATE_MAPPED)
NOT_ON_WINDOWS(fault_sigbus_typed_read_unused_value, NO_TRUNCATE_MAPPED)
NOT_ON_WINDOWS(fault_sigbus_stream, NO_TRUNCATE_MAPPED)
NOT_ON_WINDOWS(fault_sigbus_map_io, NO_TRUNCATE_MAPPED)
NOT_ON_WINDOWS(fault_sigbus_populate_shrunk, NO_TRUNCATE_MAPPED)

/* ---- faults that are not the library's own ---- */

#ifndef _WIN32
/* Opens a view (so that the library's handler is installed) and keeps it
 * open; the caller closes it. */
static void open_guarded_view(const char *path, mmf_file **f, mmf_view **v)
{
    t_make_file(path, 2 * pg(), 0x11);
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0, RW, 0, f));
    CHECK_OK(mmf_view_open(*f, 0, 0, RW, v));
}

/* Maps a 2-page file of the test's own and shrinks it to 0: reading the
 * returned pointer faults outside every libmmf view. */
static volatile unsigned char *foreign_vanished_page(const char *path)
{
    void *p;
    int fd;

    t_make_file(path, 2 * pg(), 0x22);
    fd = open(path, O_RDWR);
    if (fd < 0)
        t_fail(__FILE__, __LINE__, "open: %s", strerror(errno));
    p = mmap(NULL, 2 * pg(), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED)
        t_fail(__FILE__, __LINE__, "mmap: %s", strerror(errno));
    if (((volatile unsigned char *)p)[pg()] != 0x22 || ftruncate(fd, 0) != 0)
        t_fail(__FILE__, __LINE__, "setup of the foreign mapping failed");
    close(fd);
    return (volatile unsigned char *)p + pg();
}

/*
 * Under AddressSanitizer the runtime has a SIGBUS handler of its own before
 * main() runs (handle_sigbus=1), so the handler the library chains to is
 * ASan's, which reports a "deadly signal" and exits with status 1 instead
 * of letting the default action kill the process. The child restores the
 * default disposition first so that, as in a plain build, there is no
 * previous handler when the library installs its own.
 */
static void child_without_handler(void)
{
    if (UNDER_ASAN)
        (void)signal(SIGBUS, SIG_DFL);
}

/* Where reads meant to fault put their byte: a load whose value is never
 * used is dropped by valgrind's JIT even through a volatile pointer, and
 * then does not fault there. */
static volatile unsigned char sink_byte;

/* Silences the child's stderr just before the signal it is meant to die
 * of (valgrind and ASan report such deaths at length). */
static void quiet_stderr(void)
{
    int fd = open("/dev/null", O_WRONLY);

    if (fd >= 0) {
        (void)dup2(fd, 2);
        close(fd);
    }
}

/* In a child: opens a view, then raises SIGBUS the way `how` says (0: kill,
 * 1: a real fault outside every view). Returns only if it survived. */
static void sigbus_child(int keep_previous, int how)
{
    mmf_file *f = NULL;
    mmf_view *v = NULL;
    volatile unsigned char *p = NULL;

    if (!keep_previous)
        child_without_handler();
    open_guarded_view(t_path("view.bin"), &f, &v);
    if (how == 1)
        p = foreign_vanished_page(t_path("other.bin"));
    quiet_stderr();
    if (how == 0)
        (void)kill(getpid(), SIGBUS);
    else
        sink_byte = p[0];
}

static void check_not_swallowed(int how)
{
    pid_t pid = fork_child();

    if (pid == 0) {
        sigbus_child(0, how);
        _exit(3); /* still alive: the signal was swallowed */
    }
    CHECK_EQ(t_wait(pid), 128 + SIGBUS);

    /* Under ASan, with ASan's own handler kept as the previous one: the
     * library chains to it, and ASan ends the child (exit status 1 after
     * its "deadly signal" report) rather than the signal itself. */
    if (UNDER_ASAN) {
        int st;

        pid = fork_child();
        if (pid == 0) {
            sigbus_child(1, how);
            _exit(3);
        }
        st = t_wait(pid);
        CHECK(st != 0 && st != 3);
    }
}

#else
/* The child's last resort, as Windows' default action with the error box
 * off: end the process with the exception's code. (Wine ignores
 * SEM_NOGPFAULTERRORBOX and would start its debugger.) */
static LONG WINAPI die_with_code(EXCEPTION_POINTERS *ep)
{
    fflush(NULL);
    TerminateProcess(GetCurrentProcess(), ep->ExceptionRecord->ExceptionCode);
    return EXCEPTION_EXECUTE_HANDLER;
}

/*
 * A child with guarded views open meets an exception that is not the
 * library's; it must end the process. Args: how (raise: an in-page error
 * raised with no address; outside: one for an address outside every view;
 * noaccess: a real access violation outside every view; readonly: a write
 * through a READ view, a protection fault inside a view; poisoned_readonly:
 * the same once an in-page error made the guard replace the view).
 */
HELPER(fault_unhandled)
{
    mmf_file *f = NULL;
    mmf_view *v = NULL, *r = NULL;
    volatile unsigned char *p;
    int local = 0;

    if (argc != 1)
        return 2;
    SetUnhandledExceptionFilter(die_with_code);
    if (mmf_create_new(NULL, 2 * pg(), RW, 0, &f) != MMF_OK ||
        mmf_view_open(f, 0, 0, RW, &v) != MMF_OK ||
        mmf_view_open(f, 0, 0, MMF_ACCESS_READ, &r) != MMF_OK)
        return 4;
    if (strcmp(argv[0], "raise") == 0) {
        RaiseException(EXCEPTION_IN_PAGE_ERROR, 0, 0, NULL);
    } else if (strcmp(argv[0], "outside") == 0) {
        raise_in_page_error(&local, 0);
    } else if (strcmp(argv[0], "noaccess") == 0) {
        p = VirtualAlloc(NULL, (SIZE_T)pg(), MEM_RESERVE | MEM_COMMIT,
                         PAGE_NOACCESS);
        if (p == NULL)
            return 5;
        local = p[0];
    } else if (strcmp(argv[0], "readonly") == 0) {
        p = mmf_view_data(r);
        p[pg() + 1] = 0x42;
    } else if (strcmp(argv[0], "poisoned_readonly") == 0) {
        /* The zeros that replace a READ view are read-only too. */
        p = mmf_view_data(r);
        raise_in_page_error(p, 0);
        if (!poisoned(r) || p[pg() + 1] != 0)
            return 6;
        p[pg() + 1] = 0x42;
    } else {
        return 2;
    }
    return 3; /* still alive: the exception was swallowed */
}

/* Runs fault_unhandled `how`; the child must die of exception `code`. */
static void check_not_swallowed(const char *how, DWORD code)
{
    const char *args[] = {how, NULL};
    int st = t_wait(t_spawn("fault_unhandled", args));

    if ((DWORD)st != code)
        t_fail(__FILE__, __LINE__, "%s: child status 0x%x, want 0x%lx", how,
               (unsigned)st, (unsigned long)code);
}
#endif

TEST(fault_sigbus_kill_not_swallowed)
{
#ifdef _WIN32
    /* Windows: exceptions raised rather than faults. */
    check_not_swallowed("raise", EXCEPTION_IN_PAGE_ERROR);
    check_not_swallowed("outside", EXCEPTION_IN_PAGE_ERROR);
#else
    check_not_swallowed(0);
#endif
}

TEST(fault_sigbus_foreign_fault_not_swallowed)
{
#ifdef _WIN32
    check_not_swallowed("noaccess", EXCEPTION_ACCESS_VIOLATION);
    check_not_swallowed("readonly", EXCEPTION_ACCESS_VIOLATION);
    check_not_swallowed("poisoned_readonly", EXCEPTION_ACCESS_VIOLATION);
#else
    check_not_swallowed(1);
#endif
}

#ifndef _WIN32
/* The user's own handler, installed before the library's. */
static volatile sig_atomic_t user_calls, user_code;
static void *volatile user_addr;
static sigjmp_buf user_jmp;
static volatile sig_atomic_t user_jump;

static void user_info_handler(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    if (sig != SIGBUS)
        return;
    user_calls++;
    user_code = si->si_code;
    user_addr = si->si_addr;
    if (user_jump)
        siglongjmp(user_jmp, 1);
}

static void user_plain_handler(int sig)
{
    if (sig == SIGBUS)
        user_calls++;
}

static void fault_in_view_checks(void)
{
    mmf_file *g = map_three_pages(t_path("shrinks.bin"));
    mmf_view *w = NULL;
    uint32_t x;
    int before = user_calls;

    CHECK_OK(mmf_view_open(g, 0, 0, RW, &w));
    set_file_size(t_path("shrinks.bin"), pg());
    CHECK_RC(mmf_view_read(w, 2 * pg(), &x, sizeof x), MMF_EIO);
    CHECK_EQ(user_calls, before);
    CHECK_OK(mmf_view_close(w));
    CHECK_OK(mmf_close(g));
}

/* In a child: the user's handler gets signals sent to the process and
 * faults outside views; faults inside views stay the library's. */
static void user_handler_checks(int with_info)
{
    const char *path = t_path("user.bin");
    const char *other = t_path("other.bin");
    mmf_file *f = NULL;
    mmf_view *v = NULL;
    struct sigaction sa;

    child_without_handler();
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    if (with_info) {
        sa.sa_sigaction = user_info_handler;
        sa.sa_flags = SA_SIGINFO;
    } else {
        sa.sa_handler = user_plain_handler;
    }
    CHECK_EQ(sigaction(SIGBUS, &sa, NULL), 0);

    open_guarded_view(path, &f, &v); /* the library's first view */

    /* A signal sent to the process reaches the user's handler. */
    CHECK_EQ(kill(getpid(), SIGBUS), 0);
    CHECK_EQ(user_calls, 1);
    if (with_info)
        CHECK_EQ(user_code, SI_USER);
    CHECK_EQ(raise(SIGBUS), 0);
    CHECK_EQ(user_calls, 2);

    /* A fault inside a view is the library's: MMF_EIO, user not called.
     * (Not under valgrind without precise exceptions; see above.) */
    if (resume_unreliable())
        printf("valgrind: skipping the fault inside a view\n");
    else
        fault_in_view_checks();

    /* A real fault outside every view is the user's (who jumps out). */
    if (with_info) {
        volatile unsigned char *p = foreign_vanished_page(other);

        user_jump = 1;
        if (sigsetjmp(user_jmp, 1) == 0) {
            sink_byte = p[0];
            t_fail(__FILE__, __LINE__, "the foreign fault was swallowed");
        }
        user_jump = 0;
        CHECK_EQ(user_calls, 3);
        CHECK_EQ(user_code, BUS_ADRERR);
        CHECK(user_addr == (void *)p);
    }

    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
}

#else
/* The user's own handlers: a vectored handler added before the library's
 * (which puts its own first), or the top-level filter. */
static volatile LONG user_calls;
static volatile DWORD user_code;
static void *volatile user_addr;
/* PAGE_NOACCESS until the user's handler opens it. */
static volatile unsigned char *user_page;

static LONG user_handle(EXCEPTION_POINTERS *ep)
{
    EXCEPTION_RECORD *r = ep->ExceptionRecord;
    DWORD old;

    if (r->ExceptionCode != EXCEPTION_IN_PAGE_ERROR &&
        r->ExceptionCode != EXCEPTION_ACCESS_VIOLATION)
        return EXCEPTION_CONTINUE_SEARCH;
    user_calls++;
    user_code = r->ExceptionCode;
    user_addr =
        r->NumberParameters >= 2 ? (void *)r->ExceptionInformation[1] : NULL;
    if (r->ExceptionCode == EXCEPTION_IN_PAGE_ERROR)
        return EXCEPTION_CONTINUE_EXECUTION; /* raised: RaiseException returns
                                              */
    if (user_page != NULL &&
        (uintptr_t)user_addr - (uintptr_t)user_page < (uintptr_t)pg() &&
        VirtualProtect((void *)user_page, (SIZE_T)pg(), PAGE_READWRITE, &old))
        return EXCEPTION_CONTINUE_EXECUTION;
    return EXCEPTION_CONTINUE_SEARCH;
}

static LONG CALLBACK user_vectored(EXCEPTION_POINTERS *ep)
{
    return user_handle(ep);
}

static LONG WINAPI user_filter(EXCEPTION_POINTERS *ep)
{
    LONG verdict = user_handle(ep);

    if (verdict == EXCEPTION_CONTINUE_SEARCH)
        return fail_on_exception(ep);
    return verdict;
}

/* The user's handler gets raised exceptions and faults outside views;
 * an in-page error inside a view stays the library's. */
static void user_handler_checks(int vectored)
{
    mmf_file *f = map_three_pages(t_path("user.bin"));
    mmf_view *v = NULL;
    PVOID h = NULL;
    int local = 0;
    uint8_t b = 0x77;

    if (vectored) {
        h = AddVectoredExceptionHandler(1, user_vectored);
        CHECK(h != NULL);
        (void)SetUnhandledExceptionFilter(fail_on_exception);
    } else {
        (void)SetUnhandledExceptionFilter(user_filter);
    }
    CHECK_OK(mmf_view_open(f, 0, 0, RW, &v)); /* the library's first view */

    /* A raised exception reaches the user's handler. */
    RaiseException(EXCEPTION_IN_PAGE_ERROR, 0, 0, NULL);
    CHECK_EQ(user_calls, 1);
    CHECK_EQ(user_code, EXCEPTION_IN_PAGE_ERROR);
    CHECK(user_addr == NULL);
    raise_in_page_error(&local, 0);
    CHECK_EQ(user_calls, 2);
    CHECK(user_addr == (void *)&local);

    /* An in-page error inside a view is the library's: MMF_EIO, user not
     * called. */
    raise_in_page_error((unsigned char *)mmf_view_data(v) + 2 * pg(), 0);
    CHECK_EQ(user_calls, 2);
    CHECK(poisoned(v));
    CHECK_RC(mmf_view_read_u8(v, 0, &b), MMF_EIO);
    CHECK_EQ(b, 0x77);

    /* A real fault outside every view is the user's (who opens the page). */
    user_page = VirtualAlloc(NULL, (SIZE_T)pg(), MEM_RESERVE | MEM_COMMIT,
                             PAGE_NOACCESS);
    CHECK(user_page != NULL);
    CHECK_EQ(user_page[7], 0);
    CHECK_EQ(user_calls, 3);
    CHECK_EQ(user_code, EXCEPTION_ACCESS_VIOLATION);
    CHECK(user_addr == (void *)(user_page + 7));
    CHECK(VirtualFree((void *)user_page, 0, MEM_RELEASE));
    user_page = NULL;

    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    if (h != NULL)
        CHECK(RemoveVectoredExceptionHandler(h));
}
#endif

TEST(fault_sigbus_user_handler_chained)
{
#ifdef _WIN32
    user_handler_checks(1);
#else
    pid_t pid = fork_child();

    if (pid == 0) {
        user_handler_checks(1);
        fflush(NULL);
        _exit(0);
    }
    CHECK_EQ(t_wait(pid), 0);
#endif
}

TEST(fault_sigbus_user_plain_handler_chained)
{
#ifdef _WIN32
    /* Windows: the top-level filter, the program's last handler. */
    user_handler_checks(0);
#else
    pid_t pid = fork_child();

    if (pid == 0) {
        user_handler_checks(0);
        fflush(NULL);
        _exit(0);
    }
    CHECK_EQ(t_wait(pid), 0);
#endif
}

/* ======================================================================
 * 4. POPULATE when memory is fine.
 * ====================================================================== */

TEST(fault_populate_delay_allocated_anonymous)
{
    mmf_file *f = NULL;
    mmf_view *v = NULL, *r = NULL, *c = NULL;
    uint64_t x = 1;

    CHECK_OK(mmf_create_new(NULL, 4 * MiB, RW, MMF_OPT_DELAY_ALLOCATE, &f));
    CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
    CHECK_OK(mmf_view_advise(v, 0, 0, MMF_ADVICE_POPULATE));
    CHECK_OK(mmf_view_advise(v, 12345, 100000, MMF_ADVICE_POPULATE));
    CHECK_OK(mmf_view_read_u64(v, 4 * MiB - 8, &x));
    CHECK_EQ(x, 0);
    CHECK_OK(mmf_view_write_u64(v, 2 * MiB, UINT64_C(0xfeedface)));

    CHECK_OK(mmf_view_open(f, MiB, MiB + 8, MMF_ACCESS_READ, &r));
    CHECK_OK(mmf_view_advise(r, 0, 0, MMF_ADVICE_POPULATE));
    CHECK_OK(mmf_view_read_u64(r, MiB, &x));
    CHECK_EQ(x, UINT64_C(0xfeedface));

    CHECK_OK(mmf_view_open(f, 0, MiB, MMF_ACCESS_COPY_ON_WRITE, &c));
    CHECK_OK(mmf_view_advise(c, 0, 0, MMF_ADVICE_POPULATE));

    CHECK_OK(mmf_view_close(c));
    CHECK_OK(mmf_view_close(r));
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
}

/*
 * Named maps on POSIX, with real processes: creating and opening by name,
 * names and prefixes, lifetime as on Windows (close, views, children,
 * SIGKILL in every order, fork), creation races, coherence of atomic
 * counters between processes, MMF_OPT_KEEP_NAME and mmf_unlink, access
 * rights, named persisted maps, objects libmmf did not create, interop with
 * plain shm_open and Python, stale entries, permissions, other users,
 * planted symlinks and inheritance across exec. Checked against API.md.
 *
 * Every object name is "mmft-<pid>-<tag>-<n>" (pid of the test process),
 * and every test checks at its end that it left nothing in /dev/shm. When a
 * test fails, an exit handler kills the children it started and removes
 * what its names left in /dev/shm.
 *
 * On Windows the same tests run against kernel sections and mutexes (see
 * docs/DESIGN.md, "The Windows backend"): "nothing left" means no section,
 * meta section or mutex of the name in the kernel namespace; forked
 * children become helpers started with t_spawn (pipe handles and shared
 * memory inherited), and the kill tests use TerminateProcess. Where
 * Windows behaves otherwise by contract (Global\ is another namespace,
 * KEEP_NAME and mmf_unlink are MMF_ENOTSUP, another program's handle keeps
 * a section alive, permission modes map to DACLs), the Windows behaviour
 * is checked instead.
 */
#include "test.h"

#include <errno.h>
#include <stdatomic.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <aclapi.h>
#else
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#define NAMESZ 256
#define SHM_DIR "/dev/shm"
#define REG_PREFIX ".mmf-map."
#define MTX_PREFIX ".mmf-mtx."

#define RW MMF_ACCESS_READ_WRITE
#define RO MMF_ACCESS_READ

/* The status t_wait reports for a killed child (128 + SIGKILL; t_kill
 * makes Windows report the same). */
#define KILLED 137

/* ---- bookkeeping: names, children, cleanup on failure ------------------ */

static pid_t owner_pid;
static pid_t kids[64];
static int nkids;

#ifndef _WIN32
/* The /dev/shm paths of the names this test used (for the watchdog, which
 * may only make async-signal-safe calls). */
static char used_paths[3 * 64][300];
static int nused;

static int file_mentions(int dfd, const char *entry, const char *needle)
{
    char buf[8192];
    ssize_t n;
    int fd = openat(dfd, entry, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);

    if (fd < 0)
        return 0;
    n = pread(fd, buf, sizeof buf, 0);
    close(fd);
    return n > 0 && memmem(buf, (size_t)n, needle, strlen(needle)) != NULL;
}

/* Kills the children still running and removes what this test's names
 * left in /dev/shm (only when the test failed: a passing test has already
 * checked that nothing is left). */
static void at_exit_cleanup(void)
{
    char pfx[64];
    DIR *d;
    struct dirent *e;

    if (getpid() != owner_pid)
        return;
    for (int i = 0; i < nkids; i++) {
        if (kids[i] > 0) {
            kill(kids[i], SIGKILL);
            (void)waitpid(kids[i], NULL, 0);
        }
    }
    nkids = 0;
    snprintf(pfx, sizeof pfx, "mmft-%ld-", (long)owner_pid);
    d = opendir(SHM_DIR);
    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name, *b = nm;
        if (strncmp(nm, REG_PREFIX, 9) == 0 || strncmp(nm, MTX_PREFIX, 9) == 0)
            b = nm + 9;
        if (strncmp(b, pfx, strlen(pfx)) == 0 ||
            (b != nm && b[0] == '#' && file_mentions(dirfd(d), nm, pfx)))
            (void)unlinkat(dirfd(d), nm, 0);
    }
    closedir(d);
}

/* A hang (a deadlock in the library, a lost wake-up) fails the test with a
 * message instead of waiting for CTest's timeout. Only async-signal-safe
 * calls: report, kill this test's children, exit. */
enum { WATCHDOG_SECONDS = 60 };

static void on_watchdog(int sig)
{
    static const char msg[] = "FAIL: watchdog: the test hung (see above for "
                              "the last step reached)\n";
    (void)sig;
    (void)!write(2, msg, sizeof msg - 1);
    for (int i = 0; i < nkids; i++)
        if (kids[i] > 0)
            kill(kids[i], SIGKILL);
    for (int i = 0; i < nused; i++)
        (void)unlink(used_paths[i]);
    _exit(1);
}

static void setup(void)
{
    if (owner_pid == 0) {
        owner_pid = getpid();
        atexit(at_exit_cleanup);
        signal(SIGALRM, on_watchdog);
        alarm(WATCHDOG_SECONDS);
    }
}
#else
/* Ends the children still running. The kernel removes whatever names they
 * held with their last handles, so there is nothing else to clean up. The
 * runner keeps each child's process handle until t_wait, so its id is not
 * reused meanwhile. */
static void kill_kids(void)
{
    for (int i = 0; i < nkids; i++) {
        if (kids[i] > 0) {
            HANDLE h = OpenProcess(PROCESS_TERMINATE, FALSE, (DWORD)kids[i]);
            if (h != NULL) {
                TerminateProcess(h, KILLED);
                CloseHandle(h);
            }
        }
    }
}

static void at_exit_cleanup(void)
{
    if (t_self_pid() != owner_pid)
        return;
    kill_kids();
    nkids = 0;
}

/* The watchdog: a thread that fails the test when it has not ended in
 * time (wine under parallel load starts processes slowly, so it allows
 * more than on POSIX; still under CTest's timeout). */
enum { WATCHDOG_SECONDS = 240 };

static DWORD WINAPI watchdog(LPVOID arg)
{
    static const char msg[] = "FAIL: watchdog: the test hung (see above for "
                              "the last step reached)\n";
    DWORD put;

    (void)arg;
    Sleep(WATCHDOG_SECONDS * 1000u);
    WriteFile(GetStdHandle(STD_ERROR_HANDLE), msg, sizeof msg - 1, &put, NULL);
    kill_kids();
    _exit(1);
}

static void setup(void)
{
    if (owner_pid == 0) {
        HANDLE t;
        owner_pid = t_self_pid();
        atexit(at_exit_cleanup);
        t = CreateThread(NULL, 0, watchdog, NULL, 0, NULL);
        if (t == NULL)
            t_fail(__FILE__, __LINE__, "CreateThread: %lu", GetLastError());
        CloseHandle(t);
    }
}
#endif

static void name_of(char *out, const char *tag, int n)
{
    setup();
    snprintf(out, NAMESZ, "mmft-%ld-%s-%d", (long)owner_pid, tag, n);
#ifndef _WIN32
    if (nused + 3 <= (int)(sizeof used_paths / sizeof used_paths[0])) {
        snprintf(used_paths[nused++], 300, "%s/%s", SHM_DIR, out);
        snprintf(used_paths[nused++], 300, "%s/%s%s", SHM_DIR, REG_PREFIX, out);
        snprintf(used_paths[nused++], 300, "%s/%s%s", SHM_DIR, MTX_PREFIX, out);
    }
#endif
}

static void add_kid(pid_t pid)
{
    for (int i = 0; i < nkids; i++) {
        if (kids[i] <= 0) {
            kids[i] = pid;
            return;
        }
    }
    if (nkids < (int)(sizeof kids / sizeof kids[0]))
        kids[nkids++] = pid;
}

/* Waits for a child this test started and forgets it. */
static int wait_kid(pid_t pid)
{
    int st = t_wait(pid);

    for (int i = 0; i < nkids; i++)
        if (kids[i] == pid)
            kids[i] = -1;
    return st;
}

static void kill_kid(pid_t pid)
{
    CHECK(pid > 0);
#ifndef _WIN32
    CHECK(kill(pid, SIGKILL) == 0);
    CHECK_EQ(wait_kid(pid), 128 + SIGKILL);
#else
    t_kill(pid);
    CHECK_EQ(wait_kid(pid), KILLED);
#endif
}

/* In a child that waits to be killed: never returns. */
static void wait_to_be_killed(void) __attribute__((noreturn));
static void wait_to_be_killed(void)
{
    for (;;)
#ifndef _WIN32
        pause();
#else
        Sleep(INFINITE);
#endif
}

/* Lets other processes run (busy waits). */
static void yield_cpu(void)
{
#ifndef _WIN32
    sched_yield();
#else
    SwitchToThread();
#endif
}

#ifndef _WIN32
/* fork(); the child returns 0 and must end with _exit. */
static pid_t start_fork(void)
{
    pid_t pid;

    setup();
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        t_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    if (pid > 0)
        add_kid(pid);
    return pid;
}
#endif

/* t_spawn with the pipe ends (or, on Windows, any handles) `fds` inherited
 * by the helper. */
static pid_t spawn_fds(const char *helper, const char *const *args,
                       const int *fds, int nfds)
{
    pid_t pid;

    setup();
#ifndef _WIN32
    for (int i = 0; i < nfds; i++)
        CHECK(fcntl(fds[i], F_SETFD, 0) == 0);
    pid = t_spawn(helper, args);
    for (int i = 0; i < nfds; i++)
        CHECK(fcntl(fds[i], F_SETFD, FD_CLOEXEC) == 0);
#else
    /* CreateProcess passes on every inheritable handle: these are
     * inheritable only while this child starts. */
    for (int i = 0; i < nfds; i++)
        CHECK(SetHandleInformation((HANDLE)(intptr_t)fds[i],
                                   HANDLE_FLAG_INHERIT, HANDLE_FLAG_INHERIT));
    pid = t_spawn(helper, args);
    for (int i = 0; i < nfds; i++)
        CHECK(SetHandleInformation((HANDLE)(intptr_t)fds[i],
                                   HANDLE_FLAG_INHERIT, 0));
#endif
    add_kid(pid);
    return pid;
}

static pid_t spawn(const char *helper, const char *const *args)
{
    return spawn_fds(helper, args, NULL, 0);
}

/* ---- pipes ------------------------------------------------------------- */

/*
 * A pipe end is an int: a descriptor on POSIX, a HANDLE value on Windows
 * (handle values fit in 32 bits, as Windows guarantees for 32/64-bit
 * interop), so either can be passed to a helper on its command line.
 * Pipe ends are never inherited unless passed to spawn_fds.
 */
static void xpipe(int p[2])
{
#ifndef _WIN32
    if (pipe2(p, O_CLOEXEC) != 0)
        t_fail(__FILE__, __LINE__, "pipe2: %s", strerror(errno));
#else
    HANDLE r, w;

    if (!CreatePipe(&r, &w, NULL, 0))
        t_fail(__FILE__, __LINE__, "CreatePipe: %lu", GetLastError());
    p[0] = (int)(intptr_t)r;
    p[1] = (int)(intptr_t)w;
#endif
}

static void close_end(int fd)
{
#ifndef _WIN32
    close(fd);
#else
    CloseHandle((HANDLE)(intptr_t)fd);
#endif
}

/* write(2) / WriteFile: the count written, or -1. */
static long raw_write(int fd, const void *buf, size_t n)
{
#ifndef _WIN32
    ssize_t k;

    do
        k = write(fd, buf, n);
    while (k < 0 && errno == EINTR);
    return (long)k;
#else
    DWORD put = 0;

    if (!WriteFile((HANDLE)(intptr_t)fd, buf, (DWORD)n, &put, NULL))
        return -1;
    return (long)put;
#endif
}

/* read(2) / ReadFile: the count read, 0 at end of file (the writer is
 * gone), or -1. */
static long raw_read(int fd, void *buf, size_t n)
{
#ifndef _WIN32
    ssize_t k;

    do
        k = read(fd, buf, n);
    while (k < 0 && errno == EINTR);
    return (long)k;
#else
    DWORD got = 0;

    if (!ReadFile((HANDLE)(intptr_t)fd, buf, (DWORD)n, &got, NULL))
        return GetLastError() == ERROR_BROKEN_PIPE ? 0 : -1;
    return (long)got;
#endif
}

static void put_byte(int fd, char c)
{
    if (raw_write(fd, &c, 1) != 1)
        t_fail(__FILE__, __LINE__, "pipe write: %s", strerror(errno));
}

/* The next byte, or -1 at end of file (the writer is gone). */
static int try_get_byte(int fd)
{
    unsigned char c;

    return raw_read(fd, &c, 1) == 1 ? c : -1;
}

static void expect_byte(int fd, char want)
{
    int c = try_get_byte(fd);

    if (c != (unsigned char)want)
        t_fail(__FILE__, __LINE__, "pipe: got %d, want '%c'%s", c, want,
               c < 0 ? " (the other process is gone)" : "");
}

/* Reports a failure to the parent and ends a child. */
static void die_with(int fd, char c) __attribute__((noreturn));
static void die_with(int fd, char c)
{
    put_byte(fd, c);
    _exit(1);
}

static void write_all(int fd, const void *buf, size_t n)
{
    if (raw_write(fd, buf, n) != (long)n)
        t_fail(__FILE__, __LINE__, "pipe write: %s", strerror(errno));
}

static int read_all(int fd, void *buf, size_t n)
{
    size_t done = 0;

    while (done < n) {
        long k = raw_read(fd, (char *)buf + done, n - done);
        if (k <= 0)
            return -1;
        done += (size_t)k;
    }
    return 0;
}

/* ---- what a name leaves in the system ---------------------------------- */

static const char *base_of(const char *name)
{
    if (strncmp(name, "Local\\", 6) == 0)
        return name + 6;
    if (strncmp(name, "Global\\", 7) == 0)
        return name + 7;
    return name;
}

#ifndef _WIN32
/* /dev/shm/BASE: the data of a non-persisted map. */
static const char *data_path(const char *name, char *buf)
{
    snprintf(buf, 512, "%s/%s", SHM_DIR, base_of(name));
    return buf;
}

/* /dev/shm/.mmf-map.BASE (or .mmf-mtx.BASE): the registration. */
static const char *reg_path(const char *prefix, const char *name, char *buf)
{
    snprintf(buf, 512, "%s/%s%s", SHM_DIR, prefix, base_of(name));
    return buf;
}

static int reg_fits(const char *name)
{
    return strlen(REG_PREFIX) + strlen(base_of(name)) <= 255;
}

/* Fails the test if anything of `name` is left in /dev/shm: its data, its
 * map and mutex registrations, or (for names whose registration is a
 * digest) any registration that records the name. */
static void check_gone_at(int line, const char *name)
{
    char p[512];
    const char *base = base_of(name);

    if (t_exists(data_path(name, p)))
        t_fail(__FILE__, line, "left behind: %s", p);
    if (reg_fits(name)) {
        if (t_exists(reg_path(REG_PREFIX, name, p)))
            t_fail(__FILE__, line, "left behind: %s", p);
        if (t_exists(reg_path(MTX_PREFIX, name, p)))
            t_fail(__FILE__, line, "left behind: %s", p);
    } else {
        DIR *d = opendir(SHM_DIR);
        struct dirent *e;
        CHECK(d != NULL);
        while ((e = readdir(d)) != NULL) {
            if ((strncmp(e->d_name, REG_PREFIX, 9) == 0 ||
                 strncmp(e->d_name, MTX_PREFIX, 9) == 0) &&
                file_mentions(dirfd(d), e->d_name, base)) {
                char found[300];
                snprintf(found, sizeof found, "%s", e->d_name);
                closedir(d);
                t_fail(__FILE__, line, "left behind: %s/%s (for %s)", SHM_DIR,
                       found, base);
            }
        }
        closedir(d);
    }
}

static unsigned mode_of(const char *path)
{
    struct stat st;

    if (lstat(path, &st) != 0)
        t_fail(__FILE__, __LINE__, "lstat %s: %s", path, strerror(errno));
    return (unsigned)st.st_mode & 07777u;
}
#else
/*
 * The kernel objects behind a name (docs/DESIGN.md): the section `name`
 * itself, exactly as given; for a persisted map also the meta section
 * <ns>mmf/meta/<base>; the mutex <ns>mmf/mutex/<base>; and, during a
 * call on the name, the lock mutex <ns>mmf/lock/<base>. <ns> is Global\
 * for names given with it, else Local\.
 */

/* The kernel name of the library's `what` for `name`; 0 where it would
 * exceed MAX_PATH (the library then uses a digest). */
static int kernel_name(char *out, const char *what, const char *name)
{
    const char *ns = strncmp(name, "Global\\", 7) == 0 ? "Global\\" : "Local\\";
    int n = snprintf(out, 512, "%smmf/%s/%s", ns, what, base_of(name));

    return n > 0 && n < MAX_PATH;
}

/* Is there a kernel object named `kname` (a section, or a mutex)? An
 * object of another type under the name counts too. */
static int kobj_exists(const char *kname, int mutex)
{
    HANDLE h = mutex ? OpenMutexA(SYNCHRONIZE, FALSE, kname)
                     : OpenFileMappingA(FILE_MAP_READ, FALSE, kname);
    DWORD e = GetLastError();

    if (h != NULL) {
        CloseHandle(h);
        return 1;
    }
    if (e == ERROR_FILE_NOT_FOUND)
        return 0;
    if (e == ERROR_ACCESS_DENIED || e == ERROR_INVALID_HANDLE)
        return 1;
    t_fail(__FILE__, __LINE__, "opening %s: %lu", kname, e);
}

static void check_gone_at(int line, const char *name)
{
    char k[512];
    mmf_info info;

    if (kobj_exists(name, 0))
        t_fail(__FILE__, line, "left behind: section %s", name);
    if (kernel_name(k, "meta", name) && kobj_exists(k, 0))
        t_fail(__FILE__, line, "left behind: section %s", k);
    if (kernel_name(k, "mutex", name)) {
        if (kobj_exists(k, 1))
            t_fail(__FILE__, line, "left behind: mutex %s", k);
    } else {
        /* An invalid name (too long) has nothing to leave. */
        int rc = mmf_stat(name, MMF_KIND_MUTEX, &info);
        if (rc != MMF_ENOENT && rc != MMF_EINVAL)
            t_fail(__FILE__, line, "left behind: the mutex of %s (%s)", name,
                   mmf_errname(rc));
    }
    if (kernel_name(k, "lock", name) && kobj_exists(k, 1))
        t_fail(__FILE__, line, "left behind: mutex %s", k);
}

/* The r, w, x bits that an access mask grants: SECTION_MAP_READ, _WRITE,
 * _EXECUTE for sections; SYNCHRONIZE, MUTEX_MODIFY_STATE for mutexes. */
static unsigned mask_bits(DWORD m, int mutex)
{
    if (mutex)
        return (m & SYNCHRONIZE ? 4u : 0u) | (m & MUTEX_MODIFY_STATE ? 2u : 0u);
    return (m & SECTION_MAP_READ ? 4u : 0u) |
           (m & SECTION_MAP_WRITE ? 2u : 0u) |
           (m & SECTION_MAP_EXECUTE ? 1u : 0u);
}

/* The mode the DACL of the kernel section (or mutex) `kname` grants: the
 * owner's bits, the group's (its own entry, if any, with everyone's) and
 * everyone's. Every entry must be an allowing one for one of these. */
static unsigned kobj_mode(const char *kname, int mutex)
{
    SID_IDENTIFIER_AUTHORITY world = {SECURITY_WORLD_SID_AUTHORITY};
    PSECURITY_DESCRIPTOR sd = NULL;
    PSID owner = NULL, group = NULL, everyone = NULL;
    PACL dacl = NULL;
    DWORD mo = 0, mg = 0, me = 0;
    HANDLE h = mutex ? OpenMutexA(READ_CONTROL, FALSE, kname)
                     : OpenFileMappingA(READ_CONTROL, FALSE, kname);

    if (h == NULL)
        t_fail(__FILE__, __LINE__, "opening %s: %lu", kname, GetLastError());
    CHECK_EQ(GetSecurityInfo(h, SE_KERNEL_OBJECT,
                             OWNER_SECURITY_INFORMATION |
                                 GROUP_SECURITY_INFORMATION |
                                 DACL_SECURITY_INFORMATION,
                             &owner, &group, &dacl, NULL, &sd),
             ERROR_SUCCESS);
    CloseHandle(h);
    CHECK(dacl != NULL);
    CHECK(AllocateAndInitializeSid(&world, 1, SECURITY_WORLD_RID, 0, 0, 0, 0, 0,
                                   0, 0, &everyone));
    for (DWORD i = 0; i < dacl->AceCount; i++) {
        ACCESS_ALLOWED_ACE *ace = NULL;
        PSID sid;
        CHECK(GetAce(dacl, i, (void **)&ace));
        CHECK_EQ(ace->Header.AceType, ACCESS_ALLOWED_ACE_TYPE);
        sid = (PSID)&ace->SidStart;
        if (EqualSid(sid, owner))
            mo |= ace->Mask;
        else if (EqualSid(sid, everyone))
            me |= ace->Mask;
        else if (group != NULL && EqualSid(sid, group))
            mg |= ace->Mask;
        else
            t_fail(__FILE__, __LINE__, "%s: an entry for another SID", kname);
    }
    FreeSid(everyone);
    LocalFree(sd);
    return mask_bits(mo, mutex) << 6 | mask_bits(mg | me, mutex) << 3 |
           mask_bits(me, mutex);
}
#endif
#define CHECK_GONE(name) check_gone_at(__LINE__, (name))

/* Is the data of the non-persisted map `name` there: /dev/shm/BASE, or
 * the section `name`? */
static int data_exists(const char *name)
{
#ifndef _WIN32
    char p[512];
    return t_exists(data_path(name, p));
#else
    return kobj_exists(name, 0);
#endif
}

/* Is there a map registration of `name`: /dev/shm/.mmf-map.BASE, or (for
 * persisted maps only: non-persisted ones need none on Windows) the meta
 * section? */
static int reg_exists(const char *name)
{
#ifndef _WIN32
    char p[512];
    return t_exists(reg_path(REG_PREFIX, name, p));
#else
    char k[512];
    CHECK(kernel_name(k, "meta", name));
    return kobj_exists(k, 0);
#endif
}

/* Is there a mutex `name`: its registration, or its kernel mutex? */
static int mtx_exists(const char *name)
{
#ifndef _WIN32
    char p[512];
    return t_exists(reg_path(MTX_PREFIX, name, p));
#else
    char k[512];
    CHECK(kernel_name(k, "mutex", name));
    return kobj_exists(k, 1);
#endif
}

/* Not openable by name any more, and nothing left. */
#define CHECK_DEAD(name)                                                       \
    do {                                                                       \
        mmf_file *dead_ = NULL;                                                \
        CHECK_RC(mmf_open_existing((name), RW, 0, &dead_), MMF_ENOENT);        \
        CHECK(dead_ == NULL);                                                  \
        CHECK_GONE(name);                                                      \
    } while (0)

/* After a clean close by the last holder: removed at once (before any other
 * libmmf call, which could otherwise clean a leftover), then not openable. */
#define CHECK_CLOSED(name)                                                     \
    do {                                                                       \
        CHECK_GONE(name);                                                      \
        CHECK_DEAD(name);                                                      \
    } while (0)

/* ---- map contents ------------------------------------------------------ */

static void check_zero_at(int line, mmf_file *f)
{
    uint64_t cap = mmf_capacity(f);
    mmf_view *v = NULL;
    const unsigned char *d;

    CHECK_OK(mmf_view_open(f, 0, 0, RO, &v));
    CHECK_EQ(mmf_view_size(v), cap);
    d = mmf_view_data(v);
    for (uint64_t i = 0; i < cap; i++)
        if (d[i] != 0)
            t_fail(__FILE__, line, "byte %" PRIu64 " is 0x%02x, want 0", i,
                   d[i]);
    CHECK_OK(mmf_view_close(v));
}
#define CHECK_ZERO(f) check_zero_at(__LINE__, (f))

static void put_str(mmf_file *f, uint64_t off, const char *s)
{
    CHECK_OK(mmf_write(f, off, s, strlen(s)));
}

static void check_str_at(int line, mmf_file *f, uint64_t off, const char *s)
{
    char buf[256];
    size_t n = strlen(s);
    int rc = mmf_read(f, off, buf, n);

    if (rc != MMF_OK)
        t_fail(__FILE__, line, "mmf_read at %" PRIu64 ": %s", off,
               mmf_errname(rc));
    if (memcmp(buf, s, n) != 0)
        t_fail(__FILE__, line, "at %" PRIu64 ": got \"%.*s\", want \"%s\"", off,
               (int)n, buf, s);
}
#define CHECK_STR(f, off, s) check_str_at(__LINE__, (f), (off), (s))

static const char *num(char *buf, long long v)
{
    snprintf(buf, 32, "%lld", v);
    return buf;
}

/* ---- helpers (children started with t_spawn) --------------------------- */

/* NAME ACCESS WANT [ROFF RSTR [WOFF WSTR]]: mmf_open_existing must return
 * WANT; if it opened, RSTR must be at ROFF, and WSTR is written at WOFF. */
HELPER(named_h_open)
{
    mmf_file *f = NULL;

    if (argc < 3)
        return 2;
    CHECK_RC(mmf_open_existing(argv[0], atoi(argv[1]), 0, &f), atoi(argv[2]));
    if (f == NULL)
        return 0;
    CHECK_EQ(mmf_created(f), 0);
    if (argc >= 5)
        CHECK_STR(f, strtoull(argv[3], NULL, 10), argv[4]);
    if (argc >= 7)
        put_str(f, strtoull(argv[5], NULL, 10), argv[6]);
    CHECK_OK(mmf_close(f));
    return 0;
}

/* NAME READYFD GOFD WOFF WSTR: opens NAME, writes WSTR at WOFF, reports
 * 'R', holds it until it reads 'G', then closes it. */
HELPER(named_h_hold)
{
    mmf_file *f = NULL;
    int ready, go;
    uint64_t off;

    if (argc < 5)
        return 2;
    ready = atoi(argv[1]);
    go = atoi(argv[2]);
    off = strtoull(argv[3], NULL, 10);
    CHECK_OK(mmf_open_existing(argv[0], RW, 0, &f));
    put_str(f, off, argv[4]);
    put_byte(ready, 'R');
    expect_byte(go, 'G');
    CHECK_STR(f, off, argv[4]);
    CHECK_OK(mmf_close(f));
    return 0;
}

/* NAME COUNT READYFD GOFD: COUNT atomic increments of the uint64_t at
 * offset 0 of NAME, started when the parent says 'G'. */
HELPER(named_h_incr)
{
    mmf_file *f = NULL;
    mmf_view *v = NULL;
    _Atomic uint64_t *p;
    long count;

    if (argc < 4)
        return 2;
    count = atol(argv[1]);
    CHECK_OK(mmf_open_existing(argv[0], RW, 0, &f));
    CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
    p = (_Atomic uint64_t *)mmf_view_data(v);
    CHECK(p != NULL);
    put_byte(atoi(argv[2]), 'R');
    expect_byte(atoi(argv[3]), 'G');
    for (long i = 0; i < count; i++)
        atomic_fetch_add(p, 1);
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
    return 0;
}

#ifndef _WIN32
/* NAME SIZE ROFF RSTR WOFF WSTR, with no libmmf at all: shm_open("/NAME")
 * must have exactly SIZE bytes with RSTR at ROFF; writes WSTR at WOFF. */
HELPER(named_h_raw)
{
    char path[300];
    struct stat st;
    unsigned char *p;
    size_t size;
    int fd;

    if (argc < 6)
        return 2;
    snprintf(path, sizeof path, "/%s", argv[0]);
    size = (size_t)strtoull(argv[1], NULL, 10);
    fd = shm_open(path, O_RDWR, 0);
    if (fd < 0)
        t_fail(__FILE__, __LINE__, "shm_open %s: %s", path, strerror(errno));
    CHECK(fstat(fd, &st) == 0);
    CHECK_EQ(st.st_size, size);
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(p != MAP_FAILED);
    CHECK_MEM(p + strtoull(argv[2], NULL, 10), argv[3], strlen(argv[3]));
    memcpy(p + strtoull(argv[4], NULL, 10), argv[5], strlen(argv[5]));
    CHECK(munmap(p, size) == 0);
    close(fd);
    return 0;
}
#else
/* The size of the whole view at `p` (the regions of its allocation). */
static uint64_t view_extent(const void *p)
{
    MEMORY_BASIC_INFORMATION mbi;
    const unsigned char *q = p;

    while (VirtualQuery(q, &mbi, sizeof mbi) == sizeof mbi &&
           mbi.AllocationBase == p && mbi.RegionSize > 0)
        q = (const unsigned char *)mbi.BaseAddress + mbi.RegionSize;
    return (uint64_t)(q - (const unsigned char *)p);
}

/* NAME SIZE ROFF RSTR WOFF WSTR, with no libmmf at all: the section NAME
 * (OpenFileMapping, as .NET's OpenExisting does) has RSTR at ROFF; writes
 * WSTR at WOFF. A libmmf section is SIZE rounded up to pages plus one
 * trailer page (docs/DESIGN.md), which is what other programs see. */
HELPER(named_h_raw)
{
    uint64_t size, page = mmf_page_size();
    unsigned char *p;
    HANDLE h;

    if (argc < 6)
        return 2;
    size = strtoull(argv[1], NULL, 10);
    h = OpenFileMappingA(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, argv[0]);
    if (h == NULL)
        t_fail(__FILE__, __LINE__, "OpenFileMapping %s: %lu", argv[0],
               GetLastError());
    p = MapViewOfFile(h, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 0);
    CHECK(p != NULL);
    CHECK_EQ(view_extent(p), (size + page - 1) / page * page + page);
    CHECK_MEM(p + strtoull(argv[2], NULL, 10), argv[3], strlen(argv[3]));
    memcpy(p + strtoull(argv[4], NULL, 10), argv[5], strlen(argv[5]));
    CHECK(UnmapViewOfFile(p));
    CHECK(CloseHandle(h));
    return 0;
}

/* The section `name`, opened as another program would, has STR at OFF
 * and the size of a libmmf map of SIZE bytes. */
static void check_raw_section(const char *name, uint64_t size, uint64_t off,
                              const char *str)
{
    uint64_t page = mmf_page_size();
    HANDLE h = OpenFileMappingA(FILE_MAP_READ, FALSE, name);
    unsigned char *p;

    if (h == NULL)
        t_fail(__FILE__, __LINE__, "OpenFileMapping %s: %lu", name,
               GetLastError());
    p = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0);
    CHECK(p != NULL);
    CHECK_EQ(view_extent(p), (size + page - 1) / page * page + page);
    CHECK_MEM(p + off, str, strlen(str));
    CHECK(UnmapViewOfFile(p));
    CHECK(CloseHandle(h));
}
#endif

#ifndef _WIN32
/* Becomes user and group 65534 (nobody). */
static void drop_privileges(void)
{
    CHECK(setgroups(0, NULL) == 0);
    CHECK(setgid(65534) == 0);
    CHECK(setuid(65534) == 0);
    CHECK(geteuid() == 65534 && getegid() == 65534);
    /* Changing credentials made the process non-dumpable; its own /proc
     * files should stay usable (as for any ordinary process). */
    (void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}

/* NAME READYFD GOFD, as another user: denied while the object is 0600;
 * after 'G' (now 0666) opens it, reads "secret", writes "other", may not
 * change its permissions; reports 'O' and holds it until 'C'. */
HELPER(named_h_other_user)
{
    mmf_file *f = NULL;
    unsigned mode = 0;
    int ready, go;

    if (argc < 3)
        return 2;
    ready = atoi(argv[1]);
    go = atoi(argv[2]);
    drop_privileges();
    CHECK_RC(mmf_open_existing(argv[0], RO, 0, &f), MMF_EACCES);
    CHECK(f == NULL);
    CHECK_RC(mmf_open_existing(argv[0], RW, 0, &f), MMF_EACCES);
    CHECK(f == NULL);
    CHECK_RC(mmf_create_or_open(argv[0], 4096, RW, 0, &f), MMF_EACCES);
    CHECK(f == NULL);
    put_byte(ready, 'R');
    expect_byte(go, 'G');
    CHECK_OK(mmf_open_existing(argv[0], RW, 0, &f));
    CHECK_EQ(mmf_created(f), 0);
    CHECK_EQ(mmf_capacity(f), 10000);
    CHECK_STR(f, 0, "secret");
    put_str(f, 10, "other");
    CHECK_RC(mmf_set_permissions(f, 0600), MMF_EPERM);
    CHECK_OK(mmf_get_permissions(f, &mode));
    CHECK_EQ(mode, 0666);
    put_byte(ready, 'O');
    expect_byte(go, 'C');
    CHECK_STR(f, 0, "secret");
    CHECK_OK(mmf_close(f));
    return 0;
}
#endif

/* Is `h` an open handle (descriptor) of this process? */
static int handle_valid(mmf_handle h)
{
#ifndef _WIN32
    return fcntl((int)h, F_GETFD) >= 0;
#else
    DWORD flags;
    return GetHandleInformation((HANDLE)h, &flags) != 0;
#endif
}

/* Is `h` inherited by the children started from now on? */
static int handle_inheritable(mmf_handle h)
{
#ifndef _WIN32
    return (fcntl((int)h, F_GETFD) & FD_CLOEXEC) == 0;
#else
    DWORD flags = 0;
    CHECK(GetHandleInformation((HANDLE)h, &flags));
    return (flags & HANDLE_FLAG_INHERIT) != 0;
#endif
}

static void close_handle(mmf_handle h)
{
#ifndef _WIN32
    CHECK(close((int)h) == 0);
#else
    CHECK(CloseHandle((HANDLE)h));
#endif
}

/* HANDLE CAP [READYFD GOFD]: opens an inherited handle with
 * mmf_create_from_handle; "parent" must be at 0; writes "child" at 100.
 * With pipes, reports 'R' and holds the map until 'G'. */
HELPER(named_h_inherit)
{
    mmf_file *f = NULL;
    mmf_handle h;

    if (argc < 2)
        return 2;
    h = (mmf_handle)atoll(argv[0]);
    CHECK(handle_valid(h));
    CHECK_OK(mmf_create_from_handle(h, NULL, 0, RW, 0, &f));
    CHECK_EQ(mmf_capacity(f), strtoull(argv[1], NULL, 10));
    CHECK_EQ(mmf_created(f), 0);
    CHECK(mmf_name(f) == NULL);
    CHECK_STR(f, 0, "parent");
    put_str(f, 100, "child");
    if (argc >= 4) {
        put_byte(atoi(argv[2]), 'R');
        expect_byte(atoi(argv[3]), 'G');
        CHECK_STR(f, 0, "parent");
    }
    CHECK_OK(mmf_close(f));
    return 0;
}

/* HANDLE CAP READYFD GOFD: opens the inherited handle, closes that map and
 * the inherited descriptor, then reports 'R' and waits for 'G': from then
 * on this process holds nothing of the object. */
HELPER(named_h_inherit_release)
{
    mmf_file *f = NULL;
    mmf_handle h;

    if (argc < 4)
        return 2;
    h = (mmf_handle)atoll(argv[0]);
    CHECK_OK(mmf_create_from_handle(h, NULL, 0, RW, 0, &f));
    CHECK_EQ(mmf_capacity(f), strtoull(argv[1], NULL, 10));
    CHECK_STR(f, 0, "parent");
    CHECK_OK(mmf_close(f));
    close_handle(h);
    put_byte(atoi(argv[2]), 'R');
    expect_byte(atoi(argv[3]), 'G');
    return 0;
}

#ifndef _WIN32
/* HANDLE NAME: the handle was not inherited through exec, and no
 * descriptor of this process refers to NAME's data or registration. */
HELPER(named_h_noinherit)
{
    char data[512], reg[512];
    DIR *d;
    struct dirent *e;

    if (argc < 2)
        return 2;
    errno = 0;
    CHECK(fcntl(atoi(argv[0]), F_GETFD) == -1);
    CHECK_EQ(errno, EBADF);
    data_path(argv[1], data);
    reg_path(REG_PREFIX, argv[1], reg);
    d = opendir("/proc/self/fd");
    CHECK(d != NULL);
    while ((e = readdir(d)) != NULL) {
        char link[300], target[1024];
        ssize_t n;
        if (e->d_name[0] == '.')
            continue;
        snprintf(link, sizeof link, "/proc/self/fd/%s", e->d_name);
        n = readlink(link, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strncmp(target, data, strlen(data)) == 0 &&
            (target[strlen(data)] == '\0' || target[strlen(data)] == ' '))
            t_fail(__FILE__, __LINE__, "fd %s leaked: %s", e->d_name, target);
        if (strncmp(target, reg, strlen(reg)) == 0 &&
            (target[strlen(reg)] == '\0' || target[strlen(reg)] == ' '))
            t_fail(__FILE__, __LINE__, "fd %s leaked: %s", e->d_name, target);
    }
    closedir(d);
    return 0;
}
#else
/* HANDLE NAME [READYFD GOFD]: the handle was not inherited through
 * CreateProcess: the value is no handle here, or one of something else
 * (this process's own handles reuse free values), not a section showing
 * the parent's "parent" at 0. With pipes, reports 'R' and runs until 'G'
 * (the parent then checks that nothing here keeps the name alive). */
HELPER(named_h_noinherit)
{
    HANDLE h;
    void *p;

    if (argc < 2)
        return 2;
    h = (HANDLE)(intptr_t)atoll(argv[0]);
    if (handle_valid((mmf_handle)h) &&
        (p = MapViewOfFile(h, FILE_MAP_READ, 0, 0, 6)) != NULL) {
        int same = memcmp(p, "parent", 6) == 0;
        UnmapViewOfFile(p);
        if (same)
            t_fail(__FILE__, __LINE__, "handle %s of %s was inherited", argv[0],
                   argv[1]);
    }
    if (argc >= 4) {
        put_byte(atoi(argv[2]), 'R');
        expect_byte(atoi(argv[3]), 'G');
    }
    return 0;
}
#endif

/* ---- basics ------------------------------------------------------------ */

TEST(named_basics)
{
    char n[NAMESZ], missing[NAMESZ];
    mmf_file *f = NULL, *g = NULL, *h = NULL;

    name_of(n, "basics", 0);
    name_of(missing, "basics", 1);

    CHECK_OK(mmf_create_new(n, 10000, RW, 0, &f));
    CHECK(f != NULL);
    CHECK_EQ(mmf_created(f), 1);
    CHECK_EQ(mmf_capacity(f), 10000);
    CHECK_EQ(mmf_access_of(f), RW);
    CHECK(mmf_name(f) != NULL && mmf_name(f) != n);
    CHECK(strcmp(mmf_name(f), n) == 0);
    CHECK_ZERO(f);
    CHECK(data_exists(n));
#ifndef _WIN32
    CHECK(reg_exists(n));
#else
    CHECK(!reg_exists(n)); /* the section carries its own record */
#endif
    put_str(f, 9990, "lastbytes!");

    /* A second create_new of the live name. */
    g = (mmf_file *)&g;
    CHECK_RC(mmf_create_new(n, 10000, RW, 0, &g), MMF_EEXIST);
    CHECK(g == NULL);
    CHECK_RC(mmf_create_new(n, 500, RO, 0, &g), MMF_EEXIST);
    CHECK(g == NULL);

    /* create_or_open opens it, with the capacity it was created with. */
    CHECK_OK(mmf_create_or_open(n, 5000, RW, 0, &g));
    CHECK_EQ(mmf_created(g), 0);
    CHECK_EQ(mmf_capacity(g), 10000);
    CHECK(strcmp(mmf_name(g), n) == 0);
    CHECK_STR(g, 9990, "lastbytes!");
    put_str(g, 0, "via-g");
    CHECK_STR(f, 0, "via-g");
    CHECK_OK(mmf_close(g));
    CHECK_OK(mmf_create_or_open(n, 1u << 20, RO, 0, &g));
    CHECK_EQ(mmf_created(g), 0);
    CHECK_EQ(mmf_capacity(g), 10000);
    CHECK_OK(mmf_close(g));

    /* open_existing. */
    CHECK_OK(mmf_open_existing(n, RW, 0, &h));
    CHECK_EQ(mmf_created(h), 0);
    CHECK_EQ(mmf_capacity(h), 10000);
    CHECK_EQ(mmf_access_of(h), RW);
    CHECK_STR(h, 0, "via-g");
    CHECK_OK(mmf_close(h));

    /* A name that does not exist: nothing is created for it. */
    h = (mmf_file *)&h;
    CHECK_RC(mmf_open_existing(missing, RW, 0, &h), MMF_ENOENT);
    CHECK(h == NULL);
    CHECK_GONE(missing);

    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);

    /* Spaces and punctuation are valid name bytes. */
    snprintf(n, sizeof n, "mmft-%ld-basics sp ~!@#$%%^&*()[]{}<>?|:;'\"",
             (long)owner_pid);
    CHECK_OK(mmf_create_new(n, 100, RW, 0, &f));
    CHECK(strcmp(mmf_name(f), n) == 0);
    CHECK_OK(mmf_open_existing(n, RO, 0, &g));
    CHECK_EQ(mmf_capacity(g), 100);
    CHECK_OK(mmf_close(g));
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
}

TEST(named_prefix_local_global)
{
    char base[NAMESZ], local[NAMESZ + 8], global[NAMESZ + 8];
    mmf_file *f = NULL, *g = NULL, *h = NULL, *x = NULL;
#ifndef _WIN32
    char p[512];
#else
    int rc;
#endif

    name_of(base, "prefix", 0);
    snprintf(local, sizeof local, "Local\\%s", base);
    snprintf(global, sizeof global, "Global\\%s", base);

    CHECK_OK(mmf_create_new(local, 6000, RW, 0, &f));
    CHECK_EQ(mmf_created(f), 1);
    CHECK(strcmp(mmf_name(f), local) == 0);
#ifndef _WIN32
    /* The POSIX object is /BASE. */
    CHECK(t_exists(data_path(base, p)));
    snprintf(p, sizeof p, "%s/%s", SHM_DIR, local);
    CHECK(!t_exists(p));

    CHECK_OK(mmf_open_existing(base, RW, 0, &g));
    CHECK_EQ(mmf_capacity(g), 6000);
    CHECK(strcmp(mmf_name(g), base) == 0);
    CHECK_OK(mmf_open_existing(global, RW, 0, &h));
    CHECK_EQ(mmf_capacity(h), 6000);
    CHECK(strcmp(mmf_name(h), global) == 0);
    put_str(g, 17, "written-through-plain");
    CHECK_STR(f, 17, "written-through-plain");
    CHECK_STR(h, 17, "written-through-plain");

    CHECK_RC(mmf_create_new(base, 6000, RW, 0, &x), MMF_EEXIST);
    CHECK_RC(mmf_create_new(global, 6000, RW, 0, &x), MMF_EEXIST);
    CHECK_RC(mmf_create_new(local, 6000, RW, 0, &x), MMF_EEXIST);
    CHECK_OK(mmf_create_or_open(global, 1, RW, 0, &x));
    CHECK_EQ(mmf_created(x), 0);
    CHECK_EQ(mmf_capacity(x), 6000);
    CHECK(strcmp(mmf_name(x), global) == 0);
    CHECK_OK(mmf_close(x));

    /* Another process, by each spelling. */
    {
        const char *a1[] = {local, "1", "0", "17", "written", NULL};
        const char *a2[] = {global, "1", "0", "17", "written", NULL};
        CHECK_EQ(wait_kid(spawn("named_h_open", a1)), 0);
        CHECK_EQ(wait_kid(spawn("named_h_open", a2)), 0);
    }
#else
    /* Windows: Local\X is X, in this session's namespace ... */
    CHECK(data_exists(base));
    CHECK_OK(mmf_open_existing(base, RW, 0, &g));
    CHECK_EQ(mmf_capacity(g), 6000);
    CHECK(strcmp(mmf_name(g), base) == 0);
    put_str(g, 17, "written-through-plain");
    CHECK_STR(f, 17, "written-through-plain");
    CHECK_RC(mmf_create_new(base, 6000, RW, 0, &x), MMF_EEXIST);
    CHECK_RC(mmf_create_new(local, 6000, RW, 0, &x), MMF_EEXIST);
    CHECK_OK(mmf_create_or_open(local, 1, RW, 0, &x));
    CHECK_EQ(mmf_created(x), 0);
    CHECK_EQ(mmf_capacity(x), 6000);
    CHECK(strcmp(mmf_name(x), local) == 0);
    CHECK_OK(mmf_close(x));

    /* ... and Global\X is another object, in the machine-wide namespace
     * (API.md, "Names"): not there until created, and separate then.
     * Creating it needs SeCreateGlobalPrivilege (MMF_EACCES without). */
    x = (mmf_file *)&x;
    CHECK_RC(mmf_open_existing(global, RW, 0, &x), MMF_ENOENT);
    CHECK(x == NULL);
    CHECK_GONE(global);
    rc = mmf_create_new(global, 3000, RW, 0, &h);
    if (rc == MMF_OK) {
        CHECK_EQ(mmf_created(h), 1);
        CHECK_EQ(mmf_capacity(h), 3000);
        CHECK(strcmp(mmf_name(h), global) == 0);
        CHECK_ZERO(h);
        put_str(h, 17, "global-bytes");
        CHECK_STR(f, 17, "written-through-plain");
        CHECK_RC(mmf_create_new(global, 3000, RW, 0, &x), MMF_EEXIST);
        CHECK_OK(mmf_create_or_open(global, 1, RW, 0, &x));
        CHECK_EQ(mmf_created(x), 0);
        CHECK_EQ(mmf_capacity(x), 3000);
        CHECK_STR(x, 17, "global-bytes");
        CHECK_OK(mmf_close(x));
    } else {
        CHECK_RC(rc, MMF_EACCES);
        CHECK(h == NULL);
        printf("no privilege to create global objects: Global\\ not "
               "checked further\n");
        CHECK_GONE(global);
    }

    /* Another process, by each spelling. */
    {
        const char *a1[] = {local, "1", "0", "17", "written", NULL};
        const char *a2[] = {base, "1", "0", "17", "written", NULL};
        const char *a3[] = {global, "1", "0", "17", "global-bytes", NULL};
        const char *a4[] = {global, "1", "-3", NULL};
        CHECK_EQ(wait_kid(spawn("named_h_open", a1)), 0);
        CHECK_EQ(wait_kid(spawn("named_h_open", a2)), 0);
        CHECK_EQ(wait_kid(spawn("named_h_open", h != NULL ? a3 : a4)), 0);
    }
#endif

    /* A prefix alone, or two prefixes, is not a name. */
    CHECK_RC(mmf_create_new("Local\\", 10, RW, 0, &x), MMF_EINVAL);
    CHECK_RC(mmf_create_new("Global\\", 10, RW, 0, &x), MMF_EINVAL);
    CHECK_RC(mmf_open_existing("Local\\", RW, 0, &x), MMF_EINVAL);

    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_close(h));
    CHECK_OK(mmf_open_existing(local, RO, 0, &x)); /* g still holds it */
    CHECK_OK(mmf_close(x));
    CHECK_OK(mmf_close(g));
    CHECK_CLOSED(local);
    CHECK_CLOSED(global);
    CHECK_CLOSED(base);
}

TEST(named_long_name)
{
    char n[300], n251[300], loc[320], plain[300];
    mmf_file *f = NULL, *g = NULL, *x = NULL;
#ifndef _WIN32
    char p[512];
    int fd;
    struct stat st;
#endif

    name_of(n, "long", 0);
    memset(n + strlen(n), 'L', 250 - strlen(n));
    n[250] = '\0';
    CHECK_EQ(strlen(n), 250);

    CHECK_OK(mmf_create_new(n, 5000, RW, 0, &f));
    CHECK_EQ(mmf_created(f), 1);
    CHECK(strcmp(mmf_name(f), n) == 0);
    CHECK_EQ(mmf_capacity(f), 5000);
    put_str(f, 4000, "long-name-data");
    CHECK_OK(mmf_open_existing(n, RW, 0, &g));
    CHECK_EQ(mmf_capacity(g), 5000);
    CHECK_STR(g, 4000, "long-name-data");
    CHECK_RC(mmf_create_new(n, 5000, RW, 0, &x), MMF_EEXIST);
#ifndef _WIN32
    /* Within the platform's limit, so it is /NAME. */
    CHECK(t_exists(data_path(n, p)));
    snprintf(p, sizeof p, "/%s", n);
    fd = shm_open(p, O_RDONLY, 0);
    CHECK(fd >= 0);
    CHECK(fstat(fd, &st) == 0);
    CHECK_EQ(st.st_size, 5000);
    close(fd);
#else
    /* Within the platform's limit, so it is the section NAME. */
    check_raw_section(n, 5000, 4000, "long-name-data");
#endif
    {
        const char *a[] = {n, "1", "0", "4000", "long-name-data", NULL};
        CHECK_EQ(wait_kid(spawn("named_h_open", a)), 0);
    }
    CHECK_OK(mmf_close(g));
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);

    /* 250 bytes counting a Local\ prefix. */
    name_of(plain, "long", 1);
    memset(plain + strlen(plain), 'M', 244 - strlen(plain));
    plain[244] = '\0';
    snprintf(loc, sizeof loc, "Local\\%s", plain);
    CHECK_EQ(strlen(loc), 250);
    CHECK_OK(mmf_create_new(loc, 300, RW, 0, &f));
    CHECK(strcmp(mmf_name(f), loc) == 0);
    CHECK_OK(mmf_open_existing(plain, RW, 0, &g));
    CHECK_EQ(mmf_capacity(g), 300);
    CHECK_OK(mmf_close(g));
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(plain);

    /* 251 bytes: invalid, before anything is touched. */
    name_of(n251, "long", 2);
    memset(n251 + strlen(n251), 'N', 251 - strlen(n251));
    n251[251] = '\0';
    x = (mmf_file *)&x;
    CHECK_RC(mmf_create_new(n251, 100, RW, 0, &x), MMF_EINVAL);
    CHECK(x == NULL);
    CHECK_RC(mmf_create_or_open(n251, 100, RW, 0, &x), MMF_EINVAL);
    CHECK_RC(mmf_open_existing(n251, RW, 0, &x), MMF_EINVAL);
    CHECK_RC(mmf_unlink(n251), MMF_EINVAL);
    CHECK_GONE(n251);
}

TEST(named_map_mutex_namespaces)
{
    char n[NAMESZ];
    mmf_file *f = NULL, *x = NULL;
    mmf_mutex *m = NULL, *m2 = NULL;

    name_of(n, "ns", 0);
    CHECK_OK(mmf_create_new(n, 4096, RW, 0, &f));
    CHECK_OK(mmf_mutex_create(n, 0, 0, &m));
    CHECK_EQ(mmf_mutex_created(m), 1);
    CHECK(strcmp(mmf_mutex_name(m), n) == 0);
    CHECK_OK(mmf_mutex_lock(m));
    put_str(f, 0, "under-lock");
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK(mtx_exists(n));

    CHECK_OK(mmf_mutex_open_existing(n, &m2));
    CHECK_OK(mmf_mutex_close(m2));
    CHECK_OK(mmf_mutex_create(n, 0, 0, &m2));
    CHECK_EQ(mmf_mutex_created(m2), 0);
    CHECK_OK(mmf_mutex_close(m2));
    CHECK_RC(mmf_create_new(n, 4096, RW, 0, &x), MMF_EEXIST);

    /* Closing the map ends the map, not the mutex. */
    CHECK_OK(mmf_close(f));
    CHECK_RC(mmf_open_existing(n, RW, 0, &x), MMF_ENOENT);
    CHECK(!data_exists(n));
    CHECK(!reg_exists(n));
    CHECK_OK(mmf_mutex_open_existing(n, &m2));
    CHECK_OK(mmf_mutex_close(m2));

    /* A new map of that name while the mutex lives. */
    CHECK_OK(mmf_create_new(n, 100, RW, 0, &f));
    CHECK_EQ(mmf_created(f), 1);
    CHECK_ZERO(f);
    CHECK_OK(mmf_mutex_close(m));
    CHECK_RC(mmf_mutex_open_existing(n, &m2), MMF_ENOENT);
    CHECK(!mtx_exists(n));
    CHECK_OK(mmf_open_existing(n, RW, 0, &x));
    CHECK_OK(mmf_close(x));
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
}

/* ---- lifetime ---------------------------------------------------------- */

TEST(named_close_last_holder)
{
    char n[NAMESZ];
    mmf_file *f = NULL, *g = NULL, *x = NULL;
#ifndef _WIN32
    char p[512];
    int fd;
#endif

    name_of(n, "close", 0);
    CHECK_OK(mmf_create_new(n, 10000, RW, 0, &f));
    put_str(f, 0, "first");
    CHECK_OK(mmf_open_existing(n, RW, 0, &g));
    CHECK_OK(mmf_close(f));
    /* g holds it. */
    CHECK_OK(mmf_open_existing(n, RO, 0, &x));
    CHECK_STR(x, 0, "first");
    CHECK_OK(mmf_close(x));
    CHECK_OK(mmf_close(g));

    /* Gone at once: for shm_open and for libmmf. */
    CHECK_GONE(n);
#ifndef _WIN32
    snprintf(p, sizeof p, "/%s", n);
    errno = 0;
    fd = shm_open(p, O_RDONLY, 0);
    CHECK(fd == -1);
    CHECK_EQ(errno, ENOENT);
#else
    CHECK(OpenFileMappingA(FILE_MAP_READ, FALSE, n) == NULL);
    CHECK_EQ(GetLastError(), ERROR_FILE_NOT_FOUND);
#endif
    CHECK_RC(mmf_open_existing(n, RW, 0, &x), MMF_ENOENT);
    CHECK(x == NULL);
    CHECK_GONE(n);

    /* A new object under the name is fresh. */
    CHECK_OK(mmf_create_new(n, 20000, RW, 0, &f));
    CHECK_EQ(mmf_created(f), 1);
    CHECK_EQ(mmf_capacity(f), 20000);
    CHECK_ZERO(f);
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);

    /* Also with create_or_open as the only holder. */
    CHECK_OK(mmf_create_or_open(n, 3000, RW, 0, &f));
    CHECK_EQ(mmf_created(f), 1);
    CHECK_ZERO(f);
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
}

TEST(named_view_keeps_alive)
{
    char n[NAMESZ];
    mmf_file *f = NULL, *g = NULL;
    mmf_view *v = NULL;
    const char *live[] = {n, "1", "0", "0", "view-alive", NULL};
    const char *dead[] = {n, "1", "-3", NULL};

    name_of(n, "view", 0);
    CHECK_OK(mmf_create_new(n, 10000, RW, 0, &f));
    CHECK_OK(mmf_view_open(f, 4096, 0, RW, &v));
    put_str(f, 0, "view-alive");
    memcpy((char *)mmf_view_data(v) + 10, "in-view", 7);
    CHECK_OK(mmf_close(f));

    /* Only the view holds it now. */
    CHECK_EQ(wait_kid(spawn("named_h_open", live)), 0);
    CHECK_OK(mmf_open_existing(n, RW, 0, &g));
    CHECK_EQ(mmf_capacity(g), 10000);
    CHECK_STR(g, 0, "view-alive");
    CHECK_STR(g, 4106, "in-view");
    put_str(g, 4200, "seen-by-view");
    CHECK_OK(mmf_close(g));
    CHECK(memcmp((char *)mmf_view_data(v) + 104, "seen-by-view", 12) == 0);
    CHECK_EQ(wait_kid(spawn("named_h_open", live)), 0);

    CHECK_OK(mmf_view_close(v));
    CHECK_GONE(n);
    CHECK_EQ(wait_kid(spawn("named_h_open", dead)), 0);
    CHECK_CLOSED(n);
}

TEST(named_child_keeps_alive)
{
    char n[NAMESZ], a1[32], a2[32];
    mmf_file *f = NULL, *g = NULL;
    int ready[2], go[2];
    pid_t pid;

    name_of(n, "child", 0);
    xpipe(ready);
    xpipe(go);
    CHECK_OK(mmf_create_new(n, 10000, RW, 0, &f));
    put_str(f, 0, "parent");
    {
        const char *args[] = {n,    num(a1, ready[1]), num(a2, go[0]),
                              "10", "child",           NULL};
        int fds[] = {ready[1], go[0]};
        pid = spawn_fds("named_h_hold", args, fds, 2);
    }
    close_end(ready[1]);
    close_end(go[0]);
    expect_byte(ready[0], 'R');
    CHECK_OK(mmf_close(f));

    /* The child is the only holder. */
    CHECK_OK(mmf_open_existing(n, RW, 0, &g));
    CHECK_STR(g, 0, "parent");
    CHECK_STR(g, 10, "child");
    CHECK_OK(mmf_close(g));
    {
        const char *args[] = {n, "1", "0", "10", "child", NULL};
        CHECK_EQ(wait_kid(spawn("named_h_open", args)), 0);
    }
    put_byte(go[1], 'G');
    CHECK_EQ(wait_kid(pid), 0);
    close_end(ready[0]);
    close_end(go[1]);
    CHECK_CLOSED(n);
}

/* The child of a kill round: creates `n`, which must be fresh (created
 * here, zero-filled), fills it with 0xa0 + round, reports 'R' on `fd` and
 * waits to be killed; reports 'E' or 'Z' and ends if anything is wrong. */
static void kill_round_child(const char *n, int round, int fd)
    __attribute__((noreturn));
static void kill_round_child(const char *n, int round, int fd)
{
    mmf_file *c = NULL;
    mmf_view *v = NULL;
    unsigned char *d;

    if (mmf_create_new(n, 10000, RW, 0, &c) != MMF_OK || mmf_created(c) != 1 ||
        mmf_capacity(c) != 10000 || mmf_view_open(c, 0, 0, RW, &v) != MMF_OK)
        die_with(fd, 'E');
    d = mmf_view_data(v);
    for (int i = 0; i < 10000; i++)
        if (d[i] != 0)
            die_with(fd, 'Z');
    memset(d, 0xa0 + round, 10000);
    put_byte(fd, 'R');
    wait_to_be_killed();
}

/* Child i of a kill-order round: creates `n` (i 0) or opens it, writes
 * 'A' + i at offset i, reports 'R' on `fd` and waits to be killed. */
static void kill_order_child(const char *n, int i, int fd)
    __attribute__((noreturn));
static void kill_order_child(const char *n, int i, int fd)
{
    mmf_file *c = NULL;
    unsigned char b = (unsigned char)(0x41 + i);
    int rc = i == 0 ? mmf_create_new(n, 8192, RW, 0, &c)
                    : mmf_open_existing(n, RW, 0, &c);

    if (rc != MMF_OK || mmf_write(c, (uint64_t)i, &b, 1) != MMF_OK)
        die_with(fd, 'E');
    put_byte(fd, 'R');
    wait_to_be_killed();
}

#ifdef _WIN32
/* NAME ROUND FD: kill_round_child. */
HELPER(named_h_kill_round)
{
    if (argc < 3)
        return 2;
    kill_round_child(argv[0], atoi(argv[1]), atoi(argv[2]));
}

/* NAME I FD: kill_order_child. */
HELPER(named_h_kill_order)
{
    if (argc < 3)
        return 2;
    kill_order_child(argv[0], atoi(argv[1]), atoi(argv[2]));
}
#endif

/* Starts a child that runs body(n, i, the write end of p) and closes the
 * write end here: forked on POSIX, the helper `helper` on Windows. */
static pid_t start_killable(void (*body)(const char *, int, int),
                            const char *helper, const char *n, int i,
                            const int p[2])
{
    pid_t pid;
#ifndef _WIN32
    (void)helper;
    pid = start_fork();
    if (pid == 0) {
        close_end(p[0]);
        body(n, i, p[1]);
    }
#else
    char a1[32], a2[32];
    const char *args[] = {n, num(a1, i), num(a2, p[1]), NULL};
    (void)body;
    pid = spawn_fds(helper, args, &p[1], 1);
#endif
    close_end(p[1]);
    return pid;
}

TEST(named_kill_last_holder_loop)
{
    char n[NAMESZ];

    name_of(n, "kill", 0);
    for (int round = 0; round < 24; round++) {
        int p[2];
        pid_t pid;
        mmf_file *f = NULL;

        xpipe(p);
        pid =
            start_killable(kill_round_child, "named_h_kill_round", n, round, p);
        expect_byte(p[0], 'R');
        close_end(p[0]);
        kill_kid(pid);

        /* The next call on the name, of one kind or another. */
        switch (round % 4) {
        case 0:
            CHECK_DEAD(n);
            break;
        case 1:
            CHECK_OK(mmf_create_new(n, 10000, RW, 0, &f));
            CHECK_EQ(mmf_created(f), 1);
            CHECK_ZERO(f);
            CHECK_OK(mmf_close(f));
            CHECK_CLOSED(n);
            break;
        case 2:
            CHECK_OK(mmf_create_or_open(n, 10000, RW, 0, &f));
            CHECK_EQ(mmf_created(f), 1);
            CHECK_ZERO(f);
            CHECK_OK(mmf_close(f));
            CHECK_CLOSED(n);
            break;
        case 3:
            /* The next round's child must get a fresh object. */
            break;
        }
    }
    CHECK_DEAD(n);
}

TEST(named_kill_orders)
{
    static const int orders[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
                                     {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
    char n[NAMESZ];

    for (int o = 0; o < 6; o++) {
        pid_t pids[3];

        name_of(n, "order", o);
        for (int i = 0; i < 3; i++) {
            int p[2];
            xpipe(p);
            pids[i] =
                start_killable(kill_order_child, "named_h_kill_order", n, i, p);
            expect_byte(p[0], 'R');
            close_end(p[0]);
        }
        for (int k = 0; k < 3; k++) {
            kill_kid(pids[orders[o][k]]);
            if (k < 2) {
                mmf_file *g = NULL;
                CHECK_OK(mmf_open_existing(n, RW, 0, &g));
                CHECK_EQ(mmf_capacity(g), 8192);
                CHECK_STR(g, 0, "ABC");
                CHECK_OK(mmf_close(g));
            }
        }
        CHECK_DEAD(n);
    }
}

#ifdef _WIN32
/* HANDLE NAME P2C C2P: the Windows side of named_fork_inherited_holder, a
 * child given the parent's section handle by inheritance (CreateProcess
 * has no fork: the handle stands for the forked mmf_file). */
HELPER(named_h_inherited_holder)
{
    mmf_file *c = NULL, *f = NULL;
    mmf_handle h;
    int p2c, c2p;

    if (argc < 4)
        return 2;
    h = (mmf_handle)atoll(argv[0]);
    p2c = atoi(argv[2]);
    c2p = atoi(argv[3]);
    put_byte(c2p, 'S'); /* running */
    expect_byte(p2c, 'A');
    /* The parent has closed: only this process's inherited handle holds
     * the object, so the name must still be live. */
    CHECK_OK(mmf_open_existing(argv[1], RW, 0, &c));
    CHECK_EQ(mmf_capacity(c), 4096);
    CHECK_STR(c, 0, "P");
    CHECK_OK(mmf_create_from_handle(h, NULL, 0, RW, 0, &f));
    CHECK_EQ(mmf_capacity(f), 4096);
    CHECK_STR(f, 0, "P");
    put_str(f, 1, "C");
    CHECK_STR(c, 0, "PC");
    CHECK_OK(mmf_close(c));
    put_byte(c2p, 'B');
    expect_byte(p2c, 'C');
    CHECK_STR(f, 0, "PCx");
    CHECK_OK(mmf_close(f));
    close_handle(h);
    put_byte(c2p, 'D');
    return 0;
}

/* HANDLE NAME GOFD: the Windows side of named_fork_close_at_once. */
HELPER(named_h_inherited_at_once)
{
    mmf_file *c = NULL, *f = NULL;
    mmf_handle h;

    if (argc < 3)
        return 2;
    h = (mmf_handle)atoll(argv[0]);
    expect_byte(atoi(argv[2]), 'A');
    CHECK_OK(mmf_open_existing(argv[1], RW, 0, &c));
    CHECK_STR(c, 0, "before-fork");
    CHECK_OK(mmf_close(c));
    CHECK_OK(mmf_create_from_handle(h, NULL, 0, RW, 0, &f));
    CHECK_STR(f, 0, "before-fork");
    CHECK_OK(mmf_close(f));
    close_handle(h);
    return 0;
}
#endif

/* A forked child (on Windows: a child given the handle by inheritance,
 * which stands for the forked mmf_file) holds the object once the parent
 * has closed it. */
TEST(named_fork_inherited_holder)
{
#ifndef _WIN32
    char n[NAMESZ];
    mmf_file *f = NULL, *g = NULL;
    int p2c[2], c2p[2];
    pid_t pid;

    name_of(n, "fork", 0);
    xpipe(p2c);
    xpipe(c2p);
    CHECK_OK(mmf_create_new(n, 4096, RW, 0, &f));
    put_str(f, 0, "P");
    pid = start_fork();
    if (pid == 0) {
        mmf_file *c = NULL;
        close_end(p2c[1]);
        close_end(c2p[0]);
        put_byte(c2p[1], 'S'); /* running, past fork() */
        expect_byte(p2c[0], 'A');
        /* The parent has closed: only this process's inherited handle
         * holds the object, so the name must still be live. */
        CHECK_OK(mmf_open_existing(n, RW, 0, &c));
        CHECK_EQ(mmf_capacity(c), 4096);
        CHECK_STR(c, 0, "P");
        CHECK_STR(f, 0, "P");
        put_str(f, 1, "C");
        CHECK_STR(c, 0, "PC");
        CHECK_OK(mmf_close(c));
        put_byte(c2p[1], 'B');
        expect_byte(p2c[0], 'C');
        CHECK_STR(f, 0, "PCx");
        CHECK_OK(mmf_close(f));
        put_byte(c2p[1], 'D');
        _exit(0);
    }
    close_end(p2c[0]);
    close_end(c2p[1]);
    expect_byte(c2p[0], 'S');
    CHECK_OK(mmf_close(f));
    put_byte(p2c[1], 'A');
    expect_byte(c2p[0], 'B');
    /* This process holds nothing; the child's inherited handle does. */
    CHECK_OK(mmf_open_existing(n, RW, 0, &g));
    CHECK_STR(g, 0, "PC");
    put_str(g, 2, "x");
    CHECK_OK(mmf_close(g));
    put_byte(p2c[1], 'C');
    expect_byte(c2p[0], 'D');
    CHECK_EQ(wait_kid(pid), 0);
    close_end(p2c[1]);
    close_end(c2p[0]);
    CHECK_CLOSED(n);
#else
    char n[NAMESZ], a0[32], a1[32], a2[32];
    mmf_file *f = NULL, *g = NULL;
    int p2c[2], c2p[2];
    pid_t pid;

    name_of(n, "fork", 0);
    xpipe(p2c);
    xpipe(c2p);
    CHECK_OK(mmf_create_new(n, 4096, RW, MMF_OPT_INHERITABLE, &f));
    put_str(f, 0, "P");
    {
        const char *args[] = {num(a0, mmf_handle_of(f)), n, num(a1, p2c[0]),
                              num(a2, c2p[1]), NULL};
        int fds[] = {p2c[0], c2p[1]};
        pid = spawn_fds("named_h_inherited_holder", args, fds, 2);
    }
    close_end(p2c[0]);
    close_end(c2p[1]);
    expect_byte(c2p[0], 'S');
    CHECK_OK(mmf_close(f));
    put_byte(p2c[1], 'A');
    expect_byte(c2p[0], 'B');
    /* This process holds nothing; the child's inherited handle does. */
    CHECK_OK(mmf_open_existing(n, RW, 0, &g));
    CHECK_STR(g, 0, "PC");
    put_str(g, 2, "x");
    CHECK_OK(mmf_close(g));
    put_byte(p2c[1], 'C');
    expect_byte(c2p[0], 'D');
    CHECK_EQ(wait_kid(pid), 0);
    close_end(p2c[1]);
    close_end(c2p[0]);
    CHECK_CLOSED(n);
#endif
}

/* The parent closes its handle as soon as fork() has returned: the child
 * holds the inherited handle from that moment, whatever it has run yet.
 * (Windows has no fork: there the parent closes its handle as soon as
 * CreateProcess has returned, and the child's inherited handle holds the
 * object from that moment.) */
TEST(named_fork_close_at_once)
{
#ifndef _WIN32
    char n[NAMESZ];

    name_of(n, "forknow", 0);
    for (int round = 0; round < 20; round++) {
        mmf_file *f = NULL;
        int go[2];
        pid_t pid;

        xpipe(go);
        CHECK_OK(mmf_create_new(n, 4096, RW, 0, &f));
        put_str(f, 0, "before-fork");
        pid = start_fork();
        if (pid == 0) {
            mmf_file *c = NULL;
            close_end(go[1]);
            expect_byte(go[0], 'A');
            CHECK_OK(mmf_open_existing(n, RW, 0, &c));
            CHECK_STR(c, 0, "before-fork");
            CHECK_OK(mmf_close(c));
            CHECK_STR(f, 0, "before-fork");
            CHECK_OK(mmf_close(f));
            _exit(0);
        }
        close_end(go[0]);
        CHECK_OK(mmf_close(f));
        put_byte(go[1], 'A');
        close_end(go[1]);
        if (wait_kid(pid) != 0)
            t_fail(__FILE__, __LINE__,
                   "round %d: the forked child's inherited handle did not "
                   "keep the object alive",
                   round);
        CHECK_CLOSED(n);
    }
#else
    char n[NAMESZ], a0[32], a1[32];

    name_of(n, "forknow", 0);
    for (int round = 0; round < 20; round++) {
        mmf_file *f = NULL;
        int go[2];
        pid_t pid;

        xpipe(go);
        CHECK_OK(mmf_create_new(n, 4096, RW, MMF_OPT_INHERITABLE, &f));
        put_str(f, 0, "before-fork");
        {
            const char *args[] = {num(a0, mmf_handle_of(f)), n, num(a1, go[0]),
                                  NULL};
            pid = spawn_fds("named_h_inherited_at_once", args, &go[0], 1);
        }
        close_end(go[0]);
        CHECK_OK(mmf_close(f));
        put_byte(go[1], 'A');
        close_end(go[1]);
        if (wait_kid(pid) != 0)
            t_fail(__FILE__, __LINE__,
                   "round %d: the child's inherited handle did not keep the "
                   "object alive",
                   round);
        CHECK_CLOSED(n);
    }
#endif
}

/* ---- races ------------------------------------------------------------- */

/* One process of a create_new storm: waits for the start (end of file on
 * `go`), calls mmf_create_new and reports {its result, whether it was as
 * required (a fresh object, or NULL)} on `res`; holds the object until end
 * of file on `fin`, then ends. */
static void storm_new_child(const char *n, int go, int res, int fin)
    __attribute__((noreturn));
static void storm_new_child(const char *n, int go, int res, int fin)
{
    mmf_file *c = NULL;
    int msg[2];

    (void)try_get_byte(go); /* end of file: go */
    msg[0] = mmf_create_new(n, 4096, RW, 0, &c);
    msg[1] = 0;
    if (msg[0] == MMF_OK) {
        unsigned char buf[4096];
        msg[1] = mmf_created(c) == 1 && mmf_capacity(c) == 4096 &&
                 mmf_read(c, 0, buf, sizeof buf) == MMF_OK;
        for (size_t k = 0; msg[1] && k < sizeof buf; k++)
            msg[1] = buf[k] == 0;
    } else {
        msg[1] = c == NULL;
    }
    write_all(res, msg, sizeof msg);
    /* Hold the object until every process has answered. */
    (void)try_get_byte(fin);
    mmf_close(c);
    _exit(0);
}

#ifdef _WIN32
/* NAME GO RES FIN: storm_new_child. */
HELPER(named_h_storm_new)
{
    if (argc < 4)
        return 2;
    storm_new_child(argv[0], atoi(argv[1]), atoi(argv[2]), atoi(argv[3]));
}
#endif

TEST(named_race_create_new)
{
    enum { PROCS = 8, ROUNDS = 20 };
    char n[NAMESZ];

    for (int round = 0; round < ROUNDS; round++) {
        int go[2], res[2], fin[2], wins = 0, exists = 0;
        pid_t pids[PROCS];

        name_of(n, "storm", round);
        xpipe(go);
        xpipe(res);
        xpipe(fin);
        for (int i = 0; i < PROCS; i++) {
#ifndef _WIN32
            pids[i] = start_fork();
            if (pids[i] == 0) {
                close_end(go[1]);
                close_end(res[0]);
                close_end(fin[1]);
                storm_new_child(n, go[0], res[1], fin[0]);
            }
#else
            char a1[32], a2[32], a3[32];
            const char *args[] = {n, num(a1, go[0]), num(a2, res[1]),
                                  num(a3, fin[0]), NULL};
            int fds[] = {go[0], res[1], fin[0]};
            pids[i] = spawn_fds("named_h_storm_new", args, fds, 3);
#endif
        }
        close_end(go[0]);
        close_end(res[1]);
        close_end(fin[0]);
        close_end(go[1]); /* releases them all at once */
        for (int i = 0; i < PROCS; i++) {
            int msg[2];
            if (read_all(res[0], msg, sizeof msg) != 0)
                t_fail(__FILE__, __LINE__, "round %d: a process died", round);
            if (msg[0] == MMF_OK)
                wins++;
            else if (msg[0] == MMF_EEXIST)
                exists++;
            else
                t_fail(__FILE__, __LINE__, "round %d: mmf_create_new -> %s",
                       round, mmf_errname(msg[0]));
            if (!msg[1])
                t_fail(__FILE__, __LINE__,
                       "round %d: %s but not fresh/NULL as required", round,
                       mmf_errname(msg[0]));
        }
        CHECK_EQ(wins, 1);
        CHECK_EQ(exists, PROCS - 1);
        close_end(fin[1]);
        for (int i = 0; i < PROCS; i++)
            CHECK_EQ(wait_kid(pids[i]), 0);
        close_end(res[0]);
        CHECK_CLOSED(n);
    }
}

/* Shared between the processes of the create_or_open storm (anonymous
 * shared memory, not libmmf). */
struct storm {
    _Atomic uint64_t next_id;
    _Atomic uint64_t current[8]; /* id of the object each process holds */
    _Atomic int workers_done;
    _Atomic int error;  /* first unexpected return code */
    _Atomic int reason; /* what went wrong (see storm_visit) */
    _Atomic long created, opened, missing;
    _Atomic uint64_t ino[8]; /* inode of the data each process holds */
    /* The first "two objects at once": who, which ids, which inodes. */
    _Atomic int seen_i, seen_j;
    _Atomic uint64_t seen_id_i, seen_id_j, seen_ino_i, seen_ino_j;
};

enum { STORM_SLOTS = 64 };

/* Memory shared with this test's children, not libmmf: anonymous and
 * shared on POSIX, where forked children inherit the mapping; on Windows
 * a pagefile section, whose handle (*h) each helper inherits and maps with
 * shared_map. */
static void *shared_new(size_t size, int *h)
{
    void *p;
#ifndef _WIN32
    *h = -1;
    p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1,
             0);
    CHECK(p != MAP_FAILED);
#else
    HANDLE s = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0,
                                  (DWORD)size, NULL);
    CHECK(s != NULL);
    *h = (int)(intptr_t)s;
    p = MapViewOfFile(s, FILE_MAP_WRITE, 0, 0, size);
    CHECK(p != NULL);
#endif
    memset(p, 0, size);
    return p;
}

static void shared_free(void *p, size_t size, int h)
{
#ifndef _WIN32
    (void)h;
    munmap(p, size);
#else
    (void)size;
    UnmapViewOfFile(p);
    CloseHandle((HANDLE)(intptr_t)h);
#endif
}

#ifdef _WIN32
/* A helper's view of the shared memory whose handle value is `arg`. */
static void *shared_map(const char *arg, size_t size)
{
    void *p =
        MapViewOfFile((HANDLE)(intptr_t)atoll(arg), FILE_MAP_WRITE, 0, 0, size);
    CHECK(p != NULL);
    return p;
}
#endif

/* A held object is never removed: its data still has a name. (On Windows
 * the kernel keeps a name while anyone holds it: the name still leads to
 * the object held, whose first 8 bytes, its id, are unique.) */
static int still_linked(mmf_file *f)
{
#ifndef _WIN32
    struct stat st;
    return fstat((int)mmf_handle_of(f), &st) == 0 && st.st_nlink >= 1;
#else
    HANDLE h = OpenFileMappingA(FILE_MAP_READ, FALSE, mmf_name(f));
    uint64_t mine = 0, named;
    void *p;

    if (h == NULL || mmf_read(f, 0, &mine, sizeof mine) != MMF_OK) {
        if (h != NULL)
            CloseHandle(h);
        return 0;
    }
    p = MapViewOfFile(h, FILE_MAP_READ, 0, 0, sizeof named);
    CloseHandle(h);
    if (p == NULL)
        return 0;
    memcpy(&named, p, sizeof named);
    UnmapViewOfFile(p);
    return named == mine;
#endif
}

/* The inode of the data behind `f` (for messages; 0 on Windows). */
static uint64_t data_ino(mmf_file *f)
{
#ifndef _WIN32
    struct stat st;
    return fstat((int)mmf_handle_of(f), &st) == 0 ? (uint64_t)st.st_ino : 0;
#else
    (void)f;
    return 0;
#endif
}

/* Sleeps about `us` microseconds (Windows: a yield below 1 ms). */
static void nap_us(unsigned us)
{
#ifndef _WIN32
    usleep((useconds_t)us);
#else
    Sleep(us / 1000);
#endif
}

/*
 * One visit of the object `f` by process i. The first 8 bytes of the
 * object hold its id, chosen by its creator; each visitor publishes the id
 * of the object it holds in S->current[i] while it holds it, and checks
 * that no other process publishes another one: two different objects held
 * at once would mean two objects under one name. Returns 0 or a reason.
 */
static int storm_visit(struct storm *S, int i, mmf_file *f)
{
    mmf_view *v = NULL;
    unsigned char *d;
    _Atomic uint64_t *id;
    volatile uint64_t *slots;
    uint64_t my;
    int rc = 0;

    if (mmf_view_open(f, 0, 0, RW, &v) != MMF_OK)
        return 10;
    d = mmf_view_data(v);
    id = (_Atomic uint64_t *)d;
    slots = (volatile uint64_t *)(d + STORM_SLOTS);
    if (mmf_created(f)) {
        /* Fresh: zero-filled, and no one else writes the id. */
        if (atomic_load(id) != 0 || slots[i] != 0) {
            rc = 11;
            goto out;
        }
        my = atomic_fetch_add(&S->next_id, 1) + 1;
        atomic_store(id, my);
        atomic_fetch_add(&S->created, 1);
    } else {
        long spins = 0;
        /* The creator still holds it (we could open it), so it will
         * publish the id. */
        while ((my = atomic_load(id)) == 0) {
            if (++spins > 50000000L) {
                rc = 12;
                goto out;
            }
            yield_cpu();
        }
    }
    atomic_store(&S->ino[i], data_ino(f));
    atomic_store(&S->current[i], my);
    if (!still_linked(f)) {
        rc = 15;
        atomic_store(&S->current[i], 0);
        goto out;
    }
    for (int j = 0; j < 8; j++) {
        uint64_t c = atomic_load(&S->current[j]);
        uint64_t other_ino = atomic_load(&S->ino[j]);
        if (j != i && c != 0 && c != my) {
            int none = 0;
            if (atomic_compare_exchange_strong(&S->seen_i, &none, i + 1)) {
                atomic_store(&S->seen_j, j);
                atomic_store(&S->seen_id_i, my);
                atomic_store(&S->seen_id_j, c);
                atomic_store(&S->seen_ino_i, atomic_load(&S->ino[i]));
                atomic_store(&S->seen_ino_j, other_ino);
            }
            rc = 13;
            break;
        }
    }
    slots[i] = (uint64_t)t_self_pid();
    if (slots[i] != (uint64_t)t_self_pid())
        rc = 14;
    atomic_store(&S->current[i], 0);
out:
    mmf_view_close(v);
    return rc;
}

static void storm_fail(struct storm *S, int rc, int reason)
{
    int zero = 0;
    if (atomic_compare_exchange_strong(&S->error, &zero, rc == 0 ? 1 : rc))
        atomic_store(&S->reason, reason);
}

/* Process i of the create_or_open storm, once the start is given:
 * WORKERS create_or_open and visit the object ITER times; the others open
 * it while workers run. Ends the process. */
enum { COO_WORKERS = 4, COO_OPENERS = 2, COO_ITER = 500 };

static void coo_child(struct storm *S, int i, const char *n)
    __attribute__((noreturn));
static void coo_child(struct storm *S, int i, const char *n)
{
    if (i < COO_WORKERS) {
        for (int k = 0; k < COO_ITER; k++) {
            mmf_file *f = NULL;
            int rc = mmf_create_or_open(n, 4096, RW, 0, &f), why;
            if (rc != MMF_OK) {
                storm_fail(S, rc, 1);
                _exit(1);
            }
            if (mmf_capacity(f) != 4096) {
                storm_fail(S, 0, 2);
                _exit(1);
            }
            why = storm_visit(S, i, f);
            if (why != 0) {
                storm_fail(S, 0, why);
                _exit(1);
            }
            mmf_close(f);
        }
        atomic_fetch_add(&S->workers_done, 1);
    } else {
        while (atomic_load(&S->workers_done) < COO_WORKERS &&
               atomic_load(&S->error) == 0) {
            mmf_file *f = NULL;
            int rc = mmf_open_existing(n, RW, 0, &f), why;
            if (rc == MMF_ENOENT) {
                atomic_fetch_add(&S->missing, 1);
                continue;
            }
            if (rc != MMF_OK) {
                storm_fail(S, rc, 3);
                _exit(1);
            }
            atomic_fetch_add(&S->opened, 1);
            why = storm_visit(S, i, f);
            if (why != 0) {
                storm_fail(S, 0, why);
                _exit(1);
            }
            mmf_close(f);
        }
    }
    _exit(0);
}

#ifdef _WIN32
/* NAME I SHARED GO: coo_child, started by end of file on GO. */
HELPER(named_h_storm_coo)
{
    if (argc < 4)
        return 2;
    (void)try_get_byte(atoi(argv[3]));
    coo_child(shared_map(argv[2], sizeof(struct storm)), atoi(argv[1]),
              argv[0]);
}
#endif

TEST(named_race_create_or_open)
{
    enum { WORKERS = COO_WORKERS, OPENERS = COO_OPENERS };
    char n[NAMESZ];
    struct storm *S;
    pid_t pids[WORKERS + OPENERS];
    int statuses[WORKERS + OPENERS];
    int go[2], shm;

    name_of(n, "coo", 0);
    S = shared_new(sizeof *S, &shm);
    xpipe(go);
    for (int i = 0; i < WORKERS + OPENERS; i++) {
#ifndef _WIN32
        pids[i] = start_fork();
        if (pids[i] == 0) {
            close_end(go[1]);
            (void)try_get_byte(go[0]);
            coo_child(S, i, n);
        }
#else
        char a1[32], a2[32], a3[32];
        const char *args[] = {n, num(a1, i), num(a2, shm), num(a3, go[0]),
                              NULL};
        int fds[] = {shm, go[0]};
        pids[i] = spawn_fds("named_h_storm_coo", args, fds, 2);
#endif
    }
    close_end(go[0]);
    close_end(go[1]);
    for (int i = 0; i < WORKERS + OPENERS; i++)
        statuses[i] = wait_kid(pids[i]);
    for (int i = 0; i < WORKERS + OPENERS; i++) {
        int st = statuses[i];
        if (st != 0 && atomic_load(&S->seen_i) == 0)
            t_fail(__FILE__, __LINE__,
                   "process %d: status %d; first error %s, reason %d "
                   "(1 create_or_open failed, 3 open_existing failed, 11 a "
                   "created object was not fresh, 13 two objects at once, 15 "
                   "the object held was removed)",
                   i, st, mmf_errname(atomic_load(&S->error)),
                   atomic_load(&S->reason));
    }
    if (atomic_load(&S->seen_i) != 0)
        t_fail(__FILE__, __LINE__,
               "two objects under one name at once: process %d held object "
               "%" PRIu64 " (data inode %" PRIu64 ") while process %d held "
               "object %" PRIu64 " (data inode %" PRIu64 ")",
               atomic_load(&S->seen_i) - 1, atomic_load(&S->seen_id_i),
               atomic_load(&S->seen_ino_i), atomic_load(&S->seen_j),
               atomic_load(&S->seen_id_j), atomic_load(&S->seen_ino_j));
    CHECK_EQ(atomic_load(&S->error), 0);
    CHECK(atomic_load(&S->created) >= 1);
    printf("created %ld objects; open_existing: %ld opened, %ld ENOENT\n",
           atomic_load(&S->created), atomic_load(&S->opened),
           atomic_load(&S->missing));
    shared_free(S, sizeof *S, shm);
    CHECK_CLOSED(n);
}

/* Shared by the processes of named_race_open_vs_create. */
struct openrace {
    _Atomic int stop;
    _Atomic int error, reason;
    _Atomic long created, opened;
};

static void openrace_fail(struct openrace *R, int rc, int reason)
{
    int zero = 0;
    if (atomic_compare_exchange_strong(&R->error, &zero, rc == 0 ? 1 : rc))
        atomic_store(&R->reason, reason);
}

/* Process i of named_race_open_vs_create, once started: i 0 creates and
 * closes the object over and over, the others open it. Ends the process. */
enum {
    OPENRACE_OPENERS = 3,
    OPENRACE_OBJECTS = 1000,
    OPENRACE_ATTEMPTS = 200000
};

static void openrace_child(struct openrace *R, int i, const char *n)
    __attribute__((noreturn));
static void openrace_child(struct openrace *R, int i, const char *n)
{
    if (i == 0) {
        for (int k = 0; k < OPENRACE_ATTEMPTS && !atomic_load(&R->error) &&
                        atomic_load(&R->created) < OPENRACE_OBJECTS;
             k++) {
            mmf_file *f = NULL;
            mmf_view *v = NULL;
            int rc = mmf_create_new(n, 4096, RW, 0, &f);
            if (rc == MMF_EEXIST)
                continue; /* an opener holds it */
            if (rc != MMF_OK) {
                openrace_fail(R, rc, 1);
                break;
            }
            if (mmf_view_open(f, 0, 0, RW, &v) != MMF_OK) {
                openrace_fail(R, 0, 2);
                break;
            }
            atomic_store((_Atomic uint64_t *)mmf_view_data(v), (uint64_t)k + 1);
            atomic_fetch_add(&R->created, 1);
            mmf_view_close(v);
            mmf_close(f);
        }
        atomic_store(&R->stop, 1);
        _exit(atomic_load(&R->error) ? 1 : 0);
    }
    while (!atomic_load(&R->stop)) {
        mmf_file *f = NULL;
        mmf_view *v = NULL;
        _Atomic uint64_t *id;
        long spins = 0;
        int rc = mmf_open_existing(n, RW, 0, &f);
        if (rc == MMF_ENOENT)
            continue;
        if (rc != MMF_OK) {
            openrace_fail(R, rc, 3);
            _exit(1);
        }
        if (mmf_capacity(f) != 4096) {
            openrace_fail(R, 0, 4);
            _exit(1);
        }
        if (mmf_view_open(f, 0, 0, RW, &v) != MMF_OK) {
            openrace_fail(R, 0, 2);
            _exit(1);
        }
        /* Its creator still holds it, so it publishes its number. */
        id = (_Atomic uint64_t *)mmf_view_data(v);
        while (atomic_load(id) == 0 && ++spins < 50000000L)
            yield_cpu();
        /* Give the creator time to close it. */
        for (int y = 0; y < 20; y++)
            yield_cpu();
        if (!still_linked(f)) {
            openrace_fail(R, 0, 5);
            _exit(1);
        }
        atomic_fetch_add(&R->opened, 1);
        mmf_view_close(v);
        mmf_close(f);
        /* Let the object die now and then (load shaping only). */
        nap_us((unsigned)(50 + 50 * i));
    }
    _exit(0);
}

#ifdef _WIN32
/* NAME I SHARED GO: openrace_child, started by end of file on GO. */
HELPER(named_h_openrace)
{
    if (argc < 4)
        return 2;
    (void)try_get_byte(atoi(argv[3]));
    openrace_child(shared_map(argv[2], sizeof(struct openrace)), atoi(argv[1]),
                   argv[0]);
}
#endif

/* One creator makes and closes the object over and over while openers call
 * mmf_open_existing: an opener gets MMF_OK or MMF_ENOENT, never a
 * half-created object, and what it opened is not removed while it holds
 * it (the creator's close must see it as a holder). */
TEST(named_race_open_vs_create)
{
    enum { OPENERS = OPENRACE_OPENERS };
    char n[NAMESZ];
    struct openrace *R;
    pid_t pids[1 + OPENERS];
    int go[2], shm;

    name_of(n, "openrace", 0);
    R = shared_new(sizeof *R, &shm);
    xpipe(go);
    for (int i = 0; i < 1 + OPENERS; i++) {
#ifndef _WIN32
        pids[i] = start_fork();
        if (pids[i] != 0)
            continue;
        close_end(go[1]);
        (void)try_get_byte(go[0]);
        openrace_child(R, i, n);
#else
        char a1[32], a2[32], a3[32];
        const char *args[] = {n, num(a1, i), num(a2, shm), num(a3, go[0]),
                              NULL};
        int fds[] = {shm, go[0]};
        pids[i] = spawn_fds("named_h_openrace", args, fds, 2);
#endif
    }
    close_end(go[0]);
    close_end(go[1]);
    for (int i = 0; i < 1 + OPENERS; i++)
        (void)wait_kid(pids[i]);
    if (atomic_load(&R->error) != 0)
        t_fail(__FILE__, __LINE__,
               "first error %s, reason %d (1 create_new failed, 3 "
               "open_existing failed, 4 wrong capacity, 5 the object an "
               "opener held was removed under it)",
               mmf_errname(atomic_load(&R->error)), atomic_load(&R->reason));
    printf("created %ld objects, opened %ld times\n", atomic_load(&R->created),
           atomic_load(&R->opened));
    shared_free(R, sizeof *R, shm);
    CHECK_CLOSED(n);
}

/* ---- coherence --------------------------------------------------------- */

enum { INCREMENTS = 1000000 };

/* The parent and one helper each add INCREMENTS to the counter at offset
 * 0 of the map `f`, named `n`, at the same time. */
static void count_together(mmf_file *f, const char *n)
{
    char a1[32], a2[32], a3[32];
    int ready[2], go[2];
    mmf_view *v = NULL;
    _Atomic uint64_t *p;
    pid_t pid;

    xpipe(ready);
    xpipe(go);
    CHECK_OK(mmf_view_open(f, 0, 0, RW, &v));
    p = (_Atomic uint64_t *)mmf_view_data(v);
    {
        const char *args[] = {n, num(a1, INCREMENTS), num(a2, ready[1]),
                              num(a3, go[0]), NULL};
        int fds[] = {ready[1], go[0]};
        pid = spawn_fds("named_h_incr", args, fds, 2);
    }
    close_end(ready[1]);
    close_end(go[0]);
    expect_byte(ready[0], 'R');
    put_byte(go[1], 'G');
    for (long i = 0; i < INCREMENTS; i++)
        atomic_fetch_add(p, 1);
    CHECK_EQ(wait_kid(pid), 0);
    CHECK_EQ(atomic_load(p), 2 * (uint64_t)INCREMENTS);
    CHECK_OK(mmf_view_close(v));
    close_end(ready[0]);
    close_end(go[1]);
}

TEST(named_coherence_shm)
{
    char n[NAMESZ];
    mmf_file *f = NULL;
    uint64_t total = 0;

    name_of(n, "atomic", 0);
    CHECK_OK(mmf_create_new(n, 4096, RW, 0, &f));
    count_together(f, n);
    CHECK_OK(mmf_read(f, 0, &total, sizeof total));
    CHECK_EQ(total, 2 * (uint64_t)INCREMENTS);
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
}

TEST(named_coherence_persisted)
{
    char n[NAMESZ];
    const char *path = t_path("counter.bin");
    mmf_file *f = NULL;
    uint64_t total = 0;

    name_of(n, "atomicfile", 0);
    CHECK_OK(
        mmf_create_from_file(path, MMF_MODE_CREATE_NEW, n, 4096, RW, 0, &f));
    CHECK_EQ(mmf_created(f), 1);
#ifndef _WIN32
    CHECK(!data_exists(n));
#else
    CHECK(reg_exists(n)); /* the section is the file's; beside it, its meta */
#endif
    count_together(f, n);
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
    /* The file keeps the total. */
    t_pread(path, 0, &total, sizeof total);
    CHECK_EQ(total, 2 * (uint64_t)INCREMENTS);
    CHECK_EQ(t_file_size(path), 4096);
}

/* ---- KEEP_NAME and mmf_unlink ------------------------------------------ */

TEST(named_keep_name)
{
#ifndef _WIN32
    char n[NAMESZ], missing[NAMESZ], p[512];
    mmf_file *f = NULL, *g = NULL, *h = NULL, *x = NULL;

    name_of(n, "keep", 0);
    name_of(missing, "keep", 1);
    CHECK_RC(mmf_unlink(missing), MMF_ENOENT);
    CHECK_GONE(missing);

    CHECK_OK(mmf_create_new(n, 5000, RW, MMF_OPT_KEEP_NAME, &f));
    CHECK_EQ(mmf_created(f), 1);
    CHECK_ZERO(f);
    put_str(f, 0, "keep");
    CHECK_OK(mmf_close(f));

    /* No holder, but the name and data stay. */
    CHECK(t_exists(data_path(n, p)));
    {
        const char *args[] = {n, "0", "0", "0", "keep", "100", "kid", NULL};
        CHECK_EQ(wait_kid(spawn("named_h_open", args)), 0);
    }
    CHECK_OK(mmf_open_existing(n, RW, 0, &g));
    CHECK_EQ(mmf_created(g), 0);
    CHECK_EQ(mmf_capacity(g), 5000);
    CHECK_STR(g, 0, "keep");
    CHECK_STR(g, 100, "kid");
    CHECK_RC(mmf_create_new(n, 5000, RW, 0, &x), MMF_EEXIST);
    CHECK_OK(mmf_create_or_open(n, 77, RW, 0, &x));
    CHECK_EQ(mmf_created(x), 0);
    CHECK_EQ(mmf_capacity(x), 5000);
    CHECK_OK(mmf_close(x));

    /* unlink: the name goes now; the holder keeps its memory. */
    CHECK_OK(mmf_unlink(n));
    CHECK_CLOSED(n);
    CHECK_STR(g, 0, "keep");
    put_str(g, 200, "more");
    CHECK_STR(g, 200, "more");
    CHECK_RC(mmf_unlink(n), MMF_ENOENT);

    /* The next create makes a new object, separate from g's. */
    CHECK_OK(mmf_create_new(n, 3000, RW, 0, &h));
    CHECK_EQ(mmf_created(h), 1);
    CHECK_EQ(mmf_capacity(h), 3000);
    CHECK_ZERO(h);
    put_str(h, 0, "new!");
    CHECK_STR(g, 0, "keep");
    /* Closing the old holder leaves the new object alone. */
    CHECK_OK(mmf_close(g));
    CHECK_OK(mmf_open_existing(n, RW, 0, &x));
    CHECK_EQ(mmf_capacity(x), 3000);
    CHECK_STR(x, 0, "new!");
    CHECK_OK(mmf_close(x));
    CHECK_OK(mmf_close(h));
    CHECK_CLOSED(n);

    /* unlink of a kept name nobody holds removes everything. */
    CHECK_OK(mmf_create_or_open(n, 100, RW, MMF_OPT_KEEP_NAME, &f));
    CHECK_EQ(mmf_created(f), 1);
    CHECK_OK(mmf_close(f));
    CHECK(t_exists(data_path(n, p)));
    CHECK_OK(mmf_unlink(n));
    CHECK_CLOSED(n);
#else
    /* Windows names die with their last holder: MMF_OPT_KEEP_NAME and
     * mmf_unlink are MMF_ENOTSUP there (API.md), after the arguments are
     * checked, and they leave no trace. */
    char n[NAMESZ];
    mmf_file *f = NULL, *x = NULL;

    name_of(n, "keep", 0);
    x = (mmf_file *)&x;
    CHECK_RC(mmf_create_new(n, 5000, RW, MMF_OPT_KEEP_NAME, &x), MMF_ENOTSUP);
    CHECK(x == NULL);
    CHECK_GONE(n);
    x = (mmf_file *)&x;
    CHECK_RC(mmf_create_or_open(n, 100, RW, MMF_OPT_KEEP_NAME, &x),
             MMF_ENOTSUP);
    CHECK(x == NULL);
    CHECK_GONE(n);
    CHECK_RC(mmf_unlink(n), MMF_ENOTSUP);
    CHECK_GONE(n);

    /* Argument checks come first. */
    CHECK_RC(mmf_unlink(NULL), MMF_EINVAL);
    CHECK_RC(mmf_unlink(""), MMF_EINVAL);
    CHECK_RC(mmf_unlink("a/b"), MMF_EINVAL);
    CHECK_RC(mmf_unlink("Local\\"), MMF_EINVAL);
    CHECK_RC(mmf_create_new(NULL, 100, RW, MMF_OPT_KEEP_NAME, &x), MMF_EINVAL);
    CHECK_RC(mmf_create_new(n, 0, RW, MMF_OPT_KEEP_NAME, &x), MMF_EINVAL);
    CHECK_RC(mmf_open_existing(n, RW, MMF_OPT_KEEP_NAME, &x), MMF_EINVAL);

    /* A live name: neither removed nor changed. */
    CHECK_OK(mmf_create_new(n, 5000, RW, 0, &f));
    put_str(f, 0, "keep");
    CHECK_RC(mmf_unlink(n), MMF_ENOTSUP);
    x = (mmf_file *)&x;
    CHECK_RC(mmf_create_or_open(n, 100, RW, MMF_OPT_KEEP_NAME, &x),
             MMF_ENOTSUP);
    CHECK(x == NULL);
    {
        const char *args[] = {n, "0", "0", "0", "keep", "100", "kid", NULL};
        CHECK_EQ(wait_kid(spawn("named_h_open", args)), 0);
    }
    CHECK_OK(mmf_open_existing(n, RO, 0, &x));
    CHECK_EQ(mmf_capacity(x), 5000);
    CHECK_STR(x, 100, "kid");
    CHECK_OK(mmf_close(x));
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
#endif
}

#ifndef _WIN32
TEST(named_keep_name_killed_creator)
{
    char n[NAMESZ];
    mmf_file *f = NULL;
    int p[2];
    pid_t pid;

    name_of(n, "keepkill", 0);
    xpipe(p);
    pid = start_fork();
    if (pid == 0) {
        mmf_file *c = NULL;
        close_end(p[0]);
        if (mmf_create_new(n, 4096, RW, MMF_OPT_KEEP_NAME, &c) != MMF_OK ||
            mmf_write(c, 0, "survive", 7) != MMF_OK)
            die_with(p[1], 'E');
        put_byte(p[1], 'R');
        for (;;)
            pause();
    }
    close_end(p[1]);
    expect_byte(p[0], 'R');
    close_end(p[0]);
    kill_kid(pid);
    CHECK_OK(mmf_open_existing(n, RW, 0, &f));
    CHECK_EQ(mmf_capacity(f), 4096);
    CHECK_STR(f, 0, "survive");
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_open_existing(n, RO, 0, &f));
    CHECK_STR(f, 0, "survive");
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_unlink(n));
    CHECK_CLOSED(n);
}
#endif
NOT_ON_WINDOWS(named_keep_name_killed_creator,
               "MMF_OPT_KEEP_NAME is MMF_ENOTSUP on Windows (checked by "
               "named_keep_name)")

/* ---- rights ------------------------------------------------------------ */

/* Creates NAME with `created_as`, then opens it with each access 0..5:
 * allowed exactly for the view accesses of `created_as`. */
static void check_open_rights(const char *n, int created_as, unsigned allowed)
{
    mmf_file *f = NULL;
    int rc = mmf_create_new(n, 4096, created_as, 0, &f);

    if (rc == MMF_EACCES && (created_as == MMF_ACCESS_READ_EXECUTE ||
                             created_as == MMF_ACCESS_READ_WRITE_EXECUTE)) {
        printf("execute access refused here: %s not checked\n",
               mmf_errname(rc));
        CHECK_GONE(n);
        return;
    }
    CHECK_OK(rc);
    for (int a = 0; a <= 5; a++) {
        mmf_file *g = (mmf_file *)&g;
        int want = (allowed >> a) & 1u ? MMF_OK : MMF_EACCES;
        rc = mmf_open_existing(n, a, 0, &g);
        if (rc != want)
            t_fail(__FILE__, __LINE__,
                   "created with access %d, open_existing(%d) -> %s, want %s",
                   created_as, a, mmf_errname(rc), mmf_errname(want));
        if (rc == MMF_OK) {
            CHECK_EQ(mmf_access_of(g), a);
            CHECK_EQ(mmf_capacity(g), 4096);
            CHECK_OK(mmf_close(g));
        } else {
            CHECK(g == NULL);
        }
    }
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
}

TEST(named_rights)
{
    char n[NAMESZ];
    mmf_file *f = NULL, *g = NULL, *x = NULL;
    mmf_view *v = NULL;

    /* The view matrix of API.md ("Views"), MMF_ACCESS_WRITE counting as a
     * view access: READ_WRITE allows READ_WRITE, READ, WRITE and
     * COPY_ON_WRITE, not the execute accesses. */
    name_of(n, "rights", 0);
    check_open_rights(n, RW, 0x0f);
    name_of(n, "rights", 1);
    check_open_rights(n, MMF_ACCESS_READ, (1u << 1) | (1u << 3));
    name_of(n, "rights", 2);
    check_open_rights(n, MMF_ACCESS_COPY_ON_WRITE, (1u << 1) | (1u << 3));
    name_of(n, "rights", 3);
    check_open_rights(n, MMF_ACCESS_READ_EXECUTE,
                      (1u << 1) | (1u << 3) | (1u << 4));
    name_of(n, "rights", 4);
    check_open_rights(n, MMF_ACCESS_READ_WRITE_EXECUTE, 0x3f);

    /* A map opened WRITE writes the object. */
    name_of(n, "rights", 5);
    CHECK_OK(mmf_create_new(n, 4096, RW, 0, &f));
    CHECK_OK(mmf_open_existing(n, MMF_ACCESS_WRITE, 0, &g));
    CHECK_EQ(mmf_access_of(g), MMF_ACCESS_WRITE);
    CHECK_OK(mmf_view_open(g, 0, 0, MMF_ACCESS_WRITE, &v));
    CHECK_OK(mmf_view_write(v, 10, "W", 1));
    CHECK_OK(mmf_view_close(v));
    CHECK_RC(mmf_view_open(g, 0, 0, RO, &v), MMF_EACCES);
    CHECK_STR(f, 10, "W");

    /* Access outside 0..5, even on a live name. */
    x = (mmf_file *)&x;
    CHECK_RC(mmf_open_existing(n, 6, 0, &x), MMF_EINVAL);
    CHECK(x == NULL);
    CHECK_RC(mmf_open_existing(n, -1, 0, &x), MMF_EINVAL);
    CHECK_RC(mmf_open_existing(n, 1000, 0, &x), MMF_EINVAL);
    CHECK_OK(mmf_close(g));
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);

    /* From another process too. */
    name_of(n, "rights", 6);
    CHECK_OK(mmf_create_new(n, 4096, RO, 0, &f));
    {
        const char *a1[] = {n, "0", "-5", NULL};
        const char *a2[] = {n, "1", "0", NULL};
        const char *a3[] = {n, "6", "-1", NULL};
        CHECK_EQ(wait_kid(spawn("named_h_open", a1)), 0);
        CHECK_EQ(wait_kid(spawn("named_h_open", a2)), 0);
        CHECK_EQ(wait_kid(spawn("named_h_open", a3)), 0);
    }
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
}

/* ---- named persisted maps ---------------------------------------------- */

static void remove_file(const char *path)
{
#ifndef _WIN32
    CHECK(unlink(path) == 0);
#else
    CHECK(DeleteFileA(path));
#endif
}

#ifdef _WIN32
/* Does the file system keep a DACL set on a file? NTFS does; wine accepts
 * SetSecurityInfo on a file but keeps reporting the DACL it derives from
 * the Unix mode. Probed without libmmf on a new file at `path`. */
static int file_keeps_dacl(const char *path)
{
    PSECURITY_DESCRIPTOR sd = NULL;
    PSID owner = NULL;
    PACL acl, back = NULL;
    DWORD size =
        sizeof(ACL) + sizeof(ACCESS_ALLOWED_ACE) + SECURITY_MAX_SID_SIZE;
    HANDLE h;
    int kept;

    t_make_file(path, 1, 0);
    h = CreateFileA(path, READ_CONTROL | WRITE_DAC, FILE_SHARE_READ, NULL,
                    OPEN_EXISTING, 0, NULL);
    CHECK(h != INVALID_HANDLE_VALUE);
    CHECK_EQ(GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION,
                             &owner, NULL, NULL, NULL, &sd),
             ERROR_SUCCESS);
    acl = malloc(size);
    CHECK(acl != NULL);
    CHECK(InitializeAcl(acl, size, ACL_REVISION));
    CHECK(AddAccessAllowedAce(acl, ACL_REVISION, FILE_ALL_ACCESS, owner));
    CHECK_EQ(SetSecurityInfo(h, SE_FILE_OBJECT,
                             DACL_SECURITY_INFORMATION |
                                 PROTECTED_DACL_SECURITY_INFORMATION,
                             NULL, NULL, acl, NULL),
             ERROR_SUCCESS);
    LocalFree(sd);
    CHECK_EQ(GetSecurityInfo(h, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, NULL,
                             NULL, &back, NULL, &sd),
             ERROR_SUCCESS);
    kept = back != NULL && back->AceCount == 1;
    LocalFree(sd);
    free(acl);
    CloseHandle(h);
    return kept;
}
#endif

/* A handle of the file opened read-write (not inherited by children). */
static mmf_handle open_rw(const char *path)
{
#ifndef _WIN32
    int fd = open(path, O_RDWR | O_CLOEXEC);
    CHECK(fd >= 0);
    return (mmf_handle)fd;
#else
    return t_open_handle(path, 1);
#endif
}

TEST(named_persisted)
{
    char n[NAMESZ];
    const char *path = t_path("named.bin");
    const char *other = t_path("other.bin");
    mmf_file *f = NULL, *x = NULL;
    unsigned mode = 0;
    unsigned char buf[16];
    mmf_handle fd;
#ifndef _WIN32
    char p[512];
#else
    char k[512];
    mmf_info info;
#endif

    name_of(n, "pers", 0);
    t_make_file(path, 8192, -1);
    t_pwrite(path, 0, "FILEDATA", 8);
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, n, 0, RW, 0, &f));
    CHECK_EQ(mmf_created(f), 0);
    CHECK_EQ(mmf_capacity(f), 8192);
    CHECK(strcmp(mmf_name(f), n) == 0);
#ifndef _WIN32
    CHECK(!t_exists(data_path(n, p)));
    CHECK(t_exists(reg_path(REG_PREFIX, n, p)));
    CHECK_EQ(mode_of(p), 0600);
#else
    /* The name is the file's section, with a meta section beside it. */
    CHECK(data_exists(n));
    CHECK(reg_exists(n));
    CHECK_OK(mmf_stat(n, MMF_KIND_MAP, &info));
    CHECK_EQ(info.kind, MMF_KIND_FILE_MAP);
    CHECK_EQ(info.capacity, 8192);
    CHECK(info.path[0] != '\0');
    CHECK(kernel_name(k, "meta", n));
    CHECK_EQ(kobj_mode(k, 0), 0600);
#endif

    /* Another process opens it by name. */
    {
        const char *args[] = {n,          "0",   "0",     "0",
                              "FILEDATA", "200", "CHILD", NULL};
        CHECK_EQ(wait_kid(spawn("named_h_open", args)), 0);
    }
    CHECK_STR(f, 200, "CHILD");
    t_pread(path, 200, buf, 5);
    CHECK_MEM(buf, "CHILD", 5);

    /* The name is taken. */
    CHECK_RC(mmf_create_new(n, 4096, RW, 0, &x), MMF_EEXIST);
    CHECK(x == NULL);
    CHECK_RC(
        mmf_create_from_file(other, MMF_MODE_CREATE_NEW, n, 4096, RW, 0, &x),
        MMF_EEXIST);
    CHECK(!t_exists(other));
    CHECK_RC(mmf_create_from_file(other, MMF_MODE_OPEN_OR_CREATE, n, 4096, RW,
                                  0, &x),
             MMF_EEXIST);
    CHECK(!t_exists(other));
    CHECK_RC(mmf_create_from_file(other, MMF_MODE_CREATE, n, 4096, RW, 0, &x),
             MMF_EEXIST);
    CHECK(!t_exists(other));
    fd = open_rw(path);
    CHECK_RC(mmf_create_from_handle(fd, n, 0, RW, 0, &x), MMF_EEXIST);
    close_handle(fd);

    /* create_or_open and open_existing open the persisted map. */
    CHECK_OK(mmf_create_or_open(n, 4096, RW, 0, &x));
    CHECK_EQ(mmf_created(x), 0);
    CHECK_EQ(mmf_capacity(x), 8192);
    CHECK_STR(x, 0, "FILEDATA");
    CHECK_OK(mmf_close(x));
    CHECK_OK(mmf_open_existing(n, RO, 0, &x));
    CHECK_STR(x, 200, "CHILD");
    CHECK_OK(mmf_close(x));

    /* Permissions: the file's and the registration's. */
#ifndef _WIN32
    CHECK_OK(mmf_set_permissions(f, 0640));
    CHECK_EQ(mode_of(path), 0640);
    CHECK_EQ(mode_of(reg_path(REG_PREFIX, n, p)), 0640);
    CHECK_OK(mmf_get_permissions(f, &mode));
    CHECK_EQ(mode, 0640);
#else
    /* Windows: group bits must equal the owner's or everyone's (API.md,
     * "Permissions on Windows"). */
    CHECK_RC(mmf_set_permissions(f, 0640), MMF_ENOTSUP);
    CHECK_EQ(kobj_mode(k, 0), 0600);
    CHECK_OK(mmf_set_permissions(f, 0660));
    CHECK_EQ(kobj_mode(k, 0), 0660);
    if (file_keeps_dacl(t_path("dacl-probe.bin"))) {
        CHECK_OK(mmf_get_permissions(f, &mode));
        CHECK_EQ(mode, 0660);
        CHECK_OK(mmf_stat(n, MMF_KIND_MAP, &info));
        CHECK_EQ(info.mode, 0660);
    } else {
        printf("wine: a file keeps no DACL set on it (SetSecurityInfo "
               "succeeds, the DACL read back is the one derived from the "
               "Unix mode): the file's mode is not checked\n");
    }
#endif

    /* The last holder closes: the name goes, the file stays. */
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
    CHECK_EQ(t_file_size(path), 8192);
    t_pread(path, 0, buf, 8);
    CHECK_MEM(buf, "FILEDATA", 8);
    t_pread(path, 200, buf, 5);
    CHECK_MEM(buf, "CHILD", 5);
    t_pread(path, 5000, buf, 1);
    CHECK_EQ(buf[0], t_pattern(-1, 5000));

    /* From a handle, with a name. */
    fd = open_rw(path);
    CHECK_OK(mmf_create_from_handle(fd, n, 0, RW, 0, &f));
    close_handle(fd);
    CHECK_EQ(mmf_created(f), 0);
    {
        const char *args[] = {n, "1", "0", "200", "CHILD", NULL};
        CHECK_EQ(wait_kid(spawn("named_h_open", args)), 0);
    }
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);

    /* The name is free for a non-persisted map now. */
    CHECK_OK(mmf_create_new(n, 100, RW, 0, &f));
    CHECK_EQ(mmf_created(f), 1);
    CHECK_ZERO(f);
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
}

TEST(named_persisted_moved_or_deleted)
{
    char n[NAMESZ];
    const char *path = t_path("moving.bin");
    const char *moved = t_path("moved.bin");
    mmf_file *f = NULL, *x = NULL;

    /* Moved away. */
    name_of(n, "moved", 0);
    t_make_file(path, 4096, 7);
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, n, 0, RW, 0, &f));
    CHECK_OK(mmf_open_existing(n, RW, 0, &x));
    CHECK_OK(mmf_close(x));
    CHECK(rename(path, moved) == 0);
    CHECK_RC(mmf_open_existing(n, RW, 0, &x), MMF_ENOENT);
    CHECK(x == NULL);
    /* Another file now at the recorded path is not the same file. */
    t_make_file(path, 4096, 9);
    CHECK_RC(mmf_open_existing(n, RW, 0, &x), MMF_ENOENT);
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
    remove_file(moved);
    remove_file(path);

    /* Deleted. */
    name_of(n, "moved", 1);
    CHECK_OK(
        mmf_create_from_file(path, MMF_MODE_CREATE_NEW, n, 4096, RW, 0, &f));
    CHECK_EQ(mmf_created(f), 1);
    put_str(f, 0, "still-mine");
#ifndef _WIN32
    CHECK(unlink(path) == 0);
    CHECK_RC(mmf_open_existing(n, RO, 0, &x), MMF_ENOENT);
#else
    if (!DeleteFileA(path)) {
        /* Windows refuses to delete a mapped file: the file is still
         * there, and so is the name. */
        CHECK_EQ(GetLastError(), ERROR_ACCESS_DENIED);
        CHECK_OK(mmf_open_existing(n, RO, 0, &x));
        CHECK_STR(x, 0, "still-mine");
        CHECK_OK(mmf_close(x));
    } else if (t_exists(path)) {
        printf("wine: a deleted file that is still open stays at its path, "
               "openable and not delete-pending, until its last handle "
               "closes: mmf_open_existing after deletion not checked\n");
    } else {
        CHECK_RC(mmf_open_existing(n, RO, 0, &x), MMF_ENOENT);
    }
#endif
    CHECK_STR(f, 0, "still-mine");
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
}

/* A foreign object `n` of 8192 bytes, mapped at raw and holding pattern
 * -1: open_existing opens it (*f) and sees its bytes, both sides see each
 * other's writes, create_new says it exists and create_or_open opens it
 * (*g), keeping its size. */
static void open_foreign(const char *n, unsigned char *raw, mmf_file **f,
                         mmf_file **g)
{
    unsigned char buf[8192];
    mmf_file *x = (mmf_file *)&x;

    CHECK_OK(mmf_open_existing(n, RW, 0, f));
    CHECK_EQ(mmf_created(*f), 0);
    CHECK_EQ(mmf_capacity(*f), 8192);
    CHECK_OK(mmf_read(*f, 0, buf, sizeof buf));
    CHECK_MEM(buf, raw, sizeof buf);
    put_str(*f, 0, "from-libmmf");
    CHECK(memcmp(raw, "from-libmmf", 11) == 0);
    memcpy(raw + 100, "from-raw", 8);
    CHECK_STR(*f, 100, "from-raw");

    CHECK_RC(mmf_create_new(n, 8192, RW, 0, &x), MMF_EEXIST);
    CHECK(x == NULL);
    CHECK_OK(mmf_create_or_open(n, 100, RW, 0, g));
    CHECK_EQ(mmf_created(*g), 0);
    CHECK_EQ(mmf_capacity(*g), 8192);
    CHECK_STR(*g, 100, "from-raw");
}

/* ---- objects libmmf did not create, and interop ------------------------ */

TEST(named_foreign)
{
#ifndef _WIN32
    char n[NAMESZ], shm[NAMESZ + 2], p[512];
    mmf_file *f = NULL, *g = NULL;
    unsigned char *raw;
    struct stat st;
    int fd;

    name_of(n, "foreign", 0);
    snprintf(shm, sizeof shm, "/%s", n);
    fd = shm_open(shm, O_RDWR | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    CHECK(ftruncate(fd, 8192) == 0);
    raw = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(raw != MAP_FAILED);
    for (int i = 0; i < 8192; i++)
        raw[i] = t_pattern(-1, (uint64_t)i);

    open_foreign(n, raw, &f, &g);

    /* unlink: not ours, left untouched. */
    CHECK_RC(mmf_unlink(n), MMF_EFORMAT);
    CHECK(fstat(fd, &st) == 0);
    CHECK_EQ(st.st_size, 8192);
    CHECK_EQ(st.st_nlink, 1);
    CHECK(t_exists(data_path(n, p)));
    CHECK(memcmp(raw, "from-libmmf", 11) == 0);
    CHECK_EQ(raw[5000], t_pattern(-1, 5000));

    /* libmmf's handles close; the object stays as it was. */
    CHECK_OK(mmf_close(g));
    CHECK_OK(mmf_close(f));
    CHECK(t_exists(data_path(n, p)));
    CHECK(!t_exists(reg_path(REG_PREFIX, n, p)));
    CHECK(fstat(fd, &st) == 0);
    CHECK_EQ(st.st_size, 8192);
    CHECK_EQ(st.st_nlink, 1);
    CHECK_EQ(raw[5000], t_pattern(-1, 5000));
    CHECK_OK(mmf_open_existing(n, RO, 0, &f)); /* still live */
    CHECK_STR(f, 0, "from-libmmf");
    CHECK_OK(mmf_close(f));
    CHECK(t_exists(data_path(n, p)));

    /* Another process sees it the same way. */
    {
        const char *args[] = {n, "1", "0", "100", "from-raw", NULL};
        CHECK_EQ(wait_kid(spawn("named_h_open", args)), 0);
    }
    CHECK(t_exists(data_path(n, p)));
    CHECK(!t_exists(reg_path(REG_PREFIX, n, p)));

    CHECK(munmap(raw, 8192) == 0);
    close(fd);
    CHECK(shm_unlink(shm) == 0);
    CHECK_CLOSED(n);
#else
    /* A section another program made (no libmmf record): live while that
     * program holds it, whatever libmmf does. */
    char n[NAMESZ];
    mmf_file *f = NULL, *g = NULL;
    unsigned char *raw;
    HANDLE s;

    name_of(n, "foreign", 0);
    s = CreateFileMappingA(INVALID_HANDLE_VALUE, NULL, PAGE_READWRITE, 0, 8192,
                           n);
    CHECK(s != NULL && GetLastError() != ERROR_ALREADY_EXISTS);
    raw = MapViewOfFile(s, FILE_MAP_WRITE, 0, 0, 0);
    CHECK(raw != NULL);
    for (int i = 0; i < 8192; i++)
        raw[i] = t_pattern(-1, (uint64_t)i);

    open_foreign(n, raw, &f, &g);

    /* unlink: MMF_ENOTSUP on Windows; nothing touched. */
    CHECK_RC(mmf_unlink(n), MMF_ENOTSUP);
    CHECK_EQ(view_extent(raw), 8192);
    CHECK(data_exists(n));
    CHECK(memcmp(raw, "from-libmmf", 11) == 0);
    CHECK_EQ(raw[5000], t_pattern(-1, 5000));
    CHECK_EQ(raw[8191], t_pattern(-1, 8191)); /* no record written */

    /* libmmf's handles close; the object stays as it was. */
    CHECK_OK(mmf_close(g));
    CHECK_OK(mmf_close(f));
    CHECK(data_exists(n));
    CHECK(!reg_exists(n));
    CHECK_EQ(raw[5000], t_pattern(-1, 5000));
    CHECK_EQ(raw[8191], t_pattern(-1, 8191));
    CHECK_OK(mmf_open_existing(n, RO, 0, &f)); /* still live */
    CHECK_STR(f, 0, "from-libmmf");
    CHECK_OK(mmf_close(f));
    CHECK(data_exists(n));

    /* Another process sees it the same way. */
    {
        const char *args[] = {n, "1", "0", "100", "from-raw", NULL};
        CHECK_EQ(wait_kid(spawn("named_h_open", args)), 0);
    }
    CHECK(data_exists(n));
    CHECK(!reg_exists(n));

    /* Its maker's last handle goes: so does the section. */
    CHECK(UnmapViewOfFile(raw));
    CHECK(CloseHandle(s));
    CHECK_CLOSED(n);
#endif
}

TEST(named_interop_shm_open)
{
    char n[NAMESZ];
    mmf_file *f = NULL;
    unsigned char *raw;
#ifndef _WIN32
    char shm[NAMESZ + 2];
    int fd;
#else
    HANDLE s;
#endif

    name_of(n, "interop", 0);
    CHECK_OK(mmf_create_new(n, 10000, RW, 0, &f));
    put_str(f, 0, "libmmf-bytes");

    /* A program that only knows shm_open reads and writes it. */
    {
        const char *args[] = {n,      "10000",     "0", "libmmf-bytes",
                              "5000", "raw-bytes", NULL};
        CHECK_EQ(wait_kid(spawn("named_h_raw", args)), 0);
    }
    CHECK_STR(f, 5000, "raw-bytes");

#ifndef _WIN32
    /* And so does this process, through plain shm_open. */
    snprintf(shm, sizeof shm, "/%s", n);
    fd = shm_open(shm, O_RDWR, 0);
    CHECK(fd >= 0);
    raw = mmap(NULL, 10000, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(raw != MAP_FAILED);
    CHECK(memcmp(raw, "libmmf-bytes", 12) == 0);
    memcpy(raw + 9990, "end-bytes!", 10);
    CHECK_STR(f, 9990, "end-bytes!");

    /* Another program's mapping is not a holder. */
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
    CHECK(munmap(raw, 10000) == 0);
    close(fd);
    CHECK_CLOSED(n);
#else
    /* And so does this process, through plain OpenFileMapping. */
    s = OpenFileMappingA(FILE_MAP_READ | FILE_MAP_WRITE, FALSE, n);
    CHECK(s != NULL);
    raw = MapViewOfFile(s, FILE_MAP_READ | FILE_MAP_WRITE, 0, 0, 10000);
    CHECK(raw != NULL);
    CHECK(memcmp(raw, "libmmf-bytes", 12) == 0);
    memcpy(raw + 9990, "end-bytes!", 10);
    CHECK_STR(f, 9990, "end-bytes!");

    /* On Windows another program's handle keeps the section, and so the
     * name, alive (the kernel's rule); it is still a libmmf map with its
     * exact capacity. */
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_open_existing(n, RO, 0, &f));
    CHECK_EQ(mmf_capacity(f), 10000);
    CHECK_STR(f, 9990, "end-bytes!");
    CHECK_OK(mmf_close(f));
    CHECK(data_exists(n));
    CHECK(UnmapViewOfFile(raw));
    CHECK(CloseHandle(s));
    CHECK_CLOSED(n);
#endif
}

#ifndef _WIN32
static int python_available(void)
{
    pid_t pid = start_fork();

    if (pid == 0) {
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, 1);
            dup2(null, 2);
        }
        execlp("python3", "python3", "-c",
               "from multiprocessing import shared_memory", (char *)NULL);
        _exit(127);
    }
    return wait_kid(pid) == 0;
}

TEST(named_interop_python)
{
    static const char script[] =
        "import sys\n"
        "from multiprocessing import shared_memory, resource_tracker\n"
        "name, cap = sys.argv[1], int(sys.argv[2])\n"
        "try:\n"
        "    s = shared_memory.SharedMemory(name=name, create=False, "
        "track=False)\n"
        "except TypeError:\n"
        "    s = shared_memory.SharedMemory(name=name, create=False)\n"
        "    resource_tracker.unregister(s._name, 'shared_memory')\n"
        "if s.size != cap:\n"
        "    print('size', s.size); sys.exit(3)\n"
        "if bytes(s.buf[0:11]) != b'from-libmmf':\n"
        "    print('bytes', bytes(s.buf[0:11])); sys.exit(4)\n"
        "s.buf[100:111] = b'from-python'\n"
        "s.close()\n";
    char n[NAMESZ];
    mmf_file *f = NULL;
    pid_t pid;

    if (!python_available())
        SKIP("python3 with multiprocessing.shared_memory is not available");
    name_of(n, "python", 0);
    CHECK_OK(mmf_create_new(n, 12345, RW, 0, &f));
    put_str(f, 0, "from-libmmf");
    pid = start_fork();
    if (pid == 0) {
        execlp("python3", "python3", "-c", script, n, "12345", (char *)NULL);
        _exit(127);
    }
    CHECK_EQ(wait_kid(pid), 0);
    CHECK_STR(f, 100, "from-python");
    /* Python did not remove it. */
    {
        mmf_file *g = NULL;
        char p[512];
        CHECK(t_exists(data_path(n, p)));
        CHECK_OK(mmf_open_existing(n, RO, 0, &g));
        CHECK_STR(g, 100, "from-python");
        CHECK_OK(mmf_close(g));
    }
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
}
#endif
NOT_ON_WINDOWS(named_interop_python,
               "needs a Windows python3 (none under wine here); the same "
               "section is opened by a non-libmmf program in "
               "named_interop_shm_open")

/* ---- stale entries ----------------------------------------------------- */

/* Creates `n` (KEEP_NAME not set), writes to it, reports 'R' on `fd` and
 * waits to be killed. */
static void stale_child(const char *n, int i, int fd) __attribute__((noreturn));
static void stale_child(const char *n, int i, int fd)
{
    mmf_file *c = NULL;

    (void)i;
    if (mmf_create_new(n, 8192, RW, 0, &c) != MMF_OK ||
        mmf_write(c, 0, "stale-data", 10) != MMF_OK)
        die_with(fd, 'E');
    put_byte(fd, 'R');
    wait_to_be_killed();
}

#ifdef _WIN32
/* NAME I FD: stale_child. */
HELPER(named_h_stale)
{
    if (argc < 3)
        return 2;
    stale_child(argv[0], atoi(argv[1]), atoi(argv[2]));
}
#endif

/* A child creates `n` (KEEP_NAME not set), writes to it and is killed:
 * what it leaves has no holder. (On Windows the kernel removes the name
 * with the killed holder's handles: nothing is left; the calls below must
 * behave as on a name never used.) */
static void make_stale(const char *n)
{
    int p[2];
    pid_t pid;

    xpipe(p);
    pid = start_killable(stale_child, "named_h_stale", n, 0, p);
    expect_byte(p[0], 'R');
    close_end(p[0]);
    kill_kid(pid);
}

TEST(named_stale_entry)
{
    const char *path = t_path("stale.bin");
    char n[NAMESZ];
    mmf_file *f = NULL, *x = NULL;

    /* open_existing: never served; removed. */
    name_of(n, "stale", 0);
    make_stale(n);
    x = (mmf_file *)&x;
    CHECK_RC(mmf_open_existing(n, RW, 0, &x), MMF_ENOENT);
    CHECK(x == NULL);
    CHECK_GONE(n);
    {
        const char *args[] = {n, "1", "-3", NULL};
        make_stale(n);
        CHECK_EQ(wait_kid(spawn("named_h_open", args)), 0);
        CHECK_GONE(n);
    }

    /* create_or_open: a fresh object. */
    name_of(n, "stale", 1);
    make_stale(n);
    CHECK_OK(mmf_create_or_open(n, 4096, RW, 0, &f));
    CHECK_EQ(mmf_created(f), 1);
    CHECK_EQ(mmf_capacity(f), 4096);
    CHECK_ZERO(f);
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);

    /* create_new: a fresh object. */
    name_of(n, "stale", 2);
    make_stale(n);
    CHECK_OK(mmf_create_new(n, 100, RW, 0, &f));
    CHECK_EQ(mmf_created(f), 1);
    CHECK_EQ(mmf_capacity(f), 100);
    CHECK_ZERO(f);
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);

    /* unlink: nothing live to unlink; removed. */
    name_of(n, "stale", 3);
    make_stale(n);
#ifndef _WIN32
    CHECK_RC(mmf_unlink(n), MMF_ENOENT);
#else
    CHECK_RC(mmf_unlink(n), MMF_ENOTSUP);
#endif
    CHECK_GONE(n);

    /* A named persisted map takes the name; the old data goes. */
    name_of(n, "stale", 4);
    make_stale(n);
    CHECK_OK(
        mmf_create_from_file(path, MMF_MODE_CREATE_NEW, n, 4096, RW, 0, &f));
#ifndef _WIN32
    CHECK(!data_exists(n));
#else
    CHECK(reg_exists(n)); /* the section is the file's; beside it, its meta */
#endif
    CHECK_OK(mmf_open_existing(n, RW, 0, &x));
    CHECK_ZERO(x);
    CHECK_OK(mmf_close(x));
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);

    /* A mutex call on the same name is not a call on the map's name, but
     * the map's leftover must still never be served. */
    name_of(n, "stale", 5);
    make_stale(n);
    {
        mmf_mutex *m = NULL;
        CHECK_OK(mmf_mutex_create(n, 0, 0, &m));
        CHECK_OK(mmf_mutex_close(m));
    }
    CHECK_DEAD(n);
}

/* ---- security ---------------------------------------------------------- */

TEST(named_security_mode)
{
#ifndef _WIN32
    static const mode_t masks[] = {0, 0277, 022};
    char n[NAMESZ], p[512];
    mmf_file *f = NULL, *g = NULL;
    mmf_mutex *m = NULL;
    unsigned mode = 0;
    mode_t old = umask(0);

    for (int i = 0; i < 3; i++) {
        name_of(n, "mode", i);
        umask(masks[i]);
        CHECK_OK(mmf_create_new(n, 4096, RW, 0, &f));
        CHECK_OK(mmf_mutex_create(n, 0, 0, &m));
        umask(old);
        CHECK_EQ(mode_of(data_path(n, p)), 0600);
        CHECK_EQ(mode_of(reg_path(REG_PREFIX, n, p)), 0600);
        CHECK_EQ(mode_of(reg_path(MTX_PREFIX, n, p)), 0600);
        CHECK_OK(mmf_get_permissions(f, &mode));
        CHECK_EQ(mode, 0600);
        CHECK_OK(mmf_mutex_get_permissions(m, &mode));
        CHECK_EQ(mode, 0600);

        CHECK_OK(mmf_set_permissions(f, 0660));
        CHECK_EQ(mode_of(data_path(n, p)), 0660);
        CHECK_EQ(mode_of(reg_path(REG_PREFIX, n, p)), 0660);
        CHECK_OK(mmf_get_permissions(f, &mode));
        CHECK_EQ(mode, 0660);
        CHECK_OK(mmf_open_existing(n, RO, 0, &g));
        CHECK_OK(mmf_get_permissions(g, &mode));
        CHECK_EQ(mode, 0660);
        CHECK_OK(mmf_close(g));
        CHECK_RC(mmf_set_permissions(f, 01777), MMF_EINVAL);
        CHECK_RC(mmf_set_permissions(f, 04600), MMF_EINVAL);
        CHECK_EQ(mode_of(data_path(n, p)), 0660);

        CHECK_OK(mmf_mutex_set_permissions(m, 0604));
        CHECK_EQ(mode_of(reg_path(MTX_PREFIX, n, p)), 0604);
        CHECK_OK(mmf_mutex_get_permissions(m, &mode));
        CHECK_EQ(mode, 0604);
        CHECK_OK(mmf_mutex_close(m));
        CHECK_OK(mmf_close(f));
        CHECK_CLOSED(n);
    }
    umask(old);
#else
    /* Windows: no umask; the mode is the object's DACL (API.md,
     * "Permissions on Windows"), read here without libmmf. */
    char n[NAMESZ], k[512];
    mmf_file *f = NULL, *g = NULL;
    mmf_mutex *m = NULL;
    unsigned mode = 0;

    name_of(n, "mode", 0);
    CHECK(kernel_name(k, "mutex", n));
    CHECK_OK(mmf_create_new(n, 4096, RW, 0, &f));
    CHECK_OK(mmf_mutex_create(n, 0, 0, &m));
    CHECK_EQ(kobj_mode(n, 0), 0600);
    CHECK_EQ(kobj_mode(k, 1), 0600);
    CHECK_OK(mmf_get_permissions(f, &mode));
    CHECK_EQ(mode, 0600);
    CHECK_OK(mmf_mutex_get_permissions(m, &mode));
    CHECK_EQ(mode, 0600);

    CHECK_OK(mmf_set_permissions(f, 0660));
    CHECK_EQ(kobj_mode(n, 0), 0660);
    CHECK_OK(mmf_get_permissions(f, &mode));
    CHECK_EQ(mode, 0660);
    CHECK_OK(mmf_open_existing(n, RO, 0, &g));
    CHECK_OK(mmf_get_permissions(g, &mode));
    CHECK_EQ(mode, 0660);
    CHECK_OK(mmf_close(g));
    CHECK_RC(mmf_set_permissions(f, 01777), MMF_EINVAL);
    CHECK_RC(mmf_set_permissions(f, 04600), MMF_EINVAL);
    /* Group bits other than the owner's or everyone's cannot be said. */
    CHECK_RC(mmf_set_permissions(f, 0640), MMF_ENOTSUP);
    CHECK_EQ(kobj_mode(n, 0), 0660);

    CHECK_RC(mmf_mutex_set_permissions(m, 0604), MMF_ENOTSUP);
    CHECK_EQ(kobj_mode(k, 1), 0600);
    CHECK_OK(mmf_mutex_set_permissions(m, 0644));
    CHECK_EQ(kobj_mode(k, 1), 0644);
    CHECK_OK(mmf_mutex_get_permissions(m, &mode));
    CHECK_EQ(mode, 0644);
    CHECK_OK(mmf_mutex_close(m));
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
#endif
}

#ifndef _WIN32
TEST(named_security_other_user)
{
    char n[NAMESZ], p[512], a1[32], a2[32];
    mmf_file *f = NULL, *g = NULL;
    unsigned mode = 0;
    int ready[2], go[2];
    pid_t pid;

    if (geteuid() != 0)
        SKIP("needs root to run a helper as another user");
    name_of(n, "user", 0);
    CHECK_OK(mmf_create_new(n, 10000, RW, 0, &f));
    put_str(f, 0, "secret");
    xpipe(ready);
    xpipe(go);
    {
        const char *args[] = {n, num(a1, ready[1]), num(a2, go[0]), NULL};
        int fds[] = {ready[1], go[0]};
        pid = spawn_fds("named_h_other_user", args, fds, 2);
    }
    close_end(ready[1]);
    close_end(go[0]);
    expect_byte(ready[0], 'R');
    /* Denied: nothing changed. */
    CHECK_STR(f, 0, "secret");
    CHECK_EQ(mode_of(data_path(n, p)), 0600);
    CHECK_EQ(mode_of(reg_path(REG_PREFIX, n, p)), 0600);

    CHECK_OK(mmf_set_permissions(f, 0666));
    CHECK_EQ(mode_of(data_path(n, p)), 0666);
    CHECK_EQ(mode_of(reg_path(REG_PREFIX, n, p)), 0666);
    put_byte(go[1], 'G');
    expect_byte(ready[0], 'O');
    CHECK_STR(f, 10, "other");
    /* Its EPERM changed nothing. */
    CHECK_OK(mmf_get_permissions(f, &mode));
    CHECK_EQ(mode, 0666);
    CHECK_EQ(mode_of(reg_path(REG_PREFIX, n, p)), 0666);

    /* The other user becomes the last holder. */
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_open_existing(n, RO, 0, &g));
    CHECK_STR(g, 10, "other");
    CHECK_OK(mmf_close(g));
    put_byte(go[1], 'C');
    CHECK_EQ(wait_kid(pid), 0);
    close_end(ready[0]);
    close_end(go[1]);
    {
        /* In the sticky /dev/shm another user cannot remove root's files:
         * the object may stay as a leftover, never served as live. */
        char q[512];
        int data_left = t_exists(data_path(n, p));
        int reg_left = t_exists(reg_path(REG_PREFIX, n, q));
        if (data_left || reg_left)
            printf("note: after the other user closed last, %s%s%s remained "
                   "until the next call\n",
                   data_left ? p : "", data_left && reg_left ? " and " : "",
                   reg_left ? q : "");
    }
    CHECK_DEAD(n);
}
#endif
NOT_ON_WINDOWS(named_security_other_user,
               "needs a second user account (a setuid helper as root on "
               "POSIX); the DACLs are checked by named_security_mode")

#ifndef _WIN32
/* The contents, size and mode of a file, to see it unchanged. */
struct snapshot {
    char bytes[64];
    ssize_t n;
    off_t size;
    mode_t mode;
    uid_t uid;
};

static void snap(const char *path, struct snapshot *s)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    CHECK(fd >= 0);
    memset(s, 0, sizeof *s);
    s->n = pread(fd, s->bytes, sizeof s->bytes, 0);
    CHECK(fstat(fd, &st) == 0);
    s->size = st.st_size;
    s->mode = st.st_mode;
    s->uid = st.st_uid;
    close(fd);
}

static void check_unchanged(const char *path, const struct snapshot *before)
{
    struct snapshot now;

    snap(path, &now);
    CHECK_EQ(now.n, before->n);
    CHECK_EQ(now.size, before->size);
    CHECK_EQ(now.mode, before->mode);
    CHECK_EQ(now.uid, before->uid);
    CHECK_MEM(now.bytes, before->bytes, sizeof now.bytes);
}

/* Every create or open of `n` fails and leaves `target` as it was. */
static void check_not_followed(const char *n, const char *target)
{
    struct snapshot before;
    mmf_file *x = NULL;
    int rc;

    snap(target, &before);
    x = (mmf_file *)&x;
    rc = mmf_create_new(n, 4096, RW, 0, &x);
    if (rc == MMF_OK)
        t_fail(__FILE__, __LINE__, "mmf_create_new through a symlink -> OK");
    CHECK(x == NULL);
    check_unchanged(target, &before);
    rc = mmf_create_or_open(n, 4096, RW, 0, &x);
    if (rc == MMF_OK)
        t_fail(__FILE__, __LINE__,
               "mmf_create_or_open through a symlink -> OK");
    CHECK(x == NULL);
    check_unchanged(target, &before);
    rc = mmf_open_existing(n, RW, 0, &x);
    if (rc == MMF_OK)
        t_fail(__FILE__, __LINE__, "mmf_open_existing through a symlink -> OK");
    CHECK(x == NULL);
    check_unchanged(target, &before);
    rc = mmf_create_new(n, 64, RW, MMF_OPT_KEEP_NAME, &x);
    CHECK(rc != MMF_OK);
    check_unchanged(target, &before);
    rc = mmf_unlink(n);
    CHECK(rc != MMF_OK);
    check_unchanged(target, &before);
}

TEST(named_security_symlink)
{
    const char *target = t_path("target.txt");
    const char *content = "the test's own file: must never change";
    char n[NAMESZ], reg[512], data[512];
    mmf_file *f = NULL;
    struct stat st;

    t_make_file(target, 0, 0);
    t_pwrite(target, 0, content, strlen(content));
    CHECK(chmod(target, 0644) == 0);

    /* At the registration's name. */
    name_of(n, "symreg", 0);
    reg_path(REG_PREFIX, n, reg);
    CHECK(symlink(target, reg) == 0);
    check_not_followed(n, target);
    CHECK(lstat(reg, &st) == 0 && S_ISLNK(st.st_mode)); /* still the link */
    CHECK(!t_exists(data_path(n, data)));
    CHECK(unlink(reg) == 0);
    CHECK_GONE(n);

    /* At the data's name. */
    name_of(n, "symdata", 0);
    data_path(n, data);
    CHECK(symlink(target, data) == 0);
    check_not_followed(n, target);
    CHECK(lstat(data, &st) == 0 && S_ISLNK(st.st_mode));
    CHECK(!t_exists(reg_path(REG_PREFIX, n, reg)));
    CHECK(unlink(data) == 0);
    CHECK_GONE(n);

    /* With nothing planted, the name works. */
    CHECK_OK(mmf_create_new(n, 4096, RW, 0, &f));
    CHECK_OK(mmf_close(f));
    CHECK_CLOSED(n);
    CHECK_EQ(t_file_size(target), strlen(content));
}
#endif
NOT_ON_WINDOWS(named_security_symlink,
               "symlinks planted in /dev/shm: Windows kernel object names "
               "are not files a user can plant links among")

/* ---- inheritance ------------------------------------------------------- */

TEST(named_inherit_exec)
{
    char n[NAMESZ], a0[32], a1[32], a2[32];
    mmf_file *f = NULL, *g = NULL;
    mmf_handle h;
    int ready[2], go[2];
    pid_t pid;

    name_of(n, "inherit", 0);
    CHECK_OK(mmf_create_new(n, 12345, RW, MMF_OPT_INHERITABLE, &f));
    h = mmf_handle_of(f);
    CHECK(h != MMF_INVALID_HANDLE);
    CHECK(handle_inheritable(h));
    put_str(f, 0, "parent");

    /* The helper opens the handle; its writes are seen here. */
    {
        const char *args[] = {num(a0, h), "12345", NULL};
        CHECK_EQ(wait_kid(spawn("named_h_inherit", args)), 0);
    }
    CHECK_STR(f, 100, "child");
    put_str(f, 100, "xxxxx");

    /* A map opened from an inherited handle is a holder. */
    xpipe(ready);
    xpipe(go);
    {
        const char *args[] = {num(a0, h), "12345", num(a1, ready[1]),
                              num(a2, go[0]), NULL};
        int fds[] = {ready[1], go[0]};
        pid = spawn_fds("named_h_inherit", args, fds, 2);
    }
    close_end(ready[1]);
    close_end(go[0]);
    expect_byte(ready[0], 'R');
    CHECK_STR(f, 100, "child");
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_open_existing(n, RO, 0, &g));
    CHECK_EQ(mmf_capacity(g), 12345);
    CHECK_STR(g, 0, "parent");
    CHECK_STR(g, 100, "child");
    CHECK_OK(mmf_close(g));
    put_byte(go[1], 'G');
    CHECK_EQ(wait_kid(pid), 0);
    close_end(ready[0]);
    close_end(go[1]);
    /* The helper's last act was to exit, which counts as a death of
     * whatever it inherited: gone for libmmf now, files by the next call. */
    CHECK_DEAD(n);
}

/* A child that inherited the handle, used it and closed both its map and
 * the inherited descriptor holds nothing any more: when the parent then
 * closes its handle, the object is gone although the child still runs. */
TEST(named_inherit_child_releases)
{
    char n[NAMESZ], a0[32], a1[32], a2[32];
    mmf_file *f = NULL, *x = NULL;
    int ready[2], go[2], rc;
    pid_t pid;

    name_of(n, "inhrel", 0);
    CHECK_OK(mmf_create_new(n, 4096, RW, MMF_OPT_INHERITABLE, &f));
    put_str(f, 0, "parent");
    xpipe(ready);
    xpipe(go);
    {
        const char *args[] = {num(a0, mmf_handle_of(f)), "4096",
                              num(a1, ready[1]), num(a2, go[0]), NULL};
        int fds[] = {ready[1], go[0]};
        pid = spawn_fds("named_h_inherit_release", args, fds, 2);
    }
    close_end(ready[1]);
    close_end(go[0]);
    expect_byte(ready[0], 'R');
    CHECK_OK(mmf_close(f));
    rc = mmf_open_existing(n, RO, 0, &x);
    if (rc == MMF_OK)
        mmf_close(x);
    put_byte(go[1], 'G');
    CHECK_EQ(wait_kid(pid), 0);
    close_end(ready[0]);
    close_end(go[1]);
    if (rc != MMF_ENOENT)
        t_fail(__FILE__, __LINE__,
               "no libmmf handle is left (the child closed its map and the "
               "inherited descriptor), yet mmf_open_existing -> %s",
               mmf_errname(rc));
    CHECK_DEAD(n);
}

#ifdef _WIN32
/* Starts named_h_noinherit with f's handle and, while it runs, closes f
 * (this process's last handle of `n`): the name must go at once, since
 * the child inherited nothing of it. */
static void close_while_child_runs(mmf_file *f, const char *n)
{
    char a0[32], a1[32], a2[32];
    int ready[2], go[2];
    pid_t pid;

    xpipe(ready);
    xpipe(go);
    {
        const char *args[] = {num(a0, mmf_handle_of(f)), n, num(a1, ready[1]),
                              num(a2, go[0]), NULL};
        int fds[] = {ready[1], go[0]};
        pid = spawn_fds("named_h_noinherit", args, fds, 2);
    }
    close_end(ready[1]);
    close_end(go[0]);
    expect_byte(ready[0], 'R');
    CHECK_OK(mmf_close(f));
    CHECK_GONE(n);
    put_byte(go[1], 'G');
    CHECK_EQ(wait_kid(pid), 0);
    close_end(ready[0]);
    close_end(go[1]);
}
#endif

TEST(named_inherit_not_without_flag)
{
    char n[NAMESZ], a0[32];
    mmf_file *f = NULL;
    mmf_handle h;

    name_of(n, "noinherit", 0);
    CHECK_OK(mmf_create_new(n, 4096, RW, 0, &f));
    h = mmf_handle_of(f);
    CHECK(h != MMF_INVALID_HANDLE);
    CHECK(!handle_inheritable(h));
    put_str(f, 0, "parent");
    {
        const char *args[] = {num(a0, h), n, NULL};
        CHECK_EQ(wait_kid(spawn("named_h_noinherit", args)), 0);
    }

    /* mmf_set_inheritable switches it on ... */
    CHECK_OK(mmf_set_inheritable(f, 1));
    CHECK(handle_inheritable(h));
    {
        const char *args[] = {num(a0, h), "4096", NULL};
        CHECK_EQ(wait_kid(spawn("named_h_inherit", args)), 0);
    }
    CHECK_STR(f, 100, "child");

    /* ... and off. */
    CHECK_OK(mmf_set_inheritable(f, 0));
#ifndef _WIN32
    {
        const char *args[] = {num(a0, h), n, NULL};
        CHECK_EQ(wait_kid(spawn("named_h_noinherit", args)), 0);
    }
    CHECK_OK(mmf_close(f));
#else
    CHECK(!handle_inheritable(h));
    close_while_child_runs(f, n);
#endif
    CHECK_CLOSED(n);

    /* The same for a map opened by name. */
    name_of(n, "noinherit", 1);
    {
        mmf_file *g = NULL;
        CHECK_OK(mmf_create_new(n, 4096, RW, 0, &f));
        CHECK_OK(mmf_open_existing(n, RW, 0, &g));
        const char *args[] = {num(a0, mmf_handle_of(g)), n, NULL};
        CHECK_OK(mmf_close(f));
#ifndef _WIN32
        CHECK_EQ(wait_kid(spawn("named_h_noinherit", args)), 0);
        CHECK_OK(mmf_close(g));
#else
        (void)args;
        CHECK(!handle_inheritable(mmf_handle_of(g)));
        close_while_child_runs(g, n);
#endif
    }
    CHECK_CLOSED(n);
}

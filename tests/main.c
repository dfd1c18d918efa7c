/* The test runner: `mmf_tests NAME` runs one test, `mmf_tests` runs all of
 * them (each in its own child process), `mmf_tests --list` lists them, and
 * `mmf_tests --helper NAME ARGS...` is a child of a multi-process test.
 * The same runner is built for Linux and (cross-built) for Windows; the
 * platform's primitives (processes, files, handles) are at the end. */
#include "test.h"

#include <errno.h>
#include <stdarg.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#endif

#define MAX_TESTS 512

static struct {
    const char *name;
    t_fn fn;
} tests[MAX_TESTS];
static int ntests;

static struct {
    const char *name;
    t_helper_fn fn;
} helpers[MAX_TESTS];
static int nhelpers;

static struct {
    const char *name;
    const char *reason;
} skips[MAX_TESTS];
static int nskips;

static char self_exe[4096];
static char dir[4096];
static char *paths[256];
static int npaths;

void t_register(const char *name, t_fn fn)
{
    if (ntests < MAX_TESTS) {
        tests[ntests].name = name;
        tests[ntests].fn = fn;
        ntests++;
    }
}

void t_register_helper(const char *name, t_helper_fn fn)
{
    if (nhelpers < MAX_TESTS) {
        helpers[nhelpers].name = name;
        helpers[nhelpers].fn = fn;
        nhelpers++;
    }
}

void t_register_skip(const char *name, const char *reason)
{
    if (nskips < MAX_TESTS) {
        skips[nskips].name = name;
        skips[nskips].reason = reason;
        nskips++;
    }
}

void t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  (mmf_last_os_error() = %d)\n", mmf_last_os_error());
    fflush(NULL);
    exit(1);
}

void t_skip(const char *fmt, ...)
{
    va_list ap;

    printf("SKIPPED: ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    fflush(stdout);
    exit(77);
}

const char *t_path(const char *name)
{
    const char *d = t_dir();
    size_t n = strlen(d) + strlen(name) + 2;
    char *p = malloc(n);

    if (p == NULL || npaths == 256)
        t_fail(__FILE__, __LINE__, "t_path: out of slots");
    snprintf(p, n, "%s%c%s", d, T_DIR_SEP, name);
    paths[npaths++] = p;
    return p;
}

static void free_paths(void)
{
    for (int i = 0; i < npaths; i++)
        free(paths[i]);
    npaths = 0;
}

unsigned char t_pattern(int pattern, uint64_t i)
{
    return pattern < 0 ? (unsigned char)((i * 7 + 3) & 0xff)
                       : (unsigned char)pattern;
}

mmf_file *t_file_map(const char *path, uint64_t size, int access)
{
    mmf_file *f = NULL;

    t_make_file(path, size, -1);
    CHECK_OK(mmf_create_from_file(path, MMF_MODE_OPEN, NULL, 0, access, 0, &f));
    CHECK(f != NULL);
    CHECK_EQ(mmf_capacity(f), size);
    return f;
}

mmf_file *t_anon_map(uint64_t size, int access)
{
    mmf_file *f = NULL;

    CHECK_OK(mmf_create_new(NULL, size, access, 0, &f));
    CHECK(f != NULL);
    CHECK_EQ(mmf_capacity(f), size);
    return f;
}

mmf_view *t_open_view(mmf_file *f, uint64_t off, uint64_t size, int access)
{
    mmf_view *v = NULL;

    CHECK_OK(mmf_view_open(f, off, size, access, &v));
    CHECK(v != NULL);
    return v;
}

int t_is_pattern(const void *p, uint64_t off, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i] != t_pattern(-1, off + i))
            return 0;
    return 1;
}

int t_all_bytes(const void *p, int c, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        if (b[i] != (unsigned char)c)
            return 0;
    return 1;
}

int t_file_is_pattern(const char *path, uint64_t off, size_t n)
{
    unsigned char *buf = malloc(n);
    int ok;

    CHECK(buf != NULL);
    t_pread(path, off, buf, n);
    ok = t_is_pattern(buf, off, n);
    free(buf);
    return ok;
}

/* Fills buf with the bytes of pattern starting at file offset done. */
static void fill_pattern(unsigned char *buf, size_t k, int pattern,
                         uint64_t done)
{
    for (size_t i = 0; i < k; i++)
        buf[i] = t_pattern(pattern, done + i);
}

#ifndef _WIN32
/* ---- POSIX primitives ---------------------------------------------------- */

static int rm_one(const char *p, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static pid_t dir_owner;

static void cleanup(void)
{
    if (dir[0] && getpid() == dir_owner)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free_paths();
}

const char *t_dir(void)
{
    if (dir[0] == '\0') {
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/mmf-test-XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(dir) == NULL)
            t_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
        dir_owner = getpid();
        atexit(cleanup);
    }
    return dir;
}

void t_make_file(const char *path, uint64_t size, int pattern)
{
    unsigned char buf[65536];
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    uint64_t done = 0;

    if (fd < 0)
        t_fail(__FILE__, __LINE__, "open %s: %s", path, strerror(errno));
    while (done < size) {
        size_t k =
            size - done < sizeof buf ? (size_t)(size - done) : sizeof buf;
        fill_pattern(buf, k, pattern, done);
        if (write(fd, buf, k) != (ssize_t)k)
            t_fail(__FILE__, __LINE__, "write %s: %s", path, strerror(errno));
        done += k;
    }
    close(fd);
}

int64_t t_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

int t_exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

void t_set_size(const char *path, uint64_t size)
{
    if (truncate(path, (off_t)size) != 0)
        t_fail(__FILE__, __LINE__, "truncate %s: %s", path, strerror(errno));
}

void t_pread(const char *path, uint64_t off, void *buf, size_t n)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0 || pread(fd, buf, n, (off_t)off) != (ssize_t)n)
        t_fail(__FILE__, __LINE__, "pread %s: %s", path, strerror(errno));
    close(fd);
}

void t_pwrite(const char *path, uint64_t off, const void *buf, size_t n)
{
    int fd = open(path, O_WRONLY);
    if (fd < 0 || pwrite(fd, buf, n, (off_t)off) != (ssize_t)n)
        t_fail(__FILE__, __LINE__, "pwrite %s: %s", path, strerror(errno));
    close(fd);
}

mmf_handle t_open_handle(const char *path, int writable)
{
    int fd = open(path, writable ? O_RDWR : O_RDONLY);
    if (fd < 0)
        t_fail(__FILE__, __LINE__, "open %s: %s", path, strerror(errno));
    return (mmf_handle)fd;
}

void t_close_handle(mmf_handle h)
{
    if (close((int)h) != 0)
        t_fail(__FILE__, __LINE__, "close: %s", strerror(errno));
}

pid_t t_spawn(const char *name, const char *const *args)
{
    const char *argv[64];
    int n = 0;
    pid_t pid;

    argv[n++] = self_exe;
    argv[n++] = "--helper";
    argv[n++] = name;
    for (; args && *args && n < 63; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    fflush(NULL);
    pid = fork();
    if (pid < 0)
        t_fail(__FILE__, __LINE__, "fork: %s", strerror(errno));
    if (pid == 0) {
        execv(self_exe, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

int t_wait(pid_t pid)
{
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            t_fail(__FILE__, __LINE__, "waitpid: %s", strerror(errno));
    if (WIFSIGNALED(st))
        return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

void t_kill(pid_t pid)
{
    if (kill(pid, SIGKILL) != 0)
        t_fail(__FILE__, __LINE__, "kill %d: %s", (int)pid, strerror(errno));
}

int t_self_pid(void)
{
    return (int)getpid();
}

void t_sleep_ms(unsigned ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int t_fd_count(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int n = 0;

    if (d == NULL)
        return -1;
    while ((e = readdir(d)) != NULL)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory's own descriptor */
}

/* Finds this program's path (for t_spawn). */
static void platform_init(const char *argv0)
{
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);

    if (n > 0)
        self_exe[n] = '\0';
    else
        snprintf(self_exe, sizeof self_exe, "%s", argv0);
}

/* Runs test i in a child process; returns its status. */
static int run_child(int i)
{
    pid_t pid;

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        tests[i].fn();
        _exit(0);
    }
    return t_wait(pid);
}

#else
/* ---- Windows primitives -------------------------------------------------- */

/* The processes t_spawn started, by id, until t_wait reaps them. */
static struct {
    DWORD pid;
    HANDLE h;
} procs[64];

static DWORD dir_owner;

static void rm_tree(const char *path)
{
    char pat[MAX_PATH + 8];
    WIN32_FIND_DATAA fd;
    HANDLE h;

    snprintf(pat, sizeof pat, "%s\\*", path);
    h = FindFirstFileA(pat, &fd);
    if (h != INVALID_HANDLE_VALUE) {
        do {
            char sub[MAX_PATH + 8];
            if (strcmp(fd.cFileName, ".") == 0 ||
                strcmp(fd.cFileName, "..") == 0)
                continue;
            snprintf(sub, sizeof sub, "%s\\%s", path, fd.cFileName);
            if (fd.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
                rm_tree(sub);
            } else {
                SetFileAttributesA(sub, FILE_ATTRIBUTE_NORMAL);
                DeleteFileA(sub);
            }
        } while (FindNextFileA(h, &fd));
        FindClose(h);
    }
    RemoveDirectoryA(path);
}

static void cleanup(void)
{
    if (dir[0] && GetCurrentProcessId() == dir_owner)
        rm_tree(dir);
    free_paths();
}

const char *t_dir(void)
{
    if (dir[0] == '\0') {
        char tmp[MAX_PATH + 1];
        DWORD n = GetTempPathA(sizeof tmp, tmp);
        static unsigned seq;

        if (n == 0 || n > sizeof tmp)
            t_fail(__FILE__, __LINE__, "GetTempPath: %lu", GetLastError());
        if (tmp[n - 1] == '\\')
            tmp[n - 1] = '\0';
        for (;;) {
            snprintf(dir, sizeof dir, "%s\\mmf-test-%lu-%lu-%u", tmp,
                     GetCurrentProcessId(), GetTickCount(), seq++);
            if (CreateDirectoryA(dir, NULL))
                break;
            if (GetLastError() != ERROR_ALREADY_EXISTS)
                t_fail(__FILE__, __LINE__, "CreateDirectory %s: %lu", dir,
                       GetLastError());
        }
        dir_owner = GetCurrentProcessId();
        atexit(cleanup);
    }
    return dir;
}

static HANDLE open_file(const char *path, DWORD rights, DWORD disposition)
{
    HANDLE h = CreateFileA(
        path, rights, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
        NULL, disposition, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        t_fail(__FILE__, __LINE__, "CreateFile %s: %lu", path, GetLastError());
    return h;
}

void t_make_file(const char *path, uint64_t size, int pattern)
{
    unsigned char buf[65536];
    HANDLE h = open_file(path, GENERIC_WRITE, CREATE_ALWAYS);
    uint64_t done = 0;

    while (done < size) {
        DWORD k =
            size - done < sizeof buf ? (DWORD)(size - done) : (DWORD)sizeof buf;
        DWORD put = 0;
        fill_pattern(buf, k, pattern, done);
        if (!WriteFile(h, buf, k, &put, NULL) || put != k)
            t_fail(__FILE__, __LINE__, "WriteFile %s: %lu", path,
                   GetLastError());
        done += k;
    }
    CloseHandle(h);
}

int64_t t_file_size(const char *path)
{
    WIN32_FILE_ATTRIBUTE_DATA a;

    if (!GetFileAttributesExA(path, GetFileExInfoStandard, &a))
        return -1;
    return (int64_t)(((uint64_t)a.nFileSizeHigh << 32) | a.nFileSizeLow);
}

int t_exists(const char *path)
{
    return GetFileAttributesA(path) != INVALID_FILE_ATTRIBUTES;
}

void t_set_size(const char *path, uint64_t size)
{
    HANDLE h = open_file(path, GENERIC_WRITE, OPEN_EXISTING);
    LARGE_INTEGER li;

    li.QuadPart = (LONGLONG)size;
    if (!SetFilePointerEx(h, li, NULL, FILE_BEGIN) || !SetEndOfFile(h))
        t_fail(__FILE__, __LINE__, "SetEndOfFile %s: %lu", path,
               GetLastError());
    CloseHandle(h);
}

static void at_offset(OVERLAPPED *ov, uint64_t off)
{
    memset(ov, 0, sizeof *ov);
    ov->Offset = (DWORD)off;
    ov->OffsetHigh = (DWORD)(off >> 32);
}

void t_pread(const char *path, uint64_t off, void *buf, size_t n)
{
    HANDLE h = open_file(path, GENERIC_READ, OPEN_EXISTING);
    OVERLAPPED ov;
    DWORD got = 0;

    at_offset(&ov, off);
    if (!ReadFile(h, buf, (DWORD)n, &got, &ov) || got != n)
        t_fail(__FILE__, __LINE__, "ReadFile %s: %lu (%lu of %zu bytes)", path,
               GetLastError(), got, n);
    CloseHandle(h);
}

void t_pwrite(const char *path, uint64_t off, const void *buf, size_t n)
{
    HANDLE h = open_file(path, GENERIC_WRITE, OPEN_EXISTING);
    OVERLAPPED ov;
    DWORD put = 0;

    at_offset(&ov, off);
    if (!WriteFile(h, buf, (DWORD)n, &put, &ov) || put != n)
        t_fail(__FILE__, __LINE__, "WriteFile %s: %lu", path, GetLastError());
    CloseHandle(h);
}

mmf_handle t_open_handle(const char *path, int writable)
{
    return (mmf_handle)open_file(
        path, writable ? GENERIC_READ | GENERIC_WRITE : GENERIC_READ,
        OPEN_EXISTING);
}

void t_close_handle(mmf_handle h)
{
    if (!CloseHandle((HANDLE)h))
        t_fail(__FILE__, __LINE__, "CloseHandle: %lu", GetLastError());
}

/* Appends arg to cmd, quoted the way CommandLineToArgvW splits it. */
static void append_arg(char *cmd, size_t cap, const char *arg)
{
    size_t n = strlen(cmd);
    int quote = *arg == '\0' || strpbrk(arg, " \t\"") != NULL;

#define PUT(c)                                                                 \
    do {                                                                       \
        if (n + 2 >= cap)                                                      \
            t_fail(__FILE__, __LINE__, "command line too long");               \
        cmd[n++] = (c);                                                        \
    } while (0)
    if (n)
        PUT(' ');
    if (quote)
        PUT('"');
    for (const char *p = arg;; p++) {
        size_t slashes = 0;
        while (*p == '\\') {
            slashes++;
            p++;
        }
        if (*p == '\0') {
            /* Backslashes before the closing quote are doubled. */
            for (size_t i = 0; i < (quote ? 2 * slashes : slashes); i++)
                PUT('\\');
            break;
        }
        if (*p == '"') {
            for (size_t i = 0; i < 2 * slashes + 1; i++)
                PUT('\\');
        } else {
            for (size_t i = 0; i < slashes; i++)
                PUT('\\');
        }
        PUT(*p);
    }
    if (quote)
        PUT('"');
#undef PUT
    cmd[n] = '\0';
}

/* Starts this program with the given arguments; handles are inherited. */
static HANDLE start_self(const char *const *argv, DWORD *pid)
{
    static char cmd[32768];
    STARTUPINFOA si;
    PROCESS_INFORMATION pi;

    cmd[0] = '\0';
    append_arg(cmd, sizeof cmd, self_exe);
    for (; *argv; argv++)
        append_arg(cmd, sizeof cmd, *argv);
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    fflush(NULL);
    if (!CreateProcessA(self_exe, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si,
                        &pi))
        t_fail(__FILE__, __LINE__, "CreateProcess: %lu", GetLastError());
    CloseHandle(pi.hThread);
    *pid = pi.dwProcessId;
    return pi.hProcess;
}

pid_t t_spawn(const char *name, const char *const *args)
{
    const char *argv[64];
    int n = 0;
    DWORD pid;
    HANDLE h;

    argv[n++] = "--helper";
    argv[n++] = name;
    for (; args && *args && n < 63; args++)
        argv[n++] = *args;
    argv[n] = NULL;
    h = start_self(argv, &pid);
    for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++)
        if (procs[i].h == NULL) {
            procs[i].pid = pid;
            procs[i].h = h;
            return (pid_t)pid;
        }
    TerminateProcess(h, 1);
    CloseHandle(h);
    t_fail(__FILE__, __LINE__, "t_spawn: too many children");
}

static int find_proc(pid_t pid)
{
    for (size_t i = 0; i < sizeof procs / sizeof procs[0]; i++)
        if (procs[i].h != NULL && procs[i].pid == (DWORD)pid)
            return (int)i;
    t_fail(__FILE__, __LINE__, "no child with id %d", (int)pid);
}

static int wait_handle(HANDLE h)
{
    DWORD code = 0;

    if (WaitForSingleObject(h, INFINITE) != WAIT_OBJECT_0 ||
        !GetExitCodeProcess(h, &code))
        t_fail(__FILE__, __LINE__, "waiting for a child: %lu", GetLastError());
    return (int)code;
}

int t_wait(pid_t pid)
{
    int i = find_proc(pid);
    int code = wait_handle(procs[i].h);

    CloseHandle(procs[i].h);
    procs[i].h = NULL;
    return code;
}

void t_kill(pid_t pid)
{
    /* The status a SIGKILLed process reports on POSIX (128 + 9). */
    if (!TerminateProcess(procs[find_proc(pid)].h, 137))
        t_fail(__FILE__, __LINE__, "TerminateProcess: %lu", GetLastError());
}

int t_self_pid(void)
{
    return (int)GetCurrentProcessId();
}

void t_sleep_ms(unsigned ms)
{
    Sleep(ms);
}

int t_fd_count(void)
{
    /* GetProcessHandleCount is a stub in wine: count the valid handle
     * values instead (handles are small multiples of 4, allocated from the
     * lowest free slot), stopping after a long run of invalid ones. */
    int n = 0, gap = 0;
    DWORD flags;

    for (uintptr_t h = 4; gap < 1024; h += 4) {
        if (GetHandleInformation((HANDLE)h, &flags)) {
            n++;
            gap = 0;
        } else {
            gap++;
        }
    }
    return n;
}

/* The last word on an exception nobody handled: say so and end with its
 * code, as Windows would. (Left to wine, a crash starts its debugger, and
 * the process then sometimes exits with status 0: a crashing test would
 * pass.) Tests that install their own filter replace this one. */
static LONG WINAPI crashed(EXCEPTION_POINTERS *ep)
{
    DWORD code = ep->ExceptionRecord->ExceptionCode;

    fprintf(stderr, "CRASH: unhandled exception 0x%lx at %p\n",
            (unsigned long)code, ep->ExceptionRecord->ExceptionAddress);
    fflush(NULL);
    TerminateProcess(GetCurrentProcess(), code);
    return EXCEPTION_CONTINUE_SEARCH;
}

/* Finds this program's path (for t_spawn) and makes crashes fail. */
static void platform_init(const char *argv0)
{
    DWORD n = GetModuleFileNameA(NULL, self_exe, sizeof self_exe);

    SetErrorMode(SEM_FAILCRITICALERRORS | SEM_NOGPFAULTERRORBOX);
    (void)SetUnhandledExceptionFilter(crashed);

    if (n == 0 || n >= sizeof self_exe)
        snprintf(self_exe, sizeof self_exe, "%s", argv0);
}

/* Runs test i as a child process (the runner started with its name). */
static int run_child(int i)
{
    const char *argv[2] = {tests[i].name, NULL};
    DWORD pid;
    HANDLE h = start_self(argv, &pid);
    int code = wait_handle(h);

    CloseHandle(h);
    return code;
}
#endif

static int run_skip(int i)
{
    t_skip("%s: %s", skips[i].name, skips[i].reason);
}

int main(int argc, char **argv)
{
    int passed = 0, failed = 0, skipped = 0;

    platform_init(argv[0]);
    /* The first touch of the library's thread-local error (emutls under
     * mingw) allocates for good: do it before any test counts handles. */
    (void)mmf_last_os_error();
    if (argc >= 3 && strcmp(argv[1], "--helper") == 0) {
        for (int i = 0; i < nhelpers; i++)
            if (strcmp(helpers[i].name, argv[2]) == 0)
                return helpers[i].fn(argc - 3, argv + 3);
        fprintf(stderr, "no helper named %s\n", argv[2]);
        return 2;
    }
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (int i = 0; i < ntests; i++)
            printf("%s\n", tests[i].name);
        for (int i = 0; i < nskips; i++)
            printf("%s\n", skips[i].name);
        return 0;
    }
    if (argc == 2) {
        for (int i = 0; i < ntests; i++)
            if (strcmp(tests[i].name, argv[1]) == 0) {
                tests[i].fn();
                return 0;
            }
        for (int i = 0; i < nskips; i++)
            if (strcmp(skips[i].name, argv[1]) == 0)
                run_skip(i);
        fprintf(stderr, "no test named %s\n", argv[1]);
        return 2;
    }
    /* Every test, each in a child process. */
    for (int i = 0; i < ntests; i++) {
        int st = run_child(i);
        if (st == 0)
            passed++;
        else if (st == 77)
            skipped++;
        else {
            failed++;
            printf("FAILED: %s (status %d)\n", tests[i].name, st);
        }
    }
    for (int i = 0; i < nskips; i++) {
        printf("SKIPPED: %s: %s\n", skips[i].name, skips[i].reason);
        skipped++;
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}

/* The test runner: `mmf_tests NAME` runs one test, `mmf_tests` runs all of
 * them (each in its own child process), `mmf_tests --list` lists them, and
 * `mmf_tests --helper NAME ARGS...` is a child of a multi-process test. */
#include "test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

void t_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  (mmf_last_os_error() = %d)\n", mmf_last_os_error());
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
    for (int i = 0; i < npaths; i++)
        free(paths[i]);
    npaths = 0;
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

const char *t_path(const char *name)
{
    const char *d = t_dir();
    size_t n = strlen(d) + strlen(name) + 2;
    char *p = malloc(n);

    if (p == NULL || npaths == 256)
        t_fail(__FILE__, __LINE__, "t_path: out of slots");
    snprintf(p, n, "%s/%s", d, name);
    paths[npaths++] = p;
    return p;
}

unsigned char t_pattern(int pattern, uint64_t i)
{
    return pattern < 0 ? (unsigned char)((i * 7 + 3) & 0xff)
                       : (unsigned char)pattern;
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
        for (size_t i = 0; i < k; i++)
            buf[i] = t_pattern(pattern, done + i);
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

static int run_one(int i)
{
    tests[i].fn();
    return 0;
}

int main(int argc, char **argv)
{
    ssize_t n = readlink("/proc/self/exe", self_exe, sizeof self_exe - 1);
    int passed = 0, failed = 0, skipped = 0;

    if (n > 0)
        self_exe[n] = '\0';
    else
        snprintf(self_exe, sizeof self_exe, "%s", argv[0]);

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
        return 0;
    }
    if (argc == 2) {
        for (int i = 0; i < ntests; i++)
            if (strcmp(tests[i].name, argv[1]) == 0)
                return run_one(i);
        fprintf(stderr, "no test named %s\n", argv[1]);
        return 2;
    }
    /* Every test, each in a child process. */
    for (int i = 0; i < ntests; i++) {
        pid_t pid;
        int st;

        fflush(NULL);
        pid = fork();
        if (pid == 0)
            _exit(run_one(i));
        st = t_wait(pid);
        if (st == 0)
            passed++;
        else if (st == 77)
            skipped++;
        else {
            failed++;
            printf("FAILED: %s (status %d)\n", tests[i].name, st);
        }
    }
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}

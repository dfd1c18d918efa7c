/*
 * What the public API has no call for: file status, the page cache,
 * terminals, signals, user names and the processes holding an object.
 * Every platform difference of the tool is in this file.
 */
#ifndef _WIN32
#define _GNU_SOURCE /* mincore, realpath, readlinkat */
#endif
#include "cli.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <fcntl.h>
#include <io.h>
#include <sys/stat.h>
#include <windows.h>
#else
#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#ifdef _WIN32
const char cli_path_chars[] = "/\\:";
const int cli_posix_names = 0;
#else
const char cli_path_chars[] = "/";
const int cli_posix_names = 1;
#endif

int cli_error_from_errno(int e)
{
    switch (e) {
    case 0:
        return MMF_OK;
    case ENOENT:
    case ENOTDIR:
        return MMF_ENOENT;
    case EEXIST:
        return MMF_EEXIST;
    case EACCES:
    case EPERM:
    case EROFS:
        return MMF_EACCES;
    case ENAMETOOLONG:
        return MMF_ENAMETOOLONG;
    case ENOMEM:
        return MMF_ENOMEM;
    case ENOSPC:
        return MMF_ENOSPC;
    case EBUSY:
        return MMF_EBUSY;
    case EISDIR:
    case ENOSYS:
#ifdef ENOTSUP
    case ENOTSUP:
#endif
        return MMF_ENOTSUP;
    case EINVAL:
    case EBADF:
#ifdef ELOOP
    case ELOOP:
#endif
        return MMF_EINVAL;
    default:
        return MMF_EIO;
    }
}

#ifdef _WIN32

/* ---- Windows ---- */

int cli_stat(const char *path, struct cli_file_stat *st)
{
    wchar_t wpath[32768];
    struct _stat64 s;

    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, path, -1, wpath,
                            32768) == 0)
        return MMF_EINVAL;
    if (_wstat64(wpath, &s) != 0)
        return cli_error_from_errno(errno);
    st->size = (uint64_t)s.st_size;
    st->mode = (unsigned)s.st_mode & 0777u;
    st->owner = -1;
    st->regular = (s.st_mode & _S_IFMT) == _S_IFREG;
    return MMF_OK;
}

int cli_isatty(FILE *fp)
{
    return _isatty(_fileno(fp));
}

void cli_binary(FILE *fp)
{
    (void)_setmode(_fileno(fp), _O_BINARY);
}

long cli_pid(void)
{
    return (long)GetCurrentProcessId();
}

const char *cli_user_name(int64_t uid, char *buf, size_t n)
{
    (void)uid;
    (void)buf;
    (void)n;
    return NULL;
}

const char *cli_realpath(const char *path, char *buf, size_t n)
{
    (void)path;
    (void)buf;
    (void)n;
    return NULL;
}

int cli_holder_pids(const char *name, int mutex, long *pids, int max)
{
    (void)name;
    (void)mutex;
    (void)pids;
    (void)max;
    return -1;
}

const char *cli_process_name(long pid, char *buf, size_t n)
{
    (void)pid;
    (void)buf;
    (void)n;
    return NULL;
}

int cli_residency(mmf_file *f, uint64_t size, struct cli_resident *r)
{
    (void)f;
    (void)size;
    (void)r;
    return MMF_ENOTSUP; /* Windows tells a process's working set only */
}

int cli_evict(mmf_file *f)
{
    (void)f;
    return MMF_ENOTSUP;
}

static volatile sig_atomic_t caught;

static void on_signal(int sig)
{
    caught = sig;
    signal(sig, on_signal);
}

void cli_catch_signals(void)
{
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGBREAK, on_signal);
}

int cli_wait_signal(void)
{
    while (!caught)
        Sleep(100);
    return caught;
}

#else

/* ---- POSIX ---- */

int cli_stat(const char *path, struct cli_file_stat *st)
{
    struct stat s;

    if (stat(path, &s) != 0)
        return cli_error_from_errno(errno);
    st->size = (uint64_t)s.st_size;
    st->mode = (unsigned)s.st_mode & 0777u;
    st->owner = (int64_t)s.st_uid;
    st->regular = S_ISREG(s.st_mode);
    return MMF_OK;
}

int cli_isatty(FILE *fp)
{
    return isatty(fileno(fp));
}

void cli_binary(FILE *fp)
{
    (void)fp;
}

long cli_pid(void)
{
    return (long)getpid();
}

const char *cli_user_name(int64_t uid, char *buf, size_t n)
{
    struct passwd pw, *found = NULL;
    char tmp[4096];

    if (getpwuid_r((uid_t)uid, &pw, tmp, sizeof tmp, &found) != 0 ||
        found == NULL)
        return NULL;
    snprintf(buf, n, "%s", found->pw_name);
    return buf;
}

const char *cli_realpath(const char *path, char *buf, size_t n)
{
    char *p = realpath(path, NULL);

    if (p == NULL)
        return NULL;
    snprintf(buf, n, "%s", p);
    free(p);
    return buf;
}

/*
 * A holder keeps the name's registration file open (docs/DESIGN.md,
 * "Named objects and their lifetime"), so the holders are the processes
 * with a descriptor of it. Only processes this user may inspect are seen.
 */
int cli_holder_pids(const char *name, int mutex, long *pids, int max)
{
#ifdef __linux__
    const char *prefix = mutex ? ".mmf-mtx." : ".mmf-map.";
    char want[320], link[320], dir[64];
    struct dirent *e;
    DIR *proc;
    int n = 0;

    name = cli_base_name(name);
    if (strlen(prefix) + strlen(name) > 255) /* registered under a digest */
        return -1;
    snprintf(want, sizeof want, "/dev/shm/%s%s", prefix, name);
    if ((proc = opendir("/proc")) == NULL)
        return -1;
    while ((e = readdir(proc)) != NULL && n < max) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        DIR *fds;
        struct dirent *fe;

        if (*end != '\0' || pid <= 0 || pid == (long)getpid())
            continue;
        snprintf(dir, sizeof dir, "/proc/%ld/fd", pid);
        if ((fds = opendir(dir)) == NULL)
            continue;
        while ((fe = readdir(fds)) != NULL) {
            ssize_t k =
                readlinkat(dirfd(fds), fe->d_name, link, sizeof link - 1);
            if (k > 0 && (link[k] = '\0', strcmp(link, want) == 0)) {
                pids[n++] = pid;
                break;
            }
        }
        closedir(fds);
    }
    closedir(proc);
    return n;
#else
    (void)name;
    (void)mutex;
    (void)pids;
    (void)max;
    return -1;
#endif
}

const char *cli_process_name(long pid, char *buf, size_t n)
{
    char path[64];
    FILE *fp;
    size_t k;

    snprintf(path, sizeof path, "/proc/%ld/comm", pid);
    if ((fp = fopen(path, "r")) == NULL)
        return NULL;
    k = fread(buf, 1, n - 1, fp);
    fclose(fp);
    while (k > 0 && (buf[k - 1] == '\n' || buf[k - 1] == '\0'))
        k--;
    buf[k] = '\0';
    return k > 0 ? buf : NULL;
}

struct count {
    struct cli_resident *r;
    unsigned char *vec;
};

static int count_window(mmf_view *v, void *ctx)
{
    struct count *c = ctx;
    struct cli_resident *r = c->r;
    size_t back = mmf_view_pointer_offset(v);
    unsigned char *base = (unsigned char *)mmf_view_data(v) - back;
    size_t len = (size_t)mmf_view_size(v) + back;
    uint64_t first = (mmf_view_offset(v) - back) / r->page;
    size_t pages = (len + r->page - 1) / r->page;

    if (mincore(base, len, c->vec) != 0)
        return cli_error_from_errno(errno);
    for (size_t i = 0; i < pages; i++) {
        uint64_t cell = (first + i) * (uint64_t)r->cells / r->pages;
        int in = c->vec[i] & 1;
        r->cell_pages[cell]++;
        r->cell_resident[cell] += (uint64_t)in;
        r->resident += (uint64_t)in;
    }
    return MMF_OK;
}

int cli_residency(mmf_file *f, uint64_t size, struct cli_resident *r)
{
    const uint64_t step = UINT64_C(256) << 20;
    struct count c;
    int rc;

    memset(r, 0, sizeof *r);
    r->page = mmf_page_size();
    r->pages = (size + r->page - 1) / r->page;
    r->cells = r->pages < CLI_BAR_CELLS ? (int)r->pages : CLI_BAR_CELLS;
    if (size == 0)
        return MMF_OK;
    c.r = r;
    c.vec = malloc((size_t)(step / r->page) + 1);
    if (c.vec == NULL)
        return MMF_ENOMEM;
    rc = cli_each_window(f, size, step, count_window, &c);
    free(c.vec);
    return rc;
}

int cli_evict(mmf_file *f)
{
    int fd = (int)mmf_handle_of(f), e;

    if (fdatasync(fd) != 0)
        return cli_error_from_errno(errno);
    e = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    return e == 0 ? MMF_OK : cli_error_from_errno(e);
}

static volatile sig_atomic_t caught;
static sigset_t wait_mask;

static void on_signal(int sig)
{
    caught = sig;
}

void cli_catch_signals(void)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    sigset_t set;

    /* Blocked until cli_wait_signal, so that none is lost in between. */
    sigemptyset(&set);
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
        sigaddset(&set, sigs[i]);
    sigprocmask(SIG_BLOCK, &set, &wait_mask);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) {
        sigaction(sigs[i], &sa, NULL);
        sigdelset(&wait_mask, sigs[i]);
    }
}

int cli_wait_signal(void)
{
    while (!caught)
        sigsuspend(&wait_mask);
    return caught;
}

#endif

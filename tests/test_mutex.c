/*
 * The named mutex, with real processes: argument checks, create and open,
 * recursion, mutual exclusion, robustness when owners die (processes killed
 * with SIGKILL or TerminateProcess, threads that exit holding it), timed and
 * try locks, unlock by non-owners, the lifetime of the name, permissions,
 * inheritance and the versioned header of the shared layout.
 *
 * Children run the "mutex_agent" helper: a tiny script over one handle of
 * one named mutex, each step checked for its exact return code (see
 * run_steps). Steps "signal" and "wait" talk to the test through pipes, so
 * the test knows the child's state without ever relying on timing. The same
 * interpreter runs scripts in threads of the test process.
 *
 * On Windows the mutex is a kernel mutex named <ns>mmf/mutex/N with no file
 * behind it (docs/DESIGN.md): where the Linux tests look at the registration
 * file in /dev/shm, the Windows ones ask the kernel (mmf_stat, mmf_list, the
 * handles of the process).
 */
#include "test.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#ifdef _WIN32
#define WIN32_LEAN_AND_MEAN
#include <windows.h>
#else
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Where the mutex region begins in the registration file (named_posix.c). */
#define MUTEX_REGION 8192

/* The exit status of a killed process: SIGKILL, or the status t_kill and
 * the "die" step give TerminateProcess on Windows. */
#ifdef _WIN32
#define KILLED 137
#else
#define KILLED (128 + SIGKILL)
#endif

/* ---- names and leftovers ------------------------------------------------ */

static char tag_buf[64];

/* "mmft-<pid>-mutex-": every object a test makes carries it. */
static const char *tag(void)
{
    if (tag_buf[0] == '\0')
        snprintf(tag_buf, sizeof tag_buf, "mmft-%d-mutex-", t_self_pid());
    return tag_buf;
}

/* A unique name, "mmft-<pid>-mutex-<what>"; the string lives until exit. */
static const char *mname(const char *what)
{
    static char bufs[32][300];
    static int next;
    char *b = bufs[next++ % 32];

    snprintf(b, sizeof bufs[0], "%s%s", tag(), what);
    return b;
}

/* The name without a leading Local\ or Global\. */
static const char *base_of(const char *name)
{
    if (strncmp(name, "Local\\", 6) == 0)
        return name + 6;
    if (strncmp(name, "Global\\", 7) == 0)
        return name + 7;
    return name;
}

#ifdef _WIN32
/* Is there a kernel mutex (Windows: the mutex itself) of this name? */
static int reg_exists(const char *name)
{
    mmf_info info;
    int rc = mmf_stat(name, MMF_KIND_MUTEX, &info);

    if (rc != MMF_OK && rc != MMF_ENOENT)
        t_fail(__FILE__, __LINE__, "mmf_stat %s: %s", name, mmf_errname(rc));
    return rc == MMF_OK;
}

/* Is the kernel name taken, by a mutex or an object of another kind (one
 * this user may not open counts)? */
static int kernel_name_used(const wchar_t *kname)
{
    HANDLE h = OpenMutexW(SYNCHRONIZE, FALSE, kname);
    DWORD e = GetLastError();

    if (h != NULL) {
        CloseHandle(h);
        return 1;
    }
    return e == ERROR_ACCESS_DENIED || e == ERROR_INVALID_HANDLE;
}

/* The kernel name of the mutex `name` (short names only) in k[300]:
 * <ns>mmf/mutex/<base> (docs/DESIGN.md). */
static const wchar_t *kernel_name(const char *name, wchar_t *k)
{
    char buf[300];
    int n = snprintf(buf, sizeof buf, "%smmf/mutex/%s",
                     strncmp(name, "Global\\", 7) == 0 ? "Global\\" : "Local\\",
                     base_of(name));

    CHECK(n > 0 && n < 300);
    for (int i = 0; i <= n; i++)
        k[i] = (wchar_t)(unsigned char)buf[i];
    return k;
}

/* Are Local\ and Global\ one namespace (session 0, where services run)? */
static int global_is_local(void)
{
    DWORD session = 0;
    return ProcessIdToSessionId(GetCurrentProcessId(), &session) &&
           session == 0;
}

static int leftover(const mmf_info *info, void *ctx)
{
    if (strstr(info->name, tag()) == NULL)
        return 0;
    snprintf(ctx, sizeof info->name, "%s", info->name);
    return 1;
}

/* Fails if any named object carrying this test's tag is left. */
static void check_clean(int line)
{
    char n[sizeof((mmf_info *)0)->name] = "";
    int rc = mmf_list(leftover, n);

    if (rc != MMF_OK)
        t_fail(__FILE__, line, "mmf_list: %s", mmf_errname(rc));
    if (n[0] != '\0')
        t_fail(__FILE__, line, "left in the kernel's namespace: %s", n);
}
#else
/* The mutex's registration file in /dev/shm (short names only). */
static const char *reg_path(const char *name)
{
    static char bufs[8][400];
    static int next;
    char *b = bufs[next++ % 8];

    snprintf(b, sizeof bufs[0], "/dev/shm/.mmf-mtx.%s", base_of(name));
    return b;
}

static int reg_exists(const char *name)
{
    return t_exists(reg_path(name));
}

/* Fails if anything carrying this test's tag is left in /dev/shm. */
static void check_clean(int line)
{
    DIR *d = opendir("/dev/shm");
    struct dirent *e;

    if (d == NULL)
        t_fail(__FILE__, line, "opendir /dev/shm: %s", strerror(errno));
    while ((e = readdir(d)) != NULL) {
        if (strstr(e->d_name, tag()) != NULL) {
            char n[300];
            snprintf(n, sizeof n, "%s", e->d_name);
            closedir(d);
            t_fail(__FILE__, line, "left in /dev/shm: %s", n);
        }
    }
    closedir(d);
}
#endif
#define CHECK_CLEAN() check_clean(__LINE__)

/* ---- pipes between the test and its children ---------------------------- */

/* One end of a pipe: a descriptor, or a HANDLE on Windows. The child's end
 * is inherited (its number is passed on the command line); the test's end
 * stays out of every child, so a child that dies closes the pipe. */
#ifdef _WIN32
typedef HANDLE chan;
#define NO_CHAN NULL

static void chan_pipe(chan *test_end, chan *child_end, int child_reads)
{
    HANDLE r, w;

    CHECK(CreatePipe(&r, &w, NULL, 0));
    *test_end = child_reads ? w : r;
    *child_end = child_reads ? r : w;
    CHECK(SetHandleInformation(*child_end, HANDLE_FLAG_INHERIT,
                               HANDLE_FLAG_INHERIT));
}

static void chan_arg(char *buf, size_t n, chan c)
{
    snprintf(buf, n, "%llu", (unsigned long long)(uintptr_t)c);
}

static chan chan_of(const char *s)
{
    return strcmp(s, "-1") == 0 ? NO_CHAN
                                : (chan)(uintptr_t)strtoull(s, NULL, 10);
}

static int chan_put(chan c)
{
    char b = 's';
    DWORD n = 0;
    return WriteFile(c, &b, 1, &n, NULL) && n == 1;
}

static int chan_get(chan c)
{
    char b;
    DWORD n = 0;
    return ReadFile(c, &b, 1, &n, NULL) && n == 1;
}

static void chan_close(chan c)
{
    CloseHandle(c);
}
#else
typedef int chan;
#define NO_CHAN (-1)

static void chan_pipe(chan *test_end, chan *child_end, int child_reads)
{
    int p[2];

    CHECK(pipe(p) == 0);
    *test_end = p[child_reads ? 1 : 0];
    *child_end = p[child_reads ? 0 : 1];
    CHECK(fcntl(*test_end, F_SETFD, FD_CLOEXEC) == 0);
}

static void chan_arg(char *buf, size_t n, chan c)
{
    snprintf(buf, n, "%d", c);
}

static chan chan_of(const char *s)
{
    return atoi(s);
}

static int chan_put(chan c)
{
    char b = 's';
    return write(c, &b, 1) == 1;
}

static int chan_get(chan c)
{
    char b;
    ssize_t r;
    do
        r = read(c, &b, 1);
    while (r < 0 && errno == EINTR);
    return r == 1;
}

static void chan_close(chan c)
{
    close(c);
}
#endif

/* ---- the step interpreter ----------------------------------------------- */

static int parse_code(const char *s, int *out)
{
    for (int c = 0; c >= -20; c--) {
        const char *n = mmf_errname(c);
        if (strcmp(n, "MMF_EUNKNOWN") == 0)
            continue;
        if (strcmp(n, s) == 0 || strcmp(n + 4, s) == 0) {
            *out = c;
            return 1;
        }
    }
    return 0;
}

#ifdef _WIN32
/* The kernel's answers about a handle, from ntdll at run time (mingw's
 * default libraries do not link it): its type and its full name. */
typedef struct {
    USHORT len, max;
    PWSTR buf;
} nt_string;
typedef LONG(NTAPI *nt_query_object_fn)(HANDLE, int, void *, ULONG, ULONG *);
#define NT_OBJECT_NAME 1
#define NT_OBJECT_TYPE 2

/* Does the counted string s end with the ASCII string a? */
static int nt_ends_with(const nt_string *s, const char *a)
{
    size_t n = strlen(a), have = s->len / sizeof(wchar_t);

    if (s->buf == NULL || have < n)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (s->buf[have - n + i] != (wchar_t)(unsigned char)a[i])
            return 0;
    return 1;
}

/*
 * Finds a handle of this process to the kernel mutex of `name` (short names
 * only): the handle values are small multiples of 4, as t_fd_count walks
 * them; only mutexes ("Mutant") are asked their name. Returns NULL if there
 * is none.
 */
static HANDLE find_mutex_handle(const char *name)
{
    HMODULE nt = GetModuleHandleW(L"ntdll.dll");
    FARPROC p = nt != NULL ? GetProcAddress(nt, "NtQueryObject") : NULL;
    nt_query_object_fn query = (nt_query_object_fn)(void (*)(void))p;
    union {
        nt_string s;
        unsigned char bytes[2048];
    } buf;
    char want[300];
    int gap = 0;

    if (query == NULL)
        t_fail(__FILE__, __LINE__, "no NtQueryObject in ntdll");
    snprintf(want, sizeof want, "\\mmf/mutex/%s", base_of(name));
    for (uintptr_t h = 4; gap < 1024; h += 4) {
        DWORD flags;
        ULONG got;
        if (!GetHandleInformation((HANDLE)h, &flags)) {
            gap++;
            continue;
        }
        gap = 0;
        if (query((HANDLE)h, NT_OBJECT_TYPE, &buf, sizeof buf, &got) != 0 ||
            !nt_ends_with(&buf.s, "Mutant"))
            continue;
        if (query((HANDLE)h, NT_OBJECT_NAME, &buf, sizeof buf, &got) == 0 &&
            nt_ends_with(&buf.s, want))
            return (HANDLE)h;
    }
    return NULL;
}

/* Does this process have a handle of the mutex? */
static int has_reg_fd(const char *name)
{
    return find_mutex_handle(name) != NULL;
}
#else
/* Does this process have a descriptor of the mutex's registration file? */
static int has_reg_fd(const char *name)
{
    char want[400], link[400], p[300];
    DIR *d = opendir("/proc/self/fd");
    struct dirent *e;
    int found = 0;

    if (d == NULL)
        return -1;
    snprintf(want, sizeof want, "%s", reg_path(name));
    while ((e = readdir(d)) != NULL) {
        ssize_t n;
        if (e->d_name[0] == '.')
            continue;
        snprintf(p, sizeof p, "/proc/self/fd/%s", e->d_name);
        n = readlink(p, link, sizeof link - 1);
        if (n <= 0)
            continue;
        link[n] = '\0';
        if (strcmp(link, want) == 0)
            found = 1;
    }
    closedir(d);
    return found;
}
#endif

static int step_fail(const char *who, int i, const char *step, const char *what,
                     int got)
{
    fprintf(stderr, "%s[%d]: step %d \"%s\": %s (got %s, %d)\n", who,
            t_self_pid(), i, step, what, mmf_errname(got), got);
    return 10 + (i < 50 ? i : 50);
}

#ifdef _WIN32
/* The "inh*" steps: the raw handle of the mutex this process inherited. */
static int inherited_step(const char *op, const char *name)
{
    static HANDLE h;

    if (h == NULL)
        h = find_mutex_handle(name);
    if (h == NULL)
        return 0;
    if (strcmp(op, "inhlock") == 0)
        return WaitForSingleObject(h, INFINITE) == WAIT_OBJECT_0;
    if (strcmp(op, "inhunlock") == 0)
        return ReleaseMutex(h) != 0;
    if (CloseHandle(h)) {
        h = NULL;
        return 1;
    }
    return 0;
}
#endif

/*
 * Runs steps over *mp (the mutex `name`). Each step is "op", "op=WANT" or
 * "op:ARG=WANT"; WANT is an MMF code without "MMF_" (default OK) or, where
 * the op says so, a number:
 *   create=N create1=N createinh=N  mmf_mutex_create (initially_owned 1 for
 *                        create1, MMF_OPT_INHERITABLE for createinh); N is
 *                        the expected created flag, or WANT a code
 *   open                 mmf_mutex_open_existing
 *   lock trylock unlock  timed:MS (MS may be 4294967295: wait forever)
 *   mode=OCTAL           get_permissions must give it
 *   perm:OCTAL           set_permissions
 *   hasfd=N              a descriptor of the registration (Windows: a handle
 *                        of the mutex) is open (1) or not
 *   signal / wait        write / read one byte on the pipes
 *   sleep:MS  die (SIGKILL itself; Windows: TerminateProcess, status 137)
 *   exit (_exit(0) without closing)
 *   close                close the handle
 *   user                 drop privileges to uid/gid 65534 (77 if it cannot)
 *   inhlock inhunlock inhclose   (Windows) wait for, release, close the
 *                        handle of the mutex this process inherited
 * Returns 0, 77, or 10 + the failing step's index.
 */
static int run_steps(mmf_mutex **mp, const char *name, chan in, chan out,
                     const char *const *steps, const char *who)
{
    for (int i = 0; steps[i] != NULL; i++) {
        const char *s = steps[i], *eq = strchr(s, '=');
        const char *arg = NULL;
        char op[64], *colon;
        size_t n = eq ? (size_t)(eq - s) : strlen(s);
        int want = MMF_OK, rc = MMF_OK;
        long num = -1;

        if (n >= sizeof op)
            return step_fail(who, i, s, "bad step", 0);
        memcpy(op, s, n);
        op[n] = '\0';
        colon = strchr(op, ':');
        if (colon != NULL) {
            *colon = '\0';
            arg = colon + 1;
        }
        if (eq != NULL) {
            if (eq[1] >= '0' && eq[1] <= '9')
                num = strtol(eq + 1, NULL, 0);
            else if (!parse_code(eq + 1, &want))
                return step_fail(who, i, s, "bad code", 0);
        }
        if (strcmp(op, "create") == 0 || strcmp(op, "create1") == 0 ||
            strcmp(op, "createinh") == 0) {
            rc = mmf_mutex_create(
                name, strcmp(op, "create1") == 0,
                strcmp(op, "createinh") == 0 ? MMF_OPT_INHERITABLE : 0, mp);
            if (rc != want)
                return step_fail(who, i, s, "unexpected code", rc);
            if (rc != MMF_OK && *mp != NULL)
                return step_fail(who, i, s, "*out not NULL on failure", rc);
            if (rc == MMF_OK && num >= 0 && mmf_mutex_created(*mp) != num)
                return step_fail(who, i, s, "wrong created flag", rc);
        } else if (strcmp(op, "open") == 0) {
            rc = mmf_mutex_open_existing(name, mp);
            if (rc != want)
                return step_fail(who, i, s, "unexpected code", rc);
            if (rc != MMF_OK && *mp != NULL)
                return step_fail(who, i, s, "*out not NULL on failure", rc);
            if (rc == MMF_OK && mmf_mutex_created(*mp) != 0)
                return step_fail(who, i, s, "created flag set by open", rc);
        } else if (strcmp(op, "lock") == 0 || strcmp(op, "trylock") == 0 ||
                   strcmp(op, "unlock") == 0 || strcmp(op, "timed") == 0) {
            if (op[0] == 'l')
                rc = mmf_mutex_lock(*mp);
            else if (op[0] == 't' && op[1] == 'r')
                rc = mmf_mutex_trylock(*mp);
            else if (op[0] == 'u')
                rc = mmf_mutex_unlock(*mp);
            else
                rc = mmf_mutex_timedlock(
                    *mp, (uint32_t)strtoul(arg ? arg : "0", NULL, 10));
            if (rc != want)
                return step_fail(who, i, s, "unexpected code", rc);
        } else if (strcmp(op, "mode") == 0) {
            unsigned mode = 0;
            rc = mmf_mutex_get_permissions(*mp, &mode);
            if (rc != MMF_OK || (long)mode != num)
                return step_fail(who, i, s, "wrong mode", rc);
        } else if (strcmp(op, "perm") == 0) {
            rc = mmf_mutex_set_permissions(
                *mp, (unsigned)strtoul(arg ? arg : "0", NULL, 8));
            if (rc != want)
                return step_fail(who, i, s, "unexpected code", rc);
        } else if (strcmp(op, "hasfd") == 0) {
            if (has_reg_fd(name) != num)
                return step_fail(who, i, s, "registration descriptor", 0);
        } else if (strcmp(op, "signal") == 0) {
            if (!chan_put(out))
                return step_fail(who, i, s, "write to the test failed", 0);
        } else if (strcmp(op, "wait") == 0) {
            if (!chan_get(in))
                return step_fail(who, i, s, "the test went away", 0);
        } else if (strcmp(op, "sleep") == 0) {
            t_sleep_ms((unsigned)strtoul(arg ? arg : "0", NULL, 10));
        } else if (strcmp(op, "die") == 0) {
            fflush(NULL);
#ifdef _WIN32
            TerminateProcess(GetCurrentProcess(), KILLED);
#else
            raise(SIGKILL);
#endif
        } else if (strcmp(op, "exit") == 0) {
            fflush(NULL);
            _exit(0);
        } else if (strcmp(op, "close") == 0) {
            rc = mmf_mutex_close(*mp);
            *mp = NULL;
            if (rc != MMF_OK)
                return step_fail(who, i, s, "close failed", rc);
#ifdef _WIN32
        } else if (strcmp(op, "inhlock") == 0 || strcmp(op, "inhunlock") == 0 ||
                   strcmp(op, "inhclose") == 0) {
            if (!inherited_step(op, name))
                return step_fail(who, i, s, "inherited handle",
                                 (int)GetLastError());
#else
        } else if (strcmp(op, "user") == 0) {
            if (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
                setuid(65534) != 0 || geteuid() == 0)
                return 77;
#endif
        } else {
            return step_fail(who, i, s, "unknown step", 0);
        }
    }
    return 0;
}

/* argv: in-pipe out-pipe name steps... */
HELPER(mutex_agent)
{
    mmf_mutex *m = NULL;
    int rc;

    if (argc < 3)
        return 2;
    rc = run_steps(&m, argv[2], chan_of(argv[0]), chan_of(argv[1]),
                   (const char *const *)(argv + 3), "mutex_agent");
    (void)mmf_mutex_close(m);
    return rc;
}

/* A child process running steps; it talks to the test through pipes. */
struct agent {
    pid_t pid;
    chan to, from;
};

static void agent_start(struct agent *a, const char *name,
                        const char *const *steps)
{
    chan down, up;
    char in[32], out[32];
    const char *args[64];
    int n = 0;

#ifndef _WIN32
    signal(SIGPIPE, SIG_IGN);
#endif
    chan_pipe(&a->to, &down, 1);
    chan_pipe(&a->from, &up, 0);
    chan_arg(in, sizeof in, down);
    chan_arg(out, sizeof out, up);
    args[n++] = in;
    args[n++] = out;
    args[n++] = name;
    for (; *steps != NULL && n < 63; steps++)
        args[n++] = *steps;
    args[n] = NULL;
    a->pid = t_spawn("mutex_agent", args);
    chan_close(down);
    chan_close(up);
}
#define START(a, name, ...)                                                    \
    agent_start((a), (name), (const char *const[]){__VA_ARGS__, NULL})

/* Waits for the agent's "signal" step. */
static void agent_await(struct agent *a, int line)
{
    if (!chan_get(a->from)) {
        int st = t_wait(a->pid);
        a->pid = -1;
        t_fail(__FILE__, line, "agent ended before signalling (status %d)", st);
    }
}
#define AWAIT(a) agent_await((a), __LINE__)

/* Releases the agent's "wait" step. */
static void agent_go(struct agent *a, int line)
{
    if (!chan_put(a->to))
        t_fail(__FILE__, line, "agent gone");
}
#define GO(a) agent_go((a), __LINE__)

/* Closes the pipes and returns the agent's exit status. */
static int agent_end(struct agent *a)
{
    chan_close(a->to);
    chan_close(a->from);
    return t_wait(a->pid);
}

/* Runs an agent without pipes to completion; returns its exit status. */
static int run_agent(const char *name, const char *const *steps)
{
    const char *args[64];
    int n = 0;

    args[n++] = "-1";
    args[n++] = "-1";
    args[n++] = name;
    for (; *steps != NULL && n < 63; steps++)
        args[n++] = *steps;
    args[n] = NULL;
    return t_wait(t_spawn("mutex_agent", args));
}
#define RUN(name, ...)                                                         \
    run_agent((name), (const char *const[]){__VA_ARGS__, NULL})

/* Steps in a thread of this process, over an existing handle. */
struct tjob {
    mmf_mutex *m;
    const char *const *steps;
    int rc;
};

static void *tjob_main(void *p)
{
    struct tjob *j = p;
    j->rc = run_steps(&j->m, "", NO_CHAN, NO_CHAN, j->steps, "thread");
    return NULL;
}

static int in_thread(mmf_mutex *m, const char *const *steps)
{
    struct tjob j;
    pthread_t t;

    j.m = m;
    j.steps = steps;
    j.rc = -1;
    CHECK(pthread_create(&t, NULL, tjob_main, &j) == 0);
    CHECK(pthread_join(t, NULL) == 0);
    return j.rc;
}
#define THREAD(m, ...) in_thread((m), (const char *const[]){__VA_ARGS__, NULL})

#define BUSY_ELSEWHERE(name) CHECK_EQ(RUN((name), "open", "trylock=EBUSY"), 0)
#define FREE_ELSEWHERE(name)                                                   \
    CHECK_EQ(RUN((name), "open", "trylock", "unlock", "unlock=EPERM"), 0)

static mmf_mutex *sentinel(void)
{
    static int x;
    return (mmf_mutex *)(void *)&x;
}

/* ---- arguments ---------------------------------------------------------- */

TEST(mutex_args_out_and_flags)
{
    static const unsigned bad_flags[] = {
        MMF_OPT_DELAY_ALLOCATE,
        MMF_OPT_KEEP_NAME,
        MMF_OPT_INHERITABLE | MMF_OPT_KEEP_NAME,
        MMF_OPT_INHERITABLE | MMF_OPT_DELAY_ALLOCATE,
        1u << 3,
        1u << 16,
        1u << 31,
        ~0u};
    const char *name = mname("args");
    mmf_mutex *m, *live;

    CHECK_RC(mmf_mutex_create(name, 0, 0, NULL), MMF_EINVAL);
    CHECK_RC(mmf_mutex_create(name, 1, 0, NULL), MMF_EINVAL);
    CHECK_RC(mmf_mutex_create(NULL, 0, 0, NULL), MMF_EINVAL);
    CHECK_RC(mmf_mutex_open_existing(name, NULL), MMF_EINVAL);
    CHECK_RC(mmf_mutex_open_existing(NULL, NULL), MMF_EINVAL);
    m = sentinel();
    CHECK_RC(mmf_mutex_open_existing(NULL, &m), MMF_EINVAL);
    CHECK(m == NULL);
    for (size_t i = 0; i < NELEM(bad_flags); i++) {
        m = sentinel();
        CHECK_RC(mmf_mutex_create(name, 0, bad_flags[i], &m), MMF_EINVAL);
        CHECK(m == NULL);
        m = sentinel();
        CHECK_RC(mmf_mutex_create(name, 1, bad_flags[i], &m), MMF_EINVAL);
        CHECK(m == NULL);
        m = sentinel();
        CHECK_RC(mmf_mutex_create(NULL, 0, bad_flags[i], &m), MMF_EINVAL);
        CHECK(m == NULL);
    }
    CHECK(!reg_exists(name));
    CHECK_RC(mmf_mutex_open_existing(name, &m), MMF_ENOENT);

    /* Argument checks come first, whatever exists. */
    CHECK_OK(mmf_mutex_create(name, 0, 0, &live));
    for (size_t i = 0; i < NELEM(bad_flags); i++) {
        m = sentinel();
        CHECK_RC(mmf_mutex_create(name, 0, bad_flags[i], &m), MMF_EINVAL);
        CHECK(m == NULL);
    }
    CHECK_RC(mmf_mutex_create(name, 0, 0, NULL), MMF_EINVAL);
    CHECK_RC(mmf_mutex_open_existing(name, NULL), MMF_EINVAL);
    /* The accepted flags. */
    CHECK_OK(mmf_mutex_create(name, 0, MMF_OPT_INHERITABLE, &m));
    CHECK_EQ(mmf_mutex_created(m), 0);
    CHECK_OK(mmf_mutex_close(m));
    CHECK_OK(mmf_mutex_close(live));
    CHECK(!reg_exists(name));
    CHECK_CLEAN();
}

TEST(mutex_args_bad_names)
{
    char long251[260], llong251[260];
    const char *bad[32];
    size_t nbad = 0;
    mmf_mutex *m;

    memset(long251, 'a', 251);
    long251[251] = '\0';
    snprintf(llong251, sizeof llong251, "Local\\%s", long251 + 6);
    CHECK_EQ(strlen(llong251), 251);
    bad[nbad++] = "";
    bad[nbad++] = "a/b";
    bad[nbad++] = "a\\b";
    bad[nbad++] = "/a";
    bad[nbad++] = "a/";
    bad[nbad++] = ".";
    bad[nbad++] = "..";
    bad[nbad++] = "Local\\";
    bad[nbad++] = "Global\\";
    bad[nbad++] = "Local\\.";
    bad[nbad++] = "Local\\..";
    bad[nbad++] = "Global\\..";
    bad[nbad++] = "Local\\Global\\x";
    bad[nbad++] = "Local\\a/b";
    bad[nbad++] = "a\001b";
    bad[nbad++] = "a\177b";
    bad[nbad++] = "caf\xc3\xa9";
    bad[nbad++] = "tab\there";
    bad[nbad++] = long251;
    bad[nbad++] = llong251;
    for (size_t i = 0; i < nbad; i++) {
        m = sentinel();
        CHECK_RC(mmf_mutex_create(bad[i], 0, 0, &m), MMF_EINVAL);
        CHECK(m == NULL);
        m = sentinel();
        CHECK_RC(mmf_mutex_create(bad[i], 1, MMF_OPT_INHERITABLE, &m),
                 MMF_EINVAL);
        CHECK(m == NULL);
        m = sentinel();
        CHECK_RC(mmf_mutex_open_existing(bad[i], &m), MMF_EINVAL);
        CHECK(m == NULL);
    }
#ifdef _WIN32
    /* Nor any kernel mutex where a bad name would have put one. */
    CHECK(!kernel_name_used(L"Local\\mmf/mutex/.."));
    CHECK(!kernel_name_used(L"Global\\mmf/mutex/.."));
    CHECK(!kernel_name_used(L"Local\\mmf/mutex/Local\\"));
    CHECK(!kernel_name_used(L"Local\\mmf/mutex/"));
#else
    CHECK(!t_exists("/dev/shm/.mmf-mtx.."));
    CHECK(!t_exists("/dev/shm/.mmf-mtx.Local\\"));
    CHECK(!t_exists("/dev/shm/.mmf-mtx."));
#endif
}

TEST(mutex_args_null_handle)
{
    static const unsigned bad_modes[] = {01000, 02000,   04000,
                                         07777, 0100000, ~0u};
    mmf_mutex *m;
    unsigned mode = 12345;

    CHECK_RC(mmf_mutex_lock(NULL), MMF_EINVAL);
    CHECK_RC(mmf_mutex_unlock(NULL), MMF_EINVAL);
    CHECK_RC(mmf_mutex_trylock(NULL), MMF_EINVAL);
    CHECK_RC(mmf_mutex_timedlock(NULL, 0), MMF_EINVAL);
    CHECK_RC(mmf_mutex_timedlock(NULL, 50), MMF_EINVAL);
    CHECK_RC(mmf_mutex_timedlock(NULL, MMF_WAIT_FOREVER), MMF_EINVAL);
    CHECK_RC(mmf_mutex_set_permissions(NULL, 0600), MMF_EINVAL);
    CHECK_RC(mmf_mutex_set_permissions(NULL, 01000), MMF_EINVAL);
    CHECK_RC(mmf_mutex_get_permissions(NULL, &mode), MMF_EINVAL);
    CHECK_RC(mmf_mutex_get_permissions(NULL, NULL), MMF_EINVAL);
    CHECK_EQ(mode, 12345);
    CHECK_RC(mmf_mutex_close(NULL), MMF_OK);
    CHECK_EQ(mmf_mutex_created(NULL), 0);
    CHECK(mmf_mutex_name(NULL) == NULL);

    CHECK_OK(mmf_mutex_create(mname("perm"), 0, 0, &m));
    CHECK_RC(mmf_mutex_get_permissions(m, NULL), MMF_EINVAL);
    for (size_t i = 0; i < NELEM(bad_modes); i++)
        CHECK_RC(mmf_mutex_set_permissions(m, bad_modes[i]), MMF_EINVAL);
    CHECK_OK(mmf_mutex_get_permissions(m, &mode));
    CHECK_EQ(mode, 0600);
    CHECK_OK(mmf_mutex_close(m));
    CHECK_CLEAN();
}

/* ---- create and open ---------------------------------------------------- */

TEST(mutex_create_and_open)
{
    char buf[300];
    const char *name = mname("open");
    char lname[300], gname[300];
    mmf_mutex *a, *b, *c, *d, *g, *m;
#ifdef _WIN32
    char global[300] = "";
#endif

    snprintf(lname, sizeof lname, "Local\\%s", name);
    snprintf(gname, sizeof gname, "Global\\%s", name);
    m = sentinel();
    CHECK_RC(mmf_mutex_open_existing(name, &m), MMF_ENOENT);
    CHECK(m == NULL);
    CHECK(!reg_exists(name));
    CHECK_EQ(RUN(name, "open=ENOENT"), 0);

    /* The name is copied: the caller's buffer may change afterwards. */
    snprintf(buf, sizeof buf, "%s", name);
    CHECK_OK(mmf_mutex_create(buf, 0, 0, &a));
    memset(buf, 'z', 20);
    CHECK_EQ(mmf_mutex_created(a), 1);
    CHECK(strcmp(mmf_mutex_name(a), name) == 0);
    CHECK(reg_exists(name));

    CHECK_OK(mmf_mutex_create(name, 0, 0, &b));
    CHECK_EQ(mmf_mutex_created(b), 0);
    CHECK(strcmp(mmf_mutex_name(b), name) == 0);
    CHECK_OK(mmf_mutex_open_existing(name, &c));
    CHECK_EQ(mmf_mutex_created(c), 0);
    CHECK(strcmp(mmf_mutex_name(c), name) == 0);
    CHECK_EQ(RUN(name, "create=0", "close", "open", "close", "create1=0",
                 "unlock=EPERM"),
             0);

    /* Local\x and Global\x are x; the handle keeps the string passed. */
    CHECK_OK(mmf_mutex_create(lname, 0, 0, &d));
    CHECK_EQ(mmf_mutex_created(d), 0);
    CHECK(strcmp(mmf_mutex_name(d), lname) == 0);
#ifdef _WIN32
    /* Windows: Global\x is the machine-wide namespace, another mutex than
     * x (except in session 0); the rest of the test uses Local\x there. */
    if (!global_is_local()) {
        snprintf(global, sizeof global, "%s", gname);
        m = sentinel();
        CHECK_RC(mmf_mutex_open_existing(global, &m), MMF_ENOENT);
        CHECK(m == NULL);
        snprintf(gname, sizeof gname, "%s", lname);
    }
#endif
    CHECK_OK(mmf_mutex_open_existing(gname, &g));
    CHECK(strcmp(mmf_mutex_name(g), gname) == 0);
    CHECK_OK(mmf_mutex_lock(d));
    BUSY_ELSEWHERE(name);
    CHECK_EQ(RUN(lname, "open", "trylock=EBUSY"), 0);
#ifdef _WIN32
    if (global[0] != '\0') {
        /* Free in another process while x is held: another mutex.
         * (Creating a Global\ object may need SeCreateGlobalPrivilege.) */
        int rc = mmf_mutex_create(global, 0, 0, &m);
        if (rc != MMF_EACCES) {
            CHECK_OK(rc);
            CHECK_EQ(mmf_mutex_created(m), 1);
            CHECK(strcmp(mmf_mutex_name(m), global) == 0);
            FREE_ELSEWHERE(global);
            CHECK_OK(mmf_mutex_close(m));
        }
    }
#endif
    CHECK_OK(mmf_mutex_trylock(a)); /* the same mutex: recursion */
    CHECK_OK(mmf_mutex_unlock(a));
    CHECK_OK(mmf_mutex_unlock(d));
    FREE_ELSEWHERE(gname);

    CHECK_OK(mmf_mutex_close(a));
    CHECK_OK(mmf_mutex_close(b));
    CHECK_OK(mmf_mutex_close(c));
    CHECK_OK(mmf_mutex_close(d));
    CHECK(reg_exists(name));
    CHECK_OK(mmf_mutex_close(g));
    CHECK(!reg_exists(name));
    CHECK_RC(mmf_mutex_open_existing(lname, &m), MMF_ENOENT);

    /* Created under Local\, opened without it. */
    CHECK_OK(mmf_mutex_create(lname, 0, 0, &a));
    CHECK_EQ(mmf_mutex_created(a), 1);
    CHECK(strcmp(mmf_mutex_name(a), lname) == 0);
    CHECK(reg_exists(name));
    CHECK_OK(mmf_mutex_open_existing(name, &b));
    CHECK(strcmp(mmf_mutex_name(b), name) == 0);
    CHECK_OK(mmf_mutex_close(a));
    CHECK_OK(mmf_mutex_close(b));
    CHECK(!reg_exists(name));
    CHECK_CLEAN();
}

TEST(mutex_separate_namespace_from_maps)
{
    const char *name = mname("ns");
    mmf_mutex *m;
    mmf_file *f;

    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
    CHECK_EQ(mmf_mutex_created(m), 1);
    /* The mutex does not make a map of that name, nor the reverse. */
    f = (mmf_file *)(void *)sentinel();
    CHECK_RC(mmf_open_existing(name, MMF_ACCESS_READ_WRITE, 0, &f), MMF_ENOENT);
    CHECK(f == NULL);
    CHECK_OK(mmf_create_new(name, 4096, MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_EQ(mmf_created(f), 1);
    CHECK_OK(mmf_mutex_close(m));
    CHECK_RC(mmf_mutex_open_existing(name, &m), MMF_ENOENT);
    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
    CHECK_EQ(mmf_mutex_created(m), 1);
    CHECK_OK(mmf_close(f));
    CHECK_OK(mmf_mutex_trylock(m));
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_OK(mmf_mutex_close(m));
    CHECK_CLEAN();
}

TEST(mutex_longest_name)
{
    char name[251];
    char lname[251];
    mmf_mutex *a, *b, *m;

    /* 250 bytes: valid (the registration's file name is then a digest). */
    snprintf(name, sizeof name, "%s%s", tag(), "long-");
    memset(name + strlen(name), 'x', 250 - strlen(name));
    name[250] = '\0';
    CHECK_EQ(strlen(name), 250);
    CHECK_OK(mmf_mutex_create(name, 0, 0, &a));
    CHECK_EQ(mmf_mutex_created(a), 1);
    CHECK(strcmp(mmf_mutex_name(a), name) == 0);
    CHECK_OK(mmf_mutex_open_existing(name, &b));
    CHECK_OK(mmf_mutex_lock(a));
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(a));
    FREE_ELSEWHERE(name);
    /* Local\ + 244 bytes is the same mutex as those 244 bytes. */
    snprintf(lname, sizeof lname, "Local\\%.244s", name);
    CHECK_EQ(strlen(lname), 250);
    CHECK_OK(mmf_mutex_create(lname, 0, 0, &m));
    CHECK_EQ(mmf_mutex_created(m), 1); /* another name than `name` */
    CHECK_OK(mmf_mutex_close(m));
    CHECK_OK(mmf_mutex_close(a));
    CHECK_OK(mmf_mutex_close(b));
    CHECK_RC(mmf_mutex_open_existing(name, &m), MMF_ENOENT);
    CHECK_CLEAN();
}

TEST(mutex_initially_owned)
{
    const char *name = mname("owned"), *name2 = mname("owned2");
    struct agent ag;
    mmf_mutex *a, *b;

    CHECK_OK(mmf_mutex_create(name, 1, 0, &a));
    CHECK_EQ(mmf_mutex_created(a), 1);
    BUSY_ELSEWHERE(name);
    /* A second create with initially_owned from another process opens it
     * without taking it. */
    CHECK_EQ(RUN(name, "create1=0", "unlock=EPERM", "trylock=EBUSY"), 0);
    /* Taken exactly once. */
    CHECK_OK(mmf_mutex_unlock(a));
    CHECK_RC(mmf_mutex_unlock(a), MMF_EPERM);
    FREE_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_close(a));

    /* The other way round: the child creates it owned; this process's
     * create with initially_owned then does not own it. */
    START(&ag, name2, "create1=1", "signal", "wait", "unlock", "unlock=EPERM",
          "signal", "wait", "close");
    AWAIT(&ag);
    CHECK_OK(mmf_mutex_create(name2, 1, 0, &b));
    CHECK_EQ(mmf_mutex_created(b), 0);
    CHECK_RC(mmf_mutex_unlock(b), MMF_EPERM);
    CHECK_RC(mmf_mutex_trylock(b), MMF_EBUSY);
    GO(&ag);
    AWAIT(&ag);
    CHECK_OK(mmf_mutex_trylock(b));
    GO(&ag);
    CHECK_EQ(agent_end(&ag), 0);
    CHECK_OK(mmf_mutex_unlock(b));
    CHECK_RC(mmf_mutex_unlock(b), MMF_EPERM);
    CHECK_OK(mmf_mutex_close(b));

    /* An unnamed mutex is always created, so initially_owned takes it. */
    CHECK_OK(mmf_mutex_create(NULL, 1, 0, &a));
    CHECK_EQ(THREAD(a, "trylock=EBUSY", "unlock=EPERM"), 0);
    CHECK_OK(mmf_mutex_unlock(a));
    CHECK_RC(mmf_mutex_unlock(a), MMF_EPERM);
    CHECK_OK(mmf_mutex_close(a));
    CHECK_CLEAN();
}

TEST(mutex_unnamed_between_threads)
{
    mmf_mutex *m, *m2;

    CHECK_OK(mmf_mutex_create(NULL, 0, 0, &m));
    CHECK_EQ(mmf_mutex_created(m), 1);
    CHECK(mmf_mutex_name(m) == NULL);
    CHECK_OK(mmf_mutex_create(NULL, 0, MMF_OPT_INHERITABLE, &m2));
    CHECK_EQ(mmf_mutex_created(m2), 1);

    CHECK_OK(mmf_mutex_lock(m));
    CHECK_EQ(THREAD(m, "trylock=EBUSY", "timed:0=ETIMEDOUT",
                    "timed:30=ETIMEDOUT", "unlock=EPERM"),
             0);
    /* Two unnamed mutexes are two mutexes. */
    CHECK_EQ(THREAD(m2, "trylock", "unlock"), 0);
    CHECK_OK(mmf_mutex_trylock(m)); /* recursion */
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_EQ(THREAD(m, "trylock=EBUSY"), 0);
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_RC(mmf_mutex_unlock(m), MMF_EPERM);
    CHECK_EQ(THREAD(m, "lock", "trylock", "timed:0", "unlock", "unlock",
                    "unlock", "unlock=EPERM"),
             0);
    CHECK_OK(mmf_mutex_timedlock(m, MMF_WAIT_FOREVER));
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_OK(mmf_mutex_close(m));
    CHECK_OK(mmf_mutex_close(m2));
}

/* ---- recursion ---------------------------------------------------------- */

TEST(mutex_recursion_across_processes)
{
    const char *name = mname("rec");
    mmf_mutex *m;

    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
    CHECK_OK(mmf_mutex_lock(m));
    CHECK_OK(mmf_mutex_lock(m));
    CHECK_OK(mmf_mutex_lock(m));
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(m));
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(m));
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(m));
    FREE_ELSEWHERE(name);
    CHECK_RC(mmf_mutex_unlock(m), MMF_EPERM);

    /* The owner's own trylock and timed locks succeed while it holds it. */
    CHECK_OK(mmf_mutex_lock(m));
    CHECK_OK(mmf_mutex_trylock(m));
    CHECK_OK(mmf_mutex_timedlock(m, 0));
    CHECK_OK(mmf_mutex_timedlock(m, 50));
    CHECK_OK(mmf_mutex_timedlock(m, MMF_WAIT_FOREVER));
    for (int i = 0; i < 4; i++) {
        CHECK_OK(mmf_mutex_unlock(m));
        BUSY_ELSEWHERE(name);
    }
    CHECK_OK(mmf_mutex_unlock(m));
    FREE_ELSEWHERE(name);
    CHECK_RC(mmf_mutex_unlock(m), MMF_EPERM);

    /* Deep recursion in another process, too. */
    CHECK_EQ(RUN(name, "open", "lock", "trylock", "timed:0", "lock", "unlock",
                 "unlock", "unlock", "unlock", "unlock=EPERM"),
             0);
    CHECK_OK(mmf_mutex_close(m));
    CHECK_CLEAN();
}

TEST(mutex_two_handles_one_thread)
{
    const char *name = mname("two");
    mmf_mutex *a, *b, *c;

    CHECK_OK(mmf_mutex_create(name, 0, 0, &a));
    CHECK_OK(mmf_mutex_open_existing(name, &b));
    CHECK_OK(mmf_mutex_create(name, 0, 0, &c));
    CHECK_EQ(mmf_mutex_created(c), 0);

    CHECK_OK(mmf_mutex_lock(a));
    CHECK_OK(mmf_mutex_trylock(b));
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(a));
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(b));
    FREE_ELSEWHERE(name);
    CHECK_RC(mmf_mutex_unlock(b), MMF_EPERM);
    CHECK_RC(mmf_mutex_unlock(a), MMF_EPERM);

    /* Three handles, each locked once: three unlocks. */
    CHECK_OK(mmf_mutex_lock(a));
    CHECK_OK(mmf_mutex_timedlock(b, 0));
    CHECK_OK(mmf_mutex_lock(c));
    CHECK_OK(mmf_mutex_unlock(c));
    CHECK_OK(mmf_mutex_unlock(b));
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(a));
    FREE_ELSEWHERE(name);

    /* Another thread of this process sees it held through either handle. */
    CHECK_OK(mmf_mutex_lock(b));
    CHECK_EQ(THREAD(a, "trylock=EBUSY", "unlock=EPERM"), 0);
    CHECK_EQ(THREAD(c, "timed:0=ETIMEDOUT"), 0);
    CHECK_OK(mmf_mutex_unlock(b));
    CHECK_EQ(THREAD(a, "trylock", "unlock"), 0);

    CHECK_OK(mmf_mutex_close(a));
    CHECK_OK(mmf_mutex_close(b));
    CHECK_OK(mmf_mutex_close(c));
    CHECK(!reg_exists(name));
    CHECK_CLEAN();
}

/* ---- mutual exclusion --------------------------------------------------- */

#define CTR_OFF 0
#define READY_OFF 64
#define CREATED_OFF 128

/* argv: mutex-name map-name iterations nprocs open|create. Counts to
 * `iterations` under the mutex, with a non-atomic read-increment-write of
 * the 64-bit counter at CTR_OFF of the map. */
HELPER(mutex_counter)
{
    mmf_mutex *m = NULL;
    mmf_file *f = NULL;
    mmf_view *v = NULL;
    unsigned char *base;
    volatile uint64_t *ctr;
    long iters;
    int nprocs, rc;
    time_t start;

    if (argc != 5)
        return 2;
    iters = atol(argv[2]);
    nprocs = atoi(argv[3]);
    if (mmf_open_existing(argv[1], MMF_ACCESS_READ_WRITE, 0, &f) != MMF_OK ||
        mmf_view_open(f, 0, 4096, MMF_ACCESS_READ_WRITE, &v) != MMF_OK)
        return 3;
    base = mmf_view_data(v);
    ctr = (volatile uint64_t *)(base + CTR_OFF);
    rc = strcmp(argv[4], "create") == 0 ? mmf_mutex_create(argv[0], 0, 0, &m)
                                        : mmf_mutex_open_existing(argv[0], &m);
    if (rc != MMF_OK) {
        fprintf(stderr, "mutex_counter: open: %s\n", mmf_errname(rc));
        return 4;
    }
    if (mmf_mutex_created(m))
        __atomic_fetch_add((int *)(base + CREATED_OFF), 1, __ATOMIC_SEQ_CST);
    /* Start together, every handle open before anyone counts. */
    __atomic_fetch_add((int *)(base + READY_OFF), 1, __ATOMIC_SEQ_CST);
    start = time(NULL);
    while (__atomic_load_n((int *)(base + READY_OFF), __ATOMIC_SEQ_CST) <
           nprocs) {
        if (time(NULL) - start > 30)
            return 7; /* a sibling never came */
        sched_yield();
    }
    for (long i = 0; i < iters; i++) {
        uint64_t x;
        rc = mmf_mutex_lock(m);
        if (rc != MMF_OK) {
            fprintf(stderr, "mutex_counter: lock: %s\n", mmf_errname(rc));
            return 5;
        }
        x = *ctr;
        for (volatile int k = 0; k < 8; k++)
            ;
        *ctr = x + 1;
        rc = mmf_mutex_unlock(m);
        if (rc != MMF_OK) {
            fprintf(stderr, "mutex_counter: unlock: %s\n", mmf_errname(rc));
            return 6;
        }
    }
    mmf_mutex_close(m);
    mmf_view_close(v);
    mmf_close(f);
    return 0;
}

static void count_with(const char *mutex, const char *mode, int nprocs,
                       long iters, int *created_sum)
{
    const char *map = mname("ctr");
    char it[32], np[32];
    const char *args[6];
    pid_t pids[8];
    mmf_file *f;
    mmf_view *v;
    unsigned char *base;

    CHECK(nprocs <= 8);
    CHECK_OK(mmf_create_new(map, 4096, MMF_ACCESS_READ_WRITE, 0, &f));
    CHECK_OK(mmf_view_open(f, 0, 4096, MMF_ACCESS_READ_WRITE, &v));
    base = mmf_view_data(v);
    snprintf(it, sizeof it, "%ld", iters);
    snprintf(np, sizeof np, "%d", nprocs);
    args[0] = mutex;
    args[1] = map;
    args[2] = it;
    args[3] = np;
    args[4] = mode;
    args[5] = NULL;
    for (int i = 0; i < nprocs; i++)
        pids[i] = t_spawn("mutex_counter", args);
    for (int i = 0; i < nprocs; i++)
        CHECK_EQ(t_wait(pids[i]), 0);
    CHECK_EQ(*(volatile uint64_t *)(base + CTR_OFF),
             (uint64_t)nprocs * (uint64_t)iters);
    *created_sum = *(volatile int *)(base + CREATED_OFF);
    CHECK_OK(mmf_view_close(v));
    CHECK_OK(mmf_close(f));
}

TEST(mutex_exclusion_three_processes)
{
    const char *name = mname("excl");
    mmf_mutex *m;
    int created;

    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
    count_with(name, "open", 3, 20000, &created);
    CHECK_EQ(created, 0);
    /* The mutex is free and usable afterwards. */
    CHECK_OK(mmf_mutex_trylock(m));
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_OK(mmf_mutex_close(m));
    CHECK_CLEAN();
}

TEST(mutex_exclusion_racing_creators)
{
    const char *name = mname("race");
    mmf_mutex *m;
    int created;

    /* Four processes create the mutex at once: one creates it, the others
     * open that same mutex, and the total is exact. */
    count_with(name, "create", 4, 10000, &created);
    CHECK_EQ(created, 1);
    CHECK_RC(mmf_mutex_open_existing(name, &m), MMF_ENOENT);
    CHECK(!reg_exists(name));
    CHECK_CLEAN();
}

/* ---- robustness --------------------------------------------------------- */

static int lock_by(mmf_mutex *m, int kind)
{
    switch (kind) {
    case 0:
        return mmf_mutex_lock(m);
    case 1:
        return mmf_mutex_trylock(m);
    case 2:
        return mmf_mutex_timedlock(m, 10000);
    case 3:
        return mmf_mutex_timedlock(m, 0);
    default:
        return mmf_mutex_timedlock(m, MMF_WAIT_FOREVER);
    }
}

static const char *const dead_step[] = {
    "lock=EOWNERDEAD", "trylock=EOWNERDEAD", "timed:10000=EOWNERDEAD",
    "timed:0=EOWNERDEAD", "timed:4294967295=EOWNERDEAD"};

/* A child takes the mutex (recursively when deep) and is killed. */
static void kill_owner(const char *name, int round, int deep)
{
    if (round % 2 == 0) {
        CHECK_EQ(deep ? RUN(name, "open", "lock", "trylock", "timed:0", "die")
                      : RUN(name, "open", "lock", "die"),
                 KILLED);
    } else {
        struct agent ag;
        if (deep)
            START(&ag, name, "open", "lock", "lock", "lock", "signal", "wait");
        else
            START(&ag, name, "open", "timed:10000", "signal", "wait");
        AWAIT(&ag);
        t_kill(ag.pid);
        CHECK_EQ(agent_end(&ag), KILLED);
    }
}

TEST(mutex_owner_killed_loop)
{
    const char *name = mname("dead");
    mmf_mutex *m;
    int rounds = 30;

    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
    for (int r = 0; r < rounds; r++) {
        int kind = r % 5, here = (r / 5) % 2 == 0;

        kill_owner(name, r, r % 3 == 2);
        if (here) {
            /* This process is the next locker. */
            CHECK_RC(lock_by(m, kind), MMF_EOWNERDEAD);
            CHECK_EQ(RUN(name, "open", "trylock=EBUSY", "timed:0=ETIMEDOUT",
                         "timed:20=ETIMEDOUT", "unlock=EPERM"),
                     0);
            CHECK_OK(mmf_mutex_unlock(m));
            CHECK_RC(mmf_mutex_unlock(m), MMF_EPERM);
            CHECK_OK(lock_by(m, kind));
            CHECK_OK(mmf_mutex_unlock(m));
            FREE_ELSEWHERE(name);
        } else {
            /* Another process is the next locker. */
            struct agent ag;
            START(&ag, name, "open", dead_step[kind], "signal", "wait",
                  "unlock", "unlock=EPERM", "lock", "trylock", "unlock",
                  "unlock", "close");
            AWAIT(&ag);
            CHECK_RC(mmf_mutex_trylock(m), MMF_EBUSY);
            CHECK_RC(mmf_mutex_timedlock(m, 0), MMF_ETIMEDOUT);
            GO(&ag);
            CHECK_EQ(agent_end(&ag), 0);
            CHECK_OK(lock_by(m, kind));
            CHECK_OK(mmf_mutex_unlock(m));
        }
    }
    CHECK_OK(mmf_mutex_close(m));
    CHECK(!reg_exists(name));
    CHECK_CLEAN();
}

TEST(mutex_owner_killed_recursive)
{
    const char *name = mname("deadrec");
    mmf_mutex *m;

    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
    /* Killed holding it three times: one unlock releases it fully. */
    CHECK_EQ(RUN(name, "open", "lock", "lock", "lock", "die"), KILLED);
    CHECK_RC(mmf_mutex_lock(m), MMF_EOWNERDEAD);
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_RC(mmf_mutex_unlock(m), MMF_EPERM);
    FREE_ELSEWHERE(name);

    /* The new owner may recurse, and must then unlock as often. */
    CHECK_EQ(RUN(name, "open", "lock", "lock", "lock", "die"), KILLED);
    CHECK_RC(mmf_mutex_trylock(m), MMF_EOWNERDEAD);
    CHECK_OK(mmf_mutex_lock(m));
    CHECK_OK(mmf_mutex_unlock(m));
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(m));
    FREE_ELSEWHERE(name);

    /* The new owner is killed in turn, before it unlocks: the next locker
     * is told again. */
    CHECK_EQ(RUN(name, "open", "lock", "die"), KILLED);
    CHECK_EQ(RUN(name, "open", "lock=EOWNERDEAD", "lock", "die"), KILLED);
    CHECK_RC(mmf_mutex_timedlock(m, 10000), MMF_EOWNERDEAD);
    CHECK_OK(mmf_mutex_unlock(m));
    FREE_ELSEWHERE(name);

    /* The next locker in another process, after a recursive owner. */
    CHECK_EQ(RUN(name, "open", "lock", "lock", "lock", "die"), KILLED);
    CHECK_EQ(RUN(name, "open", "timed:10000=EOWNERDEAD", "unlock",
                 "unlock=EPERM", "close"),
             0);
    CHECK_OK(mmf_mutex_trylock(m));
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_OK(mmf_mutex_close(m));
    CHECK_CLEAN();
}

static void thread_exit_checks(mmf_mutex *m, const char *name)
{
    /* The main thread is the next locker. */
    CHECK_EQ(THREAD(m, "lock"), 0);
    CHECK_RC(mmf_mutex_lock(m), MMF_EOWNERDEAD);
    CHECK_EQ(THREAD(m, "trylock=EBUSY", "unlock=EPERM"), 0);
    if (name != NULL)
        BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_RC(mmf_mutex_unlock(m), MMF_EPERM);
    CHECK_EQ(THREAD(m, "lock", "unlock"), 0);

    /* Another thread is the next locker, through each way of locking; the
     * first owner held it recursively. */
    CHECK_EQ(THREAD(m, "lock", "lock"), 0);
    CHECK_EQ(THREAD(m, "trylock=EOWNERDEAD", "unlock", "unlock=EPERM"), 0);
    CHECK_EQ(THREAD(m, "lock"), 0);
    CHECK_EQ(THREAD(m, "timed:10000=EOWNERDEAD", "unlock"), 0);
    CHECK_EQ(THREAD(m, "lock"), 0);
    CHECK_EQ(THREAD(m, "timed:0=EOWNERDEAD", "unlock"), 0);
    CHECK_EQ(THREAD(m, "lock"), 0);
    CHECK_EQ(THREAD(m, "lock=EOWNERDEAD", "lock", "unlock", "unlock"), 0);
    /* Normal operation afterwards. */
    CHECK_OK(mmf_mutex_lock(m));
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_EQ(THREAD(m, "trylock", "unlock"), 0);
    if (name != NULL)
        FREE_ELSEWHERE(name);
}

TEST(mutex_thread_exit_owner_dead)
{
    const char *name = mname("thr");
    mmf_mutex *m;

    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
    thread_exit_checks(m, name);
    CHECK_OK(mmf_mutex_close(m));
    CHECK(!reg_exists(name));
    CHECK_CLEAN();
}

TEST(mutex_unnamed_thread_exit_owner_dead)
{
    mmf_mutex *m;

    /* Run under ASan or valgrind, this also checks that closing the
     * mutex afterwards frees it. */
    CHECK_OK(mmf_mutex_create(NULL, 0, 0, &m));
    thread_exit_checks(m, NULL);
    CHECK_OK(mmf_mutex_close(m));
}

/* ---- timed lock --------------------------------------------------------- */

TEST(mutex_timedlock_expires)
{
    const char *name = mname("timed");
    struct agent ag;
    mmf_mutex *m;

    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
    CHECK_OK(mmf_mutex_timedlock(m, MMF_WAIT_FOREVER)); /* free */
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_OK(mmf_mutex_timedlock(m, 0));
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_OK(mmf_mutex_timedlock(m, 1000));
    CHECK_OK(mmf_mutex_unlock(m));

    START(&ag, name, "open", "lock", "signal", "wait", "unlock", "close");
    AWAIT(&ag);
    CHECK_RC(mmf_mutex_timedlock(m, 50), MMF_ETIMEDOUT);
    CHECK_RC(mmf_mutex_timedlock(m, 0), MMF_ETIMEDOUT);
    CHECK_RC(mmf_mutex_timedlock(m, 1), MMF_ETIMEDOUT);
    CHECK_RC(mmf_mutex_timedlock(m, 999), MMF_ETIMEDOUT);
    CHECK_RC(mmf_mutex_trylock(m), MMF_EBUSY);
    CHECK_EQ(THREAD(m, "timed:20=ETIMEDOUT", "timed:0=ETIMEDOUT"), 0);
    /* A timeout leaves nothing held. */
    CHECK_RC(mmf_mutex_unlock(m), MMF_EPERM);
    GO(&ag);
    CHECK_EQ(agent_end(&ag), 0);
    CHECK_OK(mmf_mutex_timedlock(m, MMF_WAIT_FOREVER));
    CHECK_OK(mmf_mutex_unlock(m));

    /* Held by this process: another process's timed lock expires. */
    CHECK_OK(mmf_mutex_lock(m));
    CHECK_EQ(RUN(name, "open", "timed:50=ETIMEDOUT", "timed:0=ETIMEDOUT",
                 "unlock=EPERM"),
             0);
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_OK(mmf_mutex_close(m));
    CHECK_CLEAN();
}

TEST(mutex_timedlock_acquires_on_release)
{
    const char *name = mname("tacq");
    struct agent ag;
    mmf_mutex *m;

    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
    /* The holder releases after being signalled, while this process
     * waits. */
    START(&ag, name, "open", "lock", "signal", "wait", "sleep:100", "unlock",
          "wait", "close");
    AWAIT(&ag);
    GO(&ag);
    CHECK_OK(mmf_mutex_timedlock(m, 10000));
    GO(&ag);
    CHECK_EQ(agent_end(&ag), 0);
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(m));

    /* And the other way round, with a limit and without. */
    for (int i = 0; i < 2; i++) {
        CHECK_OK(mmf_mutex_lock(m));
        START(&ag, name, "open", "signal",
              i == 0 ? "timed:10000" : "timed:4294967295", "signal", "wait",
              "unlock", "close");
        AWAIT(&ag);
        t_sleep_ms(100);
        CHECK_OK(mmf_mutex_unlock(m));
        AWAIT(&ag); /* it has the lock now */
        CHECK_RC(mmf_mutex_trylock(m), MMF_EBUSY);
        GO(&ag);
        CHECK_EQ(agent_end(&ag), 0);
    }
    FREE_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_close(m));
    CHECK_CLEAN();
}

/* ---- unlock ------------------------------------------------------------- */

TEST(mutex_unlock_not_owner)
{
    const char *name = mname("eperm");
    struct agent ag;
    mmf_mutex *m, *m2;

    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
    CHECK_RC(mmf_mutex_unlock(m), MMF_EPERM); /* never locked */
    CHECK_OK(mmf_mutex_lock(m));
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_RC(mmf_mutex_unlock(m), MMF_EPERM); /* unlocked again */

    /* Held here: another process and another thread may not unlock it. */
    CHECK_OK(mmf_mutex_lock(m));
    CHECK_EQ(RUN(name, "open", "unlock=EPERM", "trylock=EBUSY", "unlock=EPERM"),
             0);
    CHECK_EQ(THREAD(m, "unlock=EPERM", "trylock=EBUSY"), 0);
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(m));
    FREE_ELSEWHERE(name);

    /* Held by another process: not this one's to unlock, by any handle. */
    CHECK_OK(mmf_mutex_open_existing(name, &m2));
    START(&ag, name, "open", "lock", "signal", "wait", "unlock", "close");
    AWAIT(&ag);
    CHECK_RC(mmf_mutex_unlock(m), MMF_EPERM);
    CHECK_RC(mmf_mutex_unlock(m2), MMF_EPERM);
    CHECK_EQ(THREAD(m, "unlock=EPERM"), 0);
    CHECK_RC(mmf_mutex_trylock(m2), MMF_EBUSY);
    GO(&ag);
    CHECK_EQ(agent_end(&ag), 0);
    CHECK_OK(mmf_mutex_trylock(m2));
    CHECK_OK(mmf_mutex_unlock(m2));

    /* An unnamed mutex held by another thread. */
    {
        mmf_mutex *u;
        CHECK_OK(mmf_mutex_create(NULL, 1, 0, &u));
        CHECK_EQ(THREAD(u, "unlock=EPERM"), 0);
        CHECK_OK(mmf_mutex_unlock(u));
        CHECK_RC(mmf_mutex_unlock(u), MMF_EPERM);
        CHECK_OK(mmf_mutex_close(u));
    }
    CHECK_OK(mmf_mutex_close(m));
    CHECK_OK(mmf_mutex_close(m2));
    CHECK_CLEAN();
}

/* ---- lifetime ----------------------------------------------------------- */

TEST(mutex_lifetime_last_close)
{
    const char *name = mname("life");
    struct agent ag;
    mmf_mutex *a, *b, *m;

    CHECK_OK(mmf_mutex_create(name, 0, 0, &a));
    CHECK_OK(mmf_mutex_close(a));
    CHECK(!reg_exists(name));
    m = sentinel();
    CHECK_RC(mmf_mutex_open_existing(name, &m), MMF_ENOENT);
    CHECK(m == NULL);

    /* Any handle keeps it; the last close removes it. */
    CHECK_OK(mmf_mutex_create(name, 0, 0, &a));
    CHECK_OK(mmf_mutex_open_existing(name, &b));
    CHECK_OK(mmf_mutex_close(a));
    CHECK(reg_exists(name));
    CHECK_OK(mmf_mutex_open_existing(name, &a));
    CHECK_OK(mmf_mutex_close(b));
    CHECK_OK(mmf_mutex_close(a));
    CHECK(!reg_exists(name));
    CHECK_RC(mmf_mutex_open_existing(name, &m), MMF_ENOENT);

    /* Another process is the last holder. */
    CHECK_OK(mmf_mutex_create(name, 0, 0, &a));
    START(&ag, name, "open", "signal", "wait", "close", "signal", "wait",
          "open=ENOENT");
    AWAIT(&ag);
    CHECK_OK(mmf_mutex_close(a));
    CHECK(reg_exists(name));
    GO(&ag);
    AWAIT(&ag);
    CHECK(!reg_exists(name));
    CHECK_RC(mmf_mutex_open_existing(name, &m), MMF_ENOENT);
    GO(&ag);
    CHECK_EQ(agent_end(&ag), 0);

    /* A holder that exits without closing. */
    CHECK_EQ(RUN(name, "create=1", "lock", "unlock", "exit"), 0);
    CHECK_RC(mmf_mutex_open_existing(name, &m), MMF_ENOENT);
    CHECK(!reg_exists(name));
    /* Exiting holding it: the name is gone all the same. */
    CHECK_EQ(RUN(name, "create=1", "lock", "exit"), 0);
    CHECK_RC(mmf_mutex_open_existing(name, &m), MMF_ENOENT);
    CHECK(!reg_exists(name));
    CHECK_CLEAN();
}

TEST(mutex_lifetime_holder_killed)
{
    const char *name = mname("killed");
    mmf_mutex *m;

    for (int r = 0; r < 10; r++) {
        /* The only holder is killed holding the lock: the name is gone,
         * and the next create makes a fresh, unlocked mutex. */
        CHECK_EQ(RUN(name, "create=1", "lock", "lock", "die"), KILLED);
        m = sentinel();
        if (r % 2 == 0) {
            CHECK_RC(mmf_mutex_open_existing(name, &m), MMF_ENOENT);
            CHECK(m == NULL);
            CHECK(!reg_exists(name));
            CHECK_EQ(RUN(name, "open=ENOENT"), 0);
            CHECK_EQ(RUN(name, "create=1", "lock", "die"), KILLED);
        }
        CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
        CHECK_EQ(mmf_mutex_created(m), 1);
        if (r % 3 == 0)
            CHECK_OK(mmf_mutex_lock(m));
        else if (r % 3 == 1)
            CHECK_OK(mmf_mutex_trylock(m));
        else
            CHECK_OK(mmf_mutex_timedlock(m, 0));
        BUSY_ELSEWHERE(name);
        CHECK_OK(mmf_mutex_unlock(m));
        CHECK_RC(mmf_mutex_unlock(m), MMF_EPERM);
        CHECK_OK(mmf_mutex_close(m));
        CHECK(!reg_exists(name));

        /* The same when another process re-creates it. */
        CHECK_EQ(RUN(name, "create=1", "timed:0", "die"), KILLED);
        CHECK_EQ(RUN(name, "create=1", "trylock", "unlock", "unlock=EPERM"), 0);
        CHECK(!reg_exists(name));
    }
    CHECK_CLEAN();
}

TEST(mutex_close_while_held)
{
    const char *name = mname("closeheld");
    mmf_mutex *a, *b, *c;

    CHECK_OK(mmf_mutex_create(name, 0, 0, &a));
    CHECK_OK(mmf_mutex_open_existing(name, &b));
    CHECK_OK(mmf_mutex_lock(a));
    CHECK_OK(mmf_mutex_close(a));
    BUSY_ELSEWHERE(name);
    CHECK_EQ(THREAD(b, "trylock=EBUSY"), 0);
    CHECK_OK(mmf_mutex_unlock(b));
    FREE_ELSEWHERE(name);
    CHECK_RC(mmf_mutex_unlock(b), MMF_EPERM);

    /* Recursively held: closing keeps every level. */
    CHECK_OK(mmf_mutex_create(name, 0, 0, &a));
    CHECK_EQ(mmf_mutex_created(a), 0);
    CHECK_OK(mmf_mutex_lock(a));
    CHECK_OK(mmf_mutex_lock(a));
    CHECK_OK(mmf_mutex_close(a));
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(b));
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(b));
    FREE_ELSEWHERE(name);

    /* Every handle closed but one opened after the close. */
    CHECK_OK(mmf_mutex_lock(b));
    CHECK_OK(mmf_mutex_open_existing(name, &c));
    CHECK_OK(mmf_mutex_close(b));
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(c));
    FREE_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_close(c));
    CHECK(!reg_exists(name));
    CHECK_CLEAN();
}

/* Every handle survives fork(), and a forked child's copy is a holder
 * like any other (API.md, Rules settled after review: "A holder is a libmmf
 * handle or view in any process, including handles inherited through exec
 * or fork"). Windows has no fork(): there the child is a process started
 * with the handle inherited (MMF_OPT_INHERITABLE), which holds the kernel
 * mutex and uses it through that handle. */
#ifndef _WIN32
static void pipe_put(int fd)
{
    char c = 'x';
    CHECK(write(fd, &c, 1) == 1);
}

static void pipe_get(int fd)
{
    char c;
    ssize_t r;
    do
        r = read(fd, &c, 1);
    while (r < 0 && errno == EINTR);
    CHECK(r == 1);
}
#endif

TEST(mutex_lifetime_fork_child_holds)
{
    const char *name = mname("forkhold");
    mmf_mutex *m, *x;
#ifdef _WIN32
    struct agent ag;

    CHECK_OK(mmf_mutex_create(name, 0, MMF_OPT_INHERITABLE, &m));
    /* The child keeps its inherited handle while the test closes its own,
     * then uses and closes it. */
    START(&ag, name, "hasfd=1", "signal", "wait", "inhlock", "inhunlock",
          "signal", "wait", "inhclose", "hasfd=0");
    AWAIT(&ag);
#else
    int down[2], up[2];
    pid_t pid;

    CHECK(pipe(down) == 0 && pipe(up) == 0);
    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* The child keeps its copy of the handle while the test closes
         * its own, then uses and closes it. */
        pipe_put(up[1]);
        pipe_get(down[0]);
        CHECK_OK(mmf_mutex_lock(m));
        CHECK_OK(mmf_mutex_unlock(m));
        pipe_put(up[1]);
        pipe_get(down[0]);
        CHECK_OK(mmf_mutex_close(m));
        _exit(0);
    }
    pipe_get(up[0]);
#endif
    CHECK_OK(mmf_mutex_close(m));
    /* The child still holds the name. */
    CHECK(reg_exists(name));
    CHECK_EQ(RUN(name, "open", "trylock", "unlock"), 0);
#ifdef _WIN32
    GO(&ag);
    AWAIT(&ag);
#else
    pipe_put(down[1]);
    pipe_get(up[0]);
#endif
    CHECK_OK(mmf_mutex_open_existing(name, &x));
    CHECK_OK(mmf_mutex_close(x));
#ifdef _WIN32
    GO(&ag);
    CHECK_EQ(agent_end(&ag), 0);
#else
    pipe_put(down[1]);
    CHECK_EQ(t_wait(pid), 0);
#endif
    CHECK_RC(mmf_mutex_open_existing(name, &x), MMF_ENOENT);
    CHECK(!reg_exists(name));
    CHECK_CLEAN();
}

TEST(mutex_lifetime_fork_child_closes)
{
    const char *name = mname("forkclose");
    mmf_mutex *m, *x;
#ifdef _WIN32
    CHECK_OK(mmf_mutex_create(name, 0, MMF_OPT_INHERITABLE, &m));
    /* Closing the child's inherited handle leaves the test's a holder. */
    CHECK_EQ(RUN(name, "hasfd=1", "inhclose", "hasfd=0"), 0);
#else
    pid_t pid;

    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
    fflush(NULL);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        /* Closing the child's copy leaves the test's handle a holder. */
        CHECK_OK(mmf_mutex_close(m));
        _exit(0);
    }
    CHECK_EQ(t_wait(pid), 0);
#endif
    CHECK(reg_exists(name));
    CHECK_OK(mmf_mutex_open_existing(name, &x));
    CHECK_OK(mmf_mutex_close(x));
    CHECK_EQ(RUN(name, "open", "trylock", "unlock"), 0);
    CHECK_OK(mmf_mutex_lock(m));
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(m));
    CHECK_OK(mmf_mutex_close(m));
    CHECK(!reg_exists(name));
    CHECK_CLEAN();
}

/* ---- permissions -------------------------------------------------------- */

/* The mode of the mutex as the system reports it, apart from any handle:
 * the registration file's mode, or (Windows) the mode mmf_stat reads from
 * the kernel mutex's DACL. */
static unsigned reg_mode(const char *name)
{
#ifdef _WIN32
    mmf_info info;

    CHECK_OK(mmf_stat(name, MMF_KIND_MUTEX, &info));
    return info.mode;
#else
    struct stat st;

    CHECK(stat(reg_path(name), &st) == 0);
    return st.st_mode & 07777;
#endif
}

TEST(mutex_permissions_mode)
{
    const char *name = mname("mode");
    mmf_mutex *m, *m2;
    unsigned mode;
#ifdef _WIN32
    const unsigned narrowed = 0644;
#else
    const unsigned narrowed = 0640;
    mode_t old = umask(0);
#endif

    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
#ifndef _WIN32
    umask(old);
#endif
    CHECK_EQ(reg_mode(name), 0600);
    CHECK_OK(mmf_mutex_get_permissions(m, &mode));
    CHECK_EQ(mode, 0600);

    CHECK_OK(mmf_mutex_set_permissions(m, 0660));
    CHECK_OK(mmf_mutex_get_permissions(m, &mode));
    CHECK_EQ(mode, 0660);
    CHECK_EQ(reg_mode(name), 0660);
    CHECK_OK(mmf_mutex_open_existing(name, &m2));
    CHECK_OK(mmf_mutex_get_permissions(m2, &mode));
    CHECK_EQ(mode, 0660);
#ifdef _WIN32
    /* Windows: group bits must equal the owner's or Everyone's (DESIGN.md,
     * Permissions), so 0640 is refused and changes nothing; 0644 is
     * expressible. */
    CHECK_EQ(RUN(name, "open", "mode=0660", "perm:0640=ENOTSUP", "mode=0660",
                 "perm:0644", "mode=0644"),
             0);
    CHECK_OK(mmf_mutex_get_permissions(m, &mode));
    CHECK_EQ(mode, 0644);
    CHECK_EQ(reg_mode(name), 0644);
    CHECK_RC(mmf_mutex_set_permissions(m, 0640), MMF_ENOTSUP);
    CHECK_RC(mmf_mutex_set_permissions(m, 0460), MMF_ENOTSUP);
#else
    CHECK_EQ(RUN(name, "open", "mode=0660", "perm:0640", "mode=0640"), 0);
#endif
    CHECK_OK(mmf_mutex_get_permissions(m, &mode));
    CHECK_EQ(mode, narrowed);

    CHECK_RC(mmf_mutex_set_permissions(m, 01660), MMF_EINVAL);
    CHECK_RC(mmf_mutex_set_permissions(m, 01000), MMF_EINVAL);
    CHECK_OK(mmf_mutex_get_permissions(m, &mode));
    CHECK_EQ(mode, narrowed);
    CHECK_OK(mmf_mutex_set_permissions(m, 0));
    CHECK_OK(mmf_mutex_get_permissions(m, &mode));
    CHECK_EQ(mode, 0);
    CHECK_OK(mmf_mutex_set_permissions(m, 0777));
    CHECK_OK(mmf_mutex_get_permissions(m2, &mode));
#ifdef _WIN32
    /* A kernel mutex has no right for x to grant (DESIGN.md: r is
     * SYNCHRONIZE, w MUTEX_MODIFY_STATE): the x bits read back as 0. */
    CHECK_EQ(mode, 0666);
    CHECK_EQ(reg_mode(name), 0666);
#else
    CHECK_EQ(mode, 0777);
#endif
    CHECK_OK(mmf_mutex_close(m2));
    CHECK_OK(mmf_mutex_close(m));

    /* A re-created mutex is owner-only again, with umask 0 too (Windows
     * has no umask). */
#ifdef _WIN32
    CHECK_EQ(RUN(name, "create=1", "mode=0600"), 0);
#else
    old = umask(0);
    CHECK_EQ(RUN(name, "create=1", "mode=0600"), 0);
    umask(old);
#endif
    CHECK_CLEAN();
}

/* Another user: uids and setuid do not exist on Windows. The equivalent
 * there, a restricted token whose user SID is deny-only (so that only the
 * Everyone entry of the DACL applies), is not honoured by wine: such a
 * token still gets what the DACL grants the user. */
NOT_ON_WINDOWS(mutex_permissions_other_user,
               "needs a second user (setuid to uid 65534), which Windows does "
               "not have; wine: a restricted token whose user SID is "
               "deny-only is still granted the DACL's entry for the user")
#ifndef _WIN32
TEST(mutex_permissions_other_user)
{
    const char *name = mname("user");
    struct agent ag;
    mmf_mutex *m;
    int st;

    if (geteuid() != 0)
        SKIP("needs root to act as another user");
    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
    st = RUN(name, "user", "open=EACCES");
    if (st == 77)
        SKIP("could not drop privileges to uid 65534");
    CHECK_EQ(st, 0);
    CHECK_EQ(RUN(name, "user", "create=EACCES"), 0);
    CHECK_OK(mmf_mutex_set_permissions(m, 0644));
    CHECK_EQ(RUN(name, "user", "open=EACCES"), 0);
    CHECK_OK(mmf_mutex_set_permissions(m, 0660));
    CHECK_EQ(RUN(name, "user", "open=EACCES"), 0);
    CHECK_OK(mmf_mutex_set_permissions(m, 0666));
    CHECK_EQ(RUN(name, "user", "open", "mode=0666", "lock", "trylock", "unlock",
                 "unlock", "perm:0600=EPERM", "perm:0666=EPERM", "mode=0666",
                 "close", "create=0", "close", "create1=0", "unlock=EPERM"),
             0);

    /* Held by this process, the other user cannot take it. */
    CHECK_OK(mmf_mutex_lock(m));
    CHECK_EQ(RUN(name, "user", "open", "trylock=EBUSY", "timed:0=ETIMEDOUT",
                 "unlock=EPERM"),
             0);
    CHECK_OK(mmf_mutex_unlock(m));

    /* Held by the other user, and then it is killed holding it. */
    START(&ag, name, "user", "open", "lock", "signal", "wait", "unlock",
          "signal", "lock", "signal", "wait");
    AWAIT(&ag);
    CHECK_RC(mmf_mutex_trylock(m), MMF_EBUSY);
    GO(&ag);
    AWAIT(&ag);
    AWAIT(&ag);
    CHECK(kill(ag.pid, SIGKILL) == 0);
    CHECK_EQ(agent_end(&ag), KILLED);
    CHECK_RC(mmf_mutex_lock(m), MMF_EOWNERDEAD);
    CHECK_OK(mmf_mutex_unlock(m));

    /* Narrowed again: shut out again. */
    CHECK_OK(mmf_mutex_set_permissions(m, 0600));
    CHECK_EQ(RUN(name, "user", "open=EACCES"), 0);
    CHECK_OK(mmf_mutex_close(m));
    CHECK_CLEAN();
}

#endif

/* ---- inheritance -------------------------------------------------------- */

TEST(mutex_inheritable)
{
    const char *name = mname("inh"), *name2 = mname("noinh");
    mmf_mutex *m, *n, *n2;

    CHECK_OK(mmf_mutex_create(name, 0, MMF_OPT_INHERITABLE, &m));
    CHECK_EQ(mmf_mutex_created(m), 1);
    CHECK_OK(mmf_mutex_lock(m));
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(m));
    FREE_ELSEWHERE(name);
    /* The handle is inherited by children started with exec. */
    CHECK_EQ(RUN(name, "hasfd=1"), 0);

    /* Without the flag it is not. */
    CHECK_OK(mmf_mutex_create(name2, 0, 0, &n));
    CHECK_EQ(RUN(name2, "hasfd=0"), 0);
    /* A second handle with the flag is. */
    CHECK_OK(mmf_mutex_create(name2, 1, MMF_OPT_INHERITABLE, &n2));
    CHECK_EQ(mmf_mutex_created(n2), 0);
    CHECK_RC(mmf_mutex_unlock(n2), MMF_EPERM);
    CHECK_EQ(RUN(name2, "hasfd=1"), 0);
    CHECK_OK(mmf_mutex_close(n2));
    CHECK_EQ(RUN(name2, "hasfd=0", "createinh=0", "hasfd=1"), 0);
    CHECK_OK(mmf_mutex_close(n));
    CHECK_OK(mmf_mutex_close(m));
    CHECK_CLEAN();
}

/* ---- shared layout ------------------------------------------------------ */

/* Windows has no shared layout: the mutex is the kernel mutex
 * <ns>mmf/mutex/N and nothing else. What plays the part of a bad header
 * there is an object of another kind holding that kernel name: the mutex
 * exists but is not of the expected kind (MMF_EFORMAT). */
static void check_bad_layout(const char *name)
{
    mmf_mutex *x = sentinel();

    CHECK_RC(mmf_mutex_open_existing(name, &x), MMF_EFORMAT);
    CHECK(x == NULL);
    x = sentinel();
    CHECK_RC(mmf_mutex_create(name, 0, 0, &x), MMF_EFORMAT);
    CHECK(x == NULL);
    x = sentinel();
    CHECK_RC(mmf_mutex_create(name, 1, 0, &x), MMF_EFORMAT);
    CHECK(x == NULL);
    CHECK_EQ(RUN(name, "open=EFORMAT", "create=EFORMAT"), 0);
#ifdef _WIN32
    {
        wchar_t k[300];
        CHECK(kernel_name_used(kernel_name(name, k))); /* left as it was */
    }
#else
    CHECK(reg_exists(name)); /* left as it was */
#endif
}

TEST(mutex_layout_header)
{
    const char *name = mname("layout");
    mmf_mutex *m, *m2;
#ifdef _WIN32
    wchar_t k[300];
    HANDLE other;

    kernel_name(name, k);
    /* An event, then a section, holds the mutex's kernel name. */
    for (int kind = 0; kind < 2; kind++) {
        other = kind == 0 ? CreateEventW(NULL, TRUE, FALSE, k)
                          : CreateFileMappingW(INVALID_HANDLE_VALUE, NULL,
                                               PAGE_READWRITE, 0, 4096, k);
        CHECK(other != NULL && GetLastError() != ERROR_ALREADY_EXISTS);
        check_bad_layout(name);
        CHECK(CloseHandle(other));
        CHECK(!kernel_name_used(k));
        CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
        CHECK_EQ(mmf_mutex_created(m), 1);
        CHECK_OK(mmf_mutex_close(m));
    }
    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
#else
    const char *path = reg_path(name);
    uint32_t word, bad;

    CHECK_OK(mmf_mutex_create(name, 0, 0, &m));
    CHECK(t_file_size(path) > MUTEX_REGION);

    /* The mutex region's magic, then its version. */
    for (int field = 0; field < 2; field++) {
        uint64_t off = MUTEX_REGION + 4 * (uint64_t)field;
        t_pread(path, off, &word, 4);
        CHECK(word != 0);
        bad = word ^ 0x5a5a5a5au;
        t_pwrite(path, off, &bad, 4);
        check_bad_layout(name);
        t_pwrite(path, off, &word, 4);
        CHECK_OK(mmf_mutex_open_existing(name, &m2));
        CHECK_OK(mmf_mutex_close(m2));
    }
    /* The record at the start of the file carries a header, too. */
    t_pread(path, 0, &word, 4);
    CHECK(word != 0);
    bad = word ^ 0x5a5a5a5au;
    t_pwrite(path, 0, &bad, 4);
    check_bad_layout(name);
    t_pwrite(path, 0, &word, 4);
#endif

    /* Restored: the mutex works as before. */
    CHECK_OK(mmf_mutex_open_existing(name, &m2));
    CHECK_OK(mmf_mutex_lock(m2));
    BUSY_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_unlock(m2));
    FREE_ELSEWHERE(name);
    CHECK_OK(mmf_mutex_close(m2));
    CHECK_OK(mmf_mutex_close(m));
    CHECK(!reg_exists(name));
    CHECK_CLEAN();
}

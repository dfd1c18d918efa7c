/*
 * mmf_bench: libmmf against its baselines, side by side in one run.
 *
 * Every case of the benchmark table (docs/BENCHMARKS.md): each contender is
 * timed with its baseline in the same run, on the same data, alternating
 * A B A B after a warm-up; the table gives the median and min-max of the
 * repetitions and the ratio to the baseline against the target. Results go
 * to OUT/latest.json, and a plot of the ratios to OUT/latest.png (gnuplot)
 * or OUT/latest.svg (written here when gnuplot is missing).
 *
 *   mmf_bench [--quick] [--out DIR] [--case NAME] [--reps N] [--list]
 *
 * Exit status: 0 when every case ran (missed targets included), 1 for a
 * usage error, 2 when something failed.
 */
#define _GNU_SOURCE
#include "mmf.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)
#define CHUNK ((size_t)MIB)         /* read/write chunk of the I/O cases */
#define WINDOW ((size_t)(64 * KIB)) /* map-per-call window, view size */
#define MAX_REPS 51
#define MAX_ROWS 64
#define NAME_LEN 64

#if defined(__GNUC__) || defined(__clang__)
#define NOINLINE __attribute__((noinline))
#define NORETURN __attribute__((noreturn))
#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))
#else
#define NOINLINE
#define NORETURN
#define PRINTF_LIKE(a, b)
#endif

/* ---- configuration ------------------------------------------------------ */

static struct config {
    int quick;
    int reps;
    const char *out_dir;
    const char *only;
    uint64_t data_size;  /* the data file */
    uint64_t touch_size; /* the first-touch map */
    size_t n_rand;       /* random reads, inline accessor and raw load */
    size_t n_pread;      /* random reads, mmf_read vs pread */
    size_t n_mapcall;    /* random reads, mmf_read vs map-per-call */
    size_t n_viewoc;     /* view open+close pairs */
    size_t n_named;      /* named create+open+close cycles */
    size_t n_mutex;      /* lock+unlock pairs */
    size_t n_pp_spin;    /* ping-pong round trips through memory */
    size_t n_pp_sys;     /* ping-pong round trips through the kernel */
    size_t n_py;         /* random reads in the Python peer */
} cfg;

static void set_sizes(void)
{
    if (cfg.quick) {
        cfg.data_size = 64 * MIB;
        cfg.n_rand = 1000000;
        cfg.n_pread = 200000;
        cfg.n_mapcall = 20000;
        cfg.n_viewoc = 50000;
        cfg.n_named = 500;
        cfg.n_mutex = 2000000;
        cfg.n_pp_spin = 200000;
        cfg.n_pp_sys = 5000;
        cfg.n_py = 200000;
    } else {
        cfg.data_size = GIB;
        cfg.n_rand = 4000000;
        cfg.n_pread = 1000000;
        cfg.n_mapcall = 100000;
        cfg.n_viewoc = 200000;
        cfg.n_named = 2000;
        cfg.n_mutex = 10000000;
        cfg.n_pp_spin = 1000000;
        cfg.n_pp_sys = 10000;
        cfg.n_py = 1000000;
    }
    cfg.touch_size = 256 * MIB;
    if (cfg.reps == 0)
        cfg.reps = cfg.quick ? 5 : 7;
}

/* ---- errors and clean-up ------------------------------------------------ */

static pid_t main_pid;
static char tmp_dir[PATH_MAX];
static char data_path[PATH_MAX + 32];
static char offs_path[PATH_MAX + 32];
static char write_path[PATH_MAX + 32];
static char plot_dat_path[PATH_MAX + 32];
static char plot_gp_path[PATH_MAX + 32];
/* Named objects this run may create: raw POSIX names ("/x") and libmmf
 * names. A clean run leaves none; after an error or a signal they are
 * removed here (for libmmf names: the object and its registration, as
 * docs/DESIGN.md describes them). */
static char obj_names[16][NAME_LEN];
static int obj_is_mmf[16];
static int n_obj_names;

static void remove_leftovers(void)
{
    const char *files[] = {data_path,     offs_path,    write_path,
                           plot_dat_path, plot_gp_path, NULL};
    char path[NAME_LEN + 32];

    for (int i = 0; files[i] != NULL; i++)
        if (files[i][0] != '\0')
            (void)unlink(files[i]);
    if (tmp_dir[0] != '\0')
        (void)rmdir(tmp_dir);
    for (int i = 0; i < n_obj_names; i++) {
        if (!obj_is_mmf[i]) {
            (void)shm_unlink(obj_names[i]);
            continue;
        }
        snprintf(path, sizeof path, "/dev/shm/%s", obj_names[i]);
        (void)unlink(path);
        snprintf(path, sizeof path, "/dev/shm/.mmf-map.%s", obj_names[i]);
        (void)unlink(path);
        snprintf(path, sizeof path, "/dev/shm/.mmf-mtx.%s", obj_names[i]);
        (void)unlink(path);
    }
}

static void at_exit_cleanup(void)
{
    if (getpid() == main_pid)
        remove_leftovers();
}

static void on_signal(int sig)
{
    remove_leftovers();
    signal(sig, SIG_DFL);
    raise(sig);
}

static NORETURN PRINTF_LIKE(1, 2) void die(const char *fmt, ...)
{
    va_list ap;

    fflush(stdout);
    fprintf(stderr, "mmf_bench: error: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    if (getpid() != main_pid)
        _exit(3); /* a child of a two-process case */
    exit(2);
}

#define SYS(call)                                                              \
    do {                                                                       \
        if ((call) < 0)                                                        \
            die("%s:%d: %s: %s", __FILE__, __LINE__, #call, strerror(errno));  \
    } while (0)

#define MMF(call)                                                              \
    do {                                                                       \
        int rc_ = (call);                                                      \
        if (rc_ != MMF_OK)                                                     \
            die("%s:%d: %s: %s (errno %d)", __FILE__, __LINE__, #call,         \
                mmf_errname(rc_), mmf_last_os_error());                        \
    } while (0)

/* A unique name for a named object, removed at exit if still there. */
static const char *new_name(const char *tag, int mmf_kind)
{
    char *n;

    if (n_obj_names == 16)
        die("too many named objects");
    n = obj_names[n_obj_names];
    snprintf(n, NAME_LEN, "%smmfbench-%ld-%x-%s", mmf_kind ? "" : "/",
             (long)main_pid, (unsigned)(time(NULL) & 0xffff), tag);
    obj_is_mmf[n_obj_names++] = mmf_kind;
    return n;
}

/* ---- small utilities ---------------------------------------------------- */

static volatile uint64_t sink; /* keeps every result alive */
static size_t page_size;

static uint64_t now_ns(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t rng_state = 0x6d6d665f62656e63ull; /* fixed seed */

static uint64_t rng_next(void) /* splitmix64 */
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield" ::: "memory");
#endif
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (p == NULL)
        die("out of memory (%zu bytes)", n);
    return p;
}

/* Page-aligned: the kernel's copies for read() and pwrite() run at a third
 * of their speed on this kind of machine when the user buffer sits 16 bytes
 * past a cache line (where a plain malloc of 1 MiB puts it), so the I/O
 * baselines get the aligned buffer that careful code uses. */
static unsigned char *xmalloc_aligned(size_t n)
{
    void *p = NULL;

    if (posix_memalign(&p, 4096, n) != 0)
        die("out of memory (%zu bytes)", n);
    return p;
}

static void write_all(int fd, const void *buf, size_t n, uint64_t off)
{
    const unsigned char *p = buf;

    while (n > 0) {
        ssize_t k = pwrite(fd, p, n, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            die("pwrite: %s", k < 0 ? strerror(errno) : "short write");
        p += k;
        off += (uint64_t)k;
        n -= (size_t)k;
    }
}

static void fill_random(unsigned char *p, size_t n)
{
    for (size_t i = 0; i + 8 <= n; i += 8) {
        uint64_t x = rng_next();
        memcpy(p + i, &x, 8);
    }
}

/* Sums the 8-byte words of [p, p+n): the scan cases' work. */
static NOINLINE uint64_t sum_words(const unsigned char *p, size_t n)
{
    uint64_t a = 0, b = 0, c = 0, d = 0;
    size_t i = 0;

    for (; i + 32 <= n; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, sizeof w);
        a += w[0];
        b += w[1];
        c += w[2];
        d += w[3];
    }
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        a += w;
    }
    return a + b + c + d;
}

static int mkdir_p(const char *dir)
{
    char buf[PATH_MAX];

    if (snprintf(buf, sizeof buf, "%s", dir) >= (int)sizeof buf)
        return -1;
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(buf, 0777) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

/* Is `prog` an executable on PATH? */
static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[PATH_MAX];

    if (path == NULL)
        path = "/usr/bin:/bin";
    while (*path) {
        size_t len = strcspn(path, ":");
        if (len > 0 && len + strlen(prog) + 2 < sizeof buf) {
            memcpy(buf, path, len);
            buf[len] = '/';
            strcpy(buf + len + 1, prog);
            if (access(buf, X_OK) == 0)
                return 1;
        }
        path += len;
        if (*path == ':')
            path++;
    }
    return 0;
}

/* The directory of this executable. */
static void exe_dir(char *out, size_t n)
{
    ssize_t k = readlink("/proc/self/exe", out, n - 1);
    char *slash;

    if (k <= 0) {
        snprintf(out, n, ".");
        return;
    }
    out[k] = '\0';
    slash = strrchr(out, '/');
    if (slash != NULL)
        *slash = '\0';
}

/* ---- CPU placement ------------------------------------------------------ */

static int n_allowed_cpus;
static int cpu_a = -1, cpu_b = -1; /* the two CPUs of two-process cases */

static void find_cpus(void)
{
    cpu_set_t set;

    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return;
    for (int i = 0; i < CPU_SETSIZE; i++) {
        if (!CPU_ISSET(i, &set))
            continue;
        n_allowed_cpus++;
        if (cpu_a < 0)
            cpu_a = i;
        else if (cpu_b < 0)
            cpu_b = i;
    }
}

static void pin_to(int cpu)
{
    cpu_set_t set;

    if (cpu < 0)
        return;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    SYS(sched_setaffinity(0, sizeof set, &set));
}

/* ---- measurements ------------------------------------------------------- */

enum unit { U_NS_OP, U_US_OP, U_MS, U_GBS };
static const char *const unit_names[] = {"ns/op", "us/op", "ms", "GB/s"};

typedef struct stats {
    int n;
    double v[MAX_REPS];
    double med, min, max;
} stats;

/* One timed thing: run() does one repetition and returns its elapsed
 * nanoseconds; work is the operations (or bytes, for GB/s) it does. */
typedef struct series {
    const char *label;
    double (*run)(void *ctx);
    void *ctx;
    double work;
    enum unit unit;
    stats st;
} series;

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void stats_finish(stats *s)
{
    double sorted[MAX_REPS];

    memcpy(sorted, s->v, sizeof(double) * (size_t)s->n);
    qsort(sorted, (size_t)s->n, sizeof(double), cmp_double);
    s->min = sorted[0];
    s->max = sorted[s->n - 1];
    s->med = s->n % 2 ? sorted[s->n / 2]
                      : (sorted[s->n / 2 - 1] + sorted[s->n / 2]) / 2;
}

static double to_unit(enum unit u, double ns, double work)
{
    switch (u) {
    case U_NS_OP:
        return ns / work;
    case U_US_OP:
        return ns / work / 1e3;
    case U_MS:
        return ns / 1e6;
    case U_GBS:
        return work / ns; /* bytes per ns = GB/s */
    }
    return 0;
}

/* Warm-up, then `reps` rounds running every series once, in order
 * (A B A B ...). */
static void measure_reps(series *s, int n, int reps)
{
    if (reps > MAX_REPS)
        reps = MAX_REPS;
    for (int i = 0; i < n; i++)
        (void)s[i].run(s[i].ctx);
    for (int r = 0; r < reps; r++)
        for (int i = 0; i < n; i++)
            s[i].st.v[r] = to_unit(s[i].unit, s[i].run(s[i].ctx), s[i].work);
    for (int i = 0; i < n; i++) {
        s[i].st.n = reps;
        stats_finish(&s[i].st);
    }
}

static void measure(series *s, int n)
{
    measure_reps(s, n, cfg.reps);
}

/* ---- result rows and the table ----------------------------------------- */

/* How a row's ratio reads: TIME is contender/baseline time (target: at
 * most); SPEEDUP is baseline/contender time and TPUT contender/baseline
 * throughput (target: at least). */
enum kind { K_TIME, K_SPEEDUP, K_TPUT };

typedef struct row {
    const char *case_name;
    const char *title;
    const char *contender, *baseline;
    enum unit unit;
    enum kind kind;
    stats c, b;
    int has_target;
    double target;
    double ratio;
    int met; /* 1 met, 0 missed, -1 no target */
    char skipped[96];
} row;

static row rows[MAX_ROWS];
static int n_rows;
static int table_started;

static void fmt_num(char *out, size_t n, double v)
{
    if (v >= 1000)
        snprintf(out, n, "%.0f", v);
    else if (v >= 100)
        snprintf(out, n, "%.1f", v);
    else
        snprintf(out, n, "%.2f", v);
}

static void fmt_ratio(char *out, size_t n, enum kind k, double v)
{
    static const char *const words[] = {"time", "faster", "tput"};
    char num[32];

    if (v >= 10)
        snprintf(num, sizeof num, "%.1f", v);
    else
        snprintf(num, sizeof num, "%.3f", v);
    snprintf(out, n, "%sx %s", num, words[k]);
}

static void fmt_target(char *out, size_t n, const row *r)
{
    static const char *const words[] = {"time", "faster", "tput"};

    if (!r->has_target)
        snprintf(out, n, "-");
    else
        snprintf(out, n, "%s %gx %s",
                 r->kind == K_TIME ? "<=" : ">=", r->target, words[r->kind]);
}

static void print_header(void)
{
    printf("\n%-18s %-42s %-6s %9s  %-21s %-13s %-15s %s\n", "case",
           "contender / baseline", "unit", "median", "[min - max]", "ratio",
           "target", "result");
    for (int i = 0; i < 142; i++)
        putchar('-');
    putchar('\n');
}

static void print_series_line(const char *case_name, const char *label,
                              enum unit u, const stats *s)
{
    char med[32], lo[32], hi[32], range[72];

    fmt_num(med, sizeof med, s->med);
    fmt_num(lo, sizeof lo, s->min);
    fmt_num(hi, sizeof hi, s->max);
    snprintf(range, sizeof range, "[%s - %s]", lo, hi);
    printf("%-18s %-42.42s %-6s %9s  %-21s", case_name, label, unit_names[u],
           med, range);
}

static void print_row(const row *r, int with_contender)
{
    char ratio[48], target[48];

    if (with_contender) {
        print_series_line(r->case_name, r->contender, r->unit, &r->c);
        putchar('\n');
    }
    if (r->skipped[0] != '\0') {
        printf("%-18s %-42.42s %-6s %9s  %-21s %-13s %-15s %s\n", "",
               r->baseline, unit_names[r->unit], "-", "", "-", "-", r->skipped);
        return;
    }
    fmt_ratio(ratio, sizeof ratio, r->kind, r->ratio);
    fmt_target(target, sizeof target, r);
    print_series_line("", r->baseline, r->unit, &r->b);
    printf(" %-13s %-15s %s\n", ratio, target,
           r->met < 0 ? "info"
           : r->met   ? "met"
                      : "MISSED");
}

static void print_case_rows(int first)
{
    if (!table_started) {
        print_header();
        table_started = 1;
    }
    for (int i = first; i < n_rows; i++) {
        int same =
            i > first && strcmp(rows[i].contender, rows[i - 1].contender) == 0;
        print_row(&rows[i], !same);
    }
    fflush(stdout);
}

static double ratio_of(enum kind k, enum unit u, double c, double b)
{
    int lower_better = u != U_GBS;

    switch (k) {
    case K_TIME:
        return lower_better ? c / b : b / c;
    case K_SPEEDUP:
        return lower_better ? b / c : c / b;
    case K_TPUT:
        return lower_better ? b / c : c / b;
    }
    return 0;
}

static row *new_row(const char *case_name, const char *title, const series *c,
                    const char *baseline, enum kind k)
{
    row *r;

    if (n_rows == MAX_ROWS)
        die("too many result rows");
    r = &rows[n_rows++];
    memset(r, 0, sizeof *r);
    r->case_name = case_name;
    r->title = title;
    r->contender = c->label;
    r->baseline = baseline;
    r->unit = c->unit;
    r->kind = k;
    r->c = c->st;
    r->met = -1;
    return r;
}

static void finish_row(row *r, const stats *b, int has_target, double target)
{
    r->b = *b;
    r->ratio = ratio_of(r->kind, r->unit, r->c.med, r->b.med);
    r->has_target = has_target;
    r->target = target;
    if (has_target)
        r->met = r->kind == K_TIME ? r->ratio <= target : r->ratio >= target;
}

/* A contender against a baseline measured in the same rounds. */
static void add_row(const char *case_name, const char *title, const series *c,
                    const series *b, enum kind k, int has_target, double target)
{
    row *r = new_row(case_name, title, c, b->label, k);
    finish_row(r, &b->st, has_target, target);
}

/* A contender against a peer program (no target); peer NULL: skipped. */
static void add_peer_row(const char *case_name, const char *title,
                         const series *c, const char *peer_label, enum kind k,
                         const stats *peer, const char *why)
{
    row *r = new_row(case_name, title, c, peer_label, k);

    if (peer == NULL) {
        snprintf(r->skipped, sizeof r->skipped, "%s", why);
        return;
    }
    finish_row(r, peer, 0, 0);
}

/* ---- the data file ------------------------------------------------------ */

static uint64_t *g_off;  /* n_rand random 8-byte-aligned offsets */
static int g_fd = -1;    /* the data file, read-only */
static mmf_file *g_file; /* the same file through libmmf, read-only */

static void need_data(void)
{
    unsigned char *buf;
    size_t n = cfg.n_rand;
    int fd;

    if (g_fd >= 0)
        return;
    fprintf(stderr, "[setup] writing a %" PRIu64 " MiB data file in %s\n",
            cfg.data_size / MIB, tmp_dir);
    buf = xmalloc(CHUNK);
    SYS(fd = open(data_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    for (uint64_t off = 0; off < cfg.data_size; off += CHUNK) {
        fill_random(buf, CHUNK);
        write_all(fd, buf, CHUNK, off);
    }
    /* Clean pages: no write-back runs under the timed cases. */
    SYS(fdatasync(fd));
    SYS(close(fd));
    free(buf);

    g_off = xmalloc(n * sizeof *g_off);
    for (size_t i = 0; i < n; i++)
        g_off[i] = (rng_next() % (cfg.data_size / 8)) * 8;
    SYS(fd = open(offs_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    write_all(fd, g_off, n * sizeof *g_off, 0);
    SYS(close(fd));

    SYS(g_fd = open(data_path, O_RDONLY | O_CLOEXEC));
    MMF(mmf_create_from_file(data_path, MMF_MODE_OPEN, NULL, 0, MMF_ACCESS_READ,
                             0, &g_file));
}

/* ---- peers: Python's mmap module and Boost.Interprocess ----------------- */

static char python_script[PATH_MAX + 64];
static char boost_bin[PATH_MAX + 64];

static void find_peers(void)
{
    char dir[PATH_MAX], cand[PATH_MAX + 32];
    const char *dirs[3];

    exe_dir(dir, sizeof dir);
#ifdef MMF_BENCH_SOURCE_DIR
    dirs[0] = MMF_BENCH_SOURCE_DIR;
#else
    dirs[0] = "bench";
#endif
    dirs[1] = "bench";
    dirs[2] = dir;
    for (int i = 0; i < 3 && python_script[0] == '\0'; i++) {
        snprintf(cand, sizeof cand, "%s/peer_python.py", dirs[i]);
        if (access(cand, R_OK) == 0)
            snprintf(python_script, sizeof python_script, "%s", cand);
    }
#ifdef MMF_BENCH_BOOST_PATH
    if (access(MMF_BENCH_BOOST_PATH, X_OK) == 0)
        snprintf(boost_bin, sizeof boost_bin, "%s", MMF_BENCH_BOOST_PATH);
#endif
    snprintf(cand, sizeof cand, "%s/mmf_bench_boost", dir);
    if (boost_bin[0] == '\0' && access(cand, X_OK) == 0)
        snprintf(boost_bin, sizeof boost_bin, "%s", cand);
}

/*
 * Runs a peer: argv[0] is the program; it prints one line per repetition
 * (after its own warm-up) with the nanoseconds of that repetition. Fills
 * st in `unit`; returns 0, or -1 with a reason in why.
 */
static int run_peer(char *const argv[], double work, enum unit u, stats *st,
                    char *why, size_t whylen)
{
    int pfd[2], status;
    char line[128];
    FILE *in;
    pid_t pid;

    fflush(stdout);
    SYS(pipe2(pfd, O_CLOEXEC));
    SYS(pid = fork());
    if (pid == 0) {
        dup2(pfd[1], 1);
        execvp(argv[0], argv);
        fprintf(stderr, "mmf_bench: cannot run %s: %s\n", argv[0],
                strerror(errno));
        _exit(127);
    }
    close(pfd[1]);
    in = fdopen(pfd[0], "r");
    if (in == NULL)
        die("fdopen: %s", strerror(errno));
    st->n = 0;
    while (fgets(line, sizeof line, in) != NULL) {
        char *end;
        double ns = strtod(line, &end);
        if (end == line || ns <= 0 || st->n == MAX_REPS)
            continue;
        st->v[st->n++] = to_unit(u, ns, work);
    }
    fclose(in);
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || st->n == 0) {
        snprintf(why, whylen, "failed: %s exited with status %d", argv[0],
                 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        return -1;
    }
    stats_finish(st);
    return 0;
}

/* The Python peer for `mode` (rand, scan); NULL with why when skipped. */
static const stats *python_peer(const char *mode, size_t count, double work,
                                enum unit u, stats *st, char *why,
                                size_t whylen)
{
    char reps[16], cnt[32];
    char *argv[] = {"python3", python_script, (char *)mode, data_path,
                    offs_path, cnt,           reps,         NULL};

    if (!on_path("python3")) {
        snprintf(why, whylen, "skipped: install python3");
        return NULL;
    }
    if (python_script[0] == '\0') {
        snprintf(why, whylen, "skipped: bench/peer_python.py not found");
        return NULL;
    }
    snprintf(reps, sizeof reps, "%d", cfg.reps);
    snprintf(cnt, sizeof cnt, "%zu", count);
    fprintf(stderr, "  peer: python3 %s %s\n", python_script, mode);
    return run_peer(argv, work, u, st, why, whylen) == 0 ? st : NULL;
}

/* The Boost.Interprocess peer for `mode` (rand, mapcall, scan). */
static const stats *boost_peer(const char *mode, size_t count, double work,
                               enum unit u, stats *st, char *why, size_t whylen)
{
    char reps[16], cnt[32];
    char *argv[] = {boost_bin, (char *)mode, data_path, offs_path,
                    cnt,       reps,         NULL};

    if (boost_bin[0] == '\0') {
        snprintf(why, whylen, "skipped: install g++ libboost-dev");
        return NULL;
    }
    snprintf(reps, sizeof reps, "%d", cfg.reps);
    snprintf(cnt, sizeof cnt, "%zu", count);
    fprintf(stderr, "  peer: %s %s\n", boost_bin, mode);
    return run_peer(argv, work, u, st, why, whylen) == 0 ? st : NULL;
}

/* ---- case: random 8-byte reads ------------------------------------------ */

struct rand_ctx {
    const unsigned char *raw; /* raw mmap of the data file */
    mmf_view *view;           /* a libmmf view of it */
    size_t n;
};

static double run_view_u64(void *p)
{
    struct rand_ctx *c = p;
    const size_t n = c->n;
    const uint64_t *off = g_off;
    mmf_view *v = c->view;
    uint64_t s = 0, t0, t1;

    t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        uint64_t x;
        if (mmf_view_read_u64(v, off[i], &x) != MMF_OK)
            die("mmf_view_read_u64 failed at %" PRIu64, off[i]);
        s += x;
    }
    t1 = now_ns();
    sink += s;
    return (double)(t1 - t0);
}

static double run_raw_load(void *p)
{
    struct rand_ctx *c = p;
    const size_t n = c->n;
    const uint64_t *off = g_off;
    const unsigned char *base = c->raw;
    uint64_t s = 0, t0, t1;

    t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        uint64_t x;
        memcpy(&x, base + off[i], sizeof x);
        s += x;
    }
    t1 = now_ns();
    sink += s;
    return (double)(t1 - t0);
}

static double run_mmf_read(void *p)
{
    struct rand_ctx *c = p;
    const size_t n = c->n;
    const uint64_t *off = g_off;
    mmf_file *f = g_file;
    uint64_t s = 0, t0, t1;

    t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        uint64_t x;
        if (mmf_read(f, off[i], &x, sizeof x) != MMF_OK)
            die("mmf_read failed at %" PRIu64, off[i]);
        s += x;
    }
    t1 = now_ns();
    sink += s;
    return (double)(t1 - t0);
}

static double run_pread(void *p)
{
    struct rand_ctx *c = p;
    const size_t n = c->n;
    const uint64_t *off = g_off;
    int fd = g_fd;
    uint64_t s = 0, t0, t1;

    t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        uint64_t x;
        if (pread(fd, &x, sizeof x, (off_t)off[i]) != (ssize_t)sizeof x)
            die("pread failed at %" PRIu64, off[i]);
        s += x;
    }
    t1 = now_ns();
    sink += s;
    return (double)(t1 - t0);
}

/* The naive wrapper: map a 64 KiB window around the offset, copy, unmap. */
static double run_map_per_call(void *p)
{
    struct rand_ctx *c = p;
    const size_t n = c->n;
    const uint64_t *off = g_off;
    int fd = g_fd;
    uint64_t s = 0, t0, t1;

    t0 = now_ns();
    for (size_t i = 0; i < n; i++) {
        uint64_t win = off[i] & ~(uint64_t)(WINDOW - 1), x;
        unsigned char *m =
            mmap(NULL, WINDOW, PROT_READ, MAP_SHARED, fd, (off_t)win);
        if (m == MAP_FAILED)
            die("mmap: %s", strerror(errno));
        memcpy(&x, m + (off[i] - win), sizeof x);
        munmap(m, WINDOW);
        s += x;
    }
    t1 = now_ns();
    sink += s;
    return (double)(t1 - t0);
}

static const unsigned char *map_data_raw(void)
{
    void *p = mmap(NULL, cfg.data_size, PROT_READ, MAP_SHARED, g_fd, 0);
    if (p == MAP_FAILED)
        die("mmap of the data file: %s", strerror(errno));
    return p;
}

static void case_rand_view(const char *name, const char *title)
{
    struct rand_ctx c;
    stats py, bo;
    char why[96];
    const stats *peer;
    int first = n_rows;

    need_data();
    c.raw = map_data_raw();
    MMF(mmf_view_open(g_file, 0, 0, MMF_ACCESS_READ, &c.view));
    c.n = cfg.n_rand;
    {
        series s[2] = {
            {"mmf_view_read_u64 (inline)",
             run_view_u64,
             &c,
             (double)c.n,
             U_NS_OP,
             {0}},
            {"raw mmap pointer load",
             run_raw_load,
             &c,
             (double)c.n,
             U_NS_OP,
             {0}},
        };
        measure(s, 2);
        add_row(name, title, &s[0], &s[1], K_TIME, 1, 1.10);
        peer = python_peer("rand", cfg.n_py, (double)cfg.n_py, U_NS_OP, &py,
                           why, sizeof why);
        add_peer_row(name, title, &s[0],
                     "peer: Python mmap + struct.unpack_from", K_SPEEDUP, peer,
                     why);
        peer =
            boost_peer("rand", c.n, (double)c.n, U_NS_OP, &bo, why, sizeof why);
        add_peer_row(name, title, &s[0],
                     "peer: Boost mapped_region pointer load", K_SPEEDUP, peer,
                     why);
    }
    print_case_rows(first);
    MMF(mmf_view_close(c.view));
    munmap((void *)(uintptr_t)c.raw, cfg.data_size);
}

/*
 * The mmf_read series reads all n_rand offsets, the slow baselines only the
 * first n_pread or n_mapcall of them: a baseline repetition lasts up to a
 * second of kernel work that evicts the caches (page tables included), and
 * a contender repetition of as few operations would last 10-20 ms and
 * measure mostly the refill (2-3x its steady per-read time on 1 GiB).
 */
static char label_pread[64], label_mapcall[64];

static void case_rand_pread(const char *name, const char *title)
{
    struct rand_ctx c = {NULL, NULL, cfg.n_rand};
    struct rand_ctx b = {NULL, NULL, cfg.n_pread};
    int first = n_rows;

    need_data();
    snprintf(label_pread, sizeof label_pread,
             "pread (8 bytes; first %zuk offsets)", b.n / 1000);
    {
        series s[2] = {
            {"mmf_read (8 bytes)", run_mmf_read, &c, (double)c.n, U_NS_OP, {0}},
            {label_pread, run_pread, &b, (double)b.n, U_NS_OP, {0}},
        };
        measure(s, 2);
        add_row(name, title, &s[0], &s[1], K_SPEEDUP, 1, 5);
    }
    print_case_rows(first);
}

static void case_rand_mapcall(const char *name, const char *title)
{
    struct rand_ctx c = {NULL, NULL, cfg.n_rand};
    struct rand_ctx b = {NULL, NULL, cfg.n_mapcall};
    stats bo;
    char why[96];
    const stats *peer;
    int first = n_rows;

    need_data();
    snprintf(label_mapcall, sizeof label_mapcall,
             "map 64 KiB, copy, unmap (first %zuk)", b.n / 1000);
    {
        series s[2] = {
            {"mmf_read (8 bytes)", run_mmf_read, &c, (double)c.n, U_NS_OP, {0}},
            {label_mapcall, run_map_per_call, &b, (double)b.n, U_NS_OP, {0}},
        };
        measure(s, 2);
        add_row(name, title, &s[0], &s[1], K_SPEEDUP, 1, 50);
        peer = boost_peer("mapcall", b.n, (double)b.n, U_NS_OP, &bo, why,
                          sizeof why);
        add_peer_row(name, title, &s[0], "peer: Boost mapped_region per call",
                     K_SPEEDUP, peer, why);
    }
    print_case_rows(first);
}

/* ---- case: sequential scan ---------------------------------------------- */

static double run_scan_view(void *p)
{
    uint64_t t0, t1;
    mmf_view *v;

    (void)p;
    t0 = now_ns();
    MMF(mmf_view_open(g_file, 0, 0, MMF_ACCESS_READ, &v));
    sink += sum_words(mmf_view_data(v), (size_t)mmf_view_size(v));
    MMF(mmf_view_close(v));
    t1 = now_ns();
    return (double)(t1 - t0);
}

static double run_scan_raw(void *p)
{
    uint64_t t0, t1;
    void *m;

    (void)p;
    t0 = now_ns();
    m = mmap(NULL, cfg.data_size, PROT_READ, MAP_SHARED, g_fd, 0);
    if (m == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    sink += sum_words(m, cfg.data_size);
    munmap(m, cfg.data_size);
    t1 = now_ns();
    return (double)(t1 - t0);
}

static void case_scan_view(const char *name, const char *title)
{
    double bytes = (double)cfg.data_size;
    stats py, bo;
    char why[96];
    const stats *peer;
    int first = n_rows;

    need_data();
    {
        series s[2] = {
            {"view pointer (open, sum words, close)",
             run_scan_view,
             NULL,
             bytes,
             U_GBS,
             {0}},
            {"raw mmap pointer (mmap, sum, munmap)",
             run_scan_raw,
             NULL,
             bytes,
             U_GBS,
             {0}},
        };
        measure_reps(s, 2, 3 * cfg.reps); /* short repetitions */
        add_row(name, title, &s[0], &s[1], K_TPUT, 1, 0.95);
        peer = python_peer("scan", 0, bytes, U_GBS, &py, why, sizeof why);
        add_peer_row(name, title, &s[0], "peer: Python mmap + memoryview sum",
                     K_TPUT, peer, why);
        peer = boost_peer("scan", 0, bytes, U_GBS, &bo, why, sizeof why);
        add_peer_row(name, title, &s[0], "peer: Boost mapped_region pointer",
                     K_TPUT, peer, why);
    }
    print_case_rows(first);
}

struct stream_ctx {
    unsigned char *buf;       /* 1 MiB destination */
    const unsigned char *src; /* pre-faulted mapping, for the memcpy limit */
};

static double run_stream_read(void *p)
{
    struct stream_ctx *c = p;
    uint64_t t0, t1, s = 0;
    mmf_stream *st;
    size_t got;

    t0 = now_ns();
    MMF(mmf_stream_open(g_file, 0, 0, MMF_ACCESS_READ, &st));
    for (;;) {
        MMF(mmf_stream_read(st, c->buf, CHUNK, &got));
        if (got == 0)
            break;
        s += c->buf[got - 1];
    }
    MMF(mmf_stream_close(st));
    t1 = now_ns();
    sink += s;
    return (double)(t1 - t0);
}

static double run_read_chunks(void *p)
{
    struct stream_ctx *c = p;
    uint64_t t0, t1, s = 0;
    ssize_t got;

    t0 = now_ns();
    SYS(lseek(g_fd, 0, SEEK_SET));
    while ((got = read(g_fd, c->buf, CHUNK)) != 0) {
        if (got < 0) {
            if (errno == EINTR)
                continue;
            die("read: %s", strerror(errno));
        }
        s += c->buf[got - 1];
    }
    t1 = now_ns();
    sink += s;
    return (double)(t1 - t0);
}

static double run_memcpy_chunks(void *p)
{
    struct stream_ctx *c = p;
    uint64_t t0, t1, s = 0;

    t0 = now_ns();
    for (uint64_t off = 0; off < cfg.data_size; off += CHUNK) {
        memcpy(c->buf, c->src + off, CHUNK);
        s += c->buf[CHUNK - 1];
    }
    t1 = now_ns();
    sink += s;
    return (double)(t1 - t0);
}

static void case_scan_stream(const char *name, const char *title)
{
    double bytes = (double)cfg.data_size;
    struct stream_ctx c;
    int first = n_rows;

    need_data();
    c.buf = xmalloc_aligned(CHUNK);
    memset(c.buf, 0, CHUNK);
    c.src = mmap(NULL, cfg.data_size, PROT_READ, MAP_SHARED | MAP_POPULATE,
                 g_fd, 0);
    if (c.src == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    {
        series s[3] = {
            {"mmf_stream_read, 1 MiB chunks",
             run_stream_read,
             &c,
             bytes,
             U_GBS,
             {0}},
            {"read(), 1 MiB chunks", run_read_chunks, &c, bytes, U_GBS, {0}},
            {"limit: memcpy 1 MiB chunks (mapped)",
             run_memcpy_chunks,
             &c,
             bytes,
             U_GBS,
             {0}},
        };
        measure_reps(s, 3, 3 * cfg.reps); /* short repetitions */
        add_row(name, title, &s[0], &s[1], K_TPUT, 1, 1.0);
        add_row(name, title, &s[0], &s[2], K_TPUT, 0, 0);
    }
    print_case_rows(first);
    munmap((void *)(uintptr_t)c.src, cfg.data_size);
    free(c.buf);
}

/* ---- case: sequential write --------------------------------------------- */

struct write_ctx {
    int fd;      /* kept open: write-back between repetitions, pwrite */
    mmf_file *f; /* kept open */
    const unsigned char *src;
};

/*
 * All writers overwrite the same file, which is in the page cache and clean
 * before every repetition: each one ends with an untimed fdatasync, so no
 * write-back runs under the next timed repetition. The case compares the
 * whole operation (open, write the data set in 1 MiB chunks, close); the
 * informational pair keeps the map and the descriptor open across
 * repetitions, so the map's pages were cleaned by write-back under it.
 */
static double run_mmf_write_open(void *p)
{
    struct write_ctx *c = p;
    uint64_t t0, t1, size = cfg.data_size;
    mmf_file *f;

    t0 = now_ns();
    MMF(mmf_create_from_file(write_path, MMF_MODE_OPEN, NULL, 0,
                             MMF_ACCESS_READ_WRITE, 0, &f));
    for (uint64_t off = 0; off < size; off += CHUNK)
        MMF(mmf_write(f, off, c->src, CHUNK));
    MMF(mmf_close(f));
    t1 = now_ns();
    SYS(fdatasync(c->fd));
    return (double)(t1 - t0);
}

static double run_pwrite_open(void *p)
{
    struct write_ctx *c = p;
    uint64_t t0, t1, size = cfg.data_size;
    int fd;

    t0 = now_ns();
    SYS(fd = open(write_path, O_RDWR | O_CLOEXEC));
    for (uint64_t off = 0; off < size; off += CHUNK)
        if (pwrite(fd, c->src, CHUNK, (off_t)off) != (ssize_t)CHUNK)
            die("pwrite: %s", strerror(errno));
    SYS(close(fd));
    t1 = now_ns();
    SYS(fdatasync(c->fd));
    return (double)(t1 - t0);
}

static double run_mmf_write_kept(void *p)
{
    struct write_ctx *c = p;
    uint64_t t0, t1, size = cfg.data_size;
    mmf_file *f = c->f;

    t0 = now_ns();
    for (uint64_t off = 0; off < size; off += CHUNK)
        MMF(mmf_write(f, off, c->src, CHUNK));
    t1 = now_ns();
    SYS(fdatasync(c->fd));
    return (double)(t1 - t0);
}

static double run_pwrite_kept(void *p)
{
    struct write_ctx *c = p;
    uint64_t t0, t1, size = cfg.data_size;
    int fd = c->fd;

    t0 = now_ns();
    for (uint64_t off = 0; off < size; off += CHUNK)
        if (pwrite(fd, c->src, CHUNK, (off_t)off) != (ssize_t)CHUNK)
            die("pwrite: %s", strerror(errno));
    t1 = now_ns();
    SYS(fdatasync(fd));
    return (double)(t1 - t0);
}

static void case_write(const char *name, const char *title)
{
    double bytes = (double)cfg.data_size;
    unsigned char *src = xmalloc_aligned(CHUNK);
    struct write_ctx c;
    int first = n_rows;

    fill_random(src, CHUNK);
    fprintf(stderr, "[setup] writing a %" PRIu64 " MiB file to overwrite\n",
            cfg.data_size / MIB);
    SYS(c.fd = open(write_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    for (uint64_t off = 0; off < cfg.data_size; off += CHUNK)
        write_all(c.fd, src, CHUNK, off);
    SYS(fdatasync(c.fd));
    MMF(mmf_create_from_file(write_path, MMF_MODE_OPEN, NULL, 0,
                             MMF_ACCESS_READ_WRITE, 0, &c.f));
    fill_random(src, CHUNK);
    c.src = src;
    {
        series s[4] = {
            {"open + mmf_write 1 MiB chunks + close",
             run_mmf_write_open,
             &c,
             bytes,
             U_GBS,
             {0}},
            {"open + pwrite 1 MiB chunks + close",
             run_pwrite_open,
             &c,
             bytes,
             U_GBS,
             {0}},
            {"mmf_write, map kept open (pages cleaned)",
             run_mmf_write_kept,
             &c,
             bytes,
             U_GBS,
             {0}},
            {"pwrite, descriptor kept open",
             run_pwrite_kept,
             &c,
             bytes,
             U_GBS,
             {0}},
        };
        measure(s, 4);
        add_row(name, title, &s[0], &s[1], K_TPUT, 1, 1.0);
        add_row(name, title, &s[2], &s[3], K_TPUT, 0, 0);
    }
    print_case_rows(first);
    MMF(mmf_close(c.f));
    SYS(close(c.fd));
    SYS(unlink(write_path));
    write_path[0] = '\0';
    free(src);
}

/* ---- case: open + close a 64 KiB view ----------------------------------- */

/* The i-th view offset: 64 KiB-aligned, from the random offsets. */
static uint64_t view_off(size_t i)
{
    return g_off[i % cfg.n_rand] & ~(uint64_t)(WINDOW - 1);
}

static double run_view_oc(void *p)
{
    uint64_t t0, t1;

    (void)p;
    t0 = now_ns();
    for (size_t i = 0; i < cfg.n_viewoc; i++) {
        mmf_view *v;
        MMF(mmf_view_open(g_file, view_off(i), WINDOW, MMF_ACCESS_READ, &v));
        MMF(mmf_view_close(v));
    }
    t1 = now_ns();
    return (double)(t1 - t0);
}

static double run_mmap_oc(void *p)
{
    uint64_t t0, t1;

    (void)p;
    t0 = now_ns();
    for (size_t i = 0; i < cfg.n_viewoc; i++) {
        void *m =
            mmap(NULL, WINDOW, PROT_READ, MAP_SHARED, g_fd, (off_t)view_off(i));
        if (m == MAP_FAILED)
            die("mmap: %s", strerror(errno));
        SYS(munmap(m, WINDOW));
    }
    t1 = now_ns();
    return (double)(t1 - t0);
}

static void case_view_oc(const char *name, const char *title)
{
    double n = (double)cfg.n_viewoc;
    int first = n_rows;

    need_data();
    {
        series s[2] = {
            {"mmf_view_open + mmf_view_close",
             run_view_oc,
             NULL,
             n,
             U_NS_OP,
             {0}},
            {"mmap + munmap", run_mmap_oc, NULL, n, U_NS_OP, {0}},
        };
        measure(s, 2);
        add_row(name, title, &s[0], &s[1], K_TIME, 1, 1.5);
    }
    print_case_rows(first);
}

/* ---- case: create + open-by-name + close a 1 MiB named map ------------- */

struct named_ctx {
    const char *mmf_name;
    const char *raw_name;
    unsigned flags;
    int commit;
    uint64_t size;
};

static double run_named_mmf(void *p)
{
    struct named_ctx *c = p;
    uint64_t t0, t1;

    t0 = now_ns();
    for (size_t i = 0; i < cfg.n_named; i++) {
        mmf_file *a, *b;
        MMF(mmf_create_new(c->mmf_name, c->size, MMF_ACCESS_READ_WRITE,
                           c->flags, &a));
        MMF(mmf_open_existing(c->mmf_name, MMF_ACCESS_READ_WRITE, 0, &b));
        MMF(mmf_close(b));
        MMF(mmf_close(a));
    }
    t1 = now_ns();
    return (double)(t1 - t0);
}

static double run_named_raw(void *p)
{
    struct named_ctx *c = p;
    size_t size = (size_t)c->size;
    uint64_t t0, t1;

    t0 = now_ns();
    for (size_t i = 0; i < cfg.n_named; i++) {
        int fd, fd2;
        void *m, *m2;
        SYS(fd = shm_open(c->raw_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
                          0600));
        SYS(ftruncate(fd, (off_t)size));
        if (c->commit)
            SYS(fallocate(fd, 0, 0, (off_t)size));
        m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (m == MAP_FAILED)
            die("mmap: %s", strerror(errno));
        SYS(fd2 = shm_open(c->raw_name, O_RDWR | O_CLOEXEC, 0));
        m2 = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd2, 0);
        if (m2 == MAP_FAILED)
            die("mmap: %s", strerror(errno));
        SYS(munmap(m2, size));
        SYS(close(fd2));
        SYS(munmap(m, size));
        SYS(close(fd));
        SYS(shm_unlink(c->raw_name));
    }
    t1 = now_ns();
    return (double)(t1 - t0);
}

static void named_case(const char *name, const char *title, int delay)
{
    double n = (double)cfg.n_named;
    struct named_ctx c;
    int first = n_rows;

    c.mmf_name = new_name(delay ? "named-d" : "named", 1);
    c.raw_name = new_name(delay ? "named-d-raw" : "named-raw", 0);
    c.flags = delay ? MMF_OPT_DELAY_ALLOCATE : 0;
    c.commit = !delay;
    c.size = MIB;
    {
        series s[2] = {
            {delay ? "create_new(DELAY) + open_existing, closes"
                   : "mmf_create_new + open_existing, closes",
             run_named_mmf,
             &c,
             n,
             U_US_OP,
             {0}},
            {delay ? "shm_open/ftruncate/mmap + reopen, unmaps"
                   : "shm_open/ftruncate/fallocate/mmap+reopen",
             run_named_raw,
             &c,
             n,
             U_US_OP,
             {0}},
        };
        measure(s, 2);
        add_row(name, title, &s[0], &s[1], K_TIME, 1, delay ? 3.0 : 1.5);
    }
    print_case_rows(first);
}

static void case_named(const char *name, const char *title)
{
    named_case(name, title, 0);
}

static void case_named_delay(const char *name, const char *title)
{
    named_case(name, title, 1);
}

/* ---- case: first touch of a fresh 256 MiB named map --------------------- */

static void touch_pages(unsigned char *p, uint64_t size)
{
    volatile unsigned char *q = p;

    for (uint64_t i = 0; i < size; i += page_size)
        q[i] = (unsigned char)(i >> 12 | 1);
}

static double run_touch_mmf(void *p)
{
    struct named_ctx *c = p;
    uint64_t t0, t1;
    mmf_file *f;
    mmf_view *v;

    t0 = now_ns();
    MMF(mmf_create_new(c->mmf_name, c->size, MMF_ACCESS_READ_WRITE, 0, &f));
    MMF(mmf_view_open(f, 0, 0, MMF_ACCESS_READ_WRITE, &v));
    MMF(mmf_view_advise(v, 0, 0, MMF_ADVICE_POPULATE));
    touch_pages(mmf_view_data(v), c->size);
    t1 = now_ns();
    MMF(mmf_view_close(v));
    MMF(mmf_close(f));
    return (double)(t1 - t0);
}

static double run_touch_raw(void *p)
{
    struct named_ctx *c = p;
    uint64_t t0, t1;
    void *m;
    int fd;

    t0 = now_ns();
    SYS(fd =
            shm_open(c->raw_name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    SYS(ftruncate(fd, (off_t)c->size));
    m = mmap(NULL, (size_t)c->size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    touch_pages(m, c->size);
    t1 = now_ns();
    SYS(munmap(m, (size_t)c->size));
    SYS(close(fd));
    SYS(shm_unlink(c->raw_name));
    return (double)(t1 - t0);
}

static void case_first_touch(const char *name, const char *title)
{
    struct named_ctx c;
    int first = n_rows;

    c.mmf_name = new_name("touch", 1);
    c.raw_name = new_name("touch-raw", 0);
    c.flags = 0;
    c.commit = 1;
    c.size = cfg.touch_size;
    {
        series s[2] = {
            {"create + view + ADVICE_POPULATE + touch",
             run_touch_mmf,
             &c,
             1,
             U_MS,
             {0}},
            {"shm_open/ftruncate/mmap + touch each page",
             run_touch_raw,
             &c,
             1,
             U_MS,
             {0}},
        };
        measure(s, 2);
        add_row(name, title, &s[0], &s[1], K_SPEEDUP, 1, 2);
    }
    print_case_rows(first);
}

/* ---- case: uncontended lock + unlock ------------------------------------ */

static double run_mutex_mmf(void *p)
{
    mmf_mutex *m = p;
    uint64_t t0, t1;

    t0 = now_ns();
    for (size_t i = 0; i < cfg.n_mutex; i++) {
        if (mmf_mutex_lock(m) != MMF_OK)
            die("mmf_mutex_lock failed");
        if (mmf_mutex_unlock(m) != MMF_OK)
            die("mmf_mutex_unlock failed");
    }
    t1 = now_ns();
    return (double)(t1 - t0);
}

static double run_mutex_raw(void *p)
{
    pthread_mutex_t *m = p;
    uint64_t t0, t1;

    t0 = now_ns();
    for (size_t i = 0; i < cfg.n_mutex; i++) {
        if (pthread_mutex_lock(m) != 0)
            die("pthread_mutex_lock failed");
        if (pthread_mutex_unlock(m) != 0)
            die("pthread_mutex_unlock failed");
    }
    t1 = now_ns();
    return (double)(t1 - t0);
}

static void init_raw_mutex(pthread_mutex_t *m, int recursive)
{
    pthread_mutexattr_t a;

    if (pthread_mutexattr_init(&a) != 0 ||
        pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED) != 0 ||
        pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST) != 0 ||
        (recursive &&
         pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE) != 0) ||
        pthread_mutex_init(m, &a) != 0)
        die("cannot initialise a robust process-shared mutex");
    pthread_mutexattr_destroy(&a);
}

static void case_mutex(const char *name, const char *title)
{
    double n = (double)cfg.n_mutex;
    pthread_mutex_t *raw;
    mmf_mutex *m;
    int first = n_rows;

    MMF(mmf_mutex_create(new_name("mutex", 1), 0, 0, &m));
    raw = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    init_raw_mutex(&raw[0], 1);
    init_raw_mutex(&raw[2], 0); /* a cache line apart */
    {
        series s[3] = {
            {"mmf_mutex_lock + unlock (named)",
             run_mutex_mmf,
             m,
             n,
             U_NS_OP,
             {0}},
            {"pthread robust+pshared+recursive",
             run_mutex_raw,
             &raw[0],
             n,
             U_NS_OP,
             {0}},
            {"pthread robust+pshared (not recursive)",
             run_mutex_raw,
             &raw[2],
             n,
             U_NS_OP,
             {0}},
        };
        measure(s, 3);
        add_row(name, title, &s[0], &s[1], K_TIME, 1, 1.5);
        add_row(name, title, &s[0], &s[2], K_TIME, 0, 0);
    }
    print_case_rows(first);
    pthread_mutex_destroy(&raw[0]);
    pthread_mutex_destroy(&raw[2]);
    munmap(raw, page_size);
    MMF(mmf_mutex_close(m));
}

/* ---- case: ping-pong between two processes ------------------------------ */

enum pp_how { PP_VIEW, PP_RAW, PP_PIPE, PP_SOCKET };

struct pp_ctx {
    enum pp_how how;
    const char *name;   /* the named map (PP_VIEW) */
    unsigned char *mem; /* the shared page (PP_VIEW, PP_RAW) */
    size_t n;
};

/* The shared page: ping, pong and ready on their own cache lines. */
#define PP_PING(m) ((_Atomic uint32_t *)(void *)((m) + 0))
#define PP_PONG(m) ((_Atomic uint32_t *)(void *)((m) + 128))
#define PP_READY(m) ((_Atomic uint32_t *)(void *)((m) + 256))

static void spin_until(_Atomic uint32_t *a, uint32_t want)
{
    unsigned k = 0;
    uint64_t start = 0;

    while (atomic_load_explicit(a, memory_order_acquire) != want) {
        if (n_allowed_cpus < 2)
            sched_yield();
        else
            cpu_relax();
        if ((++k & 0xfffff) == 0) {
            uint64_t t = now_ns();
            if (start == 0)
                start = t;
            else if (t - start > 30 * 1000000000ull)
                die("ping-pong: the other process stopped answering");
        }
    }
}

static void xfer_byte(int fd, int writing)
{
    char b = 'x';

    for (;;) {
        ssize_t k = writing ? write(fd, &b, 1) : read(fd, &b, 1);
        if (k == 1)
            return;
        if (k < 0 && errno == EINTR)
            continue;
        die("ping-pong: %s", k < 0 ? strerror(errno) : "peer closed");
    }
}

static NORETURN void pp_child(struct pp_ctx *c, int rfd, int wfd)
{
    unsigned char *mem = c->mem;
    mmf_file *f = NULL;
    mmf_view *v = NULL;

    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (n_allowed_cpus >= 2)
        pin_to(cpu_b);
    if (c->how == PP_VIEW) {
        /* The second process opens the map by name, with its own view. */
        MMF(mmf_open_existing(c->name, MMF_ACCESS_READ_WRITE, 0, &f));
        MMF(mmf_view_open(f, 0, 0, MMF_ACCESS_READ_WRITE, &v));
        mem = mmf_view_data(v);
    }
    if (c->how == PP_VIEW || c->how == PP_RAW) {
        atomic_store_explicit(PP_READY(mem), 1, memory_order_release);
        for (uint32_t i = 1; i <= (uint32_t)c->n; i++) {
            spin_until(PP_PING(mem), i);
            atomic_store_explicit(PP_PONG(mem), i, memory_order_release);
        }
    } else {
        xfer_byte(wfd, 1);
        for (size_t i = 0; i < c->n; i++) {
            xfer_byte(rfd, 0);
            xfer_byte(wfd, 1);
        }
    }
    if (v != NULL) {
        mmf_view_close(v);
        mmf_close(f);
    }
    _exit(0);
}

static double run_pingpong(void *p)
{
    struct pp_ctx *c = p;
    int to_child[2] = {-1, -1}, to_parent[2] = {-1, -1}, status;
    int rfd = -1, wfd = -1;
    uint64_t t0, t1;
    pid_t pid;

    if (c->how == PP_PIPE) {
        SYS(pipe2(to_child, O_CLOEXEC));
        SYS(pipe2(to_parent, O_CLOEXEC));
    } else if (c->how == PP_SOCKET) {
        int sv[2];
        SYS(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
        to_child[0] = sv[1];
        to_child[1] = sv[0];
        to_parent[0] = dup(sv[0]);
        to_parent[1] = dup(sv[1]);
    } else {
        atomic_store(PP_PING(c->mem), 0);
        atomic_store(PP_PONG(c->mem), 0);
        atomic_store(PP_READY(c->mem), 0);
    }
    fflush(stdout);
    fflush(stderr);
    SYS(pid = fork());
    if (pid == 0) {
        if (to_child[0] >= 0) {
            close(to_child[1]);
            close(to_parent[0]);
        }
        pp_child(c, to_child[0], to_parent[1]);
    }
    if (to_child[0] >= 0) {
        close(to_child[0]);
        close(to_parent[1]);
        wfd = to_child[1];
        rfd = to_parent[0];
    }
    if (c->how == PP_VIEW || c->how == PP_RAW) {
        unsigned char *mem = c->mem;
        spin_until(PP_READY(mem), 1);
        t0 = now_ns();
        for (uint32_t i = 1; i <= (uint32_t)c->n; i++) {
            atomic_store_explicit(PP_PING(mem), i, memory_order_release);
            spin_until(PP_PONG(mem), i);
        }
        t1 = now_ns();
    } else {
        xfer_byte(rfd, 0); /* ready */
        t0 = now_ns();
        for (size_t i = 0; i < c->n; i++) {
            xfer_byte(wfd, 1);
            xfer_byte(rfd, 0);
        }
        t1 = now_ns();
        close(wfd);
        close(rfd);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            die("waitpid: %s", strerror(errno));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        die("ping-pong child failed (status %d)", status);
    return (double)(t1 - t0);
}

static void case_pingpong(const char *name, const char *title)
{
    struct pp_ctx cv, cr, cp, cs;
    cpu_set_t saved;
    mmf_file *f;
    mmf_view *v;
    int first = n_rows;

    if (n_allowed_cpus < 2)
        fprintf(stderr, "  note: one CPU only; the processes are not "
                        "pinned and spin with sched_yield\n");
    SYS(sched_getaffinity(0, sizeof saved, &saved));
    if (n_allowed_cpus >= 2)
        pin_to(cpu_a);
    cv.how = PP_VIEW;
    cv.name = new_name("pingpong", 1);
    MMF(mmf_create_new(cv.name, page_size, MMF_ACCESS_READ_WRITE, 0, &f));
    MMF(mmf_view_open(f, 0, 0, MMF_ACCESS_READ_WRITE, &v));
    cv.mem = mmf_view_data(v);
    cv.n = cfg.n_pp_spin;
    cr = cv;
    cr.how = PP_RAW;
    cr.mem = mmap(NULL, page_size, PROT_READ | PROT_WRITE,
                  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (cr.mem == MAP_FAILED)
        die("mmap: %s", strerror(errno));
    cp = cr;
    cp.how = PP_PIPE;
    cp.n = cfg.n_pp_sys;
    cs = cp;
    cs.how = PP_SOCKET;
    {
        series s[4] = {
            {"atomics on a view, spinning (named map)",
             run_pingpong,
             &cv,
             (double)cv.n,
             U_NS_OP,
             {0}},
            {"atomics on raw shared mmap, spinning",
             run_pingpong,
             &cr,
             (double)cr.n,
             U_NS_OP,
             {0}},
            {"pipe, 1 byte each way",
             run_pingpong,
             &cp,
             (double)cp.n,
             U_NS_OP,
             {0}},
            {"Unix socketpair, 1 byte each way",
             run_pingpong,
             &cs,
             (double)cs.n,
             U_NS_OP,
             {0}},
        };
        /* Spinning is at the mercy of other load on the CPUs: more
         * repetitions. */
        measure_reps(s, 4, 3 * cfg.reps);
        add_row(name, title, &s[0], &s[1], K_TIME, 1, 1.2);
        add_row(name, title, &s[0], &s[2], K_SPEEDUP, 1, 50);
        add_row(name, title, &s[0], &s[3], K_SPEEDUP, 0, 0);
    }
    print_case_rows(first);
    munmap(cr.mem, page_size);
    MMF(mmf_view_close(v));
    MMF(mmf_close(f));
    SYS(sched_setaffinity(0, sizeof saved, &saved));
}

/* ---- the cases ---------------------------------------------------------- */

static const struct bench_case {
    const char *name;
    const char *title;
    void (*fn)(const char *name, const char *title);
} cases[] = {
    {"rand_view_u64", "random 8-byte reads: mmf_view_read_u64 vs raw load",
     case_rand_view},
    {"rand_read_pread", "random 8-byte reads: mmf_read vs pread",
     case_rand_pread},
    {"rand_read_mapcall", "random 8-byte reads: mmf_read vs map-per-call",
     case_rand_mapcall},
    {"scan_view", "sequential scan: view pointer vs raw mmap", case_scan_view},
    {"scan_stream", "sequential scan: mmf_stream_read vs read()",
     case_scan_stream},
    {"write_seq", "sequential write: mmf_write vs pwrite", case_write},
    {"view_open_close", "open + close a 64 KiB view vs mmap/munmap",
     case_view_oc},
    {"named_create", "create + open-by-name + close a 1 MiB named map",
     case_named},
    {"named_create_delay", "the same with MMF_OPT_DELAY_ALLOCATE",
     case_named_delay},
    {"first_touch", "first touch of every page of a fresh 256 MiB named map",
     case_first_touch},
    {"mutex", "uncontended lock + unlock", case_mutex},
    {"pingpong", "ping-pong round trip between 2 processes", case_pingpong},
};
#define N_CASES (sizeof cases / sizeof cases[0])

/* ---- machine description ------------------------------------------------ */

static struct machine {
    char cpu[256];
    long cores;
    uint64_t mem_bytes;
    char kernel[200];
    char compiler[160];
    char when[64];
    double load_start, load_end; /* 1-minute load average */
} mach;

static double load_average(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");

    if (f != NULL) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

static void describe_machine(void)
{
    char line[512];
    struct utsname u;
    time_t now = time(NULL);
    struct tm tm;
    FILE *f;

    snprintf(mach.cpu, sizeof mach.cpu, "unknown");
    f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        while (fgets(line, sizeof line, f) != NULL) {
            char *colon = strchr(line, ':');
            if (strncmp(line, "model name", 10) != 0 || colon == NULL)
                continue;
            colon += 1 + strspn(colon + 1, " \t");
            colon[strcspn(colon, "\n")] = '\0';
            snprintf(mach.cpu, sizeof mach.cpu, "%s", colon);
            break;
        }
        fclose(f);
    }
    mach.cores = sysconf(_SC_NPROCESSORS_ONLN);
    f = fopen("/proc/meminfo", "r");
    if (f != NULL) {
        while (fgets(line, sizeof line, f) != NULL) {
            unsigned long long kb;
            if (sscanf(line, "MemTotal: %llu kB", &kb) == 1) {
                mach.mem_bytes = (uint64_t)kb * 1024;
                break;
            }
        }
        fclose(f);
    }
    if (uname(&u) == 0)
        snprintf(mach.kernel, sizeof mach.kernel, "%s %s %s", u.sysname,
                 u.release, u.machine);
#if defined(__clang__)
    snprintf(mach.compiler, sizeof mach.compiler, "clang %s", __VERSION__);
#elif defined(__GNUC__)
    snprintf(mach.compiler, sizeof mach.compiler, "gcc %s", __VERSION__);
#else
    snprintf(mach.compiler, sizeof mach.compiler, "unknown");
#endif
    mach.load_start = load_average();
    gmtime_r(&now, &tm);
    strftime(mach.when, sizeof mach.when, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- JSON --------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_num(FILE *f, double v)
{
    if (isfinite(v))
        fprintf(f, "%.6g", v);
    else
        fputs("null", f);
}

static void json_samples(FILE *f, const stats *s)
{
    fputc('[', f);
    for (int i = 0; i < s->n; i++) {
        if (i > 0)
            fputs(", ", f);
        json_num(f, s->v[i]);
    }
    fputc(']', f);
}

static void write_json(const char *path)
{
    static const char *const kinds[] = {"time", "speedup", "throughput"};
    char target[48];
    FILE *f = fopen(path, "w");

    if (f == NULL)
        die("cannot write %s: %s", path, strerror(errno));
    fprintf(f, "{\n  \"benchmark\": \"mmf_bench\",\n  \"libmmf\": ");
    json_str(f, mmf_version_string());
    fprintf(f, ",\n  \"date\": ");
    json_str(f, mach.when);
    fprintf(f, ",\n  \"machine\": {\n    \"cpu\": ");
    json_str(f, mach.cpu);
    fprintf(f,
            ",\n    \"cores\": %ld,\n    \"memory_bytes\": %" PRIu64
            ",\n    \"kernel\": ",
            mach.cores, mach.mem_bytes);
    json_str(f, mach.kernel);
    fprintf(f, ",\n    \"compiler\": ");
    json_str(f, mach.compiler);
    fprintf(f, ",\n    \"load_average_start\": ");
    json_num(f, mach.load_start);
    fprintf(f, ",\n    \"load_average_end\": ");
    json_num(f, mach.load_end);
    fprintf(f,
            "\n  },\n  \"config\": {\n    \"quick\": %s,\n"
            "    \"data_set_bytes\": %" PRIu64 ",\n"
            "    \"repetitions\": %d,\n    \"tmpdir\": ",
            cfg.quick ? "true" : "false", cfg.data_size, cfg.reps);
    json_str(f, tmp_dir);
    fprintf(f, "\n  },\n  \"cases\": [");
    for (int i = 0; i < n_rows; i++) {
        const row *r = &rows[i];
        fprintf(f, "%s\n    {\"case\": ", i ? "," : "");
        json_str(f, r->case_name);
        fprintf(f, ", \"title\": ");
        json_str(f, r->title);
        fprintf(f, ",\n     \"contender\": ");
        json_str(f, r->contender);
        fprintf(f, ", \"baseline\": ");
        json_str(f, r->baseline);
        fprintf(f, ", \"unit\": ");
        json_str(f, unit_names[r->unit]);
        fprintf(f, ",\n     \"median\": ");
        json_num(f, r->c.med);
        fprintf(f, ", \"min\": ");
        json_num(f, r->c.min);
        fprintf(f, ", \"max\": ");
        json_num(f, r->c.max);
        fprintf(f, ", \"samples\": ");
        json_samples(f, &r->c);
        if (r->skipped[0] != '\0') {
            fprintf(f, ",\n     \"skipped\": ");
            json_str(f, r->skipped);
            fprintf(f, ", \"ratio\": null, \"target\": null, "
                       "\"met\": null}");
            continue;
        }
        fprintf(f, ",\n     \"baseline_median\": ");
        json_num(f, r->b.med);
        fprintf(f, ", \"baseline_min\": ");
        json_num(f, r->b.min);
        fprintf(f, ", \"baseline_max\": ");
        json_num(f, r->b.max);
        fprintf(f, ", \"baseline_samples\": ");
        json_samples(f, &r->b);
        fprintf(f, ",\n     \"ratio\": ");
        json_num(f, r->ratio);
        fprintf(f, ", \"ratio_kind\": \"%s\", \"target\": ", kinds[r->kind]);
        if (r->has_target) {
            fmt_target(target, sizeof target, r);
            json_str(f, target);
            fprintf(f, ", \"target_op\": \"%s\", \"target_value\": %g",
                    r->kind == K_TIME ? "<=" : ">=", r->target);
            fprintf(f, ", \"met\": %s}", r->met ? "true" : "false");
        } else {
            fprintf(f, "null, \"met\": null}");
        }
    }
    fprintf(f, "\n  ]\n}\n");
    if (fclose(f) != 0)
        die("cannot write %s: %s", path, strerror(errno));
}

/* ---- the plot ----------------------------------------------------------- */

/* Everything plotted reads "times as good as the baseline": above 1 the
 * contender is faster, below 1 slower (log scale). */
static double plot_value(const row *r)
{
    return r->kind == K_TIME ? 1.0 / r->ratio : r->ratio;
}

static double plot_target(const row *r)
{
    return r->kind == K_TIME ? 1.0 / r->target : r->target;
}

static void plot_label(char *out, size_t n, const row *r)
{
    snprintf(out, n, "%s vs %s", r->case_name, r->baseline);
}

static int plotted(const row *r)
{
    return r->skipped[0] == '\0' && r->ratio > 0 && isfinite(r->ratio);
}

static void plot_range(double *lo, double *hi)
{
    double a = 1, b = 1;

    for (int i = 0; i < n_rows; i++) {
        if (!plotted(&rows[i]))
            continue;
        a = fmin(a, plot_value(&rows[i]));
        b = fmax(b, plot_value(&rows[i]));
        if (rows[i].has_target) {
            a = fmin(a, plot_target(&rows[i]));
            b = fmax(b, plot_target(&rows[i]));
        }
    }
    *lo = pow(10, floor(log10(a / 1.3)));
    *hi = pow(10, ceil(log10(b * 1.3)));
}

static void xml_str(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
    }
}

static void write_svg(const char *path)
{
    const double left = 480, width = 480, top = 70, rowh = 24;
    double lo, hi, l0, l1;
    int n = 0, k = 0;
    char label[160], text[64];
    FILE *f = fopen(path, "w");

    if (f == NULL)
        die("cannot write %s: %s", path, strerror(errno));
    for (int i = 0; i < n_rows; i++)
        n += plotted(&rows[i]);
    plot_range(&lo, &hi);
    l0 = log10(lo);
    l1 = log10(hi);
#define XPOS(v) (left + (log10(v) - l0) / (l1 - l0) * width)
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" "
            "height=\"%.0f\" font-family=\"sans-serif\" font-size=\"12\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            left + width + 130, top + rowh * n + 60);
    fprintf(f, "<text x=\"10\" y=\"22\" font-size=\"15\" "
               "font-weight=\"bold\">libmmf against its baselines "
               "(log scale; right of 1 = faster than the baseline)</text>\n");
    fprintf(f, "<text x=\"10\" y=\"42\" font-size=\"11\">");
    xml_str(f, mach.cpu);
    fprintf(f, ", %ld cores, %s, %s, %s%s</text>\n", mach.cores, mach.kernel,
            mach.compiler, mach.when, cfg.quick ? ", quick run" : "");
    for (double t = lo; t <= hi * 1.0001; t *= 10) {
        double x = XPOS(t);
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.0f\" x2=\"%.1f\" y2=\"%.0f\" "
                "stroke=\"%s\"/>\n<text x=\"%.1f\" y=\"%.0f\" "
                "text-anchor=\"middle\">%gx</text>\n",
                x, top - 8, x, top + rowh * n, t == 1 ? "black" : "#ccc", x,
                top + rowh * n + 16, t);
    }
    for (int i = 0; i < n_rows; i++) {
        const row *r = &rows[i];
        double y = top + rowh * k, v, x1, xv;
        const char *color;

        if (!plotted(r))
            continue;
        k++;
        v = plot_value(r);
        x1 = XPOS(1.0);
        xv = XPOS(v);
        color = r->met < 0 ? "#8a9bb0" : r->met ? "#3a9a4a" : "#d04040";
        plot_label(label, sizeof label, r);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">", left - 8,
                y + rowh * 0.65);
        xml_str(f, label);
        fprintf(f,
                "</text>\n<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
                "height=\"%.1f\" fill=\"%s\"/>\n",
                fmin(x1, xv), y + 4, fmax(fabs(xv - x1), 1.0), rowh - 8, color);
        if (r->has_target) {
            double xt = XPOS(plot_target(r));
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                    "stroke=\"black\" stroke-width=\"2\"/>\n",
                    xt, y + 1, xt, y + rowh - 1);
        }
        fmt_ratio(text, sizeof text, r->kind, r->ratio);
        fprintf(f, "<text x=\"%.1f\" y=\"%.0f\">%s%s</text>\n",
                fmax(fmax(x1, xv), r->has_target ? XPOS(plot_target(r)) : 0) +
                    6,
                y + rowh * 0.65, text,
                r->met < 0 ? ""
                : r->met   ? " met"
                           : " MISSED");
    }
#undef XPOS
    fprintf(f,
            "<text x=\"10\" y=\"%.0f\" font-size=\"11\">green: target met; "
            "red: missed; grey: no target (peers, limits); black tick: "
            "the target</text>\n</svg>\n",
            top + rowh * n + 40);
    if (fclose(f) != 0)
        die("cannot write %s: %s", path, strerror(errno));
}

/* The PNG through gnuplot; 0 when it was written. */
static int write_png(const char *png)
{
    double lo, hi;
    char label[640], text[64];
    int n = 0, status;
    FILE *f;
    pid_t pid;

    plot_range(&lo, &hi);
    f = fopen(plot_dat_path, "w");
    if (f == NULL)
        return -1;
    for (int i = 0; i < n_rows; i++) {
        const row *r = &rows[i];
        int color;
        if (!plotted(r))
            continue;
        color = r->met < 0 ? 0x8a9bb0 : r->met ? 0x3a9a4a : 0xd04040;
        plot_label(label, sizeof label, r);
        for (char *p = label; *p; p++)
            if (*p == '"')
                *p = '\'';
        fmt_ratio(text, sizeof text, r->kind, r->ratio);
        fprintf(f, "%d \"%s\" %g %d ", n, label, plot_value(r), color);
        if (r->has_target)
            fprintf(f, "%g", plot_target(r));
        else
            fprintf(f, "NaN");
        /* The ratio as in the table, right of the bar and the target. */
        fprintf(f, " %g \"%s%s\"\n",
                fmax(fmax(plot_value(r), 1.0),
                     r->has_target ? plot_target(r) : 1.0) *
                    1.25,
                text,
                r->met < 0 ? ""
                : r->met   ? " met"
                           : " MISSED");
        n++;
    }
    fclose(f);
    f = fopen(plot_gp_path, "w");
    if (f == NULL)
        return -1;
    snprintf(label, sizeof label, "%s, %ld cores, %s, %s%s", mach.cpu,
             mach.cores, mach.kernel, mach.when,
             cfg.quick ? ", quick run" : "");
    for (char *p = label; *p; p++)
        if (*p == '"' || *p == '\\')
            *p = ' ';
    fprintf(f,
            "set terminal pngcairo size 1100,%d noenhanced font ',10'\n"
            "set output '%s'\n"
            "set title \"libmmf against its baselines: log scale, right of "
            "1x = faster than the baseline\\n%s\"\n"
            "set logscale x\nset xrange [%g:%g]\nset yrange [%d-0.4:-0.6]\nset "
            "rmargin 18\n"
            "set ytics nomirror\nset grid xtics\nset key below\n"
            "set style fill solid 0.9 noborder\nset format x '%%gx'\n"
            "set arrow from 1, graph 0 to 1, graph 1 nohead lw 2\n"
            "set datafile missing 'NaN'\n",
            200 + 24 * n, png, label, lo, hi * 3, n);
    fprintf(f,
            "plot '%s' using (sqrt($3)):1:(1 < $3 ? 1 : $3):"
            "(1 < $3 ? $3 : 1):($1-0.35):($1+0.35):4:ytic(2) "
            "with boxxyerror lc rgb variable title 'contender vs "
            "baseline (green: target met, red: missed, grey: no "
            "target)', \\\n"
            "     '' using 5:1 with points pt 3 ps 2 lc rgb 'black' "
            "title 'target', \\\n"
            "     '' using 6:1:7 with labels left notitle\n",
            plot_dat_path);
    fclose(f);
    fflush(stdout);
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        execlp("gnuplot", "gnuplot", plot_gp_path, (char *)NULL);
        _exit(127);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return -1;
    return access(png, R_OK) == 0 ? 0 : -1;
}

/* ---- main --------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mmf_bench [--quick] [--out DIR] [--case NAME] [--reps N]"
            " [--list]\n"
            "  --quick      64 MiB data set and fewer iterations (smoke run)\n"
            "  --out DIR    where latest.json and the plot go "
            "(default bench/results)\n"
            "  --case NAME  run one case (see --list)\n"
            "  --reps N     repetitions per series (default 7, quick 5; "
            "at least 5)\n"
            "  --list       list the cases\n");
}

int main(int argc, char **argv)
{
    const char *base;
    char path[PATH_MAX + 32];
    int ran = 0, met = 0, missed = 0;

    cfg.out_dir = "bench/results";
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) {
            cfg.quick = 1;
        } else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
            cfg.out_dir = argv[++i];
        } else if (strcmp(argv[i], "--case") == 0 && i + 1 < argc) {
            cfg.only = argv[++i];
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            cfg.reps = atoi(argv[++i]);
            if (cfg.reps < 5 || cfg.reps > MAX_REPS) {
                fprintf(stderr, "mmf_bench: --reps must be 5..%d\n", MAX_REPS);
                return 1;
            }
        } else if (strcmp(argv[i], "--list") == 0) {
            for (size_t c = 0; c < N_CASES; c++)
                printf("%-20s %s\n", cases[c].name, cases[c].title);
            return 0;
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 1;
        }
    }
    if (cfg.only != NULL) {
        size_t c = 0;
        while (c < N_CASES && strcmp(cases[c].name, cfg.only) != 0)
            c++;
        if (c == N_CASES) {
            fprintf(stderr, "mmf_bench: no case '%s' (see --list)\n", cfg.only);
            return 1;
        }
    }
    set_sizes();
    main_pid = getpid();
    page_size = (size_t)sysconf(_SC_PAGESIZE);
    find_cpus();
    find_peers();
    describe_machine();
    if (mkdir_p(cfg.out_dir) != 0)
        die("cannot create %s: %s", cfg.out_dir, strerror(errno));

    base = getenv("TMPDIR");
    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    snprintf(tmp_dir, sizeof tmp_dir, "%s/mmf-bench-XXXXXX", base);
    atexit(at_exit_cleanup);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    if (mkdtemp(tmp_dir) == NULL) {
        int e = errno;
        tmp_dir[0] = '\0';
        die("cannot create a directory in %s: %s", base, strerror(e));
    }
    snprintf(data_path, sizeof data_path, "%s/data.bin", tmp_dir);
    snprintf(offs_path, sizeof offs_path, "%s/offsets.bin", tmp_dir);
    snprintf(write_path, sizeof write_path, "%s/write.bin", tmp_dir);
    snprintf(plot_dat_path, sizeof plot_dat_path, "%s/plot.dat", tmp_dir);
    snprintf(plot_gp_path, sizeof plot_gp_path, "%s/plot.gp", tmp_dir);

    printf("mmf_bench: libmmf %s%s\n", mmf_version_string(),
           cfg.quick ? " (quick run)" : "");
    printf("machine: %s, %ld cores, %.1f GiB, %s\n", mach.cpu, mach.cores,
           (double)mach.mem_bytes / (double)GIB, mach.kernel);
    printf("compiler: %s; data set %" PRIu64 " MiB in %s; %d repetitions "
           "(A B A B...) after a warm-up\n",
           mach.compiler, cfg.data_size / MIB, tmp_dir, cfg.reps);
#if !defined(__OPTIMIZE__)
    printf("WARNING: built without optimisation; figures are meaningless\n");
#endif
#if defined(__SANITIZE_ADDRESS__)
    printf("WARNING: built with AddressSanitizer; figures are meaningless\n");
#endif
    if (n_allowed_cpus >= 2)
        printf("two-process cases: pinned to CPUs %d and %d\n", cpu_a, cpu_b);
    else
        printf("two-process cases: one CPU only, not pinned\n");
    if (mach.load_start > 0.5)
        printf("note: load average %.2f at start: other processes are "
               "running, figures will be noisier\n",
               mach.load_start);
    fflush(stdout);

    for (size_t c = 0; c < N_CASES; c++) {
        if (cfg.only != NULL && strcmp(cfg.only, cases[c].name) != 0)
            continue;
        fprintf(stderr, "[%s] %s\n", cases[c].name, cases[c].title);
        cases[c].fn(cases[c].name, cases[c].title);
        ran++;
    }
    for (int i = 0; i < n_rows; i++) {
        met += rows[i].met == 1;
        missed += rows[i].met == 0;
    }
    mach.load_end = load_average();
    printf("\n%d case%s, %d target%s met, %d missed (load average %.2f "
           "at start, %.2f at end)\n",
           ran, ran == 1 ? "" : "s", met, met == 1 ? "" : "s", missed,
           mach.load_start, mach.load_end);

    snprintf(path, sizeof path, "%s/latest.json", cfg.out_dir);
    write_json(path);
    printf("results: %s\n", path);
    snprintf(path, sizeof path, "%s/latest.png", cfg.out_dir);
    if (on_path("gnuplot") && write_png(path) == 0) {
        printf("plot: %s\n", path);
    } else {
        if (on_path("gnuplot"))
            fprintf(stderr, "mmf_bench: gnuplot failed; writing SVG\n");
        snprintf(path, sizeof path, "%s/latest.svg", cfg.out_dir);
        write_svg(path);
        printf("plot: %s\n", path);
    }

    if (g_file != NULL)
        MMF(mmf_close(g_file));
    if (g_fd >= 0)
        close(g_fd);
    free(g_off);
    return 0;
}
